"""Concurrent writers: every request lands, through the SDK and the WSGI transport."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from prefcenter.emulator import create_emulator_app, seed
from prefcenter.emulator.testing import courier_client

TOPICS = [
    seed.TOPIC_BILLING,
    seed.TOPIC_COMMENTS,
    seed.TOPIC_REMINDERS,
    seed.TOPIC_PRODUCT_UPDATES,
    seed.TOPIC_DIGEST,
    seed.TOPIC_EVENTS,
]


@pytest.mark.parametrize("db", ["memory", "file"])
def test_twenty_concurrent_puts_all_land(tmp_path: Path, db: str) -> None:
    app = create_emulator_app(db_path=":memory:" if db == "memory" else str(tmp_path / "c.db"))
    state = app.extensions["courier_emulator"]
    jobs = [(f"user-{n % 5}", TOPICS[n % len(TOPICS)], n) for n in range(20)]
    # Distinct (user, topic) pairs, so every write must survive.
    assert len({(user, topic) for user, topic, _ in jobs}) == 20

    def write(job: tuple[str, str, int]) -> str:
        user, topic, n = job
        channels = [["email"], ["push"], ["inbox", "email"]][n % 3]
        return sdk.users.preferences.update_or_create_topic(
            topic,
            user_id=user,
            topic={"status": "OPTED_OUT", "has_custom_routing": True, "custom_routing": channels},
        ).message

    try:
        with courier_client(app, strict=True) as sdk, ThreadPoolExecutor(max_workers=20) as pool:
            results = list(pool.map(write, jobs))
            lists = list(pool.map(sdk.users.preferences.retrieve, [f"user-{i}" for i in range(5)]))
    finally:
        store = state.store
        stored = {(user, topic): store.user_preference(user, topic) for user, topic, _ in jobs}
        store.close()

    assert results == ["success"] * 20
    for user, topic, n in jobs:
        assert stored[(user, topic)]["status"] == "OPTED_OUT"
        assert (
            stored[(user, topic)]["custom_routing"]
            == [["email"], ["push"], ["inbox", "email"]][n % 3]
        )
    # Overrides-only lists: each user's list holds exactly the four topics written for them.
    for i, prefs in enumerate(lists):
        written = {topic for user, topic, _ in jobs if user == f"user-{i}"}
        assert len(written) == 4
        assert {p.topic_id for p in prefs.items} == written
        assert all(p.status == "OPTED_OUT" for p in prefs.items)
    assert state.count("PUT", r"/users/user-\d/preferences/pt_\w+") == 20
    assert len(state.requests) == 25
    assert all(r.status == 200 for r in state.requests)


def test_the_request_log_keeps_only_the_newest_entries():
    from prefcenter.emulator import create_emulator_app

    app = create_emulator_app(api_key="k")
    state = app.extensions["courier_emulator"]
    state.max_logged = 3
    client = app.test_client()
    for user in ("a", "b", "c", "d", "e"):
        client.get(f"/users/{user}/preferences", headers={"Authorization": "Bearer k"})
    assert [r.path for r in state.requests] == [
        "/users/c/preferences",
        "/users/d/preferences",
        "/users/e/preferences",
    ]
