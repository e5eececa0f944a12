"""The emulator's real-Courier behaviours and newer endpoints, through the official SDK, strictly.

Every client here validates responses against the SDK's models
(``_strict_response_validation=True``), so a field the emulator shapes wrongly fails the test.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import courier
import pytest
from courier import Courier
from flask import Flask

from prefcenter.emulator import Behaviours, EmulatorState, create_emulator_app, seed
from prefcenter.emulator.testing import courier_client

USER = "user-77"
PLAN_MESSAGE = "Channel delivery customization is not available for your plan"


@pytest.fixture
def behaviours() -> Behaviours:
    """Default switches; a test changes them before or after the app is built."""
    return Behaviours()


@pytest.fixture
def emu_app(behaviours: Behaviours) -> Iterator[Flask]:
    """The demo workspace with its digest schedules and legacy topics."""
    app = create_emulator_app(behaviours=behaviours, legacy_topics=True, digest_schedules=True)
    yield app
    app.extensions["courier_emulator"].store.close()


@pytest.fixture
def emu_state(emu_app: Flask) -> EmulatorState:
    """The emulator's state."""
    return emu_app.extensions["courier_emulator"]


@pytest.fixture
def sdk(emu_app: Flask) -> Iterator[Courier]:
    """The official SDK, in-process, validating every response strictly."""
    with courier_client(emu_app, strict=True) as client:
        yield client


def put(sdk: Courier, topic_id: str, tenant_id: str | None = None, **topic: Any) -> None:
    """Write one of USER's topic preferences through the SDK."""
    response = sdk.users.preferences.update_or_create_topic(
        topic_id, user_id=USER, tenant_id=tenant_id, topic=topic
    )
    assert response.message == "success"


def one(sdk: Courier, topic_id: str, tenant_id: str | None = None) -> Any:
    """USER's single-topic read."""
    return sdk.users.preferences.retrieve_topic(topic_id, user_id=USER, tenant_id=tenant_id).topic


# ---- tenants --------------------------------------------------------------------------------


def test_tenant_create_retrieve_and_default_items(sdk: Courier) -> None:
    created = sdk.tenants.update(
        "acme",
        name="Acme",
        brand_id="brand_acme",
        properties={"tier": "gold"},
        default_preferences={
            "items": [
                {
                    "id": seed.TOPIC_DIGEST,
                    "status": "REQUIRED",
                    "has_custom_routing": True,
                    "custom_routing": ["email"],
                }
            ]
        },
    )
    child = sdk.tenants.update("acme-eu", name="Acme EU", parent_tenant_id="acme")

    assert isinstance(created, courier.types.Tenant)
    assert (created.id, created.name, created.brand_id) == ("acme", "Acme", "brand_acme")
    assert created.default_preferences is not None
    [item] = created.default_preferences.items or []
    assert (item.id, item.status, item.custom_routing) == (seed.TOPIC_DIGEST, "REQUIRED", ["email"])
    assert child.parent_tenant_id == "acme"
    assert sdk.tenants.retrieve("acme") == created

    items = sdk.tenants.preferences.items
    assert items.update(seed.TOPIC_EVENTS, tenant_id="acme-eu", status="OPTED_IN") is None
    assert [i.id for i in sdk.tenants.retrieve("acme-eu").default_preferences.items] == [
        seed.TOPIC_EVENTS
    ]
    assert items.delete(seed.TOPIC_EVENTS, tenant_id="acme-eu") is None
    assert sdk.tenants.retrieve("acme-eu").default_preferences.items == []

    assert sdk.tenants.delete("acme-eu") is None
    with pytest.raises(courier.NotFoundError) as caught:
        sdk.tenants.retrieve("acme-eu")
    assert caught.value.body["message"] == "Tenant acme-eu not found"
    with pytest.raises(courier.NotFoundError):
        items.update(seed.TOPIC_EVENTS, tenant_id="acme-eu", status="OPTED_IN")
    with pytest.raises(courier.BadRequestError):
        sdk.tenants.update("acme", name="")


