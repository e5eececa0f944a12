"""Every flow a person can take, in a real browser, with JavaScript on and with it off.

Each test asserts what the person sees and what reached Courier (the emulator's store). With
JavaScript on, each change saves itself (static/app.js) before Save is pressed, so the shared
assertions are about the end state (at Courier, and on the page after a reload); the `Person`
helper adds what only one mode shows: the autosave status with JavaScript, the "Saved" notice
after Save without.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import expect

from prefcenter.access.links import Purpose
from prefcenter.emulator import seed
from prefcenter.emulator.models import PreferenceWrite

from browser_fixtures import (
    LivePrefcenter,
    channel_box,
    framing_host,
    topic_switch,
)
from faults import Fault

USER = "user-1"
COURIER_DOWN = Fault("GET", r"/.*", status=503)
WRITES_FAIL = Fault("PUT", r"/users/.*", status=503)


class Person:
    """Someone using the page in `page`, with JavaScript on or off."""

    def __init__(self, page: Any, prefs: LivePrefcenter, javascript: bool) -> None:
        self.page = page
        self.prefs = prefs
        self.javascript = javascript

    @property
    def autosave_status(self) -> Any:
        return self.page.locator(".autosave-status")

    def sign_in(self) -> None:
        """Open the "Manage preferences" link from an email."""
        self.page.goto(self.prefs.link(Purpose.MANAGE))
        expect(self.page.get_by_role("heading", level=1)).to_have_text("Notification preferences")

    def set(self, control: Any, on: bool, autosave_says: str | None = None) -> None:
        """Tick or untick a switch or checkbox; with JavaScript, wait for it to save itself."""
        control.set_checked(on)
        if self.javascript and autosave_says:
            expect(self.autosave_status).to_contain_text(autosave_says)

    def save(self, *saved: str) -> None:
        """Press Save and see the page again, saying what was saved; with JavaScript there is
        no Save button: each change saved itself."""
        if self.javascript:
            expect(self.page.get_by_role("button", name="Save preferences")).to_be_hidden()
        else:
            self.page.get_by_role("button", name="Save preferences").click()
            notice = self.page.get_by_role("status").filter(has_text="Saved")
            for message in saved:
                expect(notice).to_contain_text(message)

    def stored(self, topic_id: str) -> dict[str, Any]:
        return self.prefs.courier_state.store.user_preference(USER, topic_id)

    def override(self, topic_id: str) -> dict[str, Any] | None:
        return self.prefs.courier_state.store.raw_override(USER, topic_id)


@pytest.fixture
def prefs(live_prefcenter) -> LivePrefcenter:
    return live_prefcenter()


@pytest.fixture
def person(page, prefs, javascript) -> Person:
    return Person(page, prefs, javascript)


def prefer(prefs: LivePrefcenter, topic_id: str, status: str, *channels: str) -> None:
    """Set the person's choice at Courier before the test, as an earlier visit would have."""
    write = PreferenceWrite(status, bool(channels), tuple(channels))
    prefs.courier_state.store.set_user_preference(USER, topic_id, write)


def test_the_email_link_signs_in_and_shows_the_current_choices(person: Person):
    page = person.page
    person.sign_in()

    assert page.url == person.prefs.url + "/"  # the token is gone from the address bar
    security = page.get_by_role("checkbox", name="Security alerts", exact=True)
    expect(security).to_be_checked()
    expect(security).to_be_disabled()
    expect(page.get_by_text("We send these to keep your account working and safe")).to_be_visible()
    expect(topic_switch(page, "Billing and receipts")).to_be_checked()
    expect(topic_switch(page, "Weekly digest")).not_to_be_checked()
    expect(channel_box(page, "Task reminders", "Push notification")).to_be_checked()
    # "News and offers" offers no choice of channels.
    expect(page.get_by_role("group", name="Weekly digest", exact=True)).to_have_count(0)
    expect(page.get_by_role("checkbox", name=re.compile("^Get “Weekly digest” by"))).to_have_count(
        0
    )


