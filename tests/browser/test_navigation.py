"""Back, forward and reload: the page always shows what Courier holds, and nothing posts twice.

Each test runs with JavaScript on and off. What reached Courier is read from the emulator's
store and request log.
"""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from prefcenter.access.links import Purpose
from prefcenter.emulator import seed
from prefcenter.emulator.models import PreferenceWrite

from browser_fixtures import LivePrefcenter, channel_box, topic_switch

USER = "user-1"
WRITE = r"/users/[^/]+/preferences/[^/]+"
OPTIONAL_ON = (
    seed.TOPIC_BILLING,
    seed.TOPIC_COMMENTS,
    seed.TOPIC_REMINDERS,
    seed.TOPIC_PRODUCT_UPDATES,
)


@pytest.fixture
def prefs(live_prefcenter) -> LivePrefcenter:
    return live_prefcenter()


def sign_in(prefs: LivePrefcenter, page: Any) -> None:
    page.goto(prefs.link(Purpose.MANAGE))
    expect(page.get_by_role("heading", level=1)).to_have_text("Notification preferences")


def stored(prefs: LivePrefcenter, topic_id: str) -> dict[str, Any]:
    return prefs.courier_state.store.user_preference(USER, topic_id)


def prefer(prefs: LivePrefcenter, topic_id: str, status: str, *channels: str) -> None:
    write = PreferenceWrite(status, bool(channels), tuple(channels))
    prefs.courier_state.store.set_user_preference(USER, topic_id, write)


def feedback(page: Any, topic_name: str) -> Any:
    """The autosave feedback shown inside one topic."""
    return page.locator(".topic", has_text=topic_name).get_by_role("status")


def change(page: Any, javascript: bool, control: Any, on: bool, says: str) -> None:
    """Make one change: with JavaScript it saves itself, without it Save sends it."""
    control.set_checked(on)
    if javascript:
        expect(feedback(page, says.split(":")[0])).to_contain_text(says)
    else:
        page.get_by_role("button", name="Save preferences").click()


def unsubscribe_from_everything(page: Any) -> None:
    page.get_by_role("link", name="Unsubscribe from everything…").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Unsubscribe from everything?")
    page.get_by_role("button", name="Yes, unsubscribe from everything").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "You are unsubscribed from everything optional"
    )


def test_back_after_unsubscribe_all_shows_everything_off_and_a_change_writes_only_that_topic(
    prefs, page, javascript
):
    sign_in(prefs, page)
    expect(topic_switch(page, "Billing and receipts")).to_be_checked()
    unsubscribe_from_everything(page)

    page.go_back()  # the confirmation
    page.go_back()  # the preferences, as the browser remembers them
    expect(page.get_by_role("heading", level=1)).to_have_text("Notification preferences")
    for name in ("Billing and receipts", "Comments and mentions", "Product updates"):
        expect(topic_switch(page, name)).not_to_be_checked()
    prefs.courier_state.clear_requests()
    change(page, javascript, topic_switch(page, "Weekly digest"), True, "Weekly digest: turned on.")

    expect(topic_switch(page, "Weekly digest")).to_be_checked()
    assert stored(prefs, seed.TOPIC_DIGEST)["status"] == "OPTED_IN"
    for topic_id in OPTIONAL_ON:
        assert stored(prefs, topic_id)["status"] == "OPTED_OUT", topic_id
    assert [r.path for r in prefs.courier_state.requests if r.method == "PUT"] == [
        f"/users/{USER}/preferences/{seed.TOPIC_DIGEST}"
    ]


