"""Support preview in a real browser: read-only with JavaScript on and off, and accessible in
every language the page speaks."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from prefcenter.access.links import Purpose
from prefcenter.emulator import seed

from browser_fixtures import axe_in_both_schemes, channel_box, topic_switch

BANNER = re.compile(r"Support preview of u…-1: read-only, nothing can be saved\.")
WRITE = r"/users/.*/preferences/.*"


def test_nothing_on_a_preview_can_change_or_save(live_prefcenter, page, javascript):
    prefs = live_prefcenter()
    posts: list[str] = []
    page.on(
        "request", lambda request: posts.append(request.url) if request.method != "GET" else None
    )
    page.goto(prefs.link(Purpose.PREVIEW, by="agent-7"))
    expect(page.get_by_role("note").filter(has_text="Support preview")).to_have_text(BANNER)
    digest = topic_switch(page, "Weekly digest")
    expect(digest).to_be_disabled()
    expect(digest).not_to_be_checked()
    email = channel_box(page, "Billing and receipts", "Email")
    expect(email).to_be_disabled()
    expect(email).to_be_checked()
    # Nothing to save: the Save button is not shown (and, disabled, could not submit).
    expect(page.get_by_role("button", name="Save preferences")).to_have_count(0)
    expect(page.locator("button.primary")).to_be_disabled()

    # Clicks on the controls and their labels change nothing, and nothing is sent.
    prefs.courier_state.clear_requests()
    digest.click(force=True)
    page.get_by_text("Weekly digest", exact=True).click(force=True)
    email.click(force=True)
    page.locator("button.primary").dispatch_event("click")
    page.keyboard.press("Enter")
    page.wait_for_timeout(300)  # time for an autosave that must not happen
    expect(digest).not_to_be_checked()
    expect(email).to_be_checked()
    assert posts == []
    assert prefs.courier_state.count("PUT", WRITE) == 0
    assert (
        prefs.courier_state.store.user_preference("user-1", seed.TOPIC_DIGEST)["status"]
        == "OPTED_OUT"
    )
    # No way out of the preview that acts for the person.
    assert page.get_by_role("link", name=re.compile("Unsubscribe from everything")).count() == 0
    assert page.get_by_role("button", name=re.compile("Sign out")).count() == 0
    assert page.context.cookies() == []


@pytest.mark.parametrize("code", ["en", "de", "es", "fr", "ar"])
def test_axe_finds_no_violations_on_a_preview(code, live_prefcenter, new_context):
    prefs = live_prefcenter()
    page = new_context(color_scheme="light").new_page()
    page.goto(prefs.link(Purpose.PREVIEW, locale=code))
    expect(page.locator("html")).to_have_attribute("lang", code)
    expect(page.locator(".preview-banner")).to_be_visible()
    assert axe_in_both_schemes(page) == {"light": [], "dark": []}


def test_axe_finds_no_violations_on_an_expired_preview(live_prefcenter, new_context):
    prefs = live_prefcenter()
    page = new_context(color_scheme="light").new_page()
    page.goto(prefs.expired_link(Purpose.PREVIEW))
    expect(page.get_by_role("heading", level=1)).to_have_text("This preview has expired")
    assert axe_in_both_schemes(page) == {"light": [], "dark": []}
