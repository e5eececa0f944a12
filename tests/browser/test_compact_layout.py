"""The preferences page's compact layout, in a real browser.

Each topic is one row: its switch, its name with what it is now ("Off", or its ticked
channels), its description, and its channels, as columns named once at the head of a section
(wide windows) or as a chip row (narrow ones). What this must not cost:

- every channel checkbox is a real input named with its topic ("Get “Billing and receipts” by
  Email"), though its column head names the channel once for the eye;
- no sentence is shown once per topic; the reason topics are required is shown once per section;
- the page works without JavaScript, the keyboard follows the reading order (mirrored right to
  left), the focus is never hidden, and narrow windows (320 px, 200% zoom) do not scroll sideways;
- axe finds nothing in light or dark colours, with or without JavaScript, in Arabic, at 320 px,
  on a page of 40 more topics (every section with required topics) and in a pale brand colour.

Heights are figures (docs/page_height.py), not assertions.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import expect

from prefcenter.access.links import Purpose
from prefcenter.emulator import seed
from prefcenter.emulator.models import PreferenceWrite
from prefcenter.emulator.seed import seed_catalog

from browser_fixtures import (
    LivePrefcenter,
    axe_in_both_schemes,
    channel_box,
    topic_switch,
)

USER = "user-1"
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 360, "height": 740}
REQUIRED_WHY = "We send these to keep your account working and safe"
CHANNEL_TOPICS = {
    "Security alerts": ["Email", "Text message (SMS)", "Push notification"],
    "Billing and receipts": ["Email", "Text message (SMS)", "Push notification"],
    "Comments and mentions": ["Email", "Push notification", "In-app inbox"],
    "Task reminders": ["Email", "Push notification", "In-app inbox"],
}


def prefer(prefs: LivePrefcenter, topic_id: str, status: str, *channels: str) -> None:
    write = PreferenceWrite(status, bool(channels), tuple(channels))
    prefs.courier_state.store.set_user_preference(USER, topic_id, write)


def open_page(prefs: LivePrefcenter, new_context: Any, *, javascript: bool = True, **options):
    options.setdefault("viewport", DESKTOP)
    page = new_context(javascript=javascript, **options).new_page()
    page.goto(prefs.link(Purpose.MANAGE))
    expect(topic_switch(page, "Billing and receipts")).to_be_visible()
    page.wait_for_load_state()  # the stylesheets are in: layout is checked
    return page


SEEN = """els => els.filter(el => {
  for (let at = el; at && at !== document.body; at = at.parentElement) {
    const r = at.getBoundingClientRect();
    if (r.width <= 1 || r.height <= 1) return false;
  }
  return true;
}).length"""


def seen_count(locator: Any) -> int:
    """How many of these a sighted person sees: neither it nor a box it is in is a clipped pixel."""
    return locator.evaluate_all(SEEN)


def box(locator: Any) -> dict[str, float]:
    found = locator.bounding_box()
    assert found is not None, f"{locator} is not shown"
    return found


# Real, labelled inputs, each named with its topic.


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["columns", "chips"])
def test_each_channel_checkbox_is_named_with_its_topic(viewport, live_prefcenter, new_context):
    prefs = live_prefcenter()
    page = open_page(prefs, new_context, viewport=viewport)
    for topic, channels in CHANNEL_TOPICS.items():
        group = page.get_by_role("group", name=topic, exact=True)
        boxes = group.get_by_role("checkbox")
        expect(boxes).to_have_count(len(channels))
        for index, channel in enumerate(channels):
            expect(boxes.nth(index)).to_have_accessible_name(f"Get “{topic}” by {channel}")
            expect(boxes.nth(index)).to_be_visible()
        assert box(boxes.first)["width"] >= 16 and box(boxes.first)["height"] >= 16


def test_channels_are_columns_named_once_per_section_on_a_wide_window(live_prefcenter, new_context):
    prefs = live_prefcenter()
    page = open_page(prefs, new_context)
    section = page.get_by_role("group", name="Account and security", exact=True)
    for channel in ("Email", "Text message (SMS)", "Push notification"):
        # Shown once, at the section's head: not once per topic (the checkboxes' own names
        # are there for screen readers, drawn in one clipped pixel).
        assert seen_count(section.get_by_text(channel, exact=True)) == 1
        head = section.locator(".channel-heads").get_by_text(channel, exact=True)
        column = box(head)
        for topic in ("Security alerts", "Billing and receipts"):
            tick = box(channel_box(page, topic, channel))
            centre = tick["x"] + tick["width"] / 2
            assert column["x"] <= centre <= column["x"] + column["width"], (topic, channel)
            # The checkbox sits in its topic's row, beside the topic's name.
            name = box(page.locator("label.topic-name", has_text=topic))
            assert abs(tick["y"] - name["y"]) < name["height"], (topic, channel)


def test_channels_are_a_chip_row_with_their_names_on_a_phone(live_prefcenter, new_context):
    prefs = live_prefcenter()
    page = open_page(prefs, new_context, viewport=PHONE)
    expect(page.locator(".channel-heads").filter(visible=True)).to_have_count(0)
    reminders = page.get_by_role("group", name="Task reminders", exact=True)
    for channel in ("Email", "Push notification", "In-app inbox"):
        assert seen_count(reminders.get_by_text(channel, exact=True)) == 1
    # Under the topic's name, not beside it.
    name = box(page.locator("label.topic-name", has_text="Task reminders"))
    assert box(reminders)["y"] > name["y"] + name["height"]


def test_no_sentence_is_shown_once_per_topic(live_prefcenter, new_context):
    prefs = live_prefcenter()
    for viewport in (DESKTOP, PHONE):
        page = open_page(prefs, new_context, viewport=viewport)
        # The "Get “…” by" sentence names each checkbox for a screen reader, and is not seen.
        hidden = page.locator(".channel .visually-hidden")
        expect(hidden).to_have_count(sum(len(c) for c in CHANNEL_TOPICS.values()))
        for size in hidden.evaluate_all("els => els.map(el => el.getBoundingClientRect())"):
            assert size["width"] <= 1 and size["height"] <= 1
        visible = page.locator("main").inner_text()
        assert visible.count(REQUIRED_WHY) == 1


def test_the_reason_required_topics_stay_on_is_shown_once_and_described(
    live_prefcenter, new_context
):
    prefs = live_prefcenter()
    seed_catalog(prefs.courier_state.store, 2, 3)  # two more sections, each with a required topic
    page = open_page(prefs, new_context)
    why = page.locator(".required-why")
    expect(why).to_have_count(3)  # once per section holding required topics, not per topic
    expect(why.first).to_be_visible()
    security = page.get_by_role("checkbox", name="Security alerts", exact=True)
    expect(security).to_be_disabled()
    expect(security).to_be_checked()
    expect(security).to_have_accessible_description(re.compile(REQUIRED_WHY))
    row = page.locator(".topic", has=security)
    expect(row.get_by_text("Required", exact=True)).to_be_visible()
    expect(row).not_to_contain_text(REQUIRED_WHY)
    generated = page.get_by_role("checkbox", name="Topic 1.3", exact=True)
    expect(generated).to_be_disabled()
    expect(generated).to_have_accessible_description(re.compile(REQUIRED_WHY))


# One line per topic: what it is now.


def test_each_topic_says_in_one_line_what_it_is_now(live_prefcenter, new_context):
    prefs = live_prefcenter()
    prefer(prefs, seed.TOPIC_REMINDERS, "OPTED_IN", "push", "inbox")
    page = open_page(prefs, new_context)

    def summary(topic: str) -> Any:
        return page.locator(".topic", has=page.locator("label.topic-name", has_text=topic)).locator(
            ".topic-summary"
        )

    expect(summary("Weekly digest")).to_have_text("Off")
    expect(summary("Weekly digest")).to_be_visible()
    expect(summary("Product updates")).to_have_text("On")
    expect(summary("Task reminders")).to_have_text("Push notification, In-app inbox")
    for topic in ("Weekly digest", "Product updates", "Task reminders"):
        line = box(page.locator(".topic-line", has_text=topic))
        assert line["height"] < 40, f"{topic}: its line wraps ({line['height']} px)"

    # It follows the controls: off says "Off" where it is seen; on again, the ticked channels.
    topic_switch(page, "Task reminders").uncheck()
    expect(summary("Task reminders")).to_have_text("Off")
    expect(summary("Task reminders")).to_be_visible()
    expect(page.locator(".topic", has_text="Task reminders").get_by_role("status")).to_contain_text(
        "Saved."
    )
    topic_switch(page, "Task reminders").check()
    channel_box(page, "Task reminders", "Email").check()
    expect(summary("Task reminders")).to_have_text("Email, Push notification, In-app inbox")
    expect(page.locator(".topic", has_text="Task reminders").get_by_role("status")).to_contain_text(
        "Saved."
    )
    stored = prefs.courier_state.store.user_preference(USER, seed.TOPIC_REMINDERS)
    assert stored["status"] == "OPTED_IN"
    assert sorted(stored["custom_routing"]) == ["email", "inbox", "push"]


# Without JavaScript, on a wide window (columns) and on a phone (chips).


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["columns", "chips"])
def test_columns_and_chips_save_without_javascript(viewport, live_prefcenter, new_context):
    prefs = live_prefcenter()
    page = open_page(prefs, new_context, javascript=False, viewport=viewport)
    topic_switch(page, "Weekly digest").check()
    channel_box(page, "Comments and mentions", "In-app inbox").uncheck()
    channel_box(page, "Security alerts", "Text message (SMS)").uncheck()
    with page.expect_navigation():
        page.get_by_role("button", name="Save preferences").click()
    expect(page.locator("main > .notice").filter(has_text="Saved")).to_be_visible()
    store = prefs.courier_state.store
    assert store.user_preference(USER, seed.TOPIC_DIGEST)["status"] == "OPTED_IN"
    comments = store.user_preference(USER, seed.TOPIC_COMMENTS)
    assert sorted(comments["custom_routing"]) == ["email", "push"]
    security = store.user_preference(USER, seed.TOPIC_SECURITY)
    assert sorted(security["custom_routing"]) == ["email", "push"]
    expect(channel_box(page, "Comments and mentions", "In-app inbox")).not_to_be_checked()


# The keyboard: reading order, a visible focus never hidden.

FOCUS = """() => {
  const el = document.activeElement;
  const rect = el.getBoundingClientRect();
  const x = rect.left + rect.width / 2, y = rect.top + rect.height / 2;
  const hit = document.elementFromPoint(x, y);
  const topic = el.closest(".topic");
  return {
    id: el.id || el.name + "=" + el.value,
    topic: topic ? topic.dataset.topic : null,
    x: x, top: rect.top + scrollY, bottom: rect.bottom + scrollY,  // in the page, not the window
    visible: el.matches(":focus-visible") && getComputedStyle(el).outlineStyle !== "none",
    inView: rect.top >= -1 && rect.bottom <= innerHeight + 1,
    covered: !(hit && (hit === el || el.contains(hit) || [...(el.labels || [])].includes(hit))),
  };
}"""
IN_MAIN = """() => [...document.querySelectorAll(
  "main a[href], main button:not([hidden]), main input:not([type=hidden]):not([disabled])")]
  .filter(el => el.getClientRects().length && getComputedStyle(el).visibility !== "hidden")
  .map(el => el.id || el.name + "=" + el.value)"""


@pytest.mark.parametrize(
    "language, viewport, javascript",
    [
        ("en", DESKTOP, True),
        ("en", DESKTOP, False),  # with the sticky Save bar
        ("en", {"width": 320, "height": 640}, True),
        ("ar", DESKTOP, True),
    ],
    ids=["columns", "columns-no-js", "320px", "arabic-columns"],
)
def test_the_keyboard_follows_the_reading_order_and_the_focus_is_seen(
    language, viewport, javascript, live_prefcenter, new_context
):
    prefs = live_prefcenter()
    page = open_page(prefs, new_context, javascript=javascript, viewport=viewport)
    if language != "en":
        page.goto(prefs.url + f"/?lang={language}")
        expect(page.locator("html")).to_have_attribute("dir", "rtl")
        page.wait_for_load_state()
    expected = page.evaluate(IN_MAIN)
    # From the start of the main content (where "Skip to content" leads).
    page.evaluate("document.getElementById('main').setAttribute('tabindex', '-1')")
    page.evaluate("document.getElementById('main').focus()")
    seen = []
    rtl = language == "ar"
    for _ in range(len(expected)):
        page.keyboard.press("Tab")
        state = page.evaluate(FOCUS)
        assert state["visible"], f"focus not visible on {state}"
        assert state["inView"] and not state["covered"], f"focus hidden: {state}"
        previous = seen[-1] if seen else None
        if previous and state["topic"] and previous["topic"]:
            one_line = state["top"] < previous["bottom"] and previous["top"] < state["bottom"]
            if one_line and state["topic"] == previous["topic"]:
                # Along a topic's row, from its switch, as the text is read.
                forward = state["x"] < previous["x"] if rtl else state["x"] > previous["x"]
                assert forward, f"{previous['id']} then {state['id']} go against the reading"
            else:
                assert state["top"] > previous["top"], f"{previous['id']} then {state['id']}: up"
        seen.append(state)
    assert [state["id"] for state in seen] == expected


# Reflow and direction.


@pytest.mark.parametrize(
    "options",
    [
        {"viewport": {"width": 320, "height": 640}},
        {"viewport": {"width": 640, "height": 400}, "device_scale_factor": 2},  # 200% zoom
    ],
    ids=["320px", "zoom-200"],
)
def test_forty_more_topics_reflow_without_scrolling_sideways(options, live_prefcenter, new_context):
    prefs = live_prefcenter()
    seed_catalog(prefs.courier_state.store, 5, 8)
    page = open_page(prefs, new_context, **options)
    expect(page.get_by_role("switch", name="Topic 5.8", exact=True)).to_be_attached()
    widths = page.evaluate(
        "[document.documentElement.scrollWidth, document.documentElement.clientWidth]"
    )
    assert widths[0] <= widths[1], f"scrolls sideways: {widths[0]} px of content in {widths[1]}"
    for name in ("Get “Topic 3.1” by Email", "Get “Topic 5.8” by Push notification"):
        checkbox = page.get_by_role("checkbox", name=name, exact=True)
        checkbox.scroll_into_view_if_needed()
        expect(checkbox).to_be_in_viewport()


def test_right_to_left_mirrors_the_rows(live_prefcenter, new_context):
    prefs = live_prefcenter()
    page = open_page(prefs, new_context)
    layout = {}
    for language in ("en", "ar"):
        page.goto(prefs.url + f"/?lang={language}")
        page.wait_for_load_state()
        switch = box(page.locator(".topic[data-topic=pt_billing] .switch"))
        name = box(page.locator(".topic[data-topic=pt_billing] .topic-name"))
        channels = box(page.locator(".topic[data-topic=pt_billing] .channels"))
        layout[language] = (switch["x"], name["x"], channels["x"])
    switch, name, channels = layout["en"]
    assert switch < name < channels
    switch, name, channels = layout["ar"]
    assert switch > name > channels


# axe on the compact layout's states (test_accessibility.py runs it on every other page).

AXE_STATES = {
    "columns": ({"viewport": DESKTOP}, True, None),
    "columns-no-js": ({"viewport": DESKTOP}, False, None),
    "chips-320px": ({"viewport": {"width": 320, "height": 640}}, True, None),
    "arabic-columns": ({"viewport": DESKTOP}, True, "ar"),
    "arabic-chips": ({"viewport": PHONE}, True, "ar"),
}
# A pale brand colour (and a dark one for dark colours): the page keeps its contrast with it.
BRAND = {
    "BRAND_PRODUCT_NAME": "Acme",
    "BRAND_PRIMARY_COLOUR": "#ffd500",
    "BRAND_PRIMARY_COLOUR_DARK": "#5a2d82",
    "BRAND_SUPPORT_URL": "mailto:help@acme.example",
}


@pytest.mark.parametrize("state", AXE_STATES)
@pytest.mark.parametrize("workspace", ["demo", "forty-more-topics", "branded"])
def test_axe_finds_nothing_in_the_compact_layout(state, workspace, live_prefcenter, new_context):
    prefs = live_prefcenter(**(BRAND if workspace == "branded" else {}))
    if workspace == "forty-more-topics":
        seed_catalog(prefs.courier_state.store, 5, 8)
    prefer(prefs, seed.TOPIC_REMINDERS, "OPTED_IN", "push")
    options, javascript, language = AXE_STATES[state]
    context = new_context(**options)
    if not javascript:  # axe needs JavaScript: the page's own script is blocked instead
        context.route(re.compile(r"\.js(\?.*)?$"), lambda route: route.abort())
    page = context.new_page()
    page.goto(prefs.link(Purpose.MANAGE))
    if language:
        page.goto(prefs.url + f"/?lang={language}")
    assert axe_in_both_schemes(page) == {"light": [], "dark": []}
