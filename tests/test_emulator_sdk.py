"""Fidelity of the Courier emulator, driven through the official Courier SDK (trycourier)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import courier
import pytest
from courier import Courier
from flask import Flask

from prefcenter.emulator import (
    DEFAULT_API_KEY,
    Behaviours,
    EmulatorState,
    create_emulator_app,
    seed,
)
from prefcenter.emulator.testing import courier_client

USER = "user-42"

DEMO_ORDER = [
    seed.TOPIC_SECURITY,
    seed.TOPIC_BILLING,
    seed.TOPIC_COMMENTS,
    seed.TOPIC_REMINDERS,
    seed.TOPIC_PRODUCT_UPDATES,
    seed.TOPIC_DIGEST,
    seed.TOPIC_EVENTS,
]
DEMO_DEFAULTS = {
    seed.TOPIC_SECURITY: "REQUIRED",
    seed.TOPIC_BILLING: "OPTED_IN",
    seed.TOPIC_COMMENTS: "OPTED_IN",
    seed.TOPIC_REMINDERS: "OPTED_IN",
    seed.TOPIC_PRODUCT_UPDATES: "OPTED_IN",
    seed.TOPIC_DIGEST: "OPTED_OUT",
    seed.TOPIC_EVENTS: "OPTED_OUT",
}


@pytest.fixture
def emu_app() -> Iterator[Flask]:
    """A seeded in-memory emulator listing every topic, even to a user it has never seen."""
    app = create_emulator_app(
        db_path=":memory:",
        api_key=DEFAULT_API_KEY,
        seed=True,
        behaviours=Behaviours(list_mode="all", unknown_user="empty"),
    )
    yield app
    app.extensions["courier_emulator"].store.close()


@pytest.fixture
def emu_state(emu_app: Flask) -> EmulatorState:
    """The emulator's state."""
    return emu_app.extensions["courier_emulator"]


@pytest.fixture
def sdk(emu_app: Flask) -> Iterator[Courier]:
    """The official SDK, in-process against the emulator."""
    with courier_client(emu_app, strict=True) as client:
        yield client


def put(
    sdk: Courier, topic_id: str, user_id: str = USER, tenant_id: str | None = None, **topic: Any
) -> None:
    """Write one topic preference through the SDK."""
    response = sdk.users.preferences.update_or_create_topic(
        topic_id, user_id=user_id, tenant_id=tenant_id, topic=topic
    )
    assert response.message == "success"


# ---- users.preferences.retrieve -------------------------------------------------------------


def test_retrieve_lists_every_topic_with_its_default(sdk: Courier) -> None:
    prefs = sdk.users.preferences.retrieve(USER)

    assert prefs.paging.more is False
    assert [item.topic_id for item in prefs.items] == DEMO_ORDER
    for item in prefs.items:
        assert item.status == DEMO_DEFAULTS[item.topic_id]
        assert item.default_status == DEMO_DEFAULTS[item.topic_id]
        assert item.has_custom_routing is False
        assert item.custom_routing == []
    first = prefs.items[0]
    assert (first.topic_name, first.section_id, first.section_name) == (
        "Security alerts",
        seed.SECTION_ACCOUNT,
        "Account and security",
    )
    assert prefs.items[-1].section_id == seed.SECTION_NEWS


def test_retrieve_reflects_overrides(sdk: Courier) -> None:
    put(sdk, seed.TOPIC_DIGEST, status="OPTED_IN")
    put(
        sdk,
        seed.TOPIC_COMMENTS,
        status="OPTED_OUT",
        has_custom_routing=True,
        custom_routing=["push"],
    )

    by_id = {item.topic_id: item for item in sdk.users.preferences.retrieve(USER).items}

    assert by_id[seed.TOPIC_DIGEST].status == "OPTED_IN"
    assert by_id[seed.TOPIC_DIGEST].default_status == "OPTED_OUT"
    assert by_id[seed.TOPIC_COMMENTS].status == "OPTED_OUT"
    assert by_id[seed.TOPIC_COMMENTS].custom_routing == ["push"]
    assert by_id[seed.TOPIC_EVENTS].status == "OPTED_OUT"
    # Another user is untouched.
    other = sdk.users.preferences.retrieve("someone-else").items
    assert all(item.status == DEMO_DEFAULTS[item.topic_id] for item in other)


