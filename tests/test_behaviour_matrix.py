"""Every flow of the page under every Courier behaviour that changes what the page must do.

Rows are the emulator's switches for what real Courier does (shared/courier/
real-behaviours.md); columns are the flows people use: view, a toggle plus a channel change,
one-click unsubscribe, unsubscribe from everything and a save in an embedded frame. Each cell
checks what the person sees and what Courier holds afterwards.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import pytest

from prefcenter.access.links import Purpose
from prefcenter.emulator import seed
from prefcenter.emulator.models import PreferenceWrite
from prefcenter.page.forms import field_key

from htmlform import HtmlForm, text_of

USER = "user-1"
TENANT = "acme"
HOST_ORIGIN = "https://app.example.com"
CATALOG_TOPICS = [
    seed.TOPIC_SECURITY,
    seed.TOPIC_BILLING,
    seed.TOPIC_COMMENTS,
    seed.TOPIC_REMINDERS,
    seed.TOPIC_PRODUCT_UPDATES,
    seed.TOPIC_DIGEST,
    seed.TOPIC_EVENTS,
]
LEGACY_TOPICS = [seed.LEGACY_TOPIC_GROUPED, seed.LEGACY_TOPIC_PLAIN]


@dataclass(frozen=True)
class World:
    """One real-Courier behaviour: how to switch the emulator to it, and what follows."""

    name: str
    switch: Callable[[object], None] = lambda state: None
    tenant_id: str | None = None
    channels_allowed: bool = True
    required: frozenset[str] = frozenset({seed.TOPIC_SECURITY})
    extra_topics: tuple[str, ...] = ()
    # Routing the person holds beforehand on Task reminders, kept by every write that lets it.
    reminders_routing: tuple[str, ...] = field(default=())


def _set(**switches):
    def switch(state) -> None:
        for name, value in switches.items():
            setattr(state.behaviours, name, value)

    return switch


def _tenant(reported_default: str, list_mode: str):
    def switch(state) -> None:
        state.behaviours.list_mode = list_mode
        state.behaviours.tenant_default_status = reported_default
        state.store.upsert_tenant(TENANT, "Acme")
        state.store.set_tenant_default(TENANT, seed.TOPIC_COMMENTS, "REQUIRED")
        state.store.set_tenant_default(TENANT, seed.TOPIC_DIGEST, "OPTED_IN")

    return switch


def _extra_channels(state) -> None:
    state.behaviours.extra_channels = ("carrier_pigeon",)
    write = PreferenceWrite("OPTED_IN", True, ("email", "carrier_pigeon"))
    state.store.set_user_preference(USER, seed.TOPIC_REMINDERS, write)


def _legacy(list_mode: str):
    def switch(state) -> None:
        state.behaviours.list_mode = list_mode
        seed.seed_legacy_topics(state.store)
        for topic in LEGACY_TOPICS:
            state.store.set_user_preference(USER, topic, PreferenceWrite("OPTED_IN"))

    return switch


WORLDS = [
    World("list-all", _set(list_mode="all")),
    World("list-overrides", _set(list_mode="overrides")),
    World("list-404-unknown-user", _set(list_mode="overrides", unknown_user="404")),
    World("refuse-required-writes", _set(refuse_required_writes=True)),
    World(
        "402-routing",
        _set(channel_customization=False, routing_402_trigger="routing"),
        channels_allowed=False,
    ),
    World(
        "402-field",
        _set(channel_customization=False, routing_402_trigger="field", list_mode="overrides"),
        channels_allowed=False,
    ),
    World(
        "tenant-all",
        _tenant("tenant", "all"),
        tenant_id=TENANT,
        required=frozenset({seed.TOPIC_SECURITY, seed.TOPIC_COMMENTS}),
    ),
    World(
        "tenant-overrides-workspace-default",
        _tenant("workspace", "overrides"),
        tenant_id=TENANT,
        required=frozenset({seed.TOPIC_SECURITY, seed.TOPIC_COMMENTS}),
    ),
    World(
        "catalog-without-default-status",
        _set(catalog_default_status=False, list_mode="overrides"),
    ),
    World("extra-channels", _extra_channels, reminders_routing=("email", "carrier_pigeon")),
    World("legacy-all", _legacy("all"), extra_topics=tuple(LEGACY_TOPICS)),
    World("legacy-overrides", _legacy("overrides"), extra_topics=tuple(LEGACY_TOPICS)),
]


@pytest.fixture(params=WORLDS, ids=[world.name for world in WORLDS])
def world(request, courier_state) -> World:
    world: World = request.param
    world.switch(courier_state)
    courier_state.clear_requests()
    return world


@pytest.fixture
def app_config(app_config):
    return {**app_config, "EMBED_ALLOWED_ORIGINS": [HOST_ORIGIN]}


def status_name(topic_id: str) -> str:
    return f"{field_key(topic_id)}-status"


def channels_name(topic_id: str) -> str:
    return f"{field_key(topic_id)}-channels"


def held(courier_state, world: World, topic_id: str) -> dict:
    return courier_state.store.user_preference(USER, topic_id, world.tenant_id)


def assert_writes_were_valid(courier_state) -> None:
    """No write carried REQUIRED, and every write that changed something finally landed."""
    for request in courier_state.requests:
        if request.method == "PUT":
            assert request.body["topic"]["status"] in ("OPTED_IN", "OPTED_OUT"), request
            assert request.status in (200, 402), request


def test_view(signed_in, courier_state, world):
    client = signed_in(tenant_id=world.tenant_id)
    response = client.get("/")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    form = HtmlForm.parse(html)
    for topic in CATALOG_TOPICS + list(world.extra_topics):
        if topic in world.required:
            assert f'id="{status_name(topic)}" checked disabled' in html, topic
        else:
            form.checkbox(status_name(topic))  # present and changeable
    assert courier_state.count("GET", r"/users/[^/]+/preferences") == 1
    # No read tells a plan without channel choice: channels show until a write is refused.
    assert [c for c in form.controls if c.name == channels_name(seed.TOPIC_REMINDERS)]


def test_toggle_and_channel_save(signed_in, courier_state, world):
    client = signed_in(tenant_id=world.tenant_id)
    form = HtmlForm.parse(client.get("/").get_data(as_text=True))
    form.set(status_name(seed.TOPIC_BILLING), "OPTED_IN", False)
    form.set(channels_name(seed.TOPIC_REMINDERS), "push", True)
    form.set(channels_name(seed.TOPIC_REMINDERS), "inbox", False)
    for topic in world.extra_topics:
        form.set(status_name(topic), "OPTED_IN", False)

    response = client.post("/", data=form.submission())

    assert response.status_code == 302
    assert held(courier_state, world, seed.TOPIC_BILLING)["status"] == "OPTED_OUT"
    for topic in world.extra_topics:
        assert held(courier_state, world, topic)["status"] == "OPTED_OUT"
    reminders = held(courier_state, world, seed.TOPIC_REMINDERS)
    assert reminders["status"] == "OPTED_IN"
    if world.channels_allowed:
        expected = ["email", "push"] + [c for c in world.reminders_routing if c != "email"]
        assert reminders["custom_routing"] == expected
    else:
        assert (reminders["has_custom_routing"], reminders["custom_routing"]) == (False, [])
    for topic in world.required:
        assert held(courier_state, world, topic)["status"] == "REQUIRED"
    assert_writes_were_valid(courier_state)
    text = text_of(client.get("/").get_data(as_text=True))
    assert "Billing and receipts: turned off." in text
    assert ("only on or off was saved" in text) is not world.channels_allowed


def test_one_click(client, mint, courier_state, world):
    for topic in (seed.TOPIC_REMINDERS, *world.extra_topics):
        token = mint(USER, Purpose.UNSUBSCRIBE, topic_id=topic, tenant_id=world.tenant_id)
        response = client.post(f"/u/{token}", data={"List-Unsubscribe": "One-Click"})
        assert response.status_code == 200
        assert held(courier_state, world, topic)["status"] == "OPTED_OUT"
    reminders = held(courier_state, world, seed.TOPIC_REMINDERS)
    if world.channels_allowed:
        assert reminders["custom_routing"] == list(world.reminders_routing)
    assert_writes_were_valid(courier_state)


def test_unsubscribe_from_everything(signed_in, courier_state, world):
    client = signed_in(tenant_id=world.tenant_id)
    token = HtmlForm.parse(client.get("/").get_data(as_text=True)).value("csrf_token")

    response = client.post("/unsubscribe-all", data={"csrf_token": token}, follow_redirects=True)

    assert response.status_code == 200
    for topic in CATALOG_TOPICS + list(world.extra_topics):
        expected = "REQUIRED" if topic in world.required else "OPTED_OUT"
        assert held(courier_state, world, topic)["status"] == expected, topic
    assert_writes_were_valid(courier_state)


def test_embedded_save(app, mint, courier_state, world):
    frame = app.test_client(use_cookies=False)
    url = f"/e/{mint(USER, Purpose.EMBED, tenant_id=world.tenant_id)}/"
    form = HtmlForm.parse(frame.get(url).get_data(as_text=True))
    form.set(status_name(seed.TOPIC_BILLING), "OPTED_IN", False)
    form.set(status_name(seed.TOPIC_DIGEST), "OPTED_IN", True)

    response = frame.post(form.action, data=form.submission(), follow_redirects=True)

    assert response.status_code == 200
    assert held(courier_state, world, seed.TOPIC_BILLING)["status"] == "OPTED_OUT"
    assert held(courier_state, world, seed.TOPIC_DIGEST)["status"] == "OPTED_IN"
    assert_writes_were_valid(courier_state)
