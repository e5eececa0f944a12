"""The emulator under stress: a failed COMMIT, racing idempotent POSTs, a bounded request log."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from prefcenter.emulator import create_emulator_app, seed
from prefcenter.emulator.testing import http_client

USER = "user-7"


# ---- a failed COMMIT ---------------------------------------------------------------------


def test_a_failed_commit_rolls_back_so_later_writes_land(tmp_path: Path) -> None:
    db = tmp_path / "shared.db"
    app = create_emulator_app(db_path=str(db))
    store = app.extensions["courier_emulator"].store
    with store._read() as conn:
        conn.execute("PRAGMA busy_timeout = 0")  # fail at once instead of after five seconds
    # Another process reading the file holds a SHARED lock: BEGIN IMMEDIATE and the writes
    # still succeed, but COMMIT cannot get its EXCLUSIVE lock ("database is locked").
    other = sqlite3.connect(db, isolation_level=None)
    path = f"/users/{USER}/preferences/{seed.TOPIC_EVENTS}"
    try:
        other.execute("BEGIN")
        other.execute("SELECT COUNT(*) FROM topics").fetchone()
        with http_client(app) as http:
            failed = http.put(path, json={"topic": {"status": "OPTED_OUT"}})
            other.execute("COMMIT")
            landed = http.put(path, json={"topic": {"status": "OPTED_IN"}})
            again = http.put(path, json={"topic": {"status": "OPTED_OUT"}})
        with store._read() as conn:
            left_open = conn.in_transaction
        stored = store.raw_override(USER, seed.TOPIC_EVENTS)
        changes = store.change_count()
    finally:
        other.close()
        store.close()

    assert failed.status_code == 500
    assert failed.json() == {
        "type": "api_error",
        "message": "Internal error in the Courier emulator",
    }
    assert (landed.status_code, again.status_code) == (200, 200)
    assert left_open is False
    assert stored is not None and stored["status"] == "OPTED_OUT"
    assert changes == 2  # the failed write left no trace


def test_a_failed_commit_in_the_store_leaves_no_transaction_open(tmp_path: Path) -> None:
    db = tmp_path / "shared.db"
    app = create_emulator_app(db_path=str(db))
    store = app.extensions["courier_emulator"].store
    with store._read() as conn:
        conn.execute("PRAGMA busy_timeout = 0")
    other = sqlite3.connect(db, isolation_level=None)
    try:
        other.execute("BEGIN")
        other.execute("SELECT COUNT(*) FROM sections").fetchone()
        with pytest.raises(sqlite3.OperationalError, match="locked"):
            store.remember_response("k", "POST", "/p", 200, {"n": 1})
        other.execute("ROLLBACK")
        store.remember_response("k", "POST", "/p", 201, {"n": 2})
        remembered = store.idempotent_response("k", "POST", "/p")
    finally:
        other.close()
        store.close()

    assert remembered == (201, {"n": 2})