def test_retrieve_in_overrides_mode_lists_only_overridden_topics() -> None:
    app = create_emulator_app(list_mode="overrides")
    app.extensions["courier_emulator"].behaviours.unknown_user = "empty"
    app.extensions["courier_emulator"].behaviours.refuse_required_writes = False  # setup below
    try:
        with courier_client(app, strict=True) as sdk:
            assert sdk.users.preferences.retrieve(USER).items == []
            put(sdk, seed.TOPIC_EVENTS, status="OPTED_IN")
            put(
                sdk,
                seed.TOPIC_SECURITY,
                status="REQUIRED",
                has_custom_routing=True,
                custom_routing=["sms"],
            )

            items = sdk.users.preferences.retrieve(USER).items

            assert [item.topic_id for item in items] == [seed.TOPIC_SECURITY, seed.TOPIC_EVENTS]
            assert items[0].status == "REQUIRED"
            assert items[0].custom_routing == ["sms"]
            assert items[1].status == "OPTED_IN"
            assert items[1].section_name == "News and offers"
            # A single-topic read still answers with the effective default.
            topic = sdk.users.preferences.retrieve_topic(seed.TOPIC_BILLING, user_id=USER).topic
            assert topic.status == "OPTED_IN"
    finally:
        app.extensions["courier_emulator"].store.close()


# ---- retrieve_topic / update_or_create_topic / delete_topic -----------------------------------


def test_retrieve_topic_without_override_is_the_default(sdk: Courier) -> None:
    topic = sdk.users.preferences.retrieve_topic(seed.TOPIC_DIGEST, user_id="never-seen").topic

    assert topic.topic_id == seed.TOPIC_DIGEST
    assert topic.topic_name == "Weekly digest"
    assert (topic.status, topic.default_status) == ("OPTED_OUT", "OPTED_OUT")
    assert (topic.has_custom_routing, topic.custom_routing) == (False, [])
    assert (topic.section_id, topic.section_name) == (seed.SECTION_NEWS, "News and offers")


def test_update_writes_status_and_routing(sdk: Courier, emu_state: EmulatorState) -> None:
    put(
        sdk,
        seed.TOPIC_REMINDERS,
        status="OPTED_OUT",
        has_custom_routing=True,
        custom_routing=["inbox", "email"],
    )

    topic = sdk.users.preferences.retrieve_topic(seed.TOPIC_REMINDERS, user_id=USER).topic
    assert topic.status == "OPTED_OUT"
    assert topic.has_custom_routing is True
    assert topic.custom_routing == ["inbox", "email"]
    assert emu_state.store.user_preference(USER, seed.TOPIC_REMINDERS) == topic.model_dump(
        exclude_none=True
    )


def test_update_replaces_routing_when_omitted(sdk: Courier, emu_state: EmulatorState) -> None:
    put(
        sdk,
        seed.TOPIC_COMMENTS,
        status="OPTED_IN",
        has_custom_routing=True,
        custom_routing=["push"],
    )

    put(sdk, seed.TOPIC_COMMENTS, status="OPTED_OUT")

    topic = sdk.users.preferences.retrieve_topic(seed.TOPIC_COMMENTS, user_id=USER).topic
    assert topic.status == "OPTED_OUT"
    assert topic.has_custom_routing is False
    assert topic.custom_routing == []
    assert emu_state.requests[-2].body == {"topic": {"status": "OPTED_OUT"}}


def test_required_topic_reads_required_but_keeps_channels(sdk: Courier) -> None:
    put(
        sdk,
        seed.TOPIC_SECURITY,
        status="OPTED_IN",
        has_custom_routing=True,
        custom_routing=["email", "sms"],
    )

    topic = sdk.users.preferences.retrieve_topic(seed.TOPIC_SECURITY, user_id=USER).topic

    assert topic.status == "REQUIRED"
    assert topic.default_status == "REQUIRED"
    assert topic.custom_routing == ["email", "sms"]


