"""In a real browser, JavaScript on and off: a topic's "How often", and less often instead of
leaving, with axe finding no violation in any of their states, in every language."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import expect

from prefcenter.access.links import Purpose
from prefcenter.emulator import seed
from prefcenter.emulator.models import PreferenceWrite

from browser_fixtures import LivePrefcenter, axe_in_both_schemes, topic_switch

USER = "user-1"
PRODUCT = seed.TOPIC_PRODUCT_UPDATES
LANGUAGES = ["en", "de", "es", "fr", "ar"]


@pytest.fixture
def prefs(live_prefcenter) -> LivePrefcenter:
    """The app, its product updates with instant, daily and weekly (default) digests."""
    from prefcenter.emulator.seed import seed_digest_schedules

    prefs = live_prefcenter()
    seed_digest_schedules(prefs.courier_state.store)
    return prefs


def on_schedule(prefs: LivePrefcenter, schedule_id: str) -> None:
    """The person already chose a schedule (elsewhere)."""
    write = PreferenceWrite("OPTED_IN", digest_schedule_id=schedule_id)
    prefs.courier_state.store.set_user_preference(USER, PRODUCT, write)


def held(prefs: LivePrefcenter) -> dict[str, Any]:
    return prefs.courier_state.store.user_preference(USER, PRODUCT)


def how_often(page: Any) -> Any:
    """The product updates' "How often" group, found by the name a screen reader says."""
    return page.get_by_role("group", name="How often (Product updates)")


def open_preferences(prefs: LivePrefcenter, page: Any, lang: str = "en") -> None:
    page.goto(prefs.link(Purpose.MANAGE, locale=lang))
    expect(page.locator(".topic").first).to_be_visible()


def save(page: Any, javascript: bool, expected: str) -> None:
    """Save as the page does: by itself with JavaScript, with the Save button without."""
    if javascript:
        expect(page.locator(".autosave-status")).to_contain_text(expected)
    else:
        page.get_by_role("button", name="Save preferences").click()
        expect(page.get_by_role("status").filter(has_text="Saved")).to_contain_text(expected)


def test_choosing_how_often(prefs, page, javascript):
    open_preferences(prefs, page)
    group = how_often(page)
    expect(
        group.get_by_role("radio", name="Weekly on Monday at 9:00 AM (Europe/Berlin) Default")
    ).to_be_checked()
    group.get_by_role("radio", name="Daily at 9:00 AM (Europe/Berlin)").check()
    save(page, javascript, "Product updates: Daily at 9:00 AM (Europe/Berlin).")
    assert held(prefs)["digest_schedule_id"] == seed.SCHEDULE_DAILY
    page.reload()
    expect(
        how_often(page).get_by_role("radio", name="Daily at 9:00 AM (Europe/Berlin)")
    ).to_be_checked()


def test_how_often_shows_only_while_the_topic_is_on(prefs, page, javascript):
    open_preferences(prefs, page)
    expect(how_often(page)).to_be_visible()
    topic_switch(page, "Product updates").uncheck()
    expect(how_often(page)).to_be_hidden()
    expect(page.get_by_role("group", name="How often (Weekly digest)")).to_have_count(0)
    topic_switch(page, "Product updates").check()
    expect(how_often(page)).to_be_visible()
    topic_switch(page, "Product updates").uncheck()
    save(page, javascript, "Product updates: turned off.")
    assert held(prefs)["status"] == "OPTED_OUT"
    assert "digest_schedule_id" not in held(prefs)
    expect(how_often(page)).to_be_hidden()


def test_undo_puts_back_the_schedule_it_replaced(prefs, new_context):
    on_schedule(prefs, seed.SCHEDULE_INSTANT)
    page = new_context().new_page()
    open_preferences(prefs, page)
    how_often(page).get_by_role("radio", name="Daily at 9:00 AM (Europe/Berlin)").check()
    expect(page.locator(".autosave-status")).to_contain_text("Daily at 9:00 AM")
    assert held(prefs)["digest_schedule_id"] == seed.SCHEDULE_DAILY
    page.get_by_role("button", name="Undo").click()
    expect(how_often(page).get_by_role("radio", name="As it happens")).to_be_checked()
    expect(page.locator(".autosave-status")).to_contain_text("Product updates: As it happens.")
    assert held(prefs)["digest_schedule_id"] == seed.SCHEDULE_INSTANT


