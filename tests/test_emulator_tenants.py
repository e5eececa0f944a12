"""Tenants and their default preferences: the store, the HTTP surface and resolution on reads."""

from __future__ import annotations

import httpx
import pytest

from prefcenter.emulator import EmulatorState, Store, seed
from prefcenter.emulator.errors import InvalidRequest, NotFound
from prefcenter.emulator.models import PreferenceWrite, TenantDefault

USER = "user-5"
PARENT = "acme"
CHILD = "acme-eu"


@pytest.fixture
def family(store: Store) -> None:
    """A parent tenant and its child, no defaults yet."""
    store.upsert_tenant(PARENT, "Acme")
    store.upsert_tenant(CHILD, "Acme Europe", parent_tenant_id=PARENT)


def read(http: httpx.Client, topic_id: str, tenant_id: str | None = None) -> dict[str, object]:
    """The user's single-topic read, in a tenant context if given."""
    params = {"tenant_id": tenant_id} if tenant_id else {}
    response = http.get(f"/users/{USER}/preferences/{topic_id}", params=params)
    assert response.status_code == 200
    return response.json()["topic"]


def write(
    http: httpx.Client, topic_id: str, tenant_id: str | None = None, **topic: object
) -> httpx.Response:
    """The user's single-topic write, in a tenant context if given."""
    params = {"tenant_id": tenant_id} if tenant_id else {}
    return http.put(f"/users/{USER}/preferences/{topic_id}", params=params, json={"topic": topic})


# ---- the tenant resource --------------------------------------------------------------------


def test_put_creates_then_replaces_a_tenant(http: httpx.Client) -> None:
    created = http.put(
        f"/tenants/{PARENT}",
        json={
            "name": "Acme",
            "brand_id": "brand_acme",
            "properties": {"plan": "gold"},
            "user_profile": {"locale": "de"},
            "default_preferences": {
                "items": [
                    {"id": seed.TOPIC_DIGEST, "status": "REQUIRED"},
                    {
                        "id": seed.TOPIC_COMMENTS,
                        "status": "OPTED_OUT",
                        "has_custom_routing": True,
                        "custom_routing": ["email"],
                    },
                ]
            },
        },
    )

    assert created.status_code == 200
    assert created.json() == {
        "id": PARENT,
        "name": "Acme",
        "parent_tenant_id": None,
        "default_preferences": {
            "items": [
                {
                    "id": seed.TOPIC_DIGEST,
                    "status": "REQUIRED",
                    "has_custom_routing": False,
                    "custom_routing": [],
                },
                {
                    "id": seed.TOPIC_COMMENTS,
                    "status": "OPTED_OUT",
                    "has_custom_routing": True,
                    "custom_routing": ["email"],
                },
            ]
        },
        "properties": {"plan": "gold"},
        "user_profile": {"locale": "de"},
        "brand_id": "brand_acme",
    }
    assert http.get(f"/tenants/{PARENT}").json() == created.json()

    replaced = http.put(f"/tenants/{PARENT}", json={"name": "Acme Inc"}).json()

    assert replaced["name"] == "Acme Inc"
    assert replaced["default_preferences"] == {"items": []}  # omitted: cleared, full replace
    assert (replaced["brand_id"], replaced["properties"]) == (None, None)