def test_toggle_choose_channels_save_and_reload(person: Person):
    page = person.page
    person.sign_in()

    person.set(topic_switch(page, "Weekly digest"), True, "Weekly digest: turned on.")
    person.set(topic_switch(page, "Product updates"), False, "Product updates: turned off.")
    person.set(channel_box(page, "Task reminders", "Email"), False, "Task reminders: now by")
    person.set(
        channel_box(page, "Task reminders", "In-app inbox"),
        False,
        "Task reminders: now by Push notification.",
    )
    if not person.javascript:
        # The plain form writes nothing until Save.
        assert person.override(seed.TOPIC_DIGEST) is None
    person.save(
        "Weekly digest: turned on.",
        "Product updates: turned off.",
        "Task reminders: now by Push notification.",
    )

    assert person.stored(seed.TOPIC_DIGEST)["status"] == "OPTED_IN"
    assert person.stored(seed.TOPIC_PRODUCT_UPDATES)["status"] == "OPTED_OUT"
    reminders = person.stored(seed.TOPIC_REMINDERS)
    assert reminders["status"] == "OPTED_IN"
    assert (reminders["has_custom_routing"], reminders["custom_routing"]) == (True, ["push"])
    # Topics the person did not touch were not written.
    assert person.override(seed.TOPIC_COMMENTS) is None
    assert person.override(seed.TOPIC_BILLING) is None

    page.reload()
    expect(topic_switch(page, "Weekly digest")).to_be_checked()
    expect(topic_switch(page, "Product updates")).not_to_be_checked()
    expect(channel_box(page, "Task reminders", "Push notification")).to_be_checked()
    expect(channel_box(page, "Task reminders", "Email")).not_to_be_checked()
    expect(channel_box(page, "Task reminders", "In-app inbox")).not_to_be_checked()
    expect(channel_box(page, "Comments and mentions", "Email")).to_be_checked()


def test_an_invalid_choice_is_refused_with_a_summary_linked_to_the_field(person: Person):
    prefer(person.prefs, seed.TOPIC_REMINDERS, "OPTED_IN", "push")
    page = person.page
    person.sign_in()
    message = "Choose at least one channel for Task reminders, or turn it off."

    person.set(channel_box(page, "Task reminders", "Push notification"), False, message)
    group = page.get_by_role("group", name="Task reminders", exact=True)
    if not person.javascript:  # with JavaScript the refusal is beside the topic at once
        page.get_by_role("button", name="Save preferences").click()
        summary = page.get_by_role("alert").filter(has_text="Nothing was saved")
        expect(summary).to_be_visible()
        expect(summary).to_be_focused()  # announced and in reach of the keyboard at once
    expect(group).to_contain_text(message)
    # The person's choice is still shown, so they can correct it.
    expect(channel_box(page, "Task reminders", "Push notification")).not_to_be_checked()

    if not person.javascript:
        summary.get_by_role("link", name=message).click()
        expect(group).to_be_focused()
    assert person.stored(seed.TOPIC_REMINDERS)["custom_routing"] == ["push"]

    person.set(channel_box(page, "Task reminders", "Email"), True, "Task reminders: now by Email.")
    person.save("Task reminders: now by Email.")
    expect(page.get_by_role("alert")).to_have_count(0)
    assert person.stored(seed.TOPIC_REMINDERS)["custom_routing"] == ["email"]


def test_unsubscribe_from_the_email_link_then_undo(person: Person):
    prefer(person.prefs, seed.TOPIC_COMMENTS, "OPTED_IN", "push")
    page = person.page
    page.goto(person.prefs.link(Purpose.UNSUBSCRIBE, topic_id=seed.TOPIC_COMMENTS))
    heading = page.get_by_role("heading", level=1)
    expect(heading).to_have_text("Unsubscribe from “Comments and mentions”?")
    assert person.stored(seed.TOPIC_COMMENTS)["status"] == "OPTED_IN"  # opening changes nothing

    page.get_by_role("button", name="Unsubscribe").click()
    expect(heading).to_have_text("You are unsubscribed")
    expect(page.get_by_role("status")).to_have_text(
        "You will no longer receive “Comments and mentions”. Your other notifications are"
        " unchanged."
    )
    stored = person.stored(seed.TOPIC_COMMENTS)
    assert stored["status"] == "OPTED_OUT" and stored["custom_routing"] == ["push"]

    page.get_by_role("button", name="Undo: subscribe again").click()
    expect(heading).to_have_text("You are subscribed again")
    stored = person.stored(seed.TOPIC_COMMENTS)
    assert stored["status"] == "OPTED_IN" and stored["custom_routing"] == ["push"]

    # A button, not a link: it opens everything else in a short session.
    page.get_by_role("button", name="Manage all your notification preferences").click()
    expect(topic_switch(page, "Comments and mentions")).to_be_checked()
    expect(page.get_by_text("Signed in as u…-1.")).to_be_visible()
    assert page.url == person.prefs.url + "/"


def test_a_required_topic_cannot_be_unsubscribed(person: Person):
    page = person.page
    page.goto(person.prefs.link(Purpose.UNSUBSCRIBE, topic_id=seed.TOPIC_SECURITY))
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "“Security alerts” can’t be turned off"
    )
    # The only button opens all preferences; none unsubscribes.
    expect(page.get_by_role("button")).to_have_text(["Manage all your notification preferences"])
    assert person.override(seed.TOPIC_SECURITY) is None


