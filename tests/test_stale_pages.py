"""A page left open: its save changes only what the person changed there, on top of what
Courier holds now, and the consent record says what was really there before."""

from __future__ import annotations

import json

import pytest

from prefcenter.access.links import Purpose
from prefcenter.emulator import seed
from prefcenter.emulator.models import PreferenceWrite
from prefcenter.page.forms import field_key

from htmlform import HtmlForm, text_of

pytestmark = pytest.mark.consent_file  # consent records in `audit_path`

USER = "user-1"


def status_name(topic_id: str) -> str:
    return f"{field_key(topic_id)}-status"


def channels_name(topic_id: str) -> str:
    return f"{field_key(topic_id)}-channels"


def records(audit_path) -> list[dict]:
    return [json.loads(line) for line in audit_path.read_text().splitlines()]


def held(courier_state, topic_id: str) -> dict:
    return courier_state.store.user_preference(USER, topic_id)


def test_one_click_then_a_channel_change_on_an_older_page_stays_unsubscribed(
    signed_in, app, mint, courier_state, audit_path
):
    client = signed_in()
    old_page = HtmlForm.parse(client.get("/").get_data(as_text=True))
    token = mint(USER, Purpose.UNSUBSCRIBE, topic_id=seed.TOPIC_COMMENTS)
    mail = app.test_client(use_cookies=False)
    assert mail.post(f"/u/{token}", data={"List-Unsubscribe": "One-Click"}).status_code == 200

    old_page.set(channels_name(seed.TOPIC_COMMENTS), "push", False)
    assert client.post("/", data=old_page.submission()).status_code == 302

    comments = held(courier_state, seed.TOPIC_COMMENTS)
    assert comments["status"] == "OPTED_OUT"
    assert comments["custom_routing"] == ["email", "inbox"]
    last = records(audit_path)[-1]
    assert last["via"] == "manage_page"
    assert last["old"]["status"] == "OPTED_OUT" and last["new"]["status"] == "OPTED_OUT"
    assert last["new"]["channels"] == ["email", "inbox"]


def test_turning_off_on_an_older_page_keeps_channels_chosen_elsewhere(
    signed_in, courier_state, audit_path
):
    client = signed_in()
    old_page = HtmlForm.parse(client.get("/").get_data(as_text=True))
    elsewhere = PreferenceWrite("OPTED_IN", True, ("push",))
    courier_state.store.set_user_preference(USER, seed.TOPIC_COMMENTS, elsewhere)

    old_page.set(status_name(seed.TOPIC_COMMENTS), "OPTED_IN", False)
    assert client.post("/", data=old_page.submission()).status_code == 302

    comments = held(courier_state, seed.TOPIC_COMMENTS)
    assert (comments["status"], comments["custom_routing"]) == ("OPTED_OUT", ["push"])
    last = records(audit_path)[-1]
    assert last["old"] == {"status": "OPTED_IN", "has_custom_routing": True, "channels": ["push"]}


def test_a_field_changed_elsewhere_to_something_else_is_not_overwritten(signed_in, courier_state):
    client = signed_in()
    old_page = HtmlForm.parse(client.get("/").get_data(as_text=True))
    elsewhere = PreferenceWrite("OPTED_IN", True, ("inbox",))
    courier_state.store.set_user_preference(USER, seed.TOPIC_COMMENTS, elsewhere)

    old_page.set(channels_name(seed.TOPIC_COMMENTS), "push", False)
    old_page.set(status_name(seed.TOPIC_BILLING), "OPTED_IN", False)
    response = client.post("/", data=old_page.submission())

    assert response.status_code == 302
    assert held(courier_state, seed.TOPIC_COMMENTS)["custom_routing"] == ["inbox"]
    assert held(courier_state, seed.TOPIC_BILLING)["status"] == "OPTED_OUT"
    page = client.get("/")
    text = text_of(page.get_data(as_text=True))
    assert "“Comments and mentions” was changed elsewhere" in text
    form = HtmlForm.parse(page.get_data(as_text=True))
    assert form.checkbox(channels_name(seed.TOPIC_COMMENTS), "inbox").checked
    assert not form.checkbox(channels_name(seed.TOPIC_COMMENTS), "push").checked


