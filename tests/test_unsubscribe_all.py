"""Unsubscribe from everything: one action, every optional topic off, required ones listed."""

from __future__ import annotations

import re

from werkzeug.datastructures import MultiDict

from prefcenter.courier import ChannelClassification, PreferenceStatus, PreferenceUpdate
from prefcenter.emulator import seed

from htmlform import HtmlForm, text_of

USER = "user-1"
OPTIONAL = [
    seed.TOPIC_BILLING,
    seed.TOPIC_COMMENTS,
    seed.TOPIC_REMINDERS,
    seed.TOPIC_PRODUCT_UPDATES,
    seed.TOPIC_DIGEST,
    seed.TOPIC_EVENTS,
]


def csrf_of(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def test_everything_optional_is_turned_off_and_required_topics_are_listed(
    signed_in, courier_state, courier
):
    courier.put_preference(
        USER,
        seed.TOPIC_COMMENTS,
        PreferenceUpdate(PreferenceStatus.OPTED_IN, True, (ChannelClassification.PUSH,)),
    )
    client = signed_in()
    page = client.get("/").get_data(as_text=True)
    assert "Unsubscribe from everything" in text_of(page)
    courier_state.clear_requests()

    response = client.post(
        "/unsubscribe-all", data={"csrf_token": csrf_of(page)}, follow_redirects=True
    )

    assert response.status_code == 200
    for topic_id in OPTIONAL:
        assert courier_state.store.user_preference(USER, topic_id)["status"] == "OPTED_OUT"
    # Only topics that were on are written; the digest and events were already off.
    assert courier_state.count("PUT", r".*") == 4
    assert courier_state.store.user_preference(USER, seed.TOPIC_COMMENTS)["custom_routing"] == [
        "push"
    ]
    assert courier_state.store.user_preference(USER, seed.TOPIC_SECURITY)["status"] == "REQUIRED"
    text = text_of(response.get_data(as_text=True))
    assert "You are unsubscribed from everything optional" in text
    still = text.split("You will still receive")[1]
    assert "Security alerts" in still and "Weekly digest" not in still


def test_undo_turns_back_on_what_was_turned_off(signed_in, courier_state):
    client = signed_in()
    page = client.get("/").get_data(as_text=True)
    done = client.post(
        "/unsubscribe-all", data={"csrf_token": csrf_of(page)}, follow_redirects=True
    )
    undo = HtmlForm.parse(done.get_data(as_text=True))
    assert undo.action == "/unsubscribe-all/undo"

    response = client.post(undo.action, data=undo.submission(), follow_redirects=True)

    assert response.status_code == 200
    for topic_id in (seed.TOPIC_BILLING, seed.TOPIC_COMMENTS, seed.TOPIC_REMINDERS):
        assert courier_state.store.user_preference(USER, topic_id)["status"] == "OPTED_IN"
    # Topics that were off before stay off.
    assert courier_state.store.user_preference(USER, seed.TOPIC_DIGEST)["status"] == "OPTED_OUT"
    assert "Billing and receipts: turned on." in text_of(response.get_data(as_text=True))


def test_unsubscribe_all_needs_the_csrf_token(signed_in, courier_state):
    client = signed_in()
    client.get("/")
    courier_state.clear_requests()
    assert client.post("/unsubscribe-all").status_code == 400
    assert courier_state.count("PUT", r".*") == 0


def test_an_undo_made_for_someone_else_is_refused(client, mint, courier_state):
    client.get(f"/l/{mint('user-a')}")
    page = client.get("/").get_data(as_text=True)
    done = client.post(
        "/unsubscribe-all", data={"csrf_token": csrf_of(page)}, follow_redirects=True
    )
    undo = HtmlForm.parse(done.get_data(as_text=True))
    token_b = mint("user-b")
    asked = HtmlForm.parse(client.get(f"/l/{token_b}").get_data(as_text=True))
    assert client.post(f"/l/{token_b}", data=asked.submission()).status_code == 303
    page_b = client.get("/").get_data(as_text=True)
    courier_state.clear_requests()
    data = MultiDict([("csrf_token", csrf_of(page_b)), ("undo", undo.value("undo"))])
    assert client.post("/unsubscribe-all/undo", data=data).status_code == 400
    assert courier_state.count("PUT", r".*") == 0


def test_undo_is_refused_after_an_hour(signed_in, courier_state, clock):
    client = signed_in()
    page = client.get("/").get_data(as_text=True)
    done = client.post(
        "/unsubscribe-all", data={"csrf_token": csrf_of(page)}, follow_redirects=True
    )
    undo = HtmlForm.parse(done.get_data(as_text=True))
    clock(60 * 60 + 1)
    # A fresh CSRF value: only the undo value is too old.
    fresh_csrf = csrf_of(client.get("/").get_data(as_text=True))
    data = MultiDict([("csrf_token", fresh_csrf), ("undo", undo.value("undo"))])
    courier_state.clear_requests()
    response = client.post(undo.action, data=data)
    assert response.status_code == 400
    assert "This page is out of date" in text_of(response.get_data(as_text=True))
    assert courier_state.count("PUT", r".*") == 0
    assert courier_state.store.user_preference(USER, seed.TOPIC_BILLING)["status"] == "OPTED_OUT"


def test_undo_works_within_the_hour(signed_in, courier_state, clock):
    client = signed_in()
    page = client.get("/").get_data(as_text=True)
    done = client.post(
        "/unsubscribe-all", data={"csrf_token": csrf_of(page)}, follow_redirects=True
    )
    undo = HtmlForm.parse(done.get_data(as_text=True))
    clock(50 * 60)
    assert (
        client.post(undo.action, data=undo.submission(), follow_redirects=True).status_code == 200
    )
    assert courier_state.store.user_preference(USER, seed.TOPIC_BILLING)["status"] == "OPTED_IN"


def test_everything_is_asked_about_first_saying_what_goes_off_and_what_stays_on(
    signed_in, courier_state
):
    client = signed_in()
    courier_state.clear_requests()

    asked = client.get("/unsubscribe-all")

    assert asked.status_code == 200
    text = text_of(asked.get_data(as_text=True))
    off = text.split("These will be turned off")[1].split("These stay on")[0]
    assert "Billing and receipts" in off and "Weekly digest" not in off
    assert "Security alerts" in text.split("These stay on")[1]
    assert "Cancel" in text
    assert courier_state.count("PUT", r".*") == 0
    confirm = HtmlForm.parse(asked.get_data(as_text=True))
    assert confirm.action == "/unsubscribe-all"


def test_unsubscribe_all_and_its_undo_redirect_to_a_result_page_safe_to_reload(
    signed_in, courier_state
):
    client = signed_in()
    page = client.get("/").get_data(as_text=True)

    done = client.post("/unsubscribe-all", data={"csrf_token": csrf_of(page)})

    assert done.status_code == 303
    courier_state.clear_requests()
    first = client.get(done.headers["Location"])
    again = client.get(done.headers["Location"])  # a reload
    assert courier_state.count("PUT", r".*") == 0
    for response in (first, again):
        assert response.status_code == 200
        assert "Undo: turn them back on" in text_of(response.get_data(as_text=True))
    undo = HtmlForm.parse(again.get_data(as_text=True))

    undone = client.post(undo.action, data=undo.submission())

    assert undone.status_code == 303
    courier_state.clear_requests()
    for _ in range(2):
        shown = client.get(undone.headers["Location"])
        assert shown.status_code == 200
        assert "Billing and receipts: turned on." in text_of(shown.get_data(as_text=True))
    assert courier_state.count("PUT", r".*") == 0


def test_a_result_page_is_only_for_the_person_it_was_made_for(client, mint):
    client.get(f"/l/{mint('user-a')}")
    page = client.get("/").get_data(as_text=True)
    done = client.post("/unsubscribe-all", data={"csrf_token": csrf_of(page)})
    other = client.application.test_client()
    other.get(f"/l/{mint('user-b')}")
    assert other.get(done.headers["Location"]).status_code == 400
    assert client.get(done.headers["Location"] + "x").status_code == 400