def test_an_already_unsubscribed_topic_is_turned_back_on_among_all_preferences(person: Person):
    page = person.page
    page.goto(person.prefs.link(Purpose.UNSUBSCRIBE, topic_id=seed.TOPIC_DIGEST))
    expect(page.get_by_role("heading", level=1)).to_have_text("You are already unsubscribed")
    # The link alone opts no one back in: no "Subscribe again" here.
    expect(page.get_by_role("button", name="Subscribe again")).to_have_count(0)

    page.get_by_role("button", name="Manage all your notification preferences").click()
    person.set(topic_switch(page, "Weekly digest"), True, "Weekly digest: turned on.")
    person.save("Weekly digest: turned on.")
    assert person.stored(seed.TOPIC_DIGEST)["status"] == "OPTED_IN"


def test_the_page_says_who_is_signed_in_and_signs_out(person: Person):
    page = person.page
    person.sign_in()
    expect(page.get_by_text("Signed in as u…-1.")).to_be_visible()

    page.get_by_role("button", name="Not you? Sign out").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("You are signed out")
    expect(page.get_by_text("Signed in as")).to_have_count(0)
    response = page.goto(person.prefs.url + "/")
    assert response.status == 401


def test_a_link_for_someone_else_asks_first(person: Person):
    page = person.page
    person.sign_in()
    page.goto(person.prefs.link(Purpose.MANAGE, "user-2"))
    expect(page.get_by_role("heading", level=1)).to_have_text("This link is for someone else")

    page.get_by_role("link", name="Stay signed in as u…-1").click()
    expect(page.get_by_text("Signed in as u…-1.")).to_be_visible()

    page.goto(person.prefs.link(Purpose.MANAGE, "user-2"))
    page.get_by_role("button", name="Continue as u…-2").click()
    expect(page.get_by_text("Signed in as u…-2.")).to_be_visible()
    assert page.url == person.prefs.url + "/"


def test_unsubscribe_from_everything_then_undo(person: Person):
    page = person.page
    person.sign_in()
    page.get_by_role("link", name="Unsubscribe from everything…").click()
    expect(page.get_by_role("list").filter(has_text="Security alerts")).to_contain_text("Required")
    page.get_by_role("button", name="Yes, unsubscribe from everything").click()

    expect(page.get_by_role("heading", level=1)).to_have_text(
        "You are unsubscribed from everything optional"
    )
    expect(page.get_by_role("status")).to_have_text(
        "Turned off: Billing and receipts, Comments and mentions, Task reminders, Product updates."
    )
    still = page.get_by_role("list").filter(has_text="Security alerts")
    expect(still).to_contain_text("Required")
    for topic_id in (seed.TOPIC_BILLING, seed.TOPIC_COMMENTS, seed.TOPIC_PRODUCT_UPDATES):
        assert person.stored(topic_id)["status"] == "OPTED_OUT"
    assert person.stored(seed.TOPIC_SECURITY)["status"] == "REQUIRED"

    page.get_by_role("button", name="Undo: turn them back on").click()
    expect(page.get_by_role("status")).to_contain_text("Billing and receipts: turned on.")
    page.get_by_role("link", name="Back to your preferences").click()
    expect(topic_switch(page, "Billing and receipts")).to_be_checked()
    expect(topic_switch(page, "Weekly digest")).not_to_be_checked()  # was off before: stays off
    for topic_id in (seed.TOPIC_BILLING, seed.TOPIC_COMMENTS, seed.TOPIC_PRODUCT_UPDATES):
        assert person.stored(topic_id)["status"] == "OPTED_IN"
    assert person.stored(seed.TOPIC_DIGEST)["status"] == "OPTED_OUT"


@pytest.mark.parametrize(
    "purpose, path, heading, status",
    [
        (Purpose.MANAGE, None, "This link has expired", 410),
        (Purpose.UNSUBSCRIBE, None, "This link has expired", 410),
        (Purpose.EMBED, None, "This page has expired", 410),
        (Purpose.MANAGE, "/l/not-a-real-token", "This link is not valid", 404),
        (Purpose.UNSUBSCRIBE, "/u/eyJhbGciOiJIUzI1NiJ9.e30.x", "This link is not valid", 404),
    ],
    ids=["manage-expired", "unsubscribe-expired", "embed-expired", "manage-bad", "unsub-bad"],
)
def test_expired_and_invalid_links_say_what_to_do(person: Person, purpose, path, heading, status):
    prefs = person.prefs
    if path is None:
        url = prefs.expired_link(purpose, topic_id=seed.TOPIC_DIGEST)
    else:
        url = prefs.url + path
    response = person.page.goto(url)
    assert response.status == status
    expect(person.page.get_by_role("heading", level=1)).to_have_text(heading)
    assert prefs.courier_state.store.override_count() == 0


