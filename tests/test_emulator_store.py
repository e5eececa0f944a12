"""The emulator's store and seeding, without HTTP: persistence, seeding rules, id shapes."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from prefcenter.emulator import Store, create_emulator_app, seed
from prefcenter.emulator.errors import Conflict, InvalidRequest, NotFound
from prefcenter.emulator.models import BulkEntry, PreferenceWrite
from prefcenter.emulator.store import new_section_id, new_topic_id


@pytest.fixture
def store() -> Iterator[Store]:
    """An empty in-memory store."""
    store = Store(":memory:")
    yield store
    store.close()


def test_file_database_is_seeded_once_and_persists(tmp_path: Path) -> None:
    db = str(tmp_path / "courier.sqlite3")
    first = create_emulator_app(db_path=db)
    first_store = first.extensions["courier_emulator"].store
    first_store.set_user_preference(
        seed.DEMO_USER_ID, seed.TOPIC_DIGEST, PreferenceWrite("OPTED_IN")
    )
    first_store.close()

    second = create_emulator_app(db_path=db)
    store = second.extensions["courier_emulator"].store
    try:
        sections = store.list_sections()
        assert [s["id"] for s in sections] == [
            seed.SECTION_ACCOUNT,
            seed.SECTION_ACTIVITY,
            seed.SECTION_NEWS,
        ]
        assert sum(len(s["topics"]) for s in sections) == 7
        assert store.user_preference(seed.DEMO_USER_ID, seed.TOPIC_DIGEST)["status"] == "OPTED_IN"
        assert seed.seed_demo_workspace(store) is False
    finally:
        store.close()


def test_seed_false_leaves_the_catalog_empty(store: Store) -> None:
    store.behaviours.list_mode = "all"  # even a list of every topic is empty
    store.behaviours.unknown_user = "empty"
    assert store.catalog_is_empty()
    assert store.list_sections() == []
    assert store.user_preferences("anyone") == []
    assert seed.seed_demo_workspace(store) is True
    assert not store.catalog_is_empty()


def test_seed_catalog_builds_deterministic_ids(store: Store) -> None:
    store.behaviours.list_mode = "all"  # every topic, for a user with no override
    store.behaviours.unknown_user = "empty"
    topic_ids = seed.seed_catalog(store, sections=3, topics_per_section=4)

    assert len(topic_ids) == 12
    assert topic_ids[:2] == ["pt_cat_001_001", "pt_cat_001_002"]
    assert topic_ids[-1] == "pt_cat_003_004"
    assert [s["id"] for s in store.list_sections()] == ["sec_cat_001", "sec_cat_002", "sec_cat_003"]
    prefs = store.user_preferences("u")
    assert [p["topic_id"] for p in prefs] == topic_ids
    assert [p["default_status"] for p in prefs[:4]] == [
        "OPTED_IN",
        "OPTED_OUT",
        "REQUIRED",
        "OPTED_IN",
    ]
    with pytest.raises(Conflict):
        seed.seed_catalog(store, sections=1, topics_per_section=1)


def test_generated_ids_look_like_courier_ids() -> None:
    topic_ids = {new_topic_id() for _ in range(200)}
    section_ids = {new_section_id() for _ in range(200)}

    assert len(topic_ids) == len(section_ids) == 200
    assert all(re.fullmatch(r"pt_[0-9a-hjkmnp-tv-z]{26}", t) for t in topic_ids)
    assert all(re.fullmatch(r"[A-Za-z0-9_-]{21}", s) for s in section_ids)


def test_user_preference_is_none_for_unknown_or_archived_topics(store: Store) -> None:
    seed.seed_demo_workspace(store)

    assert store.user_preference("u", "pt_unknown") is None
    store.archive_topic(seed.SECTION_NEWS, seed.TOPIC_EVENTS)
    assert store.user_preference("u", seed.TOPIC_EVENTS) is None
    with pytest.raises(NotFound):
        store.set_user_preference("u", seed.TOPIC_EVENTS, PreferenceWrite("OPTED_IN"))


def test_store_enforces_required_rules(store: Store) -> None:
    seed.seed_demo_workspace(store)

    with pytest.raises(InvalidRequest):
        store.set_user_preference("u", seed.TOPIC_SECURITY, PreferenceWrite("OPTED_OUT"))
    with pytest.raises(InvalidRequest):
        store.set_user_preference("u", seed.TOPIC_BILLING, PreferenceWrite("REQUIRED"))
    store.set_user_preference("u", seed.TOPIC_SECURITY, PreferenceWrite("REQUIRED", True, ("sms",)))

    assert store.override_count() == 1
    assert store.user_preference("u", seed.TOPIC_SECURITY)["custom_routing"] == ["sms"]


def test_bulk_replace_failure_rolls_back(store: Store) -> None:
    seed.seed_demo_workspace(store)
    store.set_user_preference("u", seed.TOPIC_EVENTS, PreferenceWrite("OPTED_IN"))

    with pytest.raises(InvalidRequest):
        store.bulk_replace(
            "u",
            [
                BulkEntry(seed.TOPIC_BILLING, PreferenceWrite("OPTED_OUT")),
                BulkEntry("pt_unknown", PreferenceWrite("OPTED_OUT")),
            ],
        )

    assert store.raw_override("u", seed.TOPIC_EVENTS) is not None
    assert store.raw_override("u", seed.TOPIC_BILLING) is None
