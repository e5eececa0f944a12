"""The behaviour switches, below the SDK: defaults, checks, run-time flips and each answer."""

from __future__ import annotations

import httpx
import pytest

from prefcenter.emulator import Behaviours, EmulatorState, create_emulator_app, seed
from prefcenter.emulator.__main__ import _parse_args
from prefcenter.emulator.errors import InvalidRequest
from prefcenter.emulator.models import PreferenceWrite

USER = "user-9"
PLAN_MESSAGE = "Channel delivery customization is not available for your plan"


def put_topic(
    http: httpx.Client, topic_id: str, user: str = USER, **topic: object
) -> httpx.Response:
    """PUT one user topic preference."""
    return http.put(f"/users/{user}/preferences/{topic_id}", json={"topic": topic})


def assert_error(response: httpx.Response, status: int, message: str | None = None) -> None:
    """The response is Courier's invalid_request_error body with this status."""
    assert response.status_code == status
    body = response.json()
    assert body["type"] == "invalid_request_error"
    if message is not None:
        assert body["message"] == message


# ---- the dataclass and its wiring ------------------------------------------------------------


STRICTEST = Behaviours(
    list_mode="overrides",
    unknown_user="404",
    channel_customization=True,  # left on so the demo can show channel choice
    routing_402_trigger="routing",
    refuse_required_writes=True,
    tenant_default_status="tenant",
    catalog_default_status=True,
    extra_channels=(),
)


def test_defaults_are_the_strictest_reading_safe_for_the_demo() -> None:
    assert Behaviours() == STRICTEST
    # The CLI starts the same emulator when no switch is given...
    assert _parse_args(["--port", "0"]).behaviours == STRICTEST
    # ...and each strict default can still be turned off from the command line.
    relaxed_args = ["--list-mode", "all", "--unknown-user", "empty", "--no-refuse-required-writes"]
    relaxed = _parse_args(["--port", "0", *relaxed_args]).behaviours
    assert (relaxed.list_mode, relaxed.unknown_user, relaxed.refuse_required_writes) == (
        "all",
        "empty",
        False,
    )
    assert _parse_args(["--port", "0", "--refuse-required-writes"]).behaviours == STRICTEST
    # An app built without switches uses the defaults; list_mode="all" still forces full lists.
    app = create_emulator_app()
    every = create_emulator_app(list_mode="all")
    try:
        assert app.extensions["courier_emulator"].behaviours == STRICTEST
        assert every.extensions["courier_emulator"].list_mode == "all"
    finally:
        app.extensions["courier_emulator"].store.close()
        every.extensions["courier_emulator"].store.close()


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("list_mode", "some"),
        ("unknown_user", 404),
        ("routing_402_trigger", "always"),
        ("tenant_default_status", "parent"),
        ("channel_customization", "no"),
        ("refuse_required_writes", 1),
        ("catalog_default_status", None),
        ("extra_channels", "carrier_pigeon"),
        ("extra_channels", ["Carrier Pigeon"]),
    ],
)
def test_bad_switch_values_fail_where_they_are_set(field: str, value: object) -> None:
    with pytest.raises(ValueError):
        Behaviours(**{field: value})
    behaviours = Behaviours()
    with pytest.raises(ValueError):
        setattr(behaviours, field, value)


def test_extra_channels_become_a_tuple_after_the_enum() -> None:
    behaviours = Behaviours(extra_channels=["carrier_pigeon", "email"])

    assert behaviours.extra_channels == ("carrier_pigeon", "email")
    assert behaviours.channels[-1] == "carrier_pigeon"
    assert behaviours.channels.count("email") == 1


def test_state_list_mode_delegates_to_behaviours(emu_state: EmulatorState) -> None:
    emu_state.list_mode = "overrides"
    assert emu_state.behaviours.list_mode == "overrides"
    emu_state.behaviours.list_mode = "all"
    assert emu_state.list_mode == "all"
    with pytest.raises(ValueError):
        emu_state.list_mode = "some"
    # The store reads the very same object, so a flip reaches every request.
    assert emu_state.store.behaviours is emu_state.behaviours
    replacement = Behaviours(list_mode="overrides")
    emu_state.behaviours = replacement
    assert emu_state.store.behaviours is replacement
    assert emu_state.list_mode == "overrides"


