"""Uncatalogued (legacy) topics, and database files written by an older emulator."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from flask import Flask

from prefcenter.emulator import Behaviours, EmulatorState, Store, create_emulator_app, seed
from prefcenter.emulator.errors import Conflict, InvalidRequest
from prefcenter.emulator.models import PreferenceWrite
from prefcenter.emulator.testing import http_client

USER = "user-4"
GROUPED = seed.LEGACY_TOPIC_GROUPED
PLAIN = seed.LEGACY_TOPIC_PLAIN


@pytest.fixture
def emu_app() -> Iterator[Flask]:
    """A seeded emulator that also holds the two legacy topics."""
    app = create_emulator_app(legacy_topics=True)
    yield app
    app.extensions["courier_emulator"].store.close()


@pytest.fixture
def emu_state(emu_app: Flask) -> EmulatorState:
    """The emulator's state."""
    return emu_app.extensions["courier_emulator"]


@pytest.fixture
def http(emu_app: Flask) -> Iterator[httpx.Client]:
    """A raw HTTP client with the right API key."""
    with http_client(emu_app) as client:
        yield client


def test_no_catalog_answer_lists_them(http: httpx.Client) -> None:
    sections = http.get("/preferences/sections").json()["results"]
    catalogued = [t["id"] for s in sections for t in s["topics"]]

    assert len(catalogued) == 7
    assert GROUPED not in catalogued and PLAIN not in catalogued
    for section in sections:
        topics = http.get(f"/preferences/sections/{section['id']}/topics").json()["results"]
        assert PLAIN not in [t["id"] for t in topics]
        assert http.get(f"/preferences/sections/{section['id']}/topics/{PLAIN}").status_code == 404


def test_users_list_them_after_the_catalog(http: httpx.Client, emu_state: EmulatorState) -> None:
    emu_state.behaviours.list_mode = "all"  # every topic, for a user with no override yet
    emu_state.behaviours.unknown_user = "empty"
    items = http.get(f"/users/{USER}/preferences").json()["items"]

    assert [i["topic_id"] for i in items[-2:]] == [GROUPED, PLAIN]
    grouped, plain = items[-2:]
    assert grouped == {
        "topic_id": GROUPED,
        "topic_name": "Account digest (legacy)",
        "status": "OPTED_IN",
        "default_status": "OPTED_IN",
        "has_custom_routing": False,
        "custom_routing": [],
        "section_name": "Legacy notifications",
    }
    assert "section_id" not in plain and "section_name" not in plain
    assert plain["topic_name"] == "Partner offers"


def test_single_read_omits_the_section(http: httpx.Client) -> None:
    for topic_id in (GROUPED, PLAIN):
        topic = http.get(f"/users/{USER}/preferences/{topic_id}").json()["topic"]
        assert "section_id" not in topic
        assert "section_name" not in topic


def test_writes_treat_them_like_any_topic(http: httpx.Client, emu_state: EmulatorState) -> None:
    path = f"/users/{USER}/preferences"

    put = http.put(
        f"{path}/{PLAIN}",
        json={
            "topic": {"status": "OPTED_OUT", "has_custom_routing": True, "custom_routing": ["sms"]}
        },
    )
    bulk = http.post(path, json={"topics": [{"topic_id": GROUPED, "status": "OPTED_OUT"}]}).json()

    assert put.status_code == 200
    assert bulk["errors"] == []
    emu_state.list_mode = "overrides"
    listed = http.get(path).json()["items"]
    assert [(i["topic_id"], i["status"]) for i in listed] == [
        (GROUPED, "OPTED_OUT"),
        (PLAIN, "OPTED_OUT"),
    ]
    assert http.delete(f"{path}/{PLAIN}").status_code == 204
    replaced = http.put(path, json={"topics": []}).json()
    assert replaced["deleted"] == [GROUPED]
    assert emu_state.store.override_count() == 0