def test_weekly_instead_of_leaving(prefs, page, javascript):
    on_schedule(prefs, seed.SCHEDULE_INSTANT)
    page.goto(prefs.link(Purpose.UNSUBSCRIBE, topic_id=PRODUCT))
    expect(page.get_by_role("button", name="Unsubscribe")).to_be_visible()
    page.get_by_role("button", name="Get it weekly instead").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("You will get it less often")
    assert held(prefs)["status"] == "OPTED_IN"
    assert held(prefs)["digest_schedule_id"] == seed.SCHEDULE_WEEKLY


def test_weekly_instead_after_unsubscribing(prefs, page, javascript):
    on_schedule(prefs, seed.SCHEDULE_DAILY)
    page.goto(prefs.link(Purpose.UNSUBSCRIBE, topic_id=PRODUCT))
    page.get_by_role("button", name="Unsubscribe").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("You are unsubscribed")
    assert held(prefs)["status"] == "OPTED_OUT"
    page.get_by_role("button", name="Get it weekly instead").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("You will get it less often")
    assert held(prefs)["status"] == "OPTED_IN"
    assert held(prefs)["digest_schedule_id"] == seed.SCHEDULE_WEEKLY


# ---- accessibility: each new state, each language ---------------------------------------------


def page_with_choice(prefs, page, lang):
    open_preferences(prefs, page, lang)
    expect(page.locator(".digest").first).to_be_visible()


def choice_saved(prefs, page, lang):
    """With JavaScript: a schedule chosen and saved by itself, its Undo beside it."""
    page_with_choice(prefs, page, lang)
    page.locator(".digest input[type=radio]").first.check()
    expect(page.locator(".autosave-action")).to_be_visible()


def choice_refused(prefs, page, lang):
    """Without JavaScript: a schedule that is not offered, posted, refused beside its topic."""
    page_with_choice(prefs, page, lang)
    page.locator(".digest input[type=radio]").first.evaluate(
        "radio => { radio.value = 'sch_gone'; radio.checked = true; }"
    )
    page.locator(".preferences button[type=submit]").click()
    expect(page.locator(".error-summary")).to_be_visible()
    expect(page.locator(".digest .field-error")).to_be_visible()


def offered(prefs, page, lang):
    on_schedule(prefs, seed.SCHEDULE_INSTANT)
    page.goto(prefs.link(Purpose.UNSUBSCRIBE, topic_id=PRODUCT, locale=lang))
    expect(page.locator("form.less-often button")).to_be_visible()


def offered_after_unsubscribing(prefs, page, lang):
    offered(prefs, page, lang)
    page.locator("form button.primary").first.click()
    expect(page.locator("form.less-often button")).to_be_visible()


def less_often(prefs, page, lang):
    offered(prefs, page, lang)
    page.locator("form.less-often button").click()
    expect(page.locator("p[role=status]")).to_be_visible()


STATES = {
    "choice": (page_with_choice, True),
    "choice-no-js": (page_with_choice, False),
    "choice-saved": (choice_saved, True),
    "choice-refused-no-js": (choice_refused, False),
    "offered": (offered, True),
    "offered-after-unsubscribing": (offered_after_unsubscribing, True),
    "less-often": (less_often, True),
}


@pytest.mark.parametrize("lang", LANGUAGES)
@pytest.mark.parametrize("state", list(STATES))
def test_no_axe_violations_in_light_or_dark(prefs, new_context, state, lang):
    reach, javascript = STATES[state]
    context = new_context()
    if not javascript:
        # axe needs JavaScript to run, so the page's own scripts are blocked instead: the page
        # is then what a browser without JavaScript shows (it has no inline script, see CSP).
        context.route(re.compile(r"\.js(\?.*)?$"), lambda route: route.abort())
    page = context.new_page()
    reach(prefs, page, lang)
    page.wait_for_load_state()  # colours are checked: the stylesheets must be in
    assert page.locator("html").get_attribute("lang") == lang
    assert axe_in_both_schemes(page) == {"light": [], "dark": []}