def test_tenant_scoped_write_and_fallback(sdk: Courier, emu_state: EmulatorState) -> None:
    prefs = sdk.users.preferences
    put(sdk, seed.TOPIC_COMMENTS, status="OPTED_OUT")
    # With no tenant override, a tenant read falls back to the user's own override.
    assert (
        prefs.retrieve_topic(seed.TOPIC_COMMENTS, user_id=USER, tenant_id="acme").topic.status
        == "OPTED_OUT"
    )

    prefs.update_or_create_topic(
        seed.TOPIC_COMMENTS,
        user_id=USER,
        tenant_id="acme",
        topic={"status": "OPTED_IN", "has_custom_routing": True, "custom_routing": ["email"]},
    )

    in_tenant = prefs.retrieve_topic(seed.TOPIC_COMMENTS, user_id=USER, tenant_id="acme").topic
    assert (in_tenant.status, in_tenant.custom_routing) == ("OPTED_IN", ["email"])
    assert prefs.retrieve_topic(seed.TOPIC_COMMENTS, user_id=USER).topic.status == "OPTED_OUT"
    assert (
        prefs.retrieve_topic(seed.TOPIC_COMMENTS, user_id=USER, tenant_id="other").topic.status
        == "OPTED_OUT"
    )
    listed = {i.topic_id: i.status for i in prefs.retrieve(USER, tenant_id="acme").items}
    assert listed[seed.TOPIC_COMMENTS] == "OPTED_IN"
    # The tenant write touched only the tenant-scoped override.
    assert emu_state.store.raw_override(USER, seed.TOPIC_COMMENTS)["status"] == "OPTED_OUT"
    assert emu_state.store.raw_override(USER, seed.TOPIC_COMMENTS, "acme")["status"] == "OPTED_IN"
    puts = [r for r in emu_state.requests if r.method == "PUT"]
    assert [r.query for r in puts] == [{}, {"tenant_id": "acme"}]

    prefs.delete_topic(seed.TOPIC_COMMENTS, user_id=USER, tenant_id="acme")

    assert emu_state.store.raw_override(USER, seed.TOPIC_COMMENTS, "acme") is None
    assert (
        prefs.retrieve_topic(seed.TOPIC_COMMENTS, user_id=USER, tenant_id="acme").topic.status
        == "OPTED_OUT"
    )


def test_delete_topic_resets_to_default(sdk: Courier, emu_state: EmulatorState) -> None:
    put(
        sdk, seed.TOPIC_BILLING, status="OPTED_OUT", has_custom_routing=True, custom_routing=["sms"]
    )

    assert sdk.users.preferences.delete_topic(seed.TOPIC_BILLING, user_id=USER) is None

    topic = sdk.users.preferences.retrieve_topic(seed.TOPIC_BILLING, user_id=USER).topic
    assert (topic.status, topic.has_custom_routing, topic.custom_routing) == ("OPTED_IN", False, [])
    assert emu_state.store.raw_override(USER, seed.TOPIC_BILLING) is None
    assert emu_state.requests[-2].status == 204
    # Deleting again is harmless: there is simply nothing to reset.
    sdk.users.preferences.delete_topic(seed.TOPIC_BILLING, user_id=USER)


# ---- bulk ----------------------------------------------------------------------------------


