"""Autosave: the same save endpoint answers JSON to the page's script (static/app.js)."""

from __future__ import annotations

import time

import pytest

from prefcenter.access.guard import embed_csrf_token
from prefcenter.access.links import LinkClaims, Purpose
from prefcenter.emulator import seed
from prefcenter.page.forms import field_key

from faults import Fault
from htmlform import HtmlForm

USER = "user-1"
JSON = {"Accept": "application/json"}
WRITE = r"/users/[^/]+/preferences/[^/]+"
DIGEST_ON = "Weekly digest: turned on."


def status_name(topic_id: str) -> str:
    return f"{field_key(topic_id)}-status"


def channels_name(topic_id: str) -> str:
    return f"{field_key(topic_id)}-channels"


def set_hidden(form: HtmlForm, name: str, value: str) -> None:
    next(c for c in form.controls if c.name == name).value = value


def put_paths(courier_state) -> list[str]:
    return [r.path for r in courier_state.requests if r.method == "PUT"]


@pytest.fixture
def page_form(signed_in, courier_state):
    """The signed-in person's page as a form, with the request log emptied."""
    client = signed_in()
    form = HtmlForm.parse(client.get("/").get_data(as_text=True))
    courier_state.clear_requests()
    return client, form


def autosave(client, form: HtmlForm, action: str | None = None):
    return client.post(action or form.action, data=form.submission(), headers=JSON)


def test_a_change_is_saved_and_answered_in_json(page_form, courier_state):
    client, form = page_form
    form.set(status_name(seed.TOPIC_DIGEST), "OPTED_IN", True)

    response = autosave(client, form)

    assert response.status_code == 200
    assert response.mimetype == "application/json"
    body = response.get_json()
    assert body["saved"] == [{"topic_id": seed.TOPIC_DIGEST, "message": DIGEST_ON}]
    assert body["failed"] == [] and body["nothing_changed"] is False
    assert body["action"] == "/" and body["csrf_token"]
    assert body["rendered"] != form.value("rendered")
    assert "event" not in body  # only embedded pages tell a host page
    assert put_paths(courier_state) == [f"/users/{USER}/preferences/{seed.TOPIC_DIGEST}"]
    assert courier_state.store.user_preference(USER, seed.TOPIC_DIGEST)["status"] == "OPTED_IN"

    # The new snapshot is the new baseline: the same form posted with it writes nothing.
    courier_state.clear_requests()
    set_hidden(form, "rendered", body["rendered"])
    set_hidden(form, "csrf_token", body["csrf_token"])  # as app.js does
    again = autosave(client, form)
    assert again.status_code == 200
    assert again.get_json()["nothing_changed"] is True and again.get_json()["saved"] == []
    assert courier_state.count("PUT", WRITE) == 0


def test_exactly_one_put_per_changed_topic(page_form, courier_state):
    client, form = page_form
    form.set(status_name(seed.TOPIC_DIGEST), "OPTED_IN", True)
    form.set(channels_name(seed.TOPIC_COMMENTS), "push", False)

    response = autosave(client, form)

    assert response.status_code == 200
    assert {s["topic_id"] for s in response.get_json()["saved"]} == {
        seed.TOPIC_DIGEST,
        seed.TOPIC_COMMENTS,
    }
    assert sorted(put_paths(courier_state)) == sorted(
        f"/users/{USER}/preferences/{t}" for t in (seed.TOPIC_DIGEST, seed.TOPIC_COMMENTS)
    )


def test_no_change_says_so_and_writes_nothing(page_form, courier_state):
    client, form = page_form
    response = autosave(client, form)
    assert response.status_code == 200
    body = response.get_json()
    assert body["nothing_changed"] is True and body["saved"] == [] and body["failed"] == []
    assert courier_state.count("PUT", WRITE) == 0


