"""In a real browser with JavaScript: each change saves itself (static/app.js), with undo."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from playwright.sync_api import expect
from test_embed_in_browser import host_site

from prefcenter.access.links import LinkClaims, Purpose
from prefcenter.emulator import seed

from browser_fixtures import LivePrefcenter
from faults import Fault, FaultyCourier

USER = "user-1"


@pytest.fixture
def prefs(live_prefcenter) -> LivePrefcenter:
    return live_prefcenter()


@pytest.fixture
def faults(prefs: LivePrefcenter) -> list[Fault]:
    """Faults to put between the app and Courier: the emulator's routes, wrapped."""
    faulty = FaultyCourier(prefs.emulator.wsgi_app)
    prefs.emulator.wsgi_app = faulty  # type: ignore[method-assign]
    return faulty.faults


def hold_writes(prefs: LivePrefcenter, topic_id: str) -> threading.Event:
    """Make Courier sit on writes to one topic until the returned event is set."""
    release = threading.Event()
    inner = prefs.emulator.wsgi_app

    def held(environ: dict[str, Any], start_response: Any) -> Any:
        if environ["REQUEST_METHOD"] == "PUT" and environ["PATH_INFO"].endswith(f"/{topic_id}"):
            release.wait(timeout=10)
        return inner(environ, start_response)

    prefs.emulator.wsgi_app = held  # type: ignore[method-assign]
    return release


def open_page(prefs: LivePrefcenter, context: Any) -> Any:
    """Open the "Manage preferences" link from an email."""
    page = context.new_page()
    minter = prefs.app.extensions["prefcenter"].minter
    page.goto(minter.url(LinkClaims(USER, Purpose.MANAGE)))
    expect(page.get_by_role("heading", level=1)).to_have_text("Notification preferences")
    return page


def stored(prefs: LivePrefcenter, topic_id: str) -> dict[str, Any]:
    return prefs.courier_state.store.user_preference(USER, topic_id)


def channel(page: Any, topic: str, label: str) -> Any:
    return page.get_by_role("checkbox", name=f"Get “{topic}” by {label}", exact=True)


def test_a_toggle_saves_itself_and_undo_puts_it_back(prefs, browser_context):
    page = open_page(prefs, browser_context)
    status = page.get_by_role("status")
    expect(status).to_have_attribute("aria-live", "polite")
    expect(status).to_have_text("")
    address = page.url

    digest = page.get_by_role("switch", name="Weekly digest")
    digest.focus()
    page.keyboard.press("Space")

    expect(status).to_have_text("Saved. Weekly digest: turned on.")
    assert stored(prefs, seed.TOPIC_DIGEST)["status"] == "OPTED_IN"
    assert page.url == address  # no page load: the person keeps their place
    expect(digest).to_be_focused()

    undo = page.get_by_role("button", name="Undo")
    undo.focus()
    page.keyboard.press("Enter")

    expect(status).to_have_text("Saved. Weekly digest: turned off.")
    expect(digest).not_to_be_checked()
    assert stored(prefs, seed.TOPIC_DIGEST)["status"] == "OPTED_OUT"
    expect(undo).to_be_focused()

    # A channel box saves itself too, and the page as reloaded shows what was saved.
    channel(page, "Comments and mentions", "Push notification").uncheck()
    expect(status).to_have_text("Saved. Comments and mentions: now by Email and In-app inbox.")
    assert stored(prefs, seed.TOPIC_COMMENTS)["custom_routing"] == ["email", "inbox"]
    page.reload()
    expect(channel(page, "Comments and mentions", "Push notification")).not_to_be_checked()
    expect(page.get_by_role("switch", name="Weekly digest")).not_to_be_checked()


def test_changes_made_while_a_save_is_in_flight_are_sent_after_it(prefs, browser_context):
    page = open_page(prefs, browser_context)
    release = hold_writes(prefs, seed.TOPIC_DIGEST)
    status = page.get_by_role("status")

    page.get_by_role("switch", name="Weekly digest").check()
    expect(status).to_have_text("Saving…")
    page.get_by_role("switch", name="Events and webinars").check()
    page.get_by_role("switch", name="Product updates").uncheck()
    expect(status).to_have_text("Saving…")
    assert prefs.courier_state.count("PUT", r".*") == 0  # nothing else sent meanwhile
    release.set()

    # The first save answers, then both later changes go in one save, reported in page order.
    expect(status).to_have_text(
        "Saved. Product updates: turned off. Events and webinars: turned on."
    )
    assert stored(prefs, seed.TOPIC_DIGEST)["status"] == "OPTED_IN"
    assert stored(prefs, seed.TOPIC_EVENTS)["status"] == "OPTED_IN"
    assert stored(prefs, seed.TOPIC_PRODUCT_UPDATES)["status"] == "OPTED_OUT"
    # One write per topic: the second save sent only what the first had not.
    assert prefs.courier_state.count("PUT", rf".*/{seed.TOPIC_DIGEST}") == 1