def test_create_emulator_app_keeps_the_behaviours_object_given() -> None:
    mine = Behaviours(unknown_user="404", list_mode="overrides")
    app = create_emulator_app(behaviours=mine)
    explicit = create_emulator_app(behaviours=Behaviours(), list_mode="overrides")
    try:
        assert app.extensions["courier_emulator"].behaviours is mine
        assert app.extensions["courier_emulator"].list_mode == "overrides"
        assert explicit.extensions["courier_emulator"].list_mode == "overrides"
    finally:
        app.extensions["courier_emulator"].store.close()
        explicit.extensions["courier_emulator"].store.close()


def test_digest_schedules_need_the_demo_seed() -> None:
    with pytest.raises(ValueError):
        create_emulator_app(seed=False, digest_schedules=True)


# ---- list_mode and unknown_user -------------------------------------------------------------


def test_list_mode_flips_at_run_time(http: httpx.Client, behaviours: Behaviours) -> None:
    behaviours.list_mode = "all"
    put_topic(http, seed.TOPIC_EVENTS, status="OPTED_IN")
    assert len(http.get(f"/users/{USER}/preferences").json()["items"]) == 7

    behaviours.list_mode = "overrides"

    items = http.get(f"/users/{USER}/preferences").json()["items"]
    assert [i["topic_id"] for i in items] == [seed.TOPIC_EVENTS]


@pytest.mark.parametrize("list_mode", ["all", "overrides"])
def test_unknown_user_404_until_the_user_has_an_override(
    http: httpx.Client, behaviours: Behaviours, list_mode: str
) -> None:
    behaviours.list_mode = list_mode
    behaviours.unknown_user = "404"

    missing = http.get(f"/users/{USER}/preferences")
    in_tenant = http.get(f"/users/{USER}/preferences", params={"tenant_id": "acme"})

    assert_error(missing, 404, f"User {USER} not found")
    assert_error(in_tenant, 404, f"User {USER} not found")
    # The single-topic read still answers with the default: it reads the topic, not the user.
    assert http.get(f"/users/{USER}/preferences/{seed.TOPIC_EVENTS}").status_code == 200

    put_topic(http, seed.TOPIC_EVENTS, status="OPTED_IN")  # an override in any scope will do

    listed = http.get(f"/users/{USER}/preferences", params={"tenant_id": "acme"})
    assert listed.status_code == 200
    assert seed.TOPIC_EVENTS in [i["topic_id"] for i in listed.json()["items"]]


def test_unknown_user_empty_is_a_200(http: httpx.Client, behaviours: Behaviours) -> None:
    behaviours.list_mode = "overrides"
    behaviours.unknown_user = "empty"

    response = http.get("/users/never-seen/preferences")

    assert response.json() == {"items": [], "paging": {"more": False}}


# ---- 402 on a plan without channel customization ---------------------------------------------

ROUTING_WRITES = {
    "channels chosen": ({"has_custom_routing": True, "custom_routing": ["email"]}, True, True),
    "channels without the flag": ({"custom_routing": ["email"]}, True, True),
    "flag with no channels": ({"has_custom_routing": True, "custom_routing": []}, True, True),
    "empty channel list": ({"has_custom_routing": False, "custom_routing": []}, False, True),
    "null channel list": ({"custom_routing": None}, False, True),
    "flag false alone": ({"has_custom_routing": False}, False, False),
    "status only": ({}, False, False),
}


