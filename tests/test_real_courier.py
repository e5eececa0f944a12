"""The page under what real Courier does and our emulator once did not (each a switch).

Each test switches the emulator to one documented behaviour of Courier (see
shared/courier/real-behaviours.md) and checks what a person sees and what reached Courier.
"""

from __future__ import annotations

import pytest

from prefcenter.access.links import Purpose
from prefcenter.emulator import seed
from prefcenter.emulator.models import PreferenceWrite
from prefcenter.page.forms import field_key

from htmlform import HtmlForm, text_of

USER = "user-1"
TENANT = "acme"
WRITE = r"/users/[^/]+/preferences/[^/]+"
PAYMENT_REFUSED = "Channel delivery customization is not available for your plan"


def status_name(topic_id: str) -> str:
    return f"{field_key(topic_id)}-status"


def channels_name(topic_id: str) -> str:
    return f"{field_key(topic_id)}-channels"


def open_page(client, path: str = "/"):
    response = client.get(path)
    assert response.status_code == 200, response.get_data(as_text=True)
    return response, HtmlForm.parse(response.get_data(as_text=True))


def puts(courier_state) -> list:
    return [r for r in courier_state.requests if r.method == "PUT"]


def stored(courier_state, topic_id: str, tenant_id: str | None = None) -> dict:
    return courier_state.store.user_preference(USER, topic_id, tenant_id)


def choose(courier_state, topic_id, status, channels=None, tenant_id=None) -> None:
    """Store a choice the person made elsewhere (another page, Courier's own UI)."""
    write = PreferenceWrite(status, channels is not None, tuple(channels or ()))
    courier_state.store.set_user_preference(USER, topic_id, write, tenant_id)


@pytest.fixture(params=["all", "overrides"])
def list_mode(request, courier_state) -> str:
    """Both readings of Courier's list: every topic, or only the person's overrides."""
    courier_state.behaviours.list_mode = request.param
    return request.param


# --- REQUIRED from a tenant --------------------------------------------------------------------


@pytest.fixture
def tenant_requires_comments(courier_state):
    courier_state.store.upsert_tenant(TENANT, "Acme")
    courier_state.store.set_tenant_default(TENANT, seed.TOPIC_COMMENTS, "REQUIRED")


@pytest.mark.parametrize("reported_default", ["tenant", "workspace"])
def test_a_topic_a_tenant_requires_stays_locked_and_untouched_by_other_saves(
    signed_in, courier_state, list_mode, tenant_requires_comments, reported_default
):
    courier_state.behaviours.tenant_default_status = reported_default
    choose(courier_state, seed.TOPIC_BILLING, "OPTED_IN")
    client = signed_in(tenant_id=TENANT)
    response, form = open_page(client)
    html = response.get_data(as_text=True)
    assert f'id="{status_name(seed.TOPIC_COMMENTS)}" checked disabled' in html

    form.set(status_name(seed.TOPIC_BILLING), "OPTED_IN", False)
    courier_state.clear_requests()
    assert client.post("/", data=form.submission()).status_code == 302

    assert [r.path for r in puts(courier_state)] == [
        f"/users/{USER}/preferences/{seed.TOPIC_BILLING}"
    ]
    assert stored(courier_state, seed.TOPIC_COMMENTS, TENANT)["status"] == "REQUIRED"


def test_channels_of_a_tenant_required_topic_are_written_opted_in(
    signed_in, courier_state, list_mode, tenant_requires_comments
):
    courier_state.behaviours.refuse_required_writes = True
    client = signed_in(tenant_id=TENANT)
    _response, form = open_page(client)
    form.set(channels_name(seed.TOPIC_COMMENTS), "push", False)
    courier_state.clear_requests()
    assert client.post("/", data=form.submission()).status_code == 302
    [write] = puts(courier_state)
    assert write.status == 200
    assert write.body["topic"]["status"] == "OPTED_IN"
    assert stored(courier_state, seed.TOPIC_COMMENTS, TENANT)["custom_routing"] == [
        "email",
        "inbox",
    ]


def test_one_click_on_a_topic_a_tenant_requires_changes_nothing(
    client, mint, courier_state, tenant_requires_comments
):
    token = mint(purpose=Purpose.UNSUBSCRIBE, topic_id=seed.TOPIC_COMMENTS, tenant_id=TENANT)
    courier_state.clear_requests()
    response = client.post(f"/u/{token}", data={"List-Unsubscribe": "One-Click"})
    assert response.status_code == 200
    assert "required" in text_of(response.get_data(as_text=True)).lower()
    assert puts(courier_state) == []


# --- REQUIRED is never written --------------------------------------------------------------