def test_courier_down_shows_a_try_again_page(person: Person):
    page = person.page
    person.sign_in()
    person.prefs.courier.faults.append(COURIER_DOWN)

    response = page.reload()
    assert response.status == 503
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "We can’t load your preferences right now"
    )

    person.prefs.courier.faults.clear()
    page.get_by_role("link", name="Try again").click()
    expect(topic_switch(page, "Billing and receipts")).to_be_checked()


def test_a_save_while_courier_is_down_keeps_the_choices(person: Person):
    page = person.page
    person.sign_in()
    person.prefs.courier.faults.append(WRITES_FAIL)

    person.set(topic_switch(page, "Weekly digest"), True, "Couldn’t save Weekly digest.")
    if not person.javascript:
        page.get_by_role("button", name="Save preferences").click()
        alert = page.get_by_role("alert").filter(has_text="Some changes were not saved")
        expect(alert).to_contain_text("Weekly digest")
    expect(topic_switch(page, "Weekly digest")).to_be_checked()  # the choice is kept
    assert person.stored(seed.TOPIC_DIGEST)["status"] == "OPTED_OUT"

    person.prefs.courier.faults.clear()
    if person.javascript:
        page.get_by_role("button", name="Retry").click()
        expect(person.autosave_status).to_contain_text("Weekly digest: turned on.")
    else:
        page.get_by_role("button", name="Save preferences").click()
        expect(page.get_by_role("status").filter(has_text="Saved")).to_contain_text(
            "Weekly digest: turned on."
        )
    assert person.stored(seed.TOPIC_DIGEST)["status"] == "OPTED_IN"
    page.reload()
    expect(topic_switch(page, "Weekly digest")).to_be_checked()


def test_a_partly_failed_save_says_what_was_not_saved(person: Person):
    page = person.page
    person.sign_in()
    digest = Fault("PUT", rf"/users/{USER}/preferences/{seed.TOPIC_DIGEST}", status=503)
    person.prefs.courier.faults.append(digest)

    person.set(topic_switch(page, "Weekly digest"), True, "Couldn’t save Weekly digest.")
    person.set(topic_switch(page, "Product updates"), False, "Product updates: turned off.")
    if person.javascript:  # said beside the topic changed last, which saved
        expect(person.autosave_status).to_contain_text("Couldn’t save Weekly digest.")
    else:
        page.get_by_role("button", name="Save preferences").click()
        alert = page.get_by_role("alert").filter(has_text="Some changes were not saved")
        expect(alert).to_contain_text("did not take these changes: Weekly digest.")
        expect(alert).to_contain_text("Product updates: turned off.")
    expect(topic_switch(page, "Weekly digest")).to_be_checked()
    expect(topic_switch(page, "Product updates")).not_to_be_checked()
    assert person.stored(seed.TOPIC_DIGEST)["status"] == "OPTED_OUT"
    assert person.stored(seed.TOPIC_PRODUCT_UPDATES)["status"] == "OPTED_OUT"


def test_the_embedded_page_saves_inside_a_host_page(live_prefcenter, new_context, javascript):
    host = framing_host()
    try:
        host_origin = host.url.replace("127.0.0.1", "localhost")
        prefs = live_prefcenter(EMBED_ALLOWED_ORIGINS=[host_origin])
        page = new_context(javascript=javascript).new_page()
        page.goto(f"{host_origin}/?frame={prefs.link(Purpose.EMBED)}")
        frame = page.frame_locator("iframe")
        expect(frame.get_by_role("heading", level=1)).to_have_text("Notification preferences")

        frame.get_by_role("switch", name="Weekly digest").check()
        if javascript:  # saved itself, said beside the topic
            expect(frame.locator(".topic-feedback [role=status]")).to_contain_text(
                "Weekly digest: turned on."
            )
        else:
            frame.get_by_role("button", name="Save preferences").click()
            expect(frame.get_by_role("status").filter(has_text="Saved")).to_contain_text(
                "Weekly digest: turned on."
            )
        expect(frame.get_by_role("switch", name="Weekly digest")).to_be_checked()
        store = prefs.courier_state.store
        assert store.user_preference(USER, seed.TOPIC_DIGEST)["status"] == "OPTED_IN"
    finally:
        host.stop()


def test_with_javascript_each_change_saves_itself_and_can_be_undone(prefs, new_context):
    person = Person(new_context(javascript=True).new_page(), prefs, javascript=True)
    page = person.page
    person.sign_in()

    person.set(topic_switch(page, "Weekly digest"), True, "Saved. Weekly digest: turned on.")
    assert person.stored(seed.TOPIC_DIGEST)["status"] == "OPTED_IN"

    page.get_by_role("button", name="Undo").click()
    expect(person.autosave_status).to_contain_text("Weekly digest: turned off.")
    expect(topic_switch(page, "Weekly digest")).not_to_be_checked()
    assert person.stored(seed.TOPIC_DIGEST)["status"] == "OPTED_OUT"