@pytest.mark.parametrize(
    ("topic", "message"),
    [
        (seed.TOPIC_SECURITY, "“Security alerts” is required: keep at least one channel."),
        (
            seed.TOPIC_COMMENTS,
            "Choose at least one channel for Comments and mentions, or turn it off.",
        ),
    ],
    ids=["last channel of a required topic", "no channel on an opted-in topic"],
)
def test_a_validation_error_names_the_field_and_the_valid_change_beside_it_saves(
    page_form, courier_state, topic, message
):
    client, form = page_form
    form.set(status_name(seed.TOPIC_DIGEST), "OPTED_IN", True)  # valid: saved all the same
    for control in form.controls:
        if control.name == channels_name(topic):
            control.checked = False

    response = autosave(client, form)

    assert response.status_code == 400
    body = response.get_json()
    assert body["errors"] == [{"field": channels_name(topic), "message": message}]
    assert [s["topic_id"] for s in body["saved"]] == [seed.TOPIC_DIGEST]
    assert body["rendered"]
    assert courier_state.count("PUT", WRITE) == 1
    assert courier_state.store.user_preference(USER, seed.TOPIC_DIGEST)["status"] == "OPTED_IN"


def test_a_partial_failure_answers_502_and_moves_the_snapshot_for_saved_topics_only(
    page_form, courier_state, faulty
):
    client, form = page_form
    form.set(status_name(seed.TOPIC_DIGEST), "OPTED_IN", True)
    form.set(status_name(seed.TOPIC_EVENTS), "OPTED_IN", True)
    faulty.faults.append(Fault("PUT", rf".*/{seed.TOPIC_EVENTS}", status=503))

    response = autosave(client, form)

    assert response.status_code == 502
    body = response.get_json()
    assert body["saved"] == [{"topic_id": seed.TOPIC_DIGEST, "message": DIGEST_ON}]
    assert body["failed"] == [{"topic_id": seed.TOPIC_EVENTS, "name": "Events and webinars"}]
    assert body["nothing_changed"] is False
    assert courier_state.store.user_preference(USER, seed.TOPIC_EVENTS)["status"] == "OPTED_OUT"

    # A retry with the new snapshot writes only the topic that failed.
    faulty.faults.clear()
    courier_state.clear_requests()
    set_hidden(form, "rendered", body["rendered"])
    retried = autosave(client, form)
    assert retried.status_code == 200
    assert [s["topic_id"] for s in retried.get_json()["saved"]] == [seed.TOPIC_EVENTS]
    assert put_paths(courier_state) == [f"/users/{USER}/preferences/{seed.TOPIC_EVENTS}"]


def test_a_stale_or_tampered_snapshot_asks_for_a_reload(page_form, courier_state):
    client, form = page_form
    form.set(status_name(seed.TOPIC_DIGEST), "OPTED_IN", True)
    data = form.submission()
    data["rendered"] = data["rendered"][:-2] + "xx"

    response = client.post(form.action, data=data, headers=JSON)

    assert response.status_code == 400
    body = response.get_json()
    assert body["reload"] is True and "Reload the page" in body["errors"][0]["message"]
    assert courier_state.count("PUT", WRITE) == 0


@pytest.mark.parametrize("csrf", [None, "wrong"])
def test_a_missing_or_wrong_csrf_token_asks_for_a_reload(page_form, courier_state, csrf):
    client, form = page_form
    data = form.set(status_name(seed.TOPIC_DIGEST), "OPTED_IN", True).submission()
    if csrf is None:
        data.pop("csrf_token")
    else:
        data["csrf_token"] = csrf

    response = client.post(form.action, data=data, headers=JSON)

    assert response.status_code == 400
    body = response.get_json()
    assert body["reload"] is True and "Reload the page" in body["errors"][0]["message"]
    assert courier_state.count("PUT", WRITE) == 0


def test_a_signed_out_autosave_asks_for_a_reload(page_form, courier_state):
    client, form = page_form
    with client.session_transaction() as session:
        session.pop("user_id")  # the session outlived its sign-in; its CSRF secret remains
    response = autosave(client, form.set(status_name(seed.TOPIC_DIGEST), "OPTED_IN", True))
    assert response.status_code == 401
    assert response.get_json()["reload"] is True
    assert courier_state.count("PUT", WRITE) == 0


def test_without_the_json_header_the_plain_form_still_redirects(page_form):
    client, form = page_form
    form.set(status_name(seed.TOPIC_DIGEST), "OPTED_IN", True)
    assert client.post("/", data=form.submission()).status_code == 302