def test_unknown_tenant_is_not_found(http: httpx.Client) -> None:
    for response in (
        http.get("/tenants/nobody"),
        http.delete("/tenants/nobody"),
        http.put(
            f"/tenants/nobody/default_preferences/items/{seed.TOPIC_EVENTS}",
            json={"status": "OPTED_IN"},
        ),
        http.delete(f"/tenants/nobody/default_preferences/items/{seed.TOPIC_EVENTS}"),
    ):
        assert response.status_code == 404
        assert response.json() == {
            "type": "invalid_request_error",
            "message": "Tenant nobody not found",
        }


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"name": ""},
        {"name": "A", "parent_tenant_id": PARENT},
        {"name": "A", "properties": []},
        {"name": "A", "default_preferences": {"items": {}}},
        {"name": "A", "default_preferences": {"items": [{"status": "OPTED_IN"}]}},
        {"name": "A", "default_preferences": {"items": [{"id": "pt_nope", "status": "OPTED_IN"}]}},
        {
            "name": "A",
            "default_preferences": {"items": [{"id": seed.TOPIC_EVENTS, "status": "MAYBE"}]},
        },
        {
            "name": "A",
            "default_preferences": {
                "items": [{"id": seed.TOPIC_EVENTS, "status": "OPTED_IN", "custom_routing": ["x"]}]
            },
        },
        {
            "name": "A",
            "default_preferences": {
                "items": [
                    {"id": seed.TOPIC_EVENTS, "status": "OPTED_IN"},
                    {"id": seed.TOPIC_EVENTS, "status": "OPTED_OUT"},
                ]
            },
        },
    ],
)
def test_bad_tenant_bodies_are_400_and_change_nothing(
    http: httpx.Client, store: Store, body: object
) -> None:
    response = http.put(f"/tenants/{PARENT}", json=body)

    assert response.status_code == 400
    assert response.json()["type"] == "invalid_request_error"
    assert store.tenant(PARENT) is None


def test_a_parent_cycle_is_refused(http: httpx.Client, family: None) -> None:
    response = http.put(f"/tenants/{PARENT}", json={"name": "Acme", "parent_tenant_id": CHILD})

    assert response.status_code == 400
    assert http.get(f"/tenants/{PARENT}").json()["parent_tenant_id"] is None


def test_default_items_put_and_delete(http: httpx.Client, store: Store, family: None) -> None:
    path = f"/tenants/{CHILD}/default_preferences/items/{seed.TOPIC_EVENTS}"

    put = http.put(
        path, json={"status": "REQUIRED", "has_custom_routing": True, "custom_routing": ["sms"]}
    )

    assert (put.status_code, put.content) == (204, b"")
    assert store.tenant(CHILD)["default_preferences"]["items"] == [
        {
            "id": seed.TOPIC_EVENTS,
            "status": "REQUIRED",
            "has_custom_routing": True,
            "custom_routing": ["sms"],
        }
    ]
    # Replacing keeps the item's place; the user write's `topic` wrapper is not this body.
    assert http.put(path, json={"status": "OPTED_IN"}).status_code == 204
    assert http.put(path, json={"topic": {"status": "OPTED_IN"}}).status_code == 400
    missing_topic = http.put(
        f"/tenants/{CHILD}/default_preferences/items/pt_nope", json={"status": "OPTED_IN"}
    )
    assert missing_topic.status_code == 404
    assert store.tenant(CHILD)["default_preferences"]["items"][0]["status"] == "OPTED_IN"

    deleted = http.delete(path)

    assert (deleted.status_code, deleted.content) == (204, b"")
    assert store.tenant(CHILD)["default_preferences"]["items"] == []
    assert http.delete(path).status_code == 204  # nothing left to delete is harmless


def test_deleting_a_tenant_keeps_users_overrides(
    http: httpx.Client, store: Store, family: None
) -> None:
    store.set_tenant_default(PARENT, seed.TOPIC_EVENTS, "OPTED_IN")
    write(http, seed.TOPIC_EVENTS, PARENT, status="OPTED_OUT")

    assert http.delete(f"/tenants/{PARENT}").status_code == 204

    assert http.get(f"/tenants/{PARENT}").status_code == 404
    assert store.raw_override(USER, seed.TOPIC_EVENTS, PARENT)["status"] == "OPTED_OUT"
    # The child no longer has a parent to inherit from.
    assert read(http, seed.TOPIC_EVENTS, CHILD)["status"] == "OPTED_OUT"


def test_store_api(store: Store) -> None:
    tenant = store.upsert_tenant(PARENT, "Acme")
    assert tenant["default_preferences"] == {"items": []}
    store.set_tenant_default(PARENT, seed.TOPIC_DIGEST, "REQUIRED", True, ["email"])
    # Upserting without defaults keeps the stored ones.
    store.upsert_tenant(PARENT, "Acme Inc", brand_id="b1")

    stored = store.tenant(PARENT)
    assert (stored["name"], stored["brand_id"]) == ("Acme Inc", "b1")
    assert stored["default_preferences"]["items"][0]["custom_routing"] == ["email"]

    store.upsert_tenant(
        PARENT, "Acme Inc", default_preferences=[TenantDefault(seed.TOPIC_EVENTS, "OPTED_IN")]
    )
    assert [i["id"] for i in store.tenant(PARENT)["default_preferences"]["items"]] == [
        seed.TOPIC_EVENTS
    ]
    store.delete_tenant_default(PARENT, seed.TOPIC_EVENTS)
    assert store.tenant(PARENT)["default_preferences"]["items"] == []
    assert store.tenant("nobody") is None
    with pytest.raises(NotFound):
        store.set_tenant_default("nobody", seed.TOPIC_EVENTS, "OPTED_IN")
    with pytest.raises(InvalidRequest):
        store.set_tenant_default(PARENT, seed.TOPIC_EVENTS, "SOMETIMES")


