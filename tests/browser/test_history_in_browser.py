"""Recent changes in a real browser: reached from the page, with JavaScript on and off, in the
embedded page too; axe finds nothing in any language (light and dark), Arabic reads right to
left."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

import pytest
from playwright.sync_api import expect

from prefcenter.access.links import Purpose
from prefcenter.courier import CourierClient, PreferenceStatus, PreferenceUpdate
from prefcenter.emulator import seed
from prefcenter.emulator.inprocess import wsgi_transport

from browser_fixtures import (
    LivePrefcenter,
    axe_in_both_schemes,
    axe_violations,
    consent_file_in_use,
    framing_host,
    topic_switch,
)
from conftest import EMULATOR_KEY

USER = "user-1"
LANGUAGES = ["en", "de", "es", "fr", "ar"]


@pytest.fixture
def prefs(live_prefcenter, tmp_path) -> LivePrefcenter:
    consent = tmp_path / "consent.jsonl"
    consent_file_in_use(consent)
    return live_prefcenter(AUDIT_LOG_PATH=str(consent))


def change_elsewhere(prefs: LivePrefcenter, topic_id: str, status: PreferenceStatus) -> None:
    """A change the product's backend makes through Courier's API, not through these pages."""
    with_api = CourierClient(
        EMULATOR_KEY, "http://courier.test", transport=wsgi_transport(prefs.emulator)
    )
    try:
        with_api.put_preference(USER, topic_id, PreferenceUpdate(status))
    finally:
        with_api.close()


def turn_off_on_the_page(page: Any, javascript: bool, topic: str) -> None:
    topic_switch(page, topic).set_checked(False)
    if javascript:
        expect(page.locator(".autosave-status")).to_contain_text("Saved")
    else:
        page.get_by_role("button", name="Save preferences").click()
        expect(page.get_by_role("status").filter(has_text="Saved")).to_be_visible()


def listed(target: Any) -> list[str]:
    """Each listed change's sentence and where, as a person reads them."""
    items = target.locator("ol.history > li")
    return [re.sub(r"\s+", " ", items.nth(i).inner_text()).strip() for i in range(items.count())]


def test_a_change_made_on_the_page_and_one_made_elsewhere_read_in_recent_changes(
    prefs, page, javascript
):
    change_elsewhere(prefs, seed.TOPIC_DIGEST, PreferenceStatus.OPTED_IN)
    page.goto(prefs.link(Purpose.MANAGE))
    turn_off_on_the_page(page, javascript, "Product updates")

    page.get_by_role("link", name="Recent changes").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Recent changes")
    first, second = listed(page)
    assert first.startswith("Turned off “Product updates” On this page · ")
    assert second.startswith(
        "Turned on “Weekly digest” Elsewhere: by support, in the product or on Courier’s page · "
    )
    assert "ago)" in first
    page.get_by_role("link", name="Back to your preferences").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Notification preferences")


def test_older_changes_are_a_page_away_and_back(prefs, page, javascript):
    for i in range(23):
        status = PreferenceStatus.OPTED_IN if i % 2 else PreferenceStatus.OPTED_OUT
        change_elsewhere(prefs, seed.TOPIC_EVENTS, status)
    page.goto(prefs.link(Purpose.MANAGE))
    page.get_by_role("link", name="Recent changes").click()
    assert len(listed(page)) == 20

    page.get_by_role("link", name="Older changes").click()
    assert len(listed(page)) == 3
    assert re.search(r"/history/[\w.-]+$", page.url)
    page.get_by_role("link", name="Newer changes").click()
    assert len(listed(page)) == 20
    assert page.url.endswith("/history")


def test_the_embedded_page_has_its_history_in_the_frame(
    live_prefcenter, new_context, javascript, tmp_path
):
    host = framing_host()
    try:
        origin = host.url.replace("127.0.0.1", "localhost")
        consent = tmp_path / "consent.jsonl"
        consent_file_in_use(consent)
        prefs = live_prefcenter(EMBED_ALLOWED_ORIGINS=[origin], AUDIT_LOG_PATH=str(consent))
        change_elsewhere(prefs, seed.TOPIC_DIGEST, PreferenceStatus.OPTED_IN)
        page = new_context(javascript=javascript).new_page()
        page.goto(f"{origin}/?frame={prefs.link(Purpose.EMBED)}")
        frame = page.frame_locator("iframe")

        frame.get_by_role("link", name="Recent changes").click()

        expect(frame.get_by_role("heading", level=1)).to_have_text("Recent changes")
        expect(frame.locator("ol.history > li")).to_have_count(1)
        expect(frame.locator("ol.history > li")).to_contain_text("Turned on “Weekly digest”")
        assert re.search(r"/e/[^/]+/history$", page.frames[1].url)
        if javascript:  # axe runs in the page: with JavaScript off there is nothing to run it
            assert axe_violations(page.frames[1]) == []
        frame.get_by_role("link", name="Back to your preferences").click()
        expect(frame.get_by_role("switch", name="Weekly digest")).to_be_checked()
    finally:
        host.stop()


def history_with_changes(prefs: LivePrefcenter, page: Any, older: bool = False) -> None:
    """Signed in, with a page of changes of every kind of place, the first or the second page."""
    change_elsewhere(prefs, seed.TOPIC_EVENTS, PreferenceStatus.OPTED_IN)
    page.goto(prefs.link(Purpose.MANAGE))
    turn_off_on_the_page(page, True, "Product updates")
    if older:
        for i in range(20):
            status = PreferenceStatus.OPTED_OUT if i % 2 else PreferenceStatus.OPTED_IN
            change_elsewhere(prefs, seed.TOPIC_DIGEST, status)
    page.get_by_role("link", name="Recent changes").click()
    if older:
        page.get_by_role("link", name="Older changes").click()


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("state", ["first-page", "older-page", "no-changes", "gone"])
def test_axe_finds_no_violations_in_any_language(prefs, new_context, language, state):
    page = new_context(color_scheme="light").new_page()
    if state == "no-changes":
        page.goto(prefs.link(Purpose.MANAGE))
        page.get_by_role("link", name="Recent changes").click()
    elif state == "gone":
        page.goto(prefs.link(Purpose.MANAGE))
        page.goto(prefs.url + "/history/not-a-cursor")
    else:
        history_with_changes(prefs, page, older=state == "older-page")
    page.goto(re.sub(r"\?.*$", "", page.url) + f"?lang={language}")
    page.wait_for_load_state()

    expect(page.locator("html")).to_have_attribute("lang", language)
    expect(page.locator("html")).to_have_attribute("dir", "rtl" if language == "ar" else "ltr")
    if state in ("first-page", "older-page"):
        assert len(listed(page)) >= 1
        # Dates and times are the page's language's: the <time> keeps the machine value.
        machine = page.locator("ol.history time").first.get_attribute("datetime")
        assert datetime.fromisoformat(machine).tzinfo is not None
    assert axe_in_both_schemes(page) == {"light": [], "dark": []}


def test_arabic_reads_right_to_left(prefs, new_context):
    page = new_context().new_page()
    history_with_changes(prefs, page)
    page.goto(page.url + "?lang=ar")

    expect(page.locator("html")).to_have_attribute("dir", "rtl")
    item = page.locator("ol.history > li").first
    assert item.evaluate("el => getComputedStyle(el).direction") == "rtl"
    # The list's start is on the right: its items' right edges line up with the main column's.
    main = page.locator("main").bounding_box()
    box = item.bounding_box()
    assert main["x"] + main["width"] - (box["x"] + box["width"]) < main["width"] / 4