@pytest.mark.parametrize("trigger", ["routing", "field"])
@pytest.mark.parametrize("case", list(ROUTING_WRITES))
def test_single_write_402_per_trigger(
    http: httpx.Client, emu_state: EmulatorState, trigger: str, case: str
) -> None:
    routing, refused_by_routing, refused_by_field = ROUTING_WRITES[case]
    emu_state.behaviours.channel_customization = False
    emu_state.behaviours.routing_402_trigger = trigger
    refused = refused_by_routing if trigger == "routing" else refused_by_field

    response = put_topic(http, seed.TOPIC_COMMENTS, status="OPTED_OUT", **routing)

    if refused:
        assert_error(response, 402, PLAN_MESSAGE)
        assert emu_state.store.raw_override(USER, seed.TOPIC_COMMENTS) is None
        assert emu_state.store.change_count() == 0
    else:
        assert response.json() == {"message": "success"}
        assert emu_state.store.raw_override(USER, seed.TOPIC_COMMENTS)["status"] == "OPTED_OUT"


def test_plan_with_channel_customization_accepts_routing(
    http: httpx.Client, emu_state: EmulatorState
) -> None:
    response = put_topic(
        http, seed.TOPIC_COMMENTS, status="OPTED_IN", has_custom_routing=True, custom_routing=[]
    )

    assert response.status_code == 200


def test_402_comes_after_schema_checks(http: httpx.Client, behaviours: Behaviours) -> None:
    behaviours.channel_customization = False

    bad_status = put_topic(http, seed.TOPIC_COMMENTS, status="NO", custom_routing=["email"])
    bad_channel = put_topic(http, seed.TOPIC_COMMENTS, status="OPTED_IN", custom_routing=["fax"])

    assert_error(bad_status, 400)
    assert_error(bad_channel, 400)


def test_bulk_update_lists_refused_routing_in_errors(
    http: httpx.Client, emu_state: EmulatorState
) -> None:
    emu_state.behaviours.channel_customization = False

    body = http.post(
        f"/users/{USER}/preferences",
        json={
            "topics": [
                {"topic_id": seed.TOPIC_COMMENTS, "status": "OPTED_OUT", "custom_routing": ["sms"]},
                {"topic_id": seed.TOPIC_EVENTS, "status": "OPTED_IN"},
            ]
        },
    ).json()

    assert body["errors"] == [{"topic_id": seed.TOPIC_COMMENTS, "reason": PLAN_MESSAGE}]
    assert [i["topic_id"] for i in body["items"]] == [seed.TOPIC_EVENTS]
    assert emu_state.store.raw_override(USER, seed.TOPIC_COMMENTS) is None


def test_bulk_replace_is_refused_whole_with_402(
    http: httpx.Client, emu_state: EmulatorState
) -> None:
    put_topic(http, seed.TOPIC_BILLING, status="OPTED_OUT")
    emu_state.behaviours.channel_customization = False
    emu_state.behaviours.routing_402_trigger = "field"

    response = http.put(
        f"/users/{USER}/preferences",
        json={
            "topics": [
                {"topic_id": seed.TOPIC_EVENTS, "status": "OPTED_IN"},
                {"topic_id": seed.TOPIC_COMMENTS, "status": "OPTED_IN", "custom_routing": []},
            ]
        },
    )

    assert_error(response, 402, PLAN_MESSAGE)
    assert emu_state.store.raw_override(USER, seed.TOPIC_BILLING)["status"] == "OPTED_OUT"
    assert emu_state.store.raw_override(USER, seed.TOPIC_EVENTS) is None


# ---- refuse_required_writes -----------------------------------------------------------------


def test_required_write_on_a_required_topic_follows_the_switch(
    http: httpx.Client, emu_state: EmulatorState
) -> None:
    emu_state.behaviours.refuse_required_writes = False
    assert put_topic(http, seed.TOPIC_SECURITY, status="REQUIRED").status_code == 200

    emu_state.behaviours.refuse_required_writes = True

    refused = put_topic(http, seed.TOPIC_SECURITY, status="REQUIRED", custom_routing=["sms"])
    assert_error(refused, 400)
    assert "OPTED_IN or OPTED_OUT" in refused.json()["message"]
    assert emu_state.store.raw_override(USER, seed.TOPIC_SECURITY)["custom_routing"] == []
    # Opting in (to keep channels) is still how a person chooses channels for a REQUIRED topic.
    assert put_topic(http, seed.TOPIC_SECURITY, status="OPTED_IN").status_code == 200