def test_store_api(tmp_path: Path) -> None:
    every_topic = Behaviours(list_mode="all", unknown_user="empty")  # USER has no override
    store = Store(str(tmp_path / "legacy.sqlite3"), every_topic)
    try:
        assert seed.seed_legacy_topics(store) == [GROUPED, PLAIN]
        assert seed.seed_legacy_topics(store) == []  # already there
        assert store.catalog_is_empty()  # no section was created
        with pytest.raises(Conflict):
            store.create_legacy_topic(PLAIN, "Again")
        with pytest.raises(InvalidRequest):
            store.create_legacy_topic("LEGACYBADSTATUS0000000000000", "Bad", "SOMETIMES")
        store.create_legacy_topic("LEGACYREQUIRED00000000000000", "Must", "REQUIRED", "Old")
        with pytest.raises(InvalidRequest):
            store.set_user_preference(
                USER, "LEGACYREQUIRED00000000000000", PreferenceWrite("OPTED_OUT")
            )
        assert [p["topic_id"] for p in store.user_preferences(USER)] == [
            GROUPED,
            PLAIN,
            "LEGACYREQUIRED00000000000000",
        ]
    finally:
        store.close()


# ---- upgrading a database file written before these features ---------------------------------

_OLD_SCHEMA = """
CREATE TABLE sections (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE, name TEXT NOT NULL,
    description TEXT, has_custom_routing INTEGER NOT NULL, routing_options TEXT NOT NULL,
    created TEXT NOT NULL, updated TEXT NOT NULL, archived INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE topics (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE,
    section_id TEXT NOT NULL REFERENCES sections(id), name TEXT NOT NULL, description TEXT,
    default_status TEXT NOT NULL, allowed_preferences TEXT NOT NULL,
    include_unsubscribe_header INTEGER NOT NULL, routing_options TEXT NOT NULL,
    topic_data TEXT NOT NULL, created TEXT NOT NULL, updated TEXT NOT NULL,
    archived INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE overrides (
    user_id TEXT NOT NULL, tenant_id TEXT NOT NULL, topic_id TEXT NOT NULL, status TEXT NOT NULL,
    has_custom_routing INTEGER NOT NULL, custom_routing TEXT NOT NULL, updated TEXT NOT NULL,
    PRIMARY KEY (user_id, tenant_id, topic_id)
);
INSERT INTO sections VALUES (1, 'sec_old', 'Old', NULL, 1, '["email"]', 't0', 't0', 0);
INSERT INTO topics VALUES
    (1, 'pt_first', 'sec_old', 'First', NULL, 'OPTED_IN', '[]', 0, '[]', '{}', 't0', 't0', 0),
    (2, 'pt_second', 'sec_old', 'Second', 'Two', 'OPTED_OUT', '[]', 0, '[]', '{}', 't0', 't0', 0);
INSERT INTO overrides VALUES ('u', '', 'pt_second', 'OPTED_IN', 1, '["email"]', 't0');
"""


def test_an_older_database_file_is_upgraded_in_place(tmp_path: Path) -> None:
    db = tmp_path / "old.sqlite3"
    with sqlite3.connect(db) as conn:
        conn.executescript(_OLD_SCHEMA)
    conn.close()

    app = create_emulator_app(
        db_path=str(db), legacy_topics=True, digest_schedules=False, list_mode="all"
    )
    store = app.extensions["courier_emulator"].store
    try:
        assert [t["id"] for t in store.list_topics("sec_old")] == ["pt_first", "pt_second"]
        assert store.get_topic("sec_old", "pt_second")["description"] == "Two"
        assert store.raw_override("u", "pt_second") == {
            "status": "OPTED_IN",
            "has_custom_routing": True,
            "custom_routing": ["email"],
        }
        prefs = store.user_preferences("u")
        assert [p["topic_id"] for p in prefs] == ["pt_first", "pt_second", GROUPED, PLAIN]
        assert seed.seed_demo_workspace(store) is False  # the old catalog is kept as it was
    finally:
        store.close()
    # Opening the upgraded file again changes nothing.
    again = Store(str(db), Behaviours(list_mode="all"))
    try:
        assert len(again.user_preferences("u")) == 4
    finally:
        again.close()