def test_bulk_update_applies_good_topics_and_reports_bad_ones(
    sdk: Courier, emu_state: EmulatorState
) -> None:
    put(sdk, seed.TOPIC_EVENTS, status="OPTED_IN")

    result = sdk.users.preferences.bulk_update(
        USER,
        topics=[
            {
                "topic_id": seed.TOPIC_COMMENTS,
                "status": "OPTED_OUT",
                "has_custom_routing": True,
                "custom_routing": ["email"],
            },
            {"topic_id": "pt_does_not_exist", "status": "OPTED_IN"},
            {"topic_id": seed.TOPIC_SECURITY, "status": "OPTED_OUT"},
            {"topic_id": seed.TOPIC_BILLING, "status": "OPTED_IN", "custom_routing": ["fax"]},
            {"topic_id": seed.TOPIC_DIGEST, "status": "OPTED_IN"},
        ],
    )

    assert [i.model_dump() for i in result.items] == [
        {
            "topic_id": seed.TOPIC_COMMENTS,
            "status": "OPTED_OUT",
            "has_custom_routing": True,
            "custom_routing": ["email"],
        },
        {
            "topic_id": seed.TOPIC_DIGEST,
            "status": "OPTED_IN",
            "has_custom_routing": False,
            "custom_routing": [],
        },
    ]
    assert [e.topic_id for e in result.errors] == [
        "pt_does_not_exist",
        seed.TOPIC_SECURITY,
        seed.TOPIC_BILLING,
    ]
    assert "not found" in result.errors[0].reason
    assert "REQUIRED" in result.errors[1].reason
    assert "fax" in result.errors[2].reason
    store = emu_state.store
    assert store.user_preference(USER, seed.TOPIC_COMMENTS)["status"] == "OPTED_OUT"
    assert store.user_preference(USER, seed.TOPIC_DIGEST)["status"] == "OPTED_IN"
    assert store.raw_override(USER, seed.TOPIC_SECURITY) is None
    assert store.raw_override(USER, seed.TOPIC_BILLING) is None
    assert store.raw_override(USER, "pt_does_not_exist") is None
    # Topics left out keep what they were set to before.
    assert store.user_preference(USER, seed.TOPIC_EVENTS)["status"] == "OPTED_IN"


@pytest.mark.parametrize("count", [0, 51])
def test_bulk_update_needs_1_to_50_topics(
    sdk: Courier, emu_state: EmulatorState, count: int
) -> None:
    topics = [{"topic_id": seed.TOPIC_COMMENTS, "status": "OPTED_OUT"}] * count

    with pytest.raises(courier.BadRequestError):
        sdk.users.preferences.bulk_update(USER, topics=topics)

    assert emu_state.store.override_count() == 0


def test_bulk_replace_resets_omitted_topics(sdk: Courier, emu_state: EmulatorState) -> None:
    put(sdk, seed.TOPIC_EVENTS, status="OPTED_IN")
    put(sdk, seed.TOPIC_COMMENTS, status="OPTED_OUT")
    put(sdk, seed.TOPIC_DIGEST, status="OPTED_IN", tenant_id="acme")

    result = sdk.users.preferences.bulk_replace(
        USER,
        topics=[
            {"topic_id": seed.TOPIC_BILLING, "status": "OPTED_OUT"},
            {
                "topic_id": seed.TOPIC_COMMENTS,
                "status": "OPTED_IN",
                "has_custom_routing": True,
                "custom_routing": ["push"],
            },
        ],
    )

    assert result.deleted == [seed.TOPIC_EVENTS]
    assert [(i.topic_id, i.status, i.custom_routing) for i in result.items] == [
        (seed.TOPIC_BILLING, "OPTED_OUT", []),
        (seed.TOPIC_COMMENTS, "OPTED_IN", ["push"]),
    ]
    statuses = {i.topic_id: i.status for i in sdk.users.preferences.retrieve(USER).items}
    assert statuses[seed.TOPIC_EVENTS] == "OPTED_OUT"
    assert statuses[seed.TOPIC_BILLING] == "OPTED_OUT"
    assert statuses[seed.TOPIC_COMMENTS] == "OPTED_IN"
    # Other scopes are left alone.
    assert emu_state.store.raw_override(USER, seed.TOPIC_DIGEST, "acme") is not None