def test_channels_of_a_required_topic_are_written_opted_in(signed_in, courier_state, list_mode):
    courier_state.behaviours.refuse_required_writes = True
    client = signed_in()
    _response, form = open_page(client)
    form.set(channels_name(seed.TOPIC_SECURITY), "sms", False)
    courier_state.clear_requests()
    response = client.post("/", data=form.submission())
    assert response.status_code == 302
    [write] = puts(courier_state)
    assert (write.status, write.body["topic"]["status"]) == (200, "OPTED_IN")
    security = stored(courier_state, seed.TOPIC_SECURITY)
    assert security["status"] == "REQUIRED"
    assert sorted(security["custom_routing"]) == ["email", "push"]


# --- a plan without channel customization (402) ---------------------------------------------


@pytest.fixture(params=["routing", "field"])
def no_channel_plan(request, courier_state):
    """Both readings of which writes a plan without channel choice refuses."""
    courier_state.behaviours.channel_customization = False
    courier_state.behaviours.routing_402_trigger = request.param
    return request.param


def test_a_402_on_channels_still_turns_the_topic_off_and_says_why(
    signed_in, courier_state, list_mode
):
    choose(courier_state, seed.TOPIC_COMMENTS, "OPTED_IN", ["email"])
    courier_state.behaviours.channel_customization = False
    client = signed_in()
    _response, form = open_page(client)
    form.set(status_name(seed.TOPIC_COMMENTS), "OPTED_IN", False)
    courier_state.clear_requests()

    response = client.post("/", data=form.submission())
    assert response.status_code == 302
    assert [r.status for r in puts(courier_state)] == [402, 200]
    assert puts(courier_state)[1].body == {"topic": {"status": "OPTED_OUT"}}
    assert stored(courier_state, seed.TOPIC_COMMENTS)["status"] == "OPTED_OUT"

    page, form = open_page(client)
    text = text_of(page.get_data(as_text=True))
    assert "Comments and mentions: turned off." in text
    assert "not available at the moment" in text
    # Channel choice is withdrawn for a while: nothing to tick, nothing to be refused for.
    assert not [c for c in form.controls if c.name == channels_name(seed.TOPIC_BILLING)]
    form.set(status_name(seed.TOPIC_BILLING), "OPTED_IN", False)
    courier_state.clear_requests()
    assert client.post("/", data=form.submission()).status_code == 302
    assert [r.status for r in puts(courier_state)] == [200]


def test_a_402_under_either_reading_never_blocks_a_save(signed_in, courier_state, no_channel_plan):
    client = signed_in()
    _response, form = open_page(client)
    form.set(status_name(seed.TOPIC_PRODUCT_UPDATES), "OPTED_IN", False)
    form.set(channels_name(seed.TOPIC_COMMENTS), "push", False)
    assert client.post("/", data=form.submission()).status_code == 302
    assert stored(courier_state, seed.TOPIC_PRODUCT_UPDATES)["status"] == "OPTED_OUT"
    assert all(r.status in (200, 402) for r in puts(courier_state))


def test_a_402_on_a_page_shown_with_channels_saves_the_rest(signed_in, courier_state):
    """The page was shown while channels were offered; the plan refuses them at save time."""
    client = signed_in()
    _response, form = open_page(client)
    courier_state.behaviours.channel_customization = False
    form.set(channels_name(seed.TOPIC_COMMENTS), "push", False)
    form.set(status_name(seed.TOPIC_REMINDERS), "OPTED_IN", False)
    response = client.post("/", data=form.submission())
    assert response.status_code == 302
    assert stored(courier_state, seed.TOPIC_REMINDERS)["status"] == "OPTED_OUT"
    text = text_of(open_page(client)[0].get_data(as_text=True))
    assert "only on or off was saved" in text


def test_one_click_with_stored_channels_on_a_402_plan_unsubscribes(
    client, mint, courier_state, no_channel_plan
):
    choose(courier_state, seed.TOPIC_COMMENTS, "OPTED_IN", ["email", "push"])
    token = mint(purpose=Purpose.UNSUBSCRIBE, topic_id=seed.TOPIC_COMMENTS)
    response = client.post(f"/u/{token}", data={"List-Unsubscribe": "One-Click"})
    assert response.status_code == 200
    assert stored(courier_state, seed.TOPIC_COMMENTS)["status"] == "OPTED_OUT"


def test_unsubscribe_from_everything_on_a_402_plan_turns_everything_off(
    signed_in, courier_state, no_channel_plan, list_mode
):
    choose(courier_state, seed.TOPIC_COMMENTS, "OPTED_IN", ["email"])
    client = signed_in()
    response, form = open_page(client)
    token = form.value("csrf_token")
    result = client.post("/unsubscribe-all", data={"csrf_token": token}, follow_redirects=True)
    assert result.status_code == 200
    for topic in (seed.TOPIC_BILLING, seed.TOPIC_COMMENTS, seed.TOPIC_REMINDERS):
        assert stored(courier_state, topic)["status"] == "OPTED_OUT", topic