# ---- resolution: workspace, parent tenant, tenant, user, user in tenant ---------------------


def test_each_level_overrides_the_one_before(
    http: httpx.Client, store: Store, family: None
) -> None:
    topic = seed.TOPIC_EVENTS  # workspace default OPTED_OUT
    steps = []

    def snapshot() -> tuple[object, object, object]:
        in_child = read(http, topic, CHILD)
        return in_child["status"], in_child["default_status"], read(http, topic)["status"]

    steps.append(snapshot())
    store.set_tenant_default(PARENT, topic, "OPTED_IN")
    steps.append(snapshot())
    store.set_tenant_default(CHILD, topic, "OPTED_OUT")
    steps.append(snapshot())
    write(http, topic, status="OPTED_IN")
    steps.append(snapshot())
    write(http, topic, CHILD, status="OPTED_OUT")
    steps.append(snapshot())

    assert steps == [
        ("OPTED_OUT", "OPTED_OUT", "OPTED_OUT"),  # workspace
        ("OPTED_IN", "OPTED_IN", "OPTED_OUT"),  # parent tenant
        ("OPTED_OUT", "OPTED_OUT", "OPTED_OUT"),  # tenant
        ("OPTED_IN", "OPTED_OUT", "OPTED_IN"),  # user
        ("OPTED_OUT", "OPTED_OUT", "OPTED_IN"),  # user in tenant
    ]
    assert read(http, topic, PARENT)["status"] == "OPTED_IN"  # the child's choice stays there


def test_tenant_required_beats_user_choices_but_keeps_their_channels(
    http: httpx.Client, store: Store, family: None
) -> None:
    store.set_tenant_default(PARENT, seed.TOPIC_DIGEST, "REQUIRED", True, ["email"])
    write(http, seed.TOPIC_DIGEST, status="OPTED_OUT")

    inherited = read(http, seed.TOPIC_DIGEST, CHILD)
    assert (inherited["status"], inherited["default_status"]) == ("REQUIRED", "REQUIRED")
    # The user's own override wins routing over the tenant's default routing.
    assert (inherited["has_custom_routing"], inherited["custom_routing"]) == (False, [])
    assert read(http, seed.TOPIC_DIGEST)["status"] == "OPTED_OUT"  # outside the tenant

    http.delete(f"/users/{USER}/preferences/{seed.TOPIC_DIGEST}")
    tenant_routing = read(http, seed.TOPIC_DIGEST, CHILD)
    assert (tenant_routing["has_custom_routing"], tenant_routing["custom_routing"]) == (
        True,
        ["email"],
    )

    write(
        http,
        seed.TOPIC_DIGEST,
        CHILD,
        status="OPTED_IN",
        has_custom_routing=True,
        custom_routing=["push"],
    )
    chosen = read(http, seed.TOPIC_DIGEST, CHILD)
    assert (chosen["status"], chosen["custom_routing"]) == ("REQUIRED", ["push"])