def test_bulk_replace_is_atomic(sdk: Courier, emu_state: EmulatorState) -> None:
    put(sdk, seed.TOPIC_EVENTS, status="OPTED_IN")

    with pytest.raises(courier.BadRequestError) as caught:
        sdk.users.preferences.bulk_replace(
            USER,
            topics=[
                {"topic_id": seed.TOPIC_BILLING, "status": "OPTED_OUT"},
                {"topic_id": seed.TOPIC_SECURITY, "status": "OPTED_OUT"},
            ],
        )

    assert seed.TOPIC_SECURITY in caught.value.body["message"]
    assert emu_state.store.raw_override(USER, seed.TOPIC_BILLING) is None
    assert emu_state.store.raw_override(USER, seed.TOPIC_EVENTS)["status"] == "OPTED_IN"


def test_bulk_replace_with_no_topics_resets_everything(
    sdk: Courier, emu_state: EmulatorState
) -> None:
    put(sdk, seed.TOPIC_EVENTS, status="OPTED_IN")
    put(sdk, seed.TOPIC_BILLING, status="OPTED_OUT")

    result = sdk.users.preferences.bulk_replace(USER, topics=[])

    assert (result.items, result.deleted) == ([], [seed.TOPIC_BILLING, seed.TOPIC_EVENTS])
    assert emu_state.store.override_count() == 0


# ---- refusals: the SDK's own exceptions, and nothing written ---------------------------------

REFUSED_WRITES = {
    "unknown status": (seed.TOPIC_COMMENTS, {"status": "OPTED_MAYBE"}),
    "unknown channel": (
        seed.TOPIC_COMMENTS,
        {"status": "OPTED_IN", "has_custom_routing": True, "custom_routing": ["email", "fax"]},
    ),
    "opt out of REQUIRED": (seed.TOPIC_SECURITY, {"status": "OPTED_OUT"}),
    "REQUIRED on optional": (seed.TOPIC_BILLING, {"status": "REQUIRED"}),
}


@pytest.mark.parametrize("case", list(REFUSED_WRITES))
def test_refused_write_is_a_bad_request_and_writes_nothing(
    sdk: Courier, emu_state: EmulatorState, case: str
) -> None:
    topic_id, topic = REFUSED_WRITES[case]
    before = emu_state.store.user_preference(USER, topic_id)
    emu_state.clear_requests()

    with pytest.raises(courier.BadRequestError) as caught:
        sdk.users.preferences.update_or_create_topic(topic_id, user_id=USER, topic=topic)

    assert caught.value.status_code == 400
    assert caught.value.body["type"] == "invalid_request_error"
    assert caught.value.body["message"]
    assert emu_state.store.user_preference(USER, topic_id) == before
    assert emu_state.store.override_count() == 0
    assert [(r.method, r.status) for r in emu_state.requests] == [("PUT", 400)]


def test_unknown_topic_is_not_found_for_every_user_operation(
    sdk: Courier, emu_state: EmulatorState
) -> None:
    prefs = sdk.users.preferences
    with pytest.raises(courier.NotFoundError) as caught:
        prefs.retrieve_topic("pt_nope", user_id=USER)
    assert caught.value.body == {
        "type": "invalid_request_error",
        "message": "Topic pt_nope not found",
    }
    with pytest.raises(courier.NotFoundError):
        prefs.update_or_create_topic("pt_nope", user_id=USER, topic={"status": "OPTED_IN"})
    with pytest.raises(courier.NotFoundError):
        prefs.delete_topic("pt_nope", user_id=USER)

    assert emu_state.store.override_count() == 0
    assert emu_state.count("PUT", r"/users/[^/]+/preferences/pt_nope") == 1
    assert [r.status for r in emu_state.requests] == [404, 404, 404]


@pytest.mark.parametrize("key", [None, "wrong-key"])
def test_missing_or_wrong_key_is_an_authentication_error(
    emu_app: Flask, emu_state: EmulatorState, key: str | None
) -> None:
    with courier_client(emu_app, api_key=key or "placeholder", strict=True) as sdk:
        headers = {"Authorization": courier.Omit()} if key is None else None
        with pytest.raises(courier.AuthenticationError) as caught:
            sdk.users.preferences.update_or_create_topic(
                seed.TOPIC_COMMENTS,
                user_id=USER,
                topic={"status": "OPTED_OUT"},
                extra_headers=headers,
            )
        with pytest.raises(courier.AuthenticationError):
            sdk.workspace_preferences.list(extra_headers=headers)

    assert caught.value.status_code == 401
    assert caught.value.body["type"] == "authentication_error"
    assert caught.value.body["message"].startswith("Missing" if key is None else "Invalid")
    assert emu_state.store.override_count() == 0
    assert [r.status for r in emu_state.requests] == [401, 401]