def test_refuse_required_writes_leaves_store_seeding_alone(emu_state: EmulatorState) -> None:
    emu_state.behaviours.refuse_required_writes = True
    store = emu_state.store

    store.set_user_preference(USER, seed.TOPIC_SECURITY, PreferenceWrite("REQUIRED"))

    assert store.raw_override(USER, seed.TOPIC_SECURITY)["status"] == "REQUIRED"
    with pytest.raises(InvalidRequest, match="OPTED_IN or OPTED_OUT"):
        store.set_user_preference(
            USER, seed.TOPIC_SECURITY, PreferenceWrite("REQUIRED"), refuse_required=True
        )


# ---- catalog default_status and extra channels ----------------------------------------------


def test_catalog_can_leave_out_default_status(http: httpx.Client, behaviours: Behaviours) -> None:
    behaviours.catalog_default_status = False
    section_path = f"/preferences/sections/{seed.SECTION_NEWS}"

    bodies = [
        *(t for s in http.get("/preferences/sections").json()["results"] for t in s["topics"]),
        *http.get(section_path).json()["topics"],
        *http.get(f"{section_path}/topics").json()["results"],
        http.get(f"{section_path}/topics/{seed.TOPIC_EVENTS}").json(),
        http.post(
            f"{section_path}/topics", json={"name": "New", "default_status": "OPTED_IN"}
        ).json(),
    ]

    assert len(bodies) == 7 + 3 + 3 + 1 + 1
    assert all("default_status" not in topic for topic in bodies)
    # Users' reads are not catalog objects: they keep theirs.
    user_topic = http.get(f"/users/{USER}/preferences/{seed.TOPIC_EVENTS}").json()["topic"]
    assert user_topic["default_status"] == "OPTED_OUT"


def test_extra_channels_are_accepted_and_returned(
    http: httpx.Client, emu_state: EmulatorState
) -> None:
    refused = put_topic(http, seed.TOPIC_COMMENTS, status="OPTED_IN", custom_routing=["whatsapp"])
    assert_error(refused, 400)

    emu_state.behaviours.extra_channels = ("whatsapp",)

    written = put_topic(
        http,
        seed.TOPIC_COMMENTS,
        status="OPTED_IN",
        has_custom_routing=True,
        custom_routing=["whatsapp", "email"],
    )
    section = http.post(
        "/preferences/sections",
        json={"name": "Chat", "has_custom_routing": True, "routing_options": ["whatsapp"]},
    ).json()
    topic = http.post(
        f"/preferences/sections/{section['id']}/topics",
        json={"name": "Replies", "default_status": "OPTED_IN", "routing_options": ["whatsapp"]},
    ).json()
    bulk = http.post(
        f"/users/{USER}/preferences",
        json={
            "topics": [
                {"topic_id": topic["id"], "status": "OPTED_IN", "custom_routing": ["whatsapp"]}
            ]
        },
    ).json()

    assert written.status_code == 200
    read = http.get(f"/users/{USER}/preferences/{seed.TOPIC_COMMENTS}").json()["topic"]
    assert read["custom_routing"] == ["whatsapp", "email"]
    assert section["routing_options"] == ["whatsapp"]
    assert topic["routing_options"] == ["whatsapp"]
    assert bulk["items"][0]["custom_routing"] == ["whatsapp"]
    # Switched off again, values already stored still read back as stored.
    emu_state.behaviours.extra_channels = ()
    read = http.get(f"/users/{USER}/preferences/{seed.TOPIC_COMMENTS}").json()["topic"]
    assert read["custom_routing"] == ["whatsapp", "email"]