def test_tenant_context_writes_follow_the_tenants_required(
    http: httpx.Client, store: Store, family: None
) -> None:
    store.set_tenant_default(PARENT, seed.TOPIC_DIGEST, "REQUIRED")

    refused = write(http, seed.TOPIC_DIGEST, CHILD, status="OPTED_OUT")
    bulk = http.post(
        f"/users/{USER}/preferences",
        params={"tenant_id": CHILD},
        json={"topics": [{"topic_id": seed.TOPIC_DIGEST, "status": "OPTED_OUT"}]},
    ).json()

    assert refused.status_code == 400
    assert "REQUIRED" in refused.json()["message"]
    assert [e["topic_id"] for e in bulk["errors"]] == [seed.TOPIC_DIGEST]
    assert store.raw_override(USER, seed.TOPIC_DIGEST, CHILD) is None
    # The same write outside the tenant, or REQUIRED inside it where such writes are taken,
    # is fine.
    assert write(http, seed.TOPIC_DIGEST, status="OPTED_OUT").status_code == 200
    store.behaviours.refuse_required_writes = False
    assert write(http, seed.TOPIC_DIGEST, CHILD, status="REQUIRED").status_code == 200


def test_a_tenant_default_can_relax_a_workspace_required_topic(
    http: httpx.Client, store: Store, family: None
) -> None:
    store.set_tenant_default(CHILD, seed.TOPIC_SECURITY, "OPTED_IN")

    assert write(http, seed.TOPIC_SECURITY, CHILD, status="OPTED_OUT").status_code == 200
    assert read(http, seed.TOPIC_SECURITY, CHILD)["status"] == "OPTED_OUT"
    assert read(http, seed.TOPIC_SECURITY)["status"] == "REQUIRED"


def test_lists_resolve_tenant_defaults_per_list_mode(
    http: httpx.Client, emu_state: EmulatorState, family: None
) -> None:
    emu_state.list_mode = "all"
    emu_state.behaviours.unknown_user = "empty"  # USER has no override yet
    emu_state.store.set_tenant_default(CHILD, seed.TOPIC_EVENTS, "OPTED_IN")
    listing = f"/users/{USER}/preferences"

    every = {
        i["topic_id"]: i for i in http.get(listing, params={"tenant_id": CHILD}).json()["items"]
    }
    assert every[seed.TOPIC_EVENTS]["status"] == "OPTED_IN"
    assert len(every) == 7

    emu_state.list_mode = "overrides"
    assert http.get(listing, params={"tenant_id": CHILD}).json()["items"] == []
    write(http, seed.TOPIC_BILLING, status="OPTED_OUT")
    write(http, seed.TOPIC_COMMENTS, CHILD, status="OPTED_OUT")
    items = http.get(listing, params={"tenant_id": CHILD}).json()["items"]
    assert [i["topic_id"] for i in items] == [seed.TOPIC_BILLING, seed.TOPIC_COMMENTS]


@pytest.mark.parametrize(
    ("switch", "reported"), [("tenant", "REQUIRED"), ("workspace", "OPTED_OUT")]
)
def test_default_status_in_a_tenant_read_follows_the_switch(
    http: httpx.Client, emu_state: EmulatorState, family: None, switch: str, reported: str
) -> None:
    emu_state.store.set_tenant_default(CHILD, seed.TOPIC_EVENTS, "REQUIRED")
    emu_state.behaviours.tenant_default_status = switch
    emu_state.list_mode = "all"  # list the tenant default, for a user with no override
    emu_state.behaviours.unknown_user = "empty"

    single = read(http, seed.TOPIC_EVENTS, CHILD)
    listed = {
        i["topic_id"]: i
        for i in http.get(f"/users/{USER}/preferences", params={"tenant_id": CHILD}).json()["items"]
    }[seed.TOPIC_EVENTS]

    assert (single["status"], single["default_status"]) == ("REQUIRED", reported)
    assert (listed["status"], listed["default_status"]) == ("REQUIRED", reported)
    assert read(http, seed.TOPIC_EVENTS)["default_status"] == "OPTED_OUT"


def test_store_reads_resolve_like_http(store: Store, family: None) -> None:
    store.behaviours.list_mode = "all"
    store.set_tenant_default(CHILD, seed.TOPIC_EVENTS, "OPTED_IN")
    store.set_user_preference(USER, seed.TOPIC_BILLING, PreferenceWrite("OPTED_OUT"), CHILD)

    assert store.user_preference(USER, seed.TOPIC_EVENTS, CHILD)["status"] == "OPTED_IN"
    statuses = {p["topic_id"]: p["status"] for p in store.user_preferences(USER, CHILD)}
    assert statuses[seed.TOPIC_EVENTS] == "OPTED_IN"
    assert statuses[seed.TOPIC_BILLING] == "OPTED_OUT"