# ---- workspace catalog -----------------------------------------------------------------------


def test_workspace_list_matches_the_demo_catalog(sdk: Courier) -> None:
    sections = sdk.workspace_preferences.list().results

    assert [s.id for s in sections] == [
        seed.SECTION_ACCOUNT,
        seed.SECTION_ACTIVITY,
        seed.SECTION_NEWS,
    ]
    account, activity, news = sections
    assert account.name == "Account and security"
    assert account.description == "Messages about your account and its safety."
    assert (account.has_custom_routing, account.routing_options) == (True, ["email", "sms", "push"])
    assert activity.routing_options == ["email", "push", "inbox"]
    assert (news.has_custom_routing, news.routing_options) == (False, ["email"])
    assert [t.id for s in sections for t in s.topics] == DEMO_ORDER
    security = account.topics[0]
    assert (security.name, security.default_status) == ("Security alerts", "REQUIRED")
    assert security.description.startswith("New sign-ins")
    assert security.topic_data == {}
    assert security.created and security.updated


def test_section_lifecycle(sdk: Courier, emu_state: EmulatorState) -> None:
    wp = sdk.workspace_preferences

    created = wp.create(
        name="Team",
        description="Team news.",
        has_custom_routing=True,
        routing_options=["email", "inbox"],
    )

    assert re.fullmatch(r"[A-Za-z0-9_-]{21}", created.id)
    assert (created.name, created.description, created.topics) == ("Team", "Team news.", [])
    assert created.routing_options == ["email", "inbox"]
    assert created.created.endswith("Z")
    assert [s.id for s in wp.list().results][-1] == created.id
    assert wp.retrieve(created.id) == created

    replaced = wp.replace(created.id, name="Team updates")

    assert replaced.name == "Team updates"
    assert replaced.description is None  # omitted optional fields are cleared
    assert (replaced.has_custom_routing, replaced.routing_options) == (False, [])
    assert replaced.created == created.created

    assert wp.archive(created.id) is None
    with pytest.raises(courier.NotFoundError):
        wp.retrieve(created.id)
    assert created.id not in [s.id for s in wp.list().results]
    assert emu_state.count("DELETE", r"/preferences/sections/[^/]+") == 1


def test_topic_lifecycle(sdk: Courier) -> None:
    wp = sdk.workspace_preferences
    section = wp.create(name="Labs")

    topic = wp.topics.create(
        section.id,
        name="Beta invites",
        default_status="OPTED_OUT",
        description="Try things first.",
        allowed_preferences=["channel_preferences"],
        include_unsubscribe_header=True,
        routing_options=["email"],
        topic_data={"team": "labs"},
    )

    assert re.fullmatch(r"pt_[0-9a-z]{26}", topic.id)
    assert (topic.name, topic.default_status, topic.description) == (
        "Beta invites",
        "OPTED_OUT",
        "Try things first.",
    )
    assert topic.allowed_preferences == ["channel_preferences"]
    assert topic.include_unsubscribe_header is True
    assert topic.topic_data == {"team": "labs"}
    assert wp.topics.retrieve(topic.id, section_id=section.id) == topic
    assert [t.id for t in wp.topics.list(section.id).results] == [topic.id]
    assert [t.id for t in wp.retrieve(section.id).topics] == [topic.id]
    # New topics show up in users' preferences with their default.
    user_topic = sdk.users.preferences.retrieve_topic(topic.id, user_id=USER).topic
    assert (user_topic.status, user_topic.section_name) == ("OPTED_OUT", "Labs")

    replaced = wp.topics.replace(
        topic.id, section_id=section.id, name="Beta program", default_status="OPTED_IN"
    )

    assert (replaced.name, replaced.default_status) == ("Beta program", "OPTED_IN")
    assert replaced.description is None
    assert (replaced.allowed_preferences, replaced.routing_options, replaced.topic_data) == (
        [],
        [],
        {},
    )
    assert replaced.include_unsubscribe_header is False
    assert sdk.users.preferences.retrieve_topic(topic.id, user_id=USER).topic.status == "OPTED_IN"

    # A section with topics cannot be archived.
    with pytest.raises(courier.ConflictError) as caught:
        wp.archive(section.id)
    assert caught.value.body["type"] == "invalid_request_error"
    assert wp.retrieve(section.id).topics

    assert wp.topics.archive(topic.id, section_id=section.id) is None

    with pytest.raises(courier.NotFoundError):
        wp.topics.retrieve(topic.id, section_id=section.id)
    assert wp.topics.list(section.id).results == []
    assert topic.id not in [i.topic_id for i in sdk.users.preferences.retrieve(USER).items]
    with pytest.raises(courier.NotFoundError):
        sdk.users.preferences.retrieve_topic(topic.id, user_id=USER)
    wp.archive(section.id)


