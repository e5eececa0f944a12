"""The emulator's HTTP surface below the SDK: error bodies, request log, idempotency, shapes."""

from __future__ import annotations

import httpx
import pytest
from flask import Flask

from prefcenter.emulator import EmulatorState, create_emulator_app, seed
from prefcenter.emulator.testing import http_client

USER = "user-7"


def assert_error(response: httpx.Response, status: int, error_type: str) -> None:
    """The response is Courier's JSON error body with this status and type."""
    assert response.status_code == status
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert set(body) == {"type", "message"}
    assert body["type"] == error_type
    assert body["message"]


def test_malformed_json_is_a_400_and_is_logged(
    http: httpx.Client, emu_state: EmulatorState
) -> None:
    response = http.put(
        f"/users/{USER}/preferences/{seed.TOPIC_COMMENTS}",
        content=b'{"topic": {"status": ',
        headers={"Content-Type": "application/json"},
    )

    assert_error(response, 400, "invalid_request_error")
    assert "JSON" in response.json()["message"]
    assert emu_state.requests[-1].body == '{"topic": {"status": '
    assert emu_state.requests[-1].status == 400
    assert emu_state.store.override_count() == 0


@pytest.mark.parametrize(
    "body",
    [
        None,
        [],
        {"status": "OPTED_OUT"},
        {"topic": "OPTED_OUT"},
        {"topic": {}},
        {"topic": {"status": "OPTED_IN", "has_custom_routing": "yes"}},
        {"topic": {"status": "OPTED_IN", "custom_routing": "email"}},
    ],
)
def test_bad_put_bodies_are_400(http: httpx.Client, emu_state: EmulatorState, body: object) -> None:
    response = http.put(f"/users/{USER}/preferences/{seed.TOPIC_COMMENTS}", json=body)

    assert_error(response, 400, "invalid_request_error")
    assert emu_state.store.override_count() == 0


def test_validation_comes_before_the_topic_lookup(http: httpx.Client) -> None:
    path = f"/users/{USER}/preferences/pt_nope"
    bad_body = http.put(path, json={"topic": {"status": "NO"}})
    good_body = http.put(path, json={"topic": {"status": "OPTED_IN"}})

    assert_error(bad_body, 400, "invalid_request_error")
    assert_error(good_body, 404, "invalid_request_error")


def test_digest_schedule_id_null_is_accepted_and_an_id_is_refused(
    http: httpx.Client, emu_state: EmulatorState
) -> None:
    path = f"/users/{USER}/preferences/{seed.TOPIC_DIGEST}"

    refused = http.put(path, json={"topic": {"status": "OPTED_IN", "digest_schedule_id": "sch_1"}})
    assert_error(refused, 400, "invalid_request_error")
    assert emu_state.store.raw_override(USER, seed.TOPIC_DIGEST) is None

    ok = http.put(path, json={"topic": {"status": "OPTED_IN", "digest_schedule_id": None}})
    assert ok.json() == {"message": "success"}
    assert "digest_schedule_id" not in http.get(path).json()["topic"]


def test_method_not_allowed_is_json_with_allow_header(
    http: httpx.Client, emu_state: EmulatorState
) -> None:
    response = http.patch(f"/users/{USER}/preferences/{seed.TOPIC_COMMENTS}", json={})

    assert_error(response, 405, "invalid_request_error")
    assert "PUT" in response.headers["allow"]
    assert emu_state.requests[-1].status == 405


def test_oversized_body_is_json_413(http: httpx.Client, emu_state: EmulatorState) -> None:
    response = http.post(f"/users/{USER}/preferences", content=b" " * (2 * 1024 * 1024))

    assert_error(response, 413, "invalid_request_error")
    assert (emu_state.requests[-1].status, emu_state.requests[-1].body) == (413, None)


def test_unknown_route_is_json_404(http: httpx.Client, emu_state: EmulatorState) -> None:
    response = http.get("/send/nowhere")

    assert_error(response, 404, "invalid_request_error")
    assert emu_state.count("GET", r"/send/.*") == 1


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer"},
        {"Authorization": "Basic ZW11bGF0b3Ita2V5"},
        {"Authorization": "Bearer emulator-key-not"},
    ],
)
def test_requests_without_the_key_are_401(
    emu_app: Flask, emu_state: EmulatorState, headers: dict[str, str]
) -> None:
    with http_client(emu_app, api_key=None) as anonymous:
        response = anonymous.get("/nope", headers=headers)  # auth comes before routing
        put = anonymous.put(
            f"/users/{USER}/preferences/{seed.TOPIC_COMMENTS}",
            headers=headers,
            json={"topic": {"status": "OPTED_OUT"}},
        )

    assert_error(response, 401, "authentication_error")
    assert_error(put, 401, "authentication_error")
    assert emu_state.store.override_count() == 0
    assert [r.status for r in emu_state.requests] == [401, 401]