def test_tenant_resolution_through_the_sdk(sdk: Courier, behaviours: Behaviours) -> None:
    behaviours.list_mode = "all"  # the list below shows a tenant default, not an override
    sdk.tenants.update("acme", name="Acme")
    sdk.tenants.update("acme-eu", name="Acme EU", parent_tenant_id="acme")
    items = sdk.tenants.preferences.items
    items.update(seed.TOPIC_EVENTS, tenant_id="acme", status="OPTED_IN")
    items.update(
        seed.TOPIC_DIGEST,
        tenant_id="acme-eu",
        status="REQUIRED",
        has_custom_routing=True,
        custom_routing=["push"],
    )

    events = one(sdk, seed.TOPIC_EVENTS, "acme-eu")
    digest = one(sdk, seed.TOPIC_DIGEST, "acme-eu")
    assert (events.status, events.default_status) == ("OPTED_IN", "OPTED_IN")
    assert (digest.status, digest.custom_routing) == ("REQUIRED", ["push"])
    assert one(sdk, seed.TOPIC_EVENTS).status == "OPTED_OUT"

    with pytest.raises(courier.BadRequestError):
        put(sdk, seed.TOPIC_DIGEST, "acme-eu", status="OPTED_OUT")
    put(sdk, seed.TOPIC_EVENTS, status="OPTED_OUT")  # the user's own choice beats the tenant's
    assert one(sdk, seed.TOPIC_EVENTS, "acme-eu").status == "OPTED_OUT"
    put(sdk, seed.TOPIC_EVENTS, "acme-eu", status="OPTED_IN")  # user in tenant beats that
    assert one(sdk, seed.TOPIC_EVENTS, "acme-eu").status == "OPTED_IN"
    listed = sdk.users.preferences.retrieve(USER, tenant_id="acme-eu").items
    assert {i.topic_id: i.status for i in listed}[seed.TOPIC_DIGEST] == "REQUIRED"


def test_tenant_default_status_switch(sdk: Courier, emu_state: EmulatorState) -> None:
    sdk.tenants.update("acme", name="Acme")
    sdk.tenants.preferences.items.update(seed.TOPIC_EVENTS, tenant_id="acme", status="OPTED_IN")

    emu_state.behaviours.tenant_default_status = "workspace"

    topic = one(sdk, seed.TOPIC_EVENTS, "acme")
    assert (topic.status, topic.default_status) == ("OPTED_IN", "OPTED_OUT")


# ---- plan without channel customization: 402 -------------------------------------------------


def test_routing_writes_get_402_on_a_plan_without_channels(
    sdk: Courier, emu_state: EmulatorState
) -> None:
    emu_state.behaviours.channel_customization = False
    prefs = sdk.users.preferences

    with pytest.raises(courier.APIStatusError) as caught:
        put(
            sdk,
            seed.TOPIC_COMMENTS,
            status="OPTED_IN",
            has_custom_routing=True,
            custom_routing=["email"],
        )
    put(sdk, seed.TOPIC_COMMENTS, status="OPTED_OUT")  # status alone is fine
    bulk = prefs.bulk_update(
        USER,
        topics=[
            {"topic_id": seed.TOPIC_EVENTS, "status": "OPTED_IN", "custom_routing": ["sms"]},
            {"topic_id": seed.TOPIC_BILLING, "status": "OPTED_OUT"},
        ],
    )
    with pytest.raises(courier.APIStatusError) as whole:
        prefs.bulk_replace(
            USER,
            topics=[
                {"topic_id": seed.TOPIC_EVENTS, "status": "OPTED_IN", "has_custom_routing": True}
            ],
        )

    assert caught.value.status_code == 402
    assert caught.value.body == {"type": "invalid_request_error", "message": PLAN_MESSAGE}
    assert [(e.topic_id, e.reason) for e in bulk.errors] == [(seed.TOPIC_EVENTS, PLAN_MESSAGE)]
    assert [i.topic_id for i in bulk.items] == [seed.TOPIC_BILLING]
    assert whole.value.status_code == 402
    store = emu_state.store
    assert store.raw_override(USER, seed.TOPIC_COMMENTS)["status"] == "OPTED_OUT"
    assert store.raw_override(USER, seed.TOPIC_EVENTS) is None
    assert store.raw_override(USER, seed.TOPIC_BILLING)["status"] == "OPTED_OUT"