# --- stored routing with no usable channel --------------------------------------------------


@pytest.mark.parametrize("routing", [[], ["sms"]], ids=["no-channels", "only-dropped-channels"])
def test_stored_routing_without_a_usable_channel_blocks_nothing(
    signed_in, courier_state, list_mode, routing
):
    # The Activity section offers email, push and inbox; sms is not (or no longer) offered.
    choose(courier_state, seed.TOPIC_COMMENTS, "OPTED_IN", routing)
    client = signed_in()
    _response, form = open_page(client)
    # Shown as Courier's own component shows it: the section's channels.
    for channel in ("email", "push", "inbox"):
        assert form.checkbox(channels_name(seed.TOPIC_COMMENTS), channel).checked
    form.set(status_name(seed.TOPIC_BILLING), "OPTED_IN", False)
    courier_state.clear_requests()
    assert client.post("/", data=form.submission()).status_code == 302
    assert [r.path for r in puts(courier_state)] == [
        f"/users/{USER}/preferences/{seed.TOPIC_BILLING}"
    ]

    # Turning the topic off resends its routing exactly as read.
    _response, form = open_page(client)
    form.set(status_name(seed.TOPIC_COMMENTS), "OPTED_IN", False)
    courier_state.clear_requests()
    assert client.post("/", data=form.submission()).status_code == 302
    [write] = puts(courier_state)
    assert write.body["topic"] == {
        "status": "OPTED_OUT",
        "has_custom_routing": True,
        "custom_routing": routing,
    }


# --- topics the catalog does not hold ------------------------------------------------------


@pytest.fixture
def legacy_topics(courier_state):
    seed.seed_legacy_topics(courier_state.store)
    for topic in (seed.LEGACY_TOPIC_GROUPED, seed.LEGACY_TOPIC_PLAIN):
        choose(courier_state, topic, "OPTED_IN")


def test_topics_outside_the_catalog_are_shown_grouped_and_saved(
    signed_in, courier_state, list_mode, legacy_topics
):
    client = signed_in()
    response, form = open_page(client)
    text = text_of(response.get_data(as_text=True))
    assert "Legacy notifications" in text and "Account digest (legacy)" in text
    assert "Other" in text and "Partner offers" in text
    assert text.index("Events and webinars") < text.index("Partner offers")

    form.set(status_name(seed.LEGACY_TOPIC_PLAIN), "OPTED_IN", False)
    courier_state.clear_requests()
    assert client.post("/", data=form.submission()).status_code == 302
    assert [r.path for r in puts(courier_state)] == [
        f"/users/{USER}/preferences/{seed.LEGACY_TOPIC_PLAIN}"
    ]
    assert stored(courier_state, seed.LEGACY_TOPIC_PLAIN)["status"] == "OPTED_OUT"
    assert "Partner offers: turned off." in text_of(open_page(client)[0].get_data(as_text=True))


def test_unsubscribe_from_everything_includes_topics_outside_the_catalog(
    signed_in, courier_state, list_mode, legacy_topics
):
    client = signed_in()
    _response, form = open_page(client)
    token = form.value("csrf_token")
    result = client.post("/unsubscribe-all", data={"csrf_token": token}, follow_redirects=True)
    assert result.status_code == 200
    assert "Partner offers" in text_of(result.get_data(as_text=True))
    for topic in (seed.LEGACY_TOPIC_GROUPED, seed.LEGACY_TOPIC_PLAIN):
        assert stored(courier_state, topic)["status"] == "OPTED_OUT"


def test_one_click_works_for_a_topic_outside_the_catalog(
    client, mint, courier_state, legacy_topics
):
    token = mint(purpose=Purpose.UNSUBSCRIBE, topic_id=seed.LEGACY_TOPIC_PLAIN)
    response = client.post(f"/u/{token}", data={"List-Unsubscribe": "One-Click"})
    assert response.status_code == 200
    assert stored(courier_state, seed.LEGACY_TOPIC_PLAIN)["status"] == "OPTED_OUT"


# --- tenant defaults ---------------------------------------------------------------------------