def test_a_failed_save_says_so_and_retry_saves_it(prefs, faults, browser_context):
    page = open_page(prefs, browser_context)
    faults.append(Fault("PUT", r"/users/.*", status=503))
    status = page.get_by_role("status")
    digest = page.get_by_role("switch", name="Weekly digest")

    digest.check()

    expect(status).to_have_text("Couldn’t save Weekly digest.")
    expect(digest).to_be_checked()  # the person's choice stays on screen
    assert stored(prefs, seed.TOPIC_DIGEST)["status"] == "OPTED_OUT"

    faults.clear()
    page.get_by_role("button", name="Retry").click()
    expect(status).to_have_text("Saved. Weekly digest: turned on.")
    assert stored(prefs, seed.TOPIC_DIGEST)["status"] == "OPTED_IN"


def test_offline_says_so_and_retry_saves_once_back_online(prefs, browser_context):
    page = open_page(prefs, browser_context)
    status = page.get_by_role("status")
    browser_context.set_offline(True)
    try:
        page.get_by_role("switch", name="Weekly digest").check()
        expect(status).to_have_text("Couldn’t save Weekly digest: you seem to be offline.")
    finally:
        browser_context.set_offline(False)
    page.get_by_role("button", name="Retry").click()
    expect(status).to_have_text("Saved. Weekly digest: turned on.")
    assert stored(prefs, seed.TOPIC_DIGEST)["status"] == "OPTED_IN"


def test_a_validation_error_is_shown_by_the_field_and_nothing_pretends_to_save(
    prefs, browser_context
):
    page = open_page(prefs, browser_context)
    status = page.get_by_role("status")
    group = page.get_by_role("group", name="Security alerts", exact=True)
    message = "“Security alerts” is required: keep at least one channel."

    channel(page, "Security alerts", "Email").uncheck()
    expect(status).to_have_text(
        "Saved. Security alerts: now by Text message (SMS) and Push notification."
    )
    channel(page, "Security alerts", "Text message (SMS)").uncheck()
    expect(status).to_have_text("Saved. Security alerts: now by Push notification.")
    channel(page, "Security alerts", "Push notification").uncheck()

    expect(status).to_have_text(f"Not saved. {message}")
    expect(group.locator(".field-error")).to_have_text(message)
    expect(group).to_have_accessible_description(message)
    assert stored(prefs, seed.TOPIC_SECURITY)["custom_routing"] == ["push"]
    expect(page.get_by_role("button", name="Undo")).to_have_count(0)

    channel(page, "Security alerts", "Email").check()
    expect(status).to_have_text("Saved. Security alerts: now by Email.")
    expect(page.locator(".field-error")).to_have_count(0)
    assert stored(prefs, seed.TOPIC_SECURITY)["custom_routing"] == ["email"]


def test_an_embedded_autosave_tells_the_host_page(live_prefcenter, browser_context):
    host = host_site()
    host_origin = host.url.replace("127.0.0.1", "localhost")
    try:
        prefs = live_prefcenter(EMBED_ALLOWED_ORIGINS=[host_origin])
        token = prefs.app.extensions["prefcenter"].links.make(LinkClaims(USER, Purpose.EMBED))
        page = browser_context.new_page()
        page.goto(f"{host_origin}/?frame={prefs.url}/e/{token}/")
        frame = page.frame_locator("iframe")
        status = frame.get_by_role("status")

        # Twice from the same page: the second post carries the token the first answer gave.
        frame.get_by_role("switch", name="Weekly digest").check()
        expect(status).to_have_text("Saved. Weekly digest: turned on.")
        frame.get_by_role("switch", name="Weekly digest").uncheck()
        expect(status).to_have_text("Saved. Weekly digest: turned off.")

        assert stored(prefs, seed.TOPIC_DIGEST)["status"] == "OPTED_OUT"
        page.wait_for_function(
            "window.prefcenterMessages.filter(m => m.data.type === 'prefcenter:saved').length === 2"
        )
        saved = [
            m["data"]
            for m in page.evaluate("window.prefcenterMessages")
            if m["data"]["type"] == "prefcenter:saved"
        ]
        assert [s["saved"][0]["status"] for s in saved] == ["OPTED_IN", "OPTED_OUT"]
        assert all(s["saved"][0]["topic_id"] == seed.TOPIC_DIGEST for s in saved)
    finally:
        host.stop()