def test_embedded_autosaves_twice_in_a_row_without_cookies(app, courier_state):
    frame = app.test_client(use_cookies=False)
    token = app.extensions["prefcenter"].links.make(LinkClaims(USER, Purpose.EMBED))
    form = HtmlForm.parse(frame.get(f"/e/{token}/").get_data(as_text=True))
    # As if the page had been open two minutes: its action carries a token minted back then.
    old = app.extensions["prefcenter"].links.make(
        LinkClaims(USER, Purpose.EMBED), now=time.time() - 120
    )
    with app.app_context():
        page_action, page_csrf = f"/e/{old}/", embed_csrf_token(old)
    form.action = page_action
    set_hidden(form, "csrf_token", page_csrf)
    courier_state.clear_requests()

    first = autosave(frame, form.set(status_name(seed.TOPIC_DIGEST), "OPTED_IN", True))

    assert first.status_code == 200, first.get_data(as_text=True)
    assert "Set-Cookie" not in first.headers
    body = first.get_json()
    assert body["event"] == {
        "type": "prefcenter:saved",
        "saved": [{"topic_id": seed.TOPIC_DIGEST, "status": "OPTED_IN", "channels": []}],
        "failed": [],
    }
    # A fresh token, and the CSRF value bound to it, for the next save.
    assert body["action"].startswith("/e/") and body["action"] != page_action
    assert body["csrf_token"] != page_csrf

    # Second save from the same page, still posting to the page's own action and CSRF value.
    set_hidden(form, "rendered", body["rendered"])
    second = autosave(frame, form.set(status_name(seed.TOPIC_DIGEST), "OPTED_IN", False))
    assert second.status_code == 200, second.get_data(as_text=True)
    assert second.get_json()["saved"][0]["message"] == "Weekly digest: turned off."

    # Third save with what the answer handed over, as app.js does.
    answer = second.get_json()
    set_hidden(form, "rendered", answer["rendered"])
    set_hidden(form, "csrf_token", answer["csrf_token"])
    form.set(status_name(seed.TOPIC_DIGEST), "OPTED_IN", True)
    third = autosave(frame, form, action=answer["action"])
    assert third.status_code == 200, third.get_data(as_text=True)
    assert third.get_json()["saved"][0]["message"] == "Weekly digest: turned on."

    assert put_paths(courier_state) == [f"/users/{USER}/preferences/{seed.TOPIC_DIGEST}"] * 3
    assert courier_state.store.user_preference(USER, seed.TOPIC_DIGEST)["status"] == "OPTED_IN"


def test_embedded_csrf_from_another_token_is_refused_in_json(app, mint, courier_state):
    frame = app.test_client(use_cookies=False)
    form = HtmlForm.parse(frame.get(f"/e/{mint(USER, Purpose.EMBED)}/").get_data(as_text=True))
    other = f"/e/{mint('user-2', Purpose.EMBED)}/"
    courier_state.clear_requests()
    response = autosave(frame, form.set(status_name(seed.TOPIC_DIGEST), "OPTED_IN", True), other)
    assert response.status_code == 400 and response.get_json()["reload"] is True
    assert courier_state.count("PUT", WRITE) == 0


def test_autosave_of_one_topic_on_a_large_page_stays_small(signed_in, courier_state):
    """What static/app.js posts: the changed topic's controls, named in `only`, urlencoded."""
    from urllib.parse import urlencode

    from werkzeug.test import EnvironBuilder

    topics = seed.seed_catalog(courier_state.store, sections=20, topics_per_section=12)
    client = signed_in()
    form = HtmlForm.parse(client.get("/").get_data(as_text=True))
    as_multipart = EnvironBuilder(
        method="POST", data=form.submission(), content_type="multipart/form-data"
    ).get_request()
    # Why autosave no longer posts the page whole, as FormData (multipart) would.
    assert as_multipart.content_length > 64 * 1024

    on = {c.name for c in form.controls if c.checked}
    target = next(t for t in topics if status_name(t) in on)
    pairs = [
        ("csrf_token", form.value("csrf_token")),
        ("rendered", form.value("rendered")),
        ("only", target),
        *[(n, v) for n, v in form.pairs() if n.startswith(field_key(target) + "-")],
    ]
    pairs = [(n, v) for n, v in pairs if n != status_name(target)]  # turned off
    body = urlencode(pairs)
    assert len(body) < 64 * 1024
    courier_state.clear_requests()

    response = client.post(
        "/",
        data=body,
        content_type="application/x-www-form-urlencoded",
        headers=JSON,
    )

    assert response.status_code == 200, response.get_data(as_text=True)
    assert put_paths(courier_state) == [f"/users/{USER}/preferences/{target}"]
    assert courier_state.store.user_preference(USER, target)["status"] == "OPTED_OUT"