def test_field_trigger_refuses_an_empty_channel_list(
    sdk: Courier, emu_state: EmulatorState
) -> None:
    emu_state.behaviours.channel_customization = False
    # What Courier's iOS SDK sends for a person who chose no channels.
    ios_write = {"status": "OPTED_IN", "has_custom_routing": False, "custom_routing": []}
    put(sdk, seed.TOPIC_COMMENTS, **ios_write)

    emu_state.behaviours.routing_402_trigger = "field"

    with pytest.raises(courier.APIStatusError) as caught:
        put(sdk, seed.TOPIC_COMMENTS, **ios_write)
    assert caught.value.status_code == 402


# ---- REQUIRED writes and list modes ---------------------------------------------------------


def test_refuse_required_writes(sdk: Courier, emu_state: EmulatorState) -> None:
    emu_state.behaviours.refuse_required_writes = False
    put(sdk, seed.TOPIC_SECURITY, status="REQUIRED")

    emu_state.behaviours.refuse_required_writes = True

    with pytest.raises(courier.BadRequestError):
        put(
            sdk,
            seed.TOPIC_SECURITY,
            status="REQUIRED",
            has_custom_routing=True,
            custom_routing=["sms"],
        )
    assert emu_state.store.raw_override(USER, seed.TOPIC_SECURITY)["custom_routing"] == []


@pytest.mark.parametrize("list_mode", ["all", "overrides"])
def test_unknown_user_404_in_either_list_mode(
    sdk: Courier, emu_state: EmulatorState, list_mode: str
) -> None:
    emu_state.behaviours.list_mode = list_mode
    emu_state.behaviours.unknown_user = "404"

    with pytest.raises(courier.NotFoundError) as caught:
        sdk.users.preferences.retrieve(USER)
    put(sdk, seed.TOPIC_EVENTS, "acme", status="OPTED_IN")
    items = sdk.users.preferences.retrieve(USER).items

    assert caught.value.body == {
        "type": "invalid_request_error",
        "message": f"User {USER} not found",
    }
    assert len(items) == (9 if list_mode == "all" else 0)  # the override is in acme's scope
    in_acme = sdk.users.preferences.retrieve(USER, tenant_id="acme").items
    assert seed.TOPIC_EVENTS in [i.topic_id for i in in_acme]


# ---- digests --------------------------------------------------------------------------------


def test_topic_digest_create_replace_retrieve_delete(sdk: Courier) -> None:
    topics = sdk.workspace_preferences.topics

    created = topics.create(
        seed.SECTION_NEWS,
        name="Order summary",
        default_status="OPTED_IN",
        digest={
            "template_id": "tpl_orders",
            "schedules": [
                {
                    "frequency": "daily",
                    "time": "07:30",
                    "timezone": "Asia/Tokyo",
                    "is_default": True,
                },
                {"frequency": "custom_days", "days_of_week": ["monday", "friday"], "time": "12:00"},
            ],
            "categories": [{"category_key": "orders", "retain": "LAST", "limit": 5}],
        },
    )

    assert created.digest is not None
    assert created.digest.template_id == "tpl_orders"
    daily, custom = created.digest.schedules
    assert (daily.frequency, daily.time, daily.timezone, daily.is_default) == (
        "daily",
        "07:30",
        "Asia/Tokyo",
        True,
    )
    assert custom.days_of_week == ["monday", "friday"]
    assert created.digest.categories[0].retain == "LAST"
    assert topics.retrieve(created.id, section_id=seed.SECTION_NEWS) == created

    replaced = topics.replace(
        created.id,
        section_id=seed.SECTION_NEWS,
        name="Order summary",
        default_status="OPTED_IN",
        digest={"template_id": "tpl_orders_v2"},
    )
    assert replaced.digest.template_id == "tpl_orders_v2"
    assert [s.schedule_id for s in replaced.digest.schedules] == [
        daily.schedule_id,
        custom.schedule_id,
    ]

    with pytest.raises(courier.BadRequestError):
        topics.replace(
            created.id,
            section_id=seed.SECTION_NEWS,
            name="Order summary",
            default_status="OPTED_IN",
            digest={"template_id": "tpl", "schedules": []},
        )
    assert topics.release_digest(created.id, section_id=seed.SECTION_NEWS, user_id=USER) is None
    assert topics.delete_digest(created.id, section_id=seed.SECTION_NEWS) is None
    assert topics.retrieve(created.id, section_id=seed.SECTION_NEWS).digest is None
    with pytest.raises(courier.BadRequestError):
        topics.create(
            seed.SECTION_NEWS,
            name="No schedules",
            default_status="OPTED_IN",
            digest={"template_id": "tpl"},  # type: ignore[typeddict-item]
        )


