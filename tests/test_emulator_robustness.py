"""The emulator under stress: a failed COMMIT, racing idempotent POSTs, a bounded request log."""

from __future__ import annotations

import gc
import sqlite3
import threading
import time
import tracemalloc
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest
from flask import Flask

from prefcenter.emulator import EmulatorState, create_emulator_app, seed
from prefcenter.emulator.testing import http_client

USER = "user-7"
MIB = 1024 * 1024


@pytest.fixture
def emu_app() -> Iterator[Flask]:
    """A seeded in-memory emulator."""
    app = create_emulator_app()
    yield app
    app.extensions["courier_emulator"].store.close()


@pytest.fixture
def emu_state(emu_app: Flask) -> EmulatorState:
    """The emulator's state."""
    return emu_app.extensions["courier_emulator"]


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


# ---- one Idempotency-Key, two POSTs at once -----------------------------------------------


def test_concurrent_posts_with_one_idempotency_key_write_once(
    emu_app: Flask, emu_state: EmulatorState, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = emu_state.store
    entered = threading.Event()
    release = threading.Event()
    calls: list[str] = []
    original = store.bulk_update

    def slow_bulk_update(*args: Any, **kwargs: Any) -> Any:
        calls.append(threading.current_thread().name)
        entered.set()
        release.wait(timeout=5)  # hold the first request mid-write while the second arrives
        return original(*args, **kwargs)

    monkeypatch.setattr(store, "bulk_update", slow_bulk_update)
    body = {
        "topics": [
            {"topic_id": seed.TOPIC_EVENTS, "status": "OPTED_IN"},
            {"topic_id": seed.TOPIC_COMMENTS, "status": "OPTED_OUT"},
        ]
    }

    def post() -> httpx.Response:
        with http_client(emu_app) as http:
            return http.post(
                f"/users/{USER}/preferences", json=body, headers={"Idempotency-Key": "bulk-race"}
            )

    with ThreadPoolExecutor(max_workers=2) as pool:
        first = pool.submit(post)
        assert entered.wait(timeout=5)
        second = pool.submit(post)
        time.sleep(0.3)  # let the second request reach the key while the first holds it
        release.set()
        responses = [first.result(timeout=10), second.result(timeout=10)]

    with http_client(emu_app) as http:
        log = http.get("/preferences/logs", params={"user_id": USER}).json()["items"]

    assert len(calls) == 1
    assert [r.status_code for r in responses] == [200, 200]
    assert responses[0].json() == responses[1].json()
    assert store.change_count() == 2
    assert sorted(entry["topic_id"] for entry in log) == sorted(
        [seed.TOPIC_EVENTS, seed.TOPIC_COMMENTS]
    )


def test_a_failed_idempotent_post_frees_its_key_for_a_retry(
    emu_app: Flask, emu_state: EmulatorState, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = emu_state.store
    original = store.bulk_update
    failures = iter([sqlite3.OperationalError("disk I/O error")])

    def flaky_bulk_update(*args: Any, **kwargs: Any) -> Any:
        for failure in failures:
            raise failure
        return original(*args, **kwargs)

    monkeypatch.setattr(store, "bulk_update", flaky_bulk_update)
    body = {"topics": [{"topic_id": seed.TOPIC_EVENTS, "status": "OPTED_IN"}]}
    headers = {"Idempotency-Key": "bulk-retry"}
    with http_client(emu_app) as http:
        failed = http.post(f"/users/{USER}/preferences", json=body, headers=headers)
        retried = http.post(f"/users/{USER}/preferences", json=body, headers=headers)

    assert failed.status_code == 500
    assert retried.status_code == 200
    assert retried.json()["items"][0]["topic_id"] == seed.TOPIC_EVENTS
    assert store.change_count() == 1


# ---- the request log stays bounded --------------------------------------------------------


def _padded(size: int) -> bytes:
    """A JSON object body of exactly ``size`` bytes."""
    shell = b'{"topic": {"status": "OPTED_IN"}, "padding": ""}'
    return shell[:-2] + b"x" * (size - len(shell)) + b'"}'


def test_the_request_log_is_capped_by_bytes(emu_app: Flask, emu_state: EmulatorState) -> None:
    emu_state.max_logged_bytes = 200_000
    path = f"/users/{USER}/preferences/{seed.TOPIC_EVENTS}"
    sent = 0
    with http_client(emu_app) as http:
        for _ in range(20):
            body = _padded(50_000)
            sent += len(body)
            http.put(path, content=body, headers={"Content-Type": "application/json"})

    kept = emu_state.requests
    assert sent == 1_000_000
    assert emu_state.logged_bytes <= 200_000
    assert sum(r.body_size for r in kept) == emu_state.logged_bytes
    assert 1 < len(kept) < 20  # the oldest were dropped, the newest kept
    assert kept[-1].body["padding"] == "x" * len(kept[-1].body["padding"])
    assert all(r.body is not None for r in kept)


def test_a_body_over_the_per_request_cap_is_logged_by_size_only(
    emu_app: Flask, emu_state: EmulatorState
) -> None:
    body = _padded(100_000)
    with http_client(emu_app) as http:
        response = http.put(
            f"/users/{USER}/preferences/{seed.TOPIC_EVENTS}",
            content=body,
            headers={"Content-Type": "application/json"},
        )

    entry = emu_state.requests[-1]
    assert response.status_code == 200
    assert (entry.status, entry.body, entry.body_size) == (200, None, 100_000)
    assert emu_state.logged_bytes == 0
    assert emu_state.max_logged_body == 64 * 1024


def test_refused_requests_keep_no_body(emu_app: Flask, emu_state: EmulatorState) -> None:
    small = b'{"topic": {"status": "OPTED_OUT"}}'
    path = f"/users/{USER}/preferences/{seed.TOPIC_EVENTS}"
    with http_client(emu_app, api_key="wrong") as stranger, http_client(emu_app) as http:
        unauthorized = stranger.put(path, content=small)
        too_large = http.post(f"/users/{USER}/preferences", content=b"[" * (2 * MIB))

    assert (unauthorized.status_code, too_large.status_code) == (401, 413)
    assert [(r.status, r.body) for r in emu_state.requests] == [(401, None), (413, None)]
    assert emu_state.logged_bytes == 0


def test_a_refused_one_mib_request_leaves_no_memory_behind(
    emu_app: Flask, emu_state: EmulatorState
) -> None:
    # A JSON array of empty objects is the costliest megabyte to decode (~24 MiB of dicts).
    body = b"[" + b"{}," * (MIB // 3 - 1) + b"{}]"
    assert len(body) <= MIB
    with http_client(emu_app, api_key="wrong") as stranger:
        stranger.post(f"/users/{USER}/preferences", content=b"{}")  # warm up lazy imports
        gc.collect()
        tracemalloc.start()
        try:
            response = stranger.post(
                f"/users/{USER}/preferences",
                content=body,
                headers={"Content-Type": "application/json"},
            )
            del body
            gc.collect()
            retained = tracemalloc.get_traced_memory()[0]
        finally:
            tracemalloc.stop()

    assert retained < 256 * 1024
    assert response.status_code == 401
    assert emu_state.requests[-1].body is None