def test_archived_demo_topic_leaves_users_lists(sdk: Courier) -> None:
    sdk.workspace_preferences.topics.archive(seed.TOPIC_EVENTS, section_id=seed.SECTION_NEWS)

    ids = [i.topic_id for i in sdk.users.preferences.retrieve(USER).items]

    assert ids == DEMO_ORDER[:-1]


def test_unknown_section_or_topic_is_not_found(sdk: Courier, emu_state: EmulatorState) -> None:
    wp = sdk.workspace_preferences
    with pytest.raises(courier.NotFoundError):
        wp.retrieve("sec_nope")
    with pytest.raises(courier.NotFoundError):
        wp.replace("sec_nope", name="x")
    with pytest.raises(courier.NotFoundError):
        wp.archive("sec_nope")
    with pytest.raises(courier.NotFoundError):
        wp.topics.list("sec_nope")
    with pytest.raises(courier.NotFoundError):
        wp.topics.create("sec_nope", name="x", default_status="OPTED_IN")
    # A real topic addressed through the wrong section is not found either.
    with pytest.raises(courier.NotFoundError):
        wp.topics.retrieve(seed.TOPIC_BILLING, section_id=seed.SECTION_NEWS)
    with pytest.raises(courier.NotFoundError):
        wp.topics.archive(seed.TOPIC_BILLING, section_id=seed.SECTION_NEWS)

    assert [s.id for s in wp.list().results] == [
        seed.SECTION_ACCOUNT,
        seed.SECTION_ACTIVITY,
        seed.SECTION_NEWS,
    ]
    assert seed.TOPIC_BILLING in [t.id for t in wp.topics.list(seed.SECTION_ACCOUNT).results]


def test_invalid_catalog_writes_are_bad_requests(sdk: Courier) -> None:
    wp = sdk.workspace_preferences
    with pytest.raises(courier.BadRequestError):
        wp.create(name="")
    with pytest.raises(courier.BadRequestError):
        wp.create(name="Chat", routing_options=["carrier_pigeon"])  # type: ignore[list-item]
    with pytest.raises(courier.BadRequestError):
        wp.topics.create(seed.SECTION_NEWS, name="x", default_status="SOMETIMES")  # type: ignore[arg-type]
    with pytest.raises(courier.BadRequestError):
        wp.topics.replace(
            seed.TOPIC_BILLING,
            section_id=seed.SECTION_ACCOUNT,
            name="x",
            default_status="OPTED_IN",
            allowed_preferences=["everything"],
        )  # type: ignore[list-item]

    assert len(wp.list().results) == 3
    assert len(wp.topics.list(seed.SECTION_NEWS).results) == 3
    assert (
        wp.topics.retrieve(seed.TOPIC_BILLING, section_id=seed.SECTION_ACCOUNT).name
        == "Billing and receipts"
    )