def test_digest_schedule_choice(sdk: Courier, emu_state: EmulatorState) -> None:
    topic_id = seed.TOPIC_PRODUCT_UPDATES
    catalog = sdk.workspace_preferences.topics.retrieve(topic_id, section_id=seed.SECTION_NEWS)
    assert [s.schedule_id for s in catalog.digest.schedules] == [
        seed.SCHEDULE_INSTANT,
        seed.SCHEDULE_DAILY,
        seed.SCHEDULE_WEEKLY,
    ]
    assert one(sdk, topic_id).digest_schedule_id is None

    put(sdk, topic_id, status="OPTED_IN", digest_schedule_id=seed.SCHEDULE_DAILY)
    assert one(sdk, topic_id).digest_schedule_id == seed.SCHEDULE_DAILY

    put(sdk, topic_id, status="OPTED_OUT")  # omitted: kept
    assert (one(sdk, topic_id).status, one(sdk, topic_id).digest_schedule_id) == (
        "OPTED_OUT",
        seed.SCHEDULE_DAILY,
    )
    changes = emu_state.store.change_count()
    with pytest.raises(courier.BadRequestError):
        put(sdk, topic_id, status="OPTED_IN", digest_schedule_id="sch_missing")
    assert one(sdk, topic_id).status == "OPTED_OUT"  # nothing written
    assert emu_state.store.change_count() == changes

    put(sdk, topic_id, status="OPTED_IN", digest_schedule_id=None)  # null: back to the default
    assert one(sdk, topic_id).digest_schedule_id is None
    listed = sdk.users.preferences.retrieve(USER).items
    assert all(item.digest_schedule_id is None for item in listed)


# ---- change log -----------------------------------------------------------------------------


def test_list_logs_pages_through_changes(sdk: Courier) -> None:
    put(
        sdk,
        seed.TOPIC_COMMENTS,
        status="OPTED_OUT",
        has_custom_routing=True,
        custom_routing=["push"],
    )
    put(sdk, seed.TOPIC_COMMENTS, status="OPTED_IN")
    put(sdk, seed.TOPIC_EVENTS, "acme", status="OPTED_IN")
    sdk.users.preferences.delete_topic(seed.TOPIC_EVENTS, user_id=USER, tenant_id="acme")
    sdk.users.preferences.bulk_update(
        "someone-else", topics=[{"topic_id": seed.TOPIC_BILLING, "status": "OPTED_OUT"}]
    )
    wp = sdk.workspace_preferences

    first = wp.list_logs(user_id=USER, limit=3)
    rest = wp.list_logs(user_id=USER, limit=3, cursor=first.paging.cursor)

    assert first.paging.more is True
    assert rest.paging.more is False and rest.paging.cursor is None
    entries = first.items + rest.items
    assert [(e.topic_id, e.status, e.tenant_id) for e in entries] == [
        (seed.TOPIC_EVENTS, "OPTED_OUT", "acme"),  # the reset, to the workspace default
        (seed.TOPIC_EVENTS, "OPTED_IN", "acme"),
        (seed.TOPIC_COMMENTS, "OPTED_IN", None),
        (seed.TOPIC_COMMENTS, "OPTED_OUT", None),
    ]
    assert entries[2].previous is not None
    assert (entries[2].previous.status, entries[2].previous.custom_routing) == (
        "OPTED_OUT",
        ["push"],
    )
    assert entries[3].previous is None
    assert len(wp.list_logs().items) == 5
    assert [e.topic_id for e in wp.list_logs(user_id=USER, tenant_id="acme").items] == [
        seed.TOPIC_EVENTS,
        seed.TOPIC_EVENTS,
    ]
    with pytest.raises(courier.BadRequestError):
        wp.list_logs(tenant_id="acme")
    with pytest.raises(courier.BadRequestError):
        wp.list_logs(limit=0)