def test_back_after_a_save_shows_what_courier_holds_now(prefs, page, javascript):
    sign_in(prefs, page)
    change(page, javascript, topic_switch(page, "Weekly digest"), True, "Weekly digest: turned on.")
    page.get_by_role("link", name="Unsubscribe from everything…").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Unsubscribe from everything?")
    prefer(prefs, seed.TOPIC_DIGEST, "OPTED_OUT")  # changed meanwhile, on another device

    page.go_back()

    expect(page.get_by_role("heading", level=1)).to_have_text("Notification preferences")
    expect(topic_switch(page, "Weekly digest")).not_to_be_checked()
    page.go_forward()
    expect(page.get_by_role("heading", level=1)).to_have_text("Unsubscribe from everything?")
    expect(page.get_by_role("list").filter(has_text="Billing and receipts")).not_to_contain_text(
        "Weekly digest"
    )


def test_reloading_a_result_page_posts_nothing_and_still_offers_undo(prefs, page):
    sign_in(prefs, page)
    unsubscribe_from_everything(page)
    prefs.courier_state.clear_requests()

    page.reload()

    expect(page.get_by_role("button", name="Undo: turn them back on")).to_be_visible()
    assert prefs.courier_state.count("PUT", WRITE) == 0
    page.get_by_role("button", name="Undo: turn them back on").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Notifications turned back on")
    assert stored(prefs, seed.TOPIC_BILLING)["status"] == "OPTED_IN"
    prefs.courier_state.clear_requests()
    prefer(prefs, seed.TOPIC_BILLING, "OPTED_OUT")

    page.reload()

    expect(page.get_by_role("status")).to_contain_text("Billing and receipts: turned on.")
    assert prefs.courier_state.count("PUT", WRITE) == 0
    assert stored(prefs, seed.TOPIC_BILLING)["status"] == "OPTED_OUT"  # not posted again


def test_an_invalid_topic_keeps_its_error_and_the_valid_change_beside_it_saves(
    prefs, page, javascript
):
    prefer(prefs, seed.TOPIC_REMINDERS, "OPTED_IN", "push")
    sign_in(prefs, page)
    message = "Choose at least one channel for Task reminders, or turn it off."

    channel_box(page, "Task reminders", "Push notification").set_checked(False)
    change(page, javascript, topic_switch(page, "Weekly digest"), True, "Weekly digest: turned on.")

    reminders = page.locator(".topic", has_text="Task reminders")
    expect(reminders.locator(".field-error")).to_have_text(message)
    assert stored(prefs, seed.TOPIC_DIGEST)["status"] == "OPTED_IN"
    assert stored(prefs, seed.TOPIC_REMINDERS)["custom_routing"] == ["push"]
    if not javascript:
        expect(page.get_by_role("alert")).to_contain_text("Your other changes were saved")
        expect(page.get_by_role("status").filter(has_text="Saved")).to_contain_text(
            "Weekly digest: turned on."
        )


def test_the_intro_and_the_save_button_match_how_changes_are_saved(prefs, page, javascript):
    sign_in(prefs, page)
    autosaved = page.get_by_text("Changes are saved as you make them.")
    on_save = page.get_by_text("Changes apply as soon as you save.")
    save = page.get_by_role("button", name="Save preferences")
    if javascript:
        expect(autosaved).to_be_visible()
        expect(on_save).to_be_hidden()
        expect(save).to_be_hidden()
    else:
        expect(on_save).to_be_visible()
        expect(autosaved).to_be_hidden()
        expect(save).to_be_visible()


def test_autosave_feedback_is_beside_the_topic_and_in_view_on_a_phone(prefs, new_context):
    page = new_context(viewport={"width": 360, "height": 640}).new_page()
    sign_in(prefs, page)
    switch = topic_switch(page, "Weekly digest")
    switch.scroll_into_view_if_needed()

    switch.set_checked(True)

    status = feedback(page, "Weekly digest")
    expect(status).to_contain_text("Weekly digest: turned on.")
    expect(status).to_be_in_viewport()
    undo = page.locator(".topic", has_text="Weekly digest").get_by_role("button", name="Undo")
    expect(undo).to_be_in_viewport()
    undo.click()
    expect(status).to_contain_text("Weekly digest: turned off.")
    assert stored(prefs, seed.TOPIC_DIGEST)["status"] == "OPTED_OUT"
