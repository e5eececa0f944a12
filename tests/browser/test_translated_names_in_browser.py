"""Translated section and topic names in a real browser: shown, spoken of by autosave, and
accessible (axe) in German and in Arabic, right to left."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import expect

from prefcenter.access.links import Purpose

from browser_fixtures import axe_in_both_schemes, topic_switch

EXAMPLE = Path(__file__).resolve().parents[2] / "docs" / "catalog-translations.example.json"
DIGEST = {"de": "Wochenüberblick", "ar": "الملخص الأسبوعي"}
NEWS = {"de": "Neuigkeiten und Angebote", "ar": "الأخبار والعروض"}


@pytest.mark.parametrize("code", ["de", "ar"])
def test_a_page_with_translated_names_is_accessible(code, live_prefcenter, new_context):
    prefs = live_prefcenter(CATALOG_TRANSLATIONS_PATH=str(EXAMPLE))
    page = new_context(color_scheme="light").new_page()
    page.goto(prefs.link(Purpose.MANAGE, locale=code))
    expect(page.locator("html")).to_have_attribute("lang", code)
    expect(page.get_by_role("group", name=NEWS[code])).to_be_visible()
    expect(topic_switch(page, DIGEST[code])).to_be_visible()
    assert axe_in_both_schemes(page) == {"light": [], "dark": []}


def test_autosave_speaks_of_the_translated_name(live_prefcenter, new_context):
    prefs = live_prefcenter(CATALOG_TRANSLATIONS_PATH=str(EXAMPLE))
    page = new_context().new_page()
    page.goto(prefs.link(Purpose.MANAGE, locale="de"))
    topic_switch(page, DIGEST["de"]).check()
    expect(page.locator(".autosave-status")).to_contain_text(DIGEST["de"])
    assert prefs.courier_state.store.user_preference("user-1", "pt_weekly_digest")["status"] == (
        "OPTED_IN"
    )