def test_custom_api_key_is_enforced() -> None:
    app = create_emulator_app(api_key="s3cret", seed=False)
    try:
        with http_client(app, api_key="s3cret") as good, http_client(app) as default_key:
            assert good.get("/preferences/sections").json() == {"results": []}
            assert default_key.get("/preferences/sections").status_code == 401
    finally:
        app.extensions["courier_emulator"].store.close()


def test_request_log_records_method_path_query_body_status(
    http: httpx.Client, emu_state: EmulatorState
) -> None:
    emu_state.behaviours.unknown_user = "empty"
    emu_state.clear_requests()
    http.get(f"/users/{USER}/preferences", params={"tenant_id": "acme"})
    http.put(
        f"/users/{USER}/preferences/{seed.TOPIC_EVENTS}", json={"topic": {"status": "OPTED_IN"}}
    )
    http.delete(f"/users/{USER}/preferences/pt_gone")

    assert [(r.method, r.path, r.query, r.body, r.status) for r in emu_state.requests] == [
        ("GET", f"/users/{USER}/preferences", {"tenant_id": "acme"}, None, 200),
        (
            "PUT",
            f"/users/{USER}/preferences/{seed.TOPIC_EVENTS}",
            {},
            {"topic": {"status": "OPTED_IN"}},
            200,
        ),
        ("DELETE", f"/users/{USER}/preferences/pt_gone", {}, None, 404),
    ]
    assert emu_state.count("put", r"/users/[^/]+/preferences/.+") == 1
    assert emu_state.count("GET", r"/users/[^/]+/preferences/.+") == 0
    assert emu_state.count("GET", r"/users/[^/]+/preferences") == 1
    emu_state.clear_requests()
    assert emu_state.requests == []


def test_user_ids_are_opaque_strings(http: httpx.Client, emu_state: EmulatorState) -> None:
    user = "team/alice@example.com"
    encoded = "team%2Falice%40example.com"

    response = http.put(
        f"/users/{encoded}/preferences/{seed.TOPIC_EVENTS}", json={"topic": {"status": "OPTED_IN"}}
    )

    assert response.status_code == 200
    assert emu_state.store.raw_override(user, seed.TOPIC_EVENTS) == {
        "status": "OPTED_IN",
        "has_custom_routing": False,
        "custom_routing": [],
    }
    assert http.get(f"/users/{encoded}/preferences").json()["items"][-1]["status"] == "OPTED_IN"


def test_topic_preference_json_shape(http: httpx.Client, emu_state: EmulatorState) -> None:
    emu_state.behaviours.unknown_user = "empty"  # the list below is a never-seen user's
    body = http.get(f"/users/{USER}/preferences/{seed.TOPIC_COMMENTS}").json()

    assert body == {
        "topic": {
            "topic_id": seed.TOPIC_COMMENTS,
            "topic_name": "Comments and mentions",
            "status": "OPTED_IN",
            "default_status": "OPTED_IN",
            "has_custom_routing": False,
            "custom_routing": [],
            "section_id": seed.SECTION_ACTIVITY,
            "section_name": "Activity",
        }
    }
    listing = http.get(f"/users/{USER}/preferences").json()
    assert set(listing) == {"items", "paging"}
    assert listing["paging"] == {"more": False}


def test_delete_returns_204_without_body(http: httpx.Client) -> None:
    response = http.delete(f"/users/{USER}/preferences/{seed.TOPIC_COMMENTS}")

    assert response.status_code == 204
    assert response.content == b""


def test_idempotency_key_replays_the_first_post(
    http: httpx.Client, emu_state: EmulatorState
) -> None:
    headers = {"Idempotency-Key": "create-team-1"}
    first = http.post("/preferences/sections", json={"name": "Team"}, headers=headers)
    again = http.post("/preferences/sections", json={"name": "Team"}, headers=headers)
    other = http.post(
        "/preferences/sections", json={"name": "Team"}, headers={"Idempotency-Key": "create-team-2"}
    )

    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert other.json()["id"] != first.json()["id"]
    names = [s["name"] for s in http.get("/preferences/sections").json()["results"]]
    assert names.count("Team") == 2