# ---- legacy topics, extra channels, catalog without default_status -------------------------


def test_legacy_topics_are_read_but_not_catalogued(sdk: Courier, behaviours: Behaviours) -> None:
    behaviours.list_mode = "all"  # every topic, for a user with no override yet
    behaviours.unknown_user = "empty"
    catalogued = [t.id for s in sdk.workspace_preferences.list().results for t in s.topics]
    listed = sdk.users.preferences.retrieve(USER).items
    grouped = one(sdk, seed.LEGACY_TOPIC_GROUPED)

    assert seed.LEGACY_TOPIC_GROUPED not in catalogued
    assert seed.LEGACY_TOPIC_PLAIN not in catalogued
    by_id = {item.topic_id: item for item in listed}
    assert (
        by_id[seed.LEGACY_TOPIC_GROUPED].section_id,
        by_id[seed.LEGACY_TOPIC_GROUPED].section_name,
    ) == (
        None,
        seed.LEGACY_GROUP_NAME,
    )
    assert by_id[seed.LEGACY_TOPIC_PLAIN].section_name is None
    assert (grouped.topic_name, grouped.section_id, grouped.section_name) == (
        "Account digest (legacy)",
        None,
        None,
    )
    put(sdk, seed.LEGACY_TOPIC_PLAIN, status="OPTED_OUT")
    assert one(sdk, seed.LEGACY_TOPIC_PLAIN).status == "OPTED_OUT"


def test_extra_channels_round_trip(emu_app: Flask, emu_state: EmulatorState) -> None:
    emu_state.behaviours.extra_channels = ("whatsapp",)
    routing = {"has_custom_routing": True, "custom_routing": ["whatsapp", "email"]}

    with courier_client(emu_app) as lenient, courier_client(emu_app, strict=True) as strict:
        lenient.users.preferences.update_or_create_topic(
            seed.TOPIC_COMMENTS, user_id=USER, topic={"status": "OPTED_IN", **routing}
        )
        section = lenient.workspace_preferences.create(name="Chat", routing_options=["whatsapp"])
        read = lenient.users.preferences.retrieve_topic(seed.TOPIC_COMMENTS, user_id=USER).topic

        assert read.custom_routing == ["whatsapp", "email"]
        assert section.routing_options == ["whatsapp"]
        # Today's SDK knows no such channel: strict validation is what would catch it.
        with pytest.raises(courier.APIResponseValidationError):
            strict.users.preferences.retrieve_topic(seed.TOPIC_COMMENTS, user_id=USER)


def test_catalog_without_default_status(emu_app: Flask, emu_state: EmulatorState) -> None:
    emu_state.behaviours.catalog_default_status = False
    emu_state.behaviours.list_mode = "all"  # the user read below lists every topic
    emu_state.behaviours.unknown_user = "empty"

    with courier_client(emu_app) as lenient, courier_client(emu_app, strict=True) as strict:
        topics = [t for s in lenient.workspace_preferences.list().results for t in s.topics]

        assert topics and all("default_status" not in t.model_fields_set for t in topics)
        # The SDK's model requires the field, so a strict client refuses the answer.
        with pytest.raises(courier.APIResponseValidationError):
            strict.workspace_preferences.list()
        assert strict.users.preferences.retrieve(USER).items[0].default_status == "REQUIRED"