def test_a_change_already_made_elsewhere_writes_nothing(signed_in, courier_state):
    client = signed_in()
    old_page = HtmlForm.parse(client.get("/").get_data(as_text=True))
    courier_state.store.set_user_preference(USER, seed.TOPIC_DIGEST, PreferenceWrite("OPTED_IN"))
    courier_state.clear_requests()

    old_page.set(status_name(seed.TOPIC_DIGEST), "OPTED_IN", True)
    assert client.post("/", data=old_page.submission()).status_code == 302

    assert courier_state.count("PUT", r".*") == 0
    assert held(courier_state, seed.TOPIC_DIGEST)["status"] == "OPTED_IN"


def test_autosave_reports_a_change_made_elsewhere_and_asks_for_a_reload(signed_in, courier_state):
    client = signed_in()
    old_page = HtmlForm.parse(client.get("/").get_data(as_text=True))
    elsewhere = PreferenceWrite("OPTED_IN", True, ("inbox",))
    courier_state.store.set_user_preference(USER, seed.TOPIC_COMMENTS, elsewhere)

    old_page.set(channels_name(seed.TOPIC_COMMENTS), "push", False)
    response = client.post("/", data=old_page.submission(), headers={"Accept": "application/json"})

    assert response.status_code == 200
    body = response.get_json()
    assert [c["topic_id"] for c in body["conflicts"]] == [seed.TOPIC_COMMENTS]
    assert "changed elsewhere" in body["conflicts"][0]["message"]
    assert held(courier_state, seed.TOPIC_COMMENTS)["custom_routing"] == ["inbox"]
    # The same form saved again still leaves the other change alone.
    again = client.post("/", data=old_page.submission(), headers={"Accept": "application/json"})
    assert again.get_json()["conflicts"]
    assert held(courier_state, seed.TOPIC_COMMENTS)["custom_routing"] == ["inbox"]


@pytest.fixture
def rendered_ago(monkeypatch):
    """Render pages as if `seconds` ago: every signed value (CSRF, form record) gets that age."""
    import itsdangerous.timed

    real = itsdangerous.timed.TimestampSigner.get_timestamp

    def set_age(seconds: int) -> None:
        monkeypatch.setattr(
            itsdangerous.timed.TimestampSigner,
            "get_timestamp",
            lambda self: real(self) - seconds,
        )

    yield set_age
    monkeypatch.setattr(itsdangerous.timed.TimestampSigner, "get_timestamp", real)


def test_a_tab_left_open_for_hours_still_saves(signed_in, courier_state, rendered_ago):
    rendered_ago(3 * 60 * 60)  # three hours: longer than Flask-WTF's default CSRF hour
    client = signed_in()
    form = HtmlForm.parse(client.get("/").get_data(as_text=True))
    rendered_ago(0)
    form.set(status_name(seed.TOPIC_DIGEST), "OPTED_IN", True)
    assert client.post("/", data=form.submission()).status_code == 302
    assert held(courier_state, seed.TOPIC_DIGEST)["status"] == "OPTED_IN"


def test_a_page_open_past_its_record_keeps_the_persons_choices(
    signed_in, courier_state, rendered_ago
):
    rendered_ago(25 * 60 * 60)  # past FORM_RECORD_MAX_AGE (24 h)
    client = signed_in()
    form = HtmlForm.parse(client.get("/").get_data(as_text=True))
    rendered_ago(0)
    form.set(status_name(seed.TOPIC_DIGEST), "OPTED_IN", True)
    courier_state.clear_requests()

    response = client.post("/", data=form.submission())

    assert response.status_code == 400
    assert courier_state.count("PUT", r".*") == 0
    assert "nothing was saved yet" in text_of(response.get_data(as_text=True))
    kept = HtmlForm.parse(response.get_data(as_text=True))
    assert kept.checkbox(status_name(seed.TOPIC_DIGEST)).checked
    # Saving the page as shown saves the kept change.
    assert client.post("/", data=kept.submission()).status_code == 302
    assert held(courier_state, seed.TOPIC_DIGEST)["status"] == "OPTED_IN"
