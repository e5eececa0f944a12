"""The preference change log behind GET /preferences/logs: what is logged, filters, paging."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from prefcenter.emulator import EmulatorState, Store, create_emulator_app, seed
from prefcenter.emulator.models import PreferenceWrite
from prefcenter.emulator.testing import http_client

USER = "user-8"
LOGS = "/preferences/logs"


def put(
    http: httpx.Client, topic_id: str, user: str = USER, tenant_id: str | None = None, **topic: Any
) -> httpx.Response:
    """PUT one user topic preference."""
    params = {"tenant_id": tenant_id} if tenant_id else {}
    return http.put(f"/users/{user}/preferences/{topic_id}", params=params, json={"topic": topic})


def logs(http: httpx.Client, **params: Any) -> dict[str, Any]:
    """One page of the log."""
    response = http.get(LOGS, params=params)
    assert response.status_code == 200, response.text
    return response.json()


def test_a_write_is_logged_with_what_it_replaced(http: httpx.Client) -> None:
    put(
        http,
        seed.TOPIC_COMMENTS,
        status="OPTED_OUT",
        has_custom_routing=True,
        custom_routing=["sms"],
    )
    put(http, seed.TOPIC_COMMENTS, status="OPTED_IN", custom_routing=["email"])

    page = logs(http)

    assert page["paging"] == {"more": False}
    newest, first = page["items"]
    assert set(first) == {
        "id",
        "user_id",
        "topic_id",
        "topic_name",
        "status",
        "has_custom_routing",
        "custom_routing",
        "timestamp",
    }
    assert (first["user_id"], first["topic_id"], first["topic_name"]) == (
        USER,
        seed.TOPIC_COMMENTS,
        "Comments and mentions",
    )
    assert (first["status"], first["has_custom_routing"], first["custom_routing"]) == (
        "OPTED_OUT",
        True,
        ["sms"],
    )
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", first["timestamp"])
    # Channels are "present only when has_custom_routing is true".
    assert (newest["status"], newest["has_custom_routing"], newest["custom_routing"]) == (
        "OPTED_IN",
        False,
        [],
    )
    assert newest["previous"] == {
        "status": "OPTED_OUT",
        "has_custom_routing": True,
        "custom_routing": ["sms"],
    }
    assert newest["id"] != first["id"]
    assert newest["timestamp"] >= first["timestamp"]


def test_tenant_writes_carry_the_tenant(http: httpx.Client) -> None:
    put(http, seed.TOPIC_EVENTS, status="OPTED_IN")
    put(http, seed.TOPIC_EVENTS, tenant_id="acme", status="OPTED_OUT")

    newest, first = logs(http)["items"]

    assert newest["tenant_id"] == "acme"
    assert "previous" not in newest  # nothing was stored in that scope before
    assert "tenant_id" not in first


def test_a_reset_is_logged_with_the_value_it_falls_back_to(
    http: httpx.Client, store: Store
) -> None:
    store.upsert_tenant("acme", "Acme")
    store.set_tenant_default("acme", seed.TOPIC_EVENTS, "OPTED_IN", True, ["push"])
    put(http, seed.TOPIC_EVENTS, tenant_id="acme", status="OPTED_OUT")

    http.delete(f"/users/{USER}/preferences/{seed.TOPIC_EVENTS}", params={"tenant_id": "acme"})
    http.delete(f"/users/{USER}/preferences/{seed.TOPIC_EVENTS}", params={"tenant_id": "acme"})

    items = logs(http)["items"]
    assert len(items) == 2  # the second delete had nothing to reset
    reset = items[0]
    assert (reset["status"], reset["has_custom_routing"], reset["custom_routing"]) == (
        "OPTED_IN",
        True,
        ["push"],
    )
    assert reset["previous"]["status"] == "OPTED_OUT"


def test_bulk_writes_log_what_they_applied(http: httpx.Client) -> None:
    put(http, seed.TOPIC_DIGEST, status="OPTED_IN")
    http.post(
        f"/users/{USER}/preferences",
        json={
            "topics": [
                {"topic_id": seed.TOPIC_EVENTS, "status": "OPTED_IN"},
                {"topic_id": seed.TOPIC_SECURITY, "status": "OPTED_OUT"},
                {"topic_id": "pt_nope", "status": "OPTED_IN"},
            ]
        },
    )
    http.put(
        f"/users/{USER}/preferences",
        json={"topics": [{"topic_id": seed.TOPIC_BILLING, "status": "OPTED_OUT"}]},
    )

    entries = [(i["topic_id"], i["status"]) for i in logs(http)["items"]]

    assert entries == [
        (seed.TOPIC_BILLING, "OPTED_OUT"),  # the replacement's write
        (seed.TOPIC_EVENTS, "OPTED_OUT"),  # its resets, in page order
        (seed.TOPIC_DIGEST, "OPTED_OUT"),
        (seed.TOPIC_EVENTS, "OPTED_IN"),  # the bulk update's one applied topic
        (seed.TOPIC_DIGEST, "OPTED_IN"),
    ]


def test_refused_writes_log_nothing(http: httpx.Client, emu_state: EmulatorState) -> None:
    put(http, seed.TOPIC_SECURITY, status="OPTED_OUT")
    put(http, "pt_nope", status="OPTED_IN")
    emu_state.behaviours.channel_customization = False
    put(http, seed.TOPIC_EVENTS, status="OPTED_IN", custom_routing=["email"])
    http.put(
        f"/users/{USER}/preferences",
        json={"topics": [{"topic_id": "pt_nope", "status": "OPTED_IN"}]},
    )

    assert logs(http)["items"] == []


def test_topic_name_is_the_one_at_the_time(http: httpx.Client) -> None:
    put(http, seed.TOPIC_EVENTS, status="OPTED_IN")
    http.put(
        f"/preferences/sections/{seed.SECTION_NEWS}/topics/{seed.TOPIC_EVENTS}",
        json={"name": "Live events", "default_status": "OPTED_OUT"},
    )
    put(http, seed.TOPIC_EVENTS, status="OPTED_OUT")

    assert [i["topic_name"] for i in logs(http)["items"]] == ["Live events", "Events and webinars"]


def test_paging_walks_every_entry_newest_first(http: httpx.Client) -> None:
    topics = [seed.TOPIC_BILLING, seed.TOPIC_COMMENTS, seed.TOPIC_REMINDERS, seed.TOPIC_EVENTS]
    for n in range(11):
        put(http, topics[n % 4], status="OPTED_OUT" if n % 2 else "OPTED_IN")
    everything = logs(http)["items"]
    assert len(everything) == 11

    pages = [logs(http, limit=4)]
    while pages[-1]["paging"]["more"]:
        pages.append(logs(http, limit=4, cursor=pages[-1]["paging"]["cursor"]))

    assert [len(p["items"]) for p in pages] == [4, 4, 3]
    assert "cursor" not in pages[-1]["paging"]
    assert [i["id"] for p in pages for i in p["items"]] == [i["id"] for i in everything]
    assert everything[0]["topic_id"] == topics[10 % 4]


def test_default_limit_is_25(http: httpx.Client, store: Store) -> None:
    for n in range(30):
        store.set_user_preference(f"u{n}", seed.TOPIC_EVENTS, PreferenceWrite("OPTED_IN"))

    page = logs(http)

    assert len(page["items"]) == 25
    assert page["paging"]["more"] is True
    assert len(logs(http, cursor=page["paging"]["cursor"])["items"]) == 5


def test_filters_by_user_and_tenant(http: httpx.Client) -> None:
    put(http, seed.TOPIC_EVENTS, status="OPTED_IN")
    put(http, seed.TOPIC_EVENTS, tenant_id="acme", status="OPTED_IN")
    put(http, seed.TOPIC_EVENTS, user="someone-else", tenant_id="acme", status="OPTED_IN")

    mine = logs(http, user_id=USER)["items"]
    mine_in_acme = logs(http, user_id=USER, tenant_id="acme")["items"]

    assert [i.get("tenant_id") for i in mine] == ["acme", None]
    assert [(i["user_id"], i["tenant_id"]) for i in mine_in_acme] == [(USER, "acme")]
    assert len(logs(http)["items"]) == 3


def test_since_filters_by_time(http: httpx.Client) -> None:
    put(http, seed.TOPIC_EVENTS, status="OPTED_IN")
    stamp = logs(http)["items"][0]["timestamp"]
    tomorrow = (datetime.now(UTC) + timedelta(days=1)).date().isoformat()
    yesterday = (datetime.now(UTC) - timedelta(days=1)).date().isoformat()

    assert len(logs(http, since=stamp)["items"]) == 1  # at or after
    assert len(logs(http, since=yesterday)["items"]) == 1
    assert logs(http, since=tomorrow)["items"] == []
    assert logs(http, since=f"{tomorrow}T02:00:00+02:00")["items"] == []
    assert len(logs(http, since=f"{yesterday}T12:00:00")["items"]) == 1  # naive reads as UTC


@pytest.mark.parametrize(
    "params",
    [
        {"tenant_id": "acme"},
        {"limit": "0"},
        {"limit": "101"},
        {"limit": "ten"},
        {"since": "last week"},
        {"since": "2026-13-01"},
        {"cursor": "not-a-cursor"},
        {"cursor": "eyJhZnRlciI6IDF9"},
    ],
)
def test_bad_queries_are_400(http: httpx.Client, params: dict[str, str]) -> None:
    response = http.get(LOGS, params=params)

    assert response.status_code == 400
    assert response.json()["type"] == "invalid_request_error"


def test_the_log_is_kept_in_the_database_file(tmp_path: Path) -> None:
    db = str(tmp_path / "courier.sqlite3")
    first = create_emulator_app(db_path=db)
    first.extensions["courier_emulator"].store.set_user_preference(
        USER, seed.TOPIC_EVENTS, PreferenceWrite("OPTED_IN")
    )
    first.extensions["courier_emulator"].store.close()

    second = create_emulator_app(db_path=db)
    try:
        with http_client(second) as http:
            assert [i["topic_id"] for i in logs(http)["items"]] == [seed.TOPIC_EVENTS]
    finally:
        second.extensions["courier_emulator"].store.close()