def test_idempotent_bulk_update_is_not_applied_twice(
    http: httpx.Client, emu_state: EmulatorState
) -> None:
    path = f"/users/{USER}/preferences"
    headers = {"Idempotency-Key": "bulk-1"}
    first = http.post(
        path,
        headers=headers,
        json={"topics": [{"topic_id": seed.TOPIC_EVENTS, "status": "OPTED_IN"}]},
    )
    http.put(f"{path}/{seed.TOPIC_EVENTS}", json={"topic": {"status": "OPTED_OUT"}})
    replay = http.post(
        path,
        headers=headers,
        json={"topics": [{"topic_id": seed.TOPIC_EVENTS, "status": "OPTED_IN"}]},
    )

    assert replay.json() == first.json()
    assert emu_state.store.user_preference(USER, seed.TOPIC_EVENTS)["status"] == "OPTED_OUT"


def test_bulk_entry_without_topic_id_fails_the_whole_request(
    http: httpx.Client, emu_state: EmulatorState
) -> None:
    response = http.post(
        f"/users/{USER}/preferences",
        json={
            "topics": [
                {"topic_id": seed.TOPIC_EVENTS, "status": "OPTED_IN"},
                {"status": "OPTED_IN"},
            ]
        },
    )

    assert_error(response, 400, "invalid_request_error")
    assert emu_state.store.override_count() == 0


def test_bulk_duplicate_topic_is_reported(http: httpx.Client, emu_state: EmulatorState) -> None:
    response = http.post(
        f"/users/{USER}/preferences",
        json={
            "topics": [
                {"topic_id": seed.TOPIC_EVENTS, "status": "OPTED_IN"},
                {"topic_id": seed.TOPIC_EVENTS, "status": "OPTED_OUT"},
                {"topic_id": seed.TOPIC_BILLING, "status": "REQUIRED"},
            ]
        },
    ).json()

    assert [i["topic_id"] for i in response["items"]] == [seed.TOPIC_EVENTS]
    assert [e["topic_id"] for e in response["errors"]] == [seed.TOPIC_EVENTS, seed.TOPIC_BILLING]
    assert emu_state.store.user_preference(USER, seed.TOPIC_EVENTS)["status"] == "OPTED_IN"


def test_created_section_and_topic_json_shapes(http: httpx.Client) -> None:
    section = http.post("/preferences/sections", json={"name": "Labs"}).json()
    topic = http.post(
        f"/preferences/sections/{section['id']}/topics",
        json={"name": "Beta", "default_status": "OPTED_IN"},
    ).json()

    assert set(section) == {
        "id",
        "name",
        "has_custom_routing",
        "routing_options",
        "topics",
        "created",
        "updated",
    }
    assert (section["has_custom_routing"], section["routing_options"]) == (False, [])
    assert set(topic) == {
        "id",
        "name",
        "default_status",
        "allowed_preferences",
        "include_unsubscribe_header",
        "routing_options",
        "topic_data",
        "created",
        "updated",
    }
    assert topic["topic_data"] == {}


def test_invalid_topic_digest_is_refused_before_the_topic_is_written(http: httpx.Client) -> None:
    response = http.post(
        f"/preferences/sections/{seed.SECTION_NEWS}/topics",
        json={
            "name": "Daily",
            "default_status": "OPTED_IN",
            "digest": {"template_id": "tpl", "schedules": [{"frequency": "daily"}]},
        },
    )

    assert_error(response, 400, "invalid_request_error")
    assert "time" in response.json()["message"]
    assert len(http.get(f"/preferences/sections/{seed.SECTION_NEWS}/topics").json()["results"]) == 3


def test_stale_required_override_falls_back_when_topic_stops_being_required(
    http: httpx.Client, emu_state: EmulatorState
) -> None:
    emu_state.behaviours.refuse_required_writes = False  # to store a REQUIRED override
    topic_path = f"/preferences/sections/{seed.SECTION_ACCOUNT}/topics/{seed.TOPIC_SECURITY}"
    user_path = f"/users/{USER}/preferences/{seed.TOPIC_SECURITY}"
    assert (
        http.put(
            user_path,
            json={
                "topic": {
                    "status": "REQUIRED",
                    "has_custom_routing": True,
                    "custom_routing": ["sms"],
                }
            },
        ).status_code
        == 200
    )

    http.put(topic_path, json={"name": "Security alerts", "default_status": "OPTED_OUT"})

    topic = http.get(user_path).json()["topic"]
    assert (topic["status"], topic["default_status"], topic["custom_routing"]) == (
        "OPTED_OUT",
        "OPTED_OUT",
        ["sms"],
    )


def test_create_emulator_app_rejects_bad_configuration() -> None:
    with pytest.raises(ValueError):
        create_emulator_app(list_mode="some")
    with pytest.raises(ValueError):
        create_emulator_app(api_key="")