def test_a_tenants_defaults_show_for_topics_the_person_never_set(
    signed_in, courier_state, list_mode
):
    courier_state.store.upsert_tenant(TENANT, "Acme")
    courier_state.store.set_tenant_default(TENANT, seed.TOPIC_PRODUCT_UPDATES, "OPTED_OUT")
    courier_state.store.set_tenant_default(TENANT, seed.TOPIC_DIGEST, "OPTED_IN")
    courier_state.store.set_tenant_default(
        TENANT, seed.TOPIC_REMINDERS, "OPTED_IN", has_custom_routing=True, custom_routing=["push"]
    )
    client = signed_in(tenant_id=TENANT)
    _response, form = open_page(client)
    assert not form.checkbox(status_name(seed.TOPIC_PRODUCT_UPDATES)).checked
    assert form.checkbox(status_name(seed.TOPIC_DIGEST)).checked
    assert form.checkbox(channels_name(seed.TOPIC_REMINDERS), "push").checked
    assert not form.checkbox(channels_name(seed.TOPIC_REMINDERS), "email").checked

    # Read once per tenant and cached like the catalog: one tenant read for two views.
    open_page(client)
    assert courier_state.count("GET", f"/tenants/{TENANT}") == 1


def test_a_tenant_courier_does_not_know_shows_workspace_defaults(signed_in, courier_state):
    client = signed_in(tenant_id="no-such-tenant")
    _response, form = open_page(client)
    assert form.checkbox(status_name(seed.TOPIC_PRODUCT_UPDATES)).checked


# --- channels the page does not know --------------------------------------------------------


def test_a_channel_new_to_the_page_survives_every_write(signed_in, courier_state, list_mode):
    courier_state.behaviours.extra_channels = ("carrier_pigeon",)
    choose(courier_state, seed.TOPIC_COMMENTS, "OPTED_IN", ["email", "carrier_pigeon"])
    client = signed_in()
    _response, form = open_page(client)
    assert form.checkbox(channels_name(seed.TOPIC_COMMENTS), "email").checked
    assert not form.checkbox(channels_name(seed.TOPIC_COMMENTS), "push").checked

    form.set(channels_name(seed.TOPIC_COMMENTS), "push", True)
    assert client.post("/", data=form.submission()).status_code == 302
    assert stored(courier_state, seed.TOPIC_COMMENTS)["custom_routing"] == [
        "email",
        "push",
        "carrier_pigeon",
    ]

    _response, form = open_page(client)
    form.set(status_name(seed.TOPIC_COMMENTS), "OPTED_IN", False)
    assert client.post("/", data=form.submission()).status_code == 302
    comments = stored(courier_state, seed.TOPIC_COMMENTS)
    assert comments["status"] == "OPTED_OUT"
    assert comments["custom_routing"] == ["email", "push", "carrier_pigeon"]


def test_one_click_keeps_a_channel_new_to_the_page(client, mint, courier_state):
    courier_state.behaviours.extra_channels = ("carrier_pigeon",)
    choose(courier_state, seed.TOPIC_COMMENTS, "OPTED_IN", ["carrier_pigeon"])
    token = mint(purpose=Purpose.UNSUBSCRIBE, topic_id=seed.TOPIC_COMMENTS)
    assert client.post(f"/u/{token}", data={"List-Unsubscribe": "One-Click"}).status_code == 200
    assert stored(courier_state, seed.TOPIC_COMMENTS)["custom_routing"] == ["carrier_pigeon"]


# --- smaller ones ------------------------------------------------------------------------------


def test_a_person_courier_has_never_seen_gets_the_defaults_under_a_404_list(
    signed_in, courier_state
):
    courier_state.behaviours.list_mode = "overrides"
    courier_state.behaviours.unknown_user = "404"
    client = signed_in("never-seen")
    response, form = open_page(client)
    assert form.checkbox(status_name(seed.TOPIC_PRODUCT_UPDATES)).checked
    assert not form.checkbox(status_name(seed.TOPIC_DIGEST)).checked
    form.set(status_name(seed.TOPIC_DIGEST), "OPTED_IN", True)
    assert client.post("/", data=form.submission()).status_code == 302
    assert courier_state.store.user_preference("never-seen", seed.TOPIC_DIGEST)["status"] == (
        "OPTED_IN"
    )


def test_a_catalog_without_default_status_is_never_guessed(signed_in, courier_state):
    courier_state.behaviours.list_mode = "overrides"
    courier_state.behaviours.catalog_default_status = False
    client = signed_in()
    _response, form = open_page(client)
    # Weekly digest and events default to OPTED_OUT: shown off, not assumed on.
    assert not form.checkbox(status_name(seed.TOPIC_DIGEST)).checked
    assert not form.checkbox(status_name(seed.TOPIC_EVENTS)).checked
    assert form.checkbox(status_name(seed.TOPIC_PRODUCT_UPDATES)).checked


def test_a_section_without_topics_gets_no_heading(signed_in, courier_state):
    from prefcenter.emulator.models import SectionInput

    courier_state.store.create_section(SectionInput(name="Coming soon"), section_id="sec_empty")
    response, _ = open_page(signed_in())
    assert "Coming soon" not in text_of(response.get_data(as_text=True))
