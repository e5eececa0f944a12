"""Accessibility (WCAG 2.2 AA) in a real browser.

- axe-core finds no violation on any page or state, in light and in dark colours;
- a person can tab to a topic, toggle it, pick a channel and save with the keyboard alone, and
  always sees where the focus is (and it is never hidden under the sticky Save bar);
- sections are fieldset/legend groups; each topic's channels a group named by the topic, of
  real checkboxes each named with its topic ("Get “Task reminders” by Email");
- errors are summarised at the top, which takes the focus, with links to their fields;
- the page reflows at 320 CSS px and at 200% zoom without horizontal scrolling;
- the switches do not animate for people who ask for reduced motion.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import expect

from prefcenter.access.links import Purpose
from prefcenter.emulator import seed
from prefcenter.emulator.models import PreferenceWrite

from browser_fixtures import LivePrefcenter, axe_violations, channel_box, framing_host, topic_switch
from faults import Fault

USER = "user-1"


def prefer(prefs: LivePrefcenter, topic_id: str, status: str, *channels: str) -> None:
    write = PreferenceWrite(status, bool(channels), tuple(channels))
    prefs.courier_state.store.set_user_preference(USER, topic_id, write)


def sign_in(prefs: LivePrefcenter, page: Any) -> None:
    page.goto(prefs.link(Purpose.MANAGE))
    expect(topic_switch(page, "Billing and receipts")).to_be_visible()


def save_button(page: Any) -> Any:
    return page.get_by_role("button", name="Save preferences")


# Every page and state a person can meet. Each takes the app and a page (JavaScript on unless
# the state's id says "no-js"), brings the page to the state and returns what axe should check
# (the page, or the frame for the embedded page).


def signed_out(prefs, page, host):
    page.goto(prefs.url + "/")
    expect(page.get_by_text("open the “Manage preferences” link")).to_be_visible()
    return page


def preferences(prefs, page, host):
    sign_in(prefs, page)
    return page


def autosaved(prefs, page, host):
    sign_in(prefs, page)
    topic_switch(page, "Weekly digest").check()
    expect(page.locator(".autosave-status")).to_contain_text("Weekly digest: turned on.")
    expect(page.get_by_role("button", name="Undo")).to_be_visible()
    return page


def autosave_failed(prefs, page, host):
    sign_in(prefs, page)
    prefs.courier.faults.append(Fault("PUT", r"/users/.*", status=503))
    topic_switch(page, "Weekly digest").check()
    expect(page.get_by_role("button", name="Retry")).to_be_visible()
    return page


def autosave_refused(prefs, page, host):
    prefer(prefs, seed.TOPIC_REMINDERS, "OPTED_IN", "push")
    sign_in(prefs, page)
    channel_box(page, "Task reminders", "Push notification").uncheck()
    expect(page.locator(".autosave-status")).to_contain_text("Choose at least one channel")
    return page


def error_summary(prefs, page, host):
    prefer(prefs, seed.TOPIC_REMINDERS, "OPTED_IN", "push")
    sign_in(prefs, page)
    channel_box(page, "Task reminders", "Push notification").uncheck()
    save_button(page).click()
    expect(page.get_by_role("alert").filter(has_text="Nothing was saved")).to_be_focused()
    return page


def partly_refused(prefs, page, host):
    """Without JavaScript: Save with one invalid topic beside a valid change."""
    prefer(prefs, seed.TOPIC_REMINDERS, "OPTED_IN", "push")
    sign_in(prefs, page)
    channel_box(page, "Task reminders", "Push notification").uncheck()
    topic_switch(page, "Weekly digest").check()
    save_button(page).click()
    expect(
        page.get_by_role("alert").filter(has_text="Your other changes were saved")
    ).to_be_visible()
    return page


def saved(prefs, page, host):
    sign_in(prefs, page)
    topic_switch(page, "Weekly digest").check()
    save_button(page).click()
    expect(page.get_by_role("status").filter(has_text="Saved")).to_contain_text("Weekly digest")
    return page


def saved_after_retry(prefs, page, host):
    """With JavaScript: the autosave fails (every try), then Retry beside the topic saves it."""
    sign_in(prefs, page)
    prefs.courier.faults.append(Fault("PUT", r"/users/.*", status=503, times=3))
    topic_switch(page, "Weekly digest").check()
    expect(page.get_by_role("button", name="Retry")).to_be_visible()
    page.get_by_role("button", name="Retry").click()
    topic = page.locator(".topic", has_text="Weekly digest")
    expect(topic.get_by_role("status")).to_contain_text("Weekly digest: turned on.")
    return page


def partly_failed(prefs, page, host):
    sign_in(prefs, page)
    prefs.courier.faults.append(
        Fault("PUT", rf"/users/{USER}/preferences/{seed.TOPIC_DIGEST}", status=503)
    )
    topic_switch(page, "Weekly digest").check()
    topic_switch(page, "Product updates").uncheck()
    save_button(page).click()
    expect(page.get_by_role("alert")).to_contain_text("Some changes were not saved")
    return page


def courier_down(prefs, page, host):
    prefs.courier.faults.append(Fault("GET", r"/.*", status=503))
    page.goto(prefs.link(Purpose.MANAGE))
    expect(page.get_by_role("link", name="Try again")).to_be_visible()
    return page


def stale_form(prefs, page, host):
    sign_in(prefs, page)
    page.get_by_role("link", name="Unsubscribe from everything…").click()
    page.context.clear_cookies()  # the session ended while the page was open
    page.get_by_role("button", name="Yes, unsubscribe from everything").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("This page is out of date")
    return page


def unsubscribe_confirm(prefs, page, host):
    page.goto(prefs.link(Purpose.UNSUBSCRIBE, topic_id=seed.TOPIC_COMMENTS))
    expect(page.get_by_role("button", name="Unsubscribe")).to_be_visible()
    return page


def unsubscribed(prefs, page, host):
    unsubscribe_confirm(prefs, page, host)
    page.get_by_role("button", name="Unsubscribe").click()
    expect(page.get_by_role("button", name="Undo: subscribe again")).to_be_visible()
    return page


def resubscribed(prefs, page, host):
    unsubscribed(prefs, page, host)
    page.get_by_role("button", name="Undo: subscribe again").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("You are subscribed again")
    return page


def unsubscribe_required(prefs, page, host):
    page.goto(prefs.link(Purpose.UNSUBSCRIBE, topic_id=seed.TOPIC_SECURITY))
    expect(page.get_by_role("heading", level=1)).to_contain_text("can’t be turned off")
    return page


def already_unsubscribed(prefs, page, host):
    page.goto(prefs.link(Purpose.UNSUBSCRIBE, topic_id=seed.TOPIC_DIGEST))
    expect(page.get_by_role("heading", level=1)).to_have_text("You are already unsubscribed")
    return page


def undo_refused(prefs, page, host):
    unsubscribed(prefs, page, host)
    page.locator("input[name=undo]").evaluate("input => { input.value = 'expired'; }")
    page.get_by_role("button", name="Undo: subscribe again").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Undo is no longer available")
    return page


def someone_else(prefs, page, host):
    sign_in(prefs, page)
    page.goto(prefs.link(Purpose.MANAGE, "user-2"))
    expect(page.get_by_role("heading", level=1)).to_have_text("This link is for someone else")
    return page


def signed_out_now(prefs, page, host):
    sign_in(prefs, page)
    page.get_by_role("button", name="Not you? Sign out").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("You are signed out")
    return page


def unsubscribe_all_asked(prefs, page, host):
    sign_in(prefs, page)
    page.get_by_role("link", name="Unsubscribe from everything…").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Unsubscribe from everything?")
    return page


def unsubscribed_all(prefs, page, host):
    unsubscribe_all_asked(prefs, page, host)
    page.get_by_role("button", name="Yes, unsubscribe from everything").click()
    expect(page.get_by_role("button", name="Undo: turn them back on")).to_be_visible()
    return page


def unsubscribe_all_partly_failed(prefs, page, host):
    sign_in(prefs, page)
    prefs.courier.faults.append(
        Fault("PUT", rf"/users/{USER}/preferences/{seed.TOPIC_BILLING}", status=503)
    )
    page.get_by_role("link", name="Unsubscribe from everything…").click()
    page.get_by_role("button", name="Yes, unsubscribe from everything").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Some notifications are still on")
    return page


def unsubscribe_all_undone(prefs, page, host):
    unsubscribed_all(prefs, page, host)
    page.get_by_role("button", name="Undo: turn them back on").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Notifications turned back on")
    return page


def expired_link(prefs, page, host):
    page.goto(prefs.expired_link(Purpose.MANAGE))
    expect(page.get_by_role("heading", level=1)).to_have_text("This link has expired")
    return page


def invalid_link(prefs, page, host):
    page.goto(prefs.url + "/l/not-a-real-token")
    expect(page.get_by_role("heading", level=1)).to_have_text("This link is not valid")
    return page


def embedded(prefs, page, host):
    page.goto(f"{host}/?frame={prefs.link(Purpose.EMBED)}")
    frame = page.frame_locator("iframe")
    expect(frame.get_by_role("switch", name="Weekly digest")).to_be_visible()
    return page.frames[1]


def embedded_saved(prefs, page, host):
    frame = embedded(prefs, page, host)
    page.frame_locator("iframe").get_by_role("switch", name="Weekly digest").check()
    expect(page.frame_locator("iframe").locator(".topic-feedback [role=status]")).to_contain_text(
        "Weekly digest: turned on."
    )
    return page.frames[1] if len(page.frames) > 1 else frame


def embed_expired(prefs, page, host):
    page.goto(f"{host}/?frame={prefs.expired_link(Purpose.EMBED)}")
    expect(page.frame_locator("iframe").get_by_role("heading", level=1)).to_have_text(
        "This page has expired"
    )
    return page.frames[1]


def in_language(code: str) -> Callable[[LivePrefcenter, Any, str], Any]:
    def preferences_in(prefs, page, host):
        sign_in(prefs, page)
        page.goto(prefs.url + f"/?lang={code}")
        expect(page.locator("html")).to_have_attribute("lang", code)
        return page

    return preferences_in


STATES: dict[str, Callable[[LivePrefcenter, Any, str], Any]] = {
    "signed-out": signed_out,
    "preferences": preferences,
    "preferences-german": in_language("de"),
    "preferences-arabic-rtl": in_language("ar"),
    "autosaved": autosaved,
    "autosave-failed": autosave_failed,
    "autosave-refused": autosave_refused,
    "error-summary-no-js": error_summary,
    "partly-refused-no-js": partly_refused,
    "saved": saved_after_retry,
    "saved-no-js": saved,
    "partly-failed-no-js": partly_failed,
    "courier-down": courier_down,
    "stale-form": stale_form,
    "unsubscribe-confirm": unsubscribe_confirm,
    "unsubscribed": unsubscribed,
    "resubscribed": resubscribed,
    "unsubscribe-required": unsubscribe_required,
    "already-unsubscribed": already_unsubscribed,
    "undo-refused": undo_refused,
    "someone-else": someone_else,
    "signed-out-now": signed_out_now,
    "unsubscribe-all-asked": unsubscribe_all_asked,
    "unsubscribed-all": unsubscribed_all,
    "unsubscribe-all-partly-failed": unsubscribe_all_partly_failed,
    "unsubscribe-all-undone": unsubscribe_all_undone,
    "expired-link": expired_link,
    "invalid-link": invalid_link,
    "embedded": embedded,
    "embedded-saved": embedded_saved,
    "embed-expired": embed_expired,
}


@pytest.fixture
def host_origin():
    """Another site framing the embedded page."""
    host = framing_host()
    yield host.url.replace("127.0.0.1", "localhost")
    host.stop()


@pytest.mark.parametrize("state", STATES)
def test_axe_finds_no_violations_in_light_or_dark(state, live_prefcenter, new_context, host_origin):
    prefs = live_prefcenter(EMBED_ALLOWED_ORIGINS=[host_origin])
    context = new_context(color_scheme="light")
    if state.endswith("no-js"):
        # axe needs JavaScript to run, so the page's own scripts are blocked instead: the page
        # is then what a browser without JavaScript shows (it has no inline script, see CSP).
        context.route(re.compile(r"\.js(\?.*)?$"), lambda route: route.abort())
    page = context.new_page()
    target = STATES[state](prefs, page, host_origin)
    target.wait_for_load_state()  # colours are checked: the stylesheets must be in

    found = {}
    for scheme in ("light", "dark"):
        page.emulate_media(color_scheme=scheme)
        assert target.evaluate(f"matchMedia('(prefers-color-scheme: {scheme})').matches")
        found[scheme] = axe_violations(target)
    assert found == {"light": [], "dark": []}


def test_every_section_and_topic_is_a_group_of_real_inputs(live_prefcenter, new_context):
    prefs = live_prefcenter()
    page = new_context(javascript=False).new_page()
    sign_in(prefs, page)

    for section in ("Account and security", "Activity", "News and offers"):
        group = page.get_by_role("group", name=section, exact=True)
        expect(group).to_have_js_property("tagName", "FIELDSET")
        expect(group.locator("legend").first).to_have_text(section)
    descriptions = {
        "Billing and receipts": "Invoices, receipts and payment problems.",
        "Comments and mentions": "When someone replies to you or mentions you.",
        "Weekly digest": "A summary of the week's activity, every Monday.",
    }
    for topic, description in descriptions.items():
        switch = topic_switch(page, topic)  # a real checkbox, named by its <label>
        expect(switch).to_have_js_property("type", "checkbox")
        expect(switch).to_have_accessible_description(description)
    for topic in ("Security alerts", "Billing and receipts", "Comments and mentions"):
        channels = page.get_by_role("group", name=topic, exact=True)
        boxes = channels.get_by_role("checkbox")
        expect(boxes).not_to_have_count(0)
        for index in range(boxes.count()):
            expect(boxes.nth(index)).to_have_js_property("type", "checkbox")
            expect(boxes.nth(index)).to_have_accessible_name(re.compile(f"^Get “{topic}” by "))


# Keyboard. Pages are checked with their own script running ("app.js") and with it blocked
# ("no-js"; the checks themselves need JavaScript in the page, so it is not switched off).

FOCUSED = """() => {
  const el = document.activeElement;
  if (!el || el === document.body) return null;
  const style = getComputedStyle(el);
  const rect = el.getBoundingClientRect();
  const hit = document.elementFromPoint(rect.left + rect.width / 2, rect.top + rect.height / 2);
  // A channel's label names its topic too ("Get “Task reminders” by Email").
  const label = el.labels && el.labels.length ? el.labels[0].textContent : el.textContent;
  return {
    name: label.trim(),
    focusVisible: el.matches(":focus-visible"),
    outline: style.outlineStyle === "none" ? 0 : parseFloat(style.outlineWidth),
    inViewport: rect.top >= -1 && rect.bottom <= innerHeight + 1 && rect.left >= -1
      && rect.right <= innerWidth + 1,
    // WCAG 2.4.11: not hidden, for example under the sticky Save bar.
    obscured: !(hit && (hit === el || el.contains(hit) || [...(el.labels || [])].includes(hit))),
    rect: [rect.left, rect.top, rect.right, rect.bottom, innerWidth, innerHeight].map(Math.round),
  };
}"""


@pytest.fixture(params=["app.js", "no-js", "app.js-320px"])
def keyboard_page(request, new_context) -> Any:
    narrow = request.param.endswith("320px")
    context = new_context(**({"viewport": {"width": 320, "height": 640}} if narrow else {}))
    if request.param == "no-js":
        context.route(re.compile(r"\.js(\?.*)?$"), lambda route: route.abort())
    return context.new_page()


def focused(page: Any) -> dict[str, Any]:
    """Where the focus is now, and whether a person can see it."""
    page.wait_for_load_state()  # after a form was sent: the new page's stylesheets are in
    state = page.evaluate(FOCUSED)
    assert state is not None, "the focus left the page's controls"
    assert state["focusVisible"] and state["outline"] >= 2, f"focus not visible on {state}"
    assert state["inViewport"] and not state["obscured"], f"focused control hidden: {state}"
    return state


def tab_to(page: Any, name: str, limit: int = 60) -> None:
    """Press Tab until `name` has the focus, checking at every step that the focus is seen."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if focused(page)["name"] == name:
            return
    raise AssertionError(f"{name!r} was not reached with Tab")


def test_a_person_changes_and_saves_with_the_keyboard_alone(live_prefcenter, keyboard_page):
    prefs = live_prefcenter()
    prefer(prefs, seed.TOPIC_REMINDERS, "OPTED_OUT", "email")
    page = keyboard_page
    sign_in(prefs, page)

    page.keyboard.press("Tab")
    assert focused(page)["name"] == "Skip to content"
    tab_to(page, "Task reminders")
    page.keyboard.press("Space")
    expect(topic_switch(page, "Task reminders")).to_be_checked()
    page.keyboard.press("Tab")
    assert focused(page)["name"] == "Get “Task reminders” by Email"
    page.keyboard.press("Tab")
    assert focused(page)["name"] == "Get “Task reminders” by Push notification"
    page.keyboard.press("Space")
    expect(channel_box(page, "Task reminders", "Push notification")).to_be_checked()
    if page.evaluate("document.documentElement.classList.contains('js')"):
        # Each change saved itself: there is no Save button, the feedback is beside the topic.
        expect(
            page.locator(".topic", has_text="Task reminders").get_by_role("status")
        ).to_contain_text("Saved.")
        expect(page.get_by_role("button", name="Save preferences")).to_be_hidden()
    else:
        tab_to(page, "Save preferences")
        with page.expect_response(lambda r: r.request.resource_type == "document") as posted:
            page.keyboard.press("Enter")
        assert posted.value.request.method == "POST"
        expect(page.locator("main > .notice").filter(has_text="Saved")).to_be_visible()
    reminders = prefs.courier_state.store.user_preference(USER, seed.TOPIC_REMINDERS)
    assert reminders["status"] == "OPTED_IN"
    assert sorted(reminders["custom_routing"]) == ["email", "push"]
    expect(topic_switch(page, "Task reminders")).to_be_checked()


def test_the_skip_link_moves_the_keyboard_past_the_header(live_prefcenter, keyboard_page):
    prefs = live_prefcenter()
    page = keyboard_page
    sign_in(prefs, page)
    page.keyboard.press("Tab")
    assert focused(page)["name"] == "Skip to content"
    page.keyboard.press("Enter")
    page.keyboard.press("Tab")
    # The first control in the main content, past the language picker.
    assert focused(page)["name"] == "Get “Security alerts” by Email"


def test_unsubscribe_and_undo_with_the_keyboard_alone(live_prefcenter, keyboard_page):
    prefs = live_prefcenter()
    page = keyboard_page
    page.goto(prefs.link(Purpose.UNSUBSCRIBE, topic_id=seed.TOPIC_COMMENTS))
    tab_to(page, "Unsubscribe")
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text("You are unsubscribed")
    status = prefs.courier_state.store.user_preference(USER, seed.TOPIC_COMMENTS)["status"]
    assert status == "OPTED_OUT"
    tab_to(page, "Undo: subscribe again")
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text("You are subscribed again")
    status = prefs.courier_state.store.user_preference(USER, seed.TOPIC_COMMENTS)["status"]
    assert status == "OPTED_IN"


def test_unsubscribe_from_everything_and_undo_with_the_keyboard_alone(
    live_prefcenter, keyboard_page
):
    prefs = live_prefcenter()
    page = keyboard_page
    sign_in(prefs, page)
    tab_to(page, "Unsubscribe from everything…")
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text("Unsubscribe from everything?")
    tab_to(page, "Yes, unsubscribe from everything")
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_contain_text("unsubscribed from everything")
    tab_to(page, "Undo: turn them back on")
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text("Notifications turned back on")
    status = prefs.courier_state.store.user_preference(USER, seed.TOPIC_BILLING)["status"]
    assert status == "OPTED_IN"


def test_errors_are_summarised_at_the_top_and_linked_to_their_fields(
    live_prefcenter, keyboard_page
):
    prefs = live_prefcenter()
    prefer(prefs, seed.TOPIC_REMINDERS, "OPTED_IN", "push")
    page = keyboard_page
    sign_in(prefs, page)
    message = "Choose at least one channel for Task reminders, or turn it off."
    tab_to(page, "Get “Task reminders” by Push notification")
    page.keyboard.press("Space")
    group = page.get_by_role("group", name="Task reminders", exact=True)
    if page.evaluate("document.documentElement.classList.contains('js')"):
        # Each change saves itself: the refusal is shown beside the topic, no summary.
        expect(group).to_have_accessible_description(message)
        return
    tab_to(page, "Save preferences")
    page.keyboard.press("Enter")

    summary = page.get_by_role("alert").filter(has_text="Nothing was saved")
    expect(summary).to_be_focused()  # so it is read out, and the keyboard starts there
    assert summary.bounding_box()["y"] < page.locator("form.preferences").bounding_box()["y"]
    link = summary.get_by_role("link", name=message)
    group = page.get_by_role("group", name="Task reminders", exact=True)
    expect(group).to_have_accessible_description(message)
    page.keyboard.press("Tab")
    expect(link).to_be_focused()
    page.keyboard.press("Enter")
    expect(group).to_be_focused()
    page.keyboard.press("Tab")
    assert focused(page)["name"] == "Get “Task reminders” by Email"


# Reflow (WCAG 1.4.10) and motion.

REFLOW = {
    # A phone held upright: 320 CSS px wide.
    "320px": {"viewport": {"width": 320, "height": 640}},
    # 200% zoom in a 1280 x 800 window: zoom divides the CSS px the layout gets, so the page
    # lays out in 640 x 400 CSS px, drawn with two device pixels per CSS px, as it is here.
    "zoom-200": {"viewport": {"width": 640, "height": 400}, "device_scale_factor": 2},
}


@pytest.mark.parametrize("size", REFLOW)
@pytest.mark.parametrize(
    "state",
    [
        "preferences",
        "autosave-refused",
        "unsubscribe-all-asked",
        "unsubscribed-all",
        "unsubscribed",
    ],
)
def test_the_page_reflows_without_horizontal_scrolling(size, state, live_prefcenter, new_context):
    prefs = live_prefcenter()
    page = new_context(**REFLOW[size]).new_page()
    STATES[state](prefs, page, "")
    page.wait_for_load_state()
    widths = page.evaluate(
        "[document.documentElement.scrollWidth, document.documentElement.clientWidth]"
    )
    assert widths[0] <= widths[1], f"scrolls sideways: {widths[0]} px of content in {widths[1]}"
    button = page.locator("main :is(button, a[href]):visible").last
    button.scroll_into_view_if_needed()
    expect(button).to_be_in_viewport(ratio=0.9)


@pytest.mark.parametrize("motion, duration", [("reduce", "0s"), ("no-preference", "0.15s")])
def test_switches_do_not_move_for_people_who_ask_for_less_motion(
    motion, duration, live_prefcenter, new_context
):
    prefs = live_prefcenter()
    page = new_context(reduced_motion=motion).new_page()
    sign_in(prefs, page)
    switch = topic_switch(page, "Weekly digest")
    assert switch.evaluate("el => getComputedStyle(el).transitionDuration") == duration
    knob = switch.evaluate("el => getComputedStyle(el, '::before').transitionDuration")
    assert knob == duration


# Non-text contrast (WCAG 1.4.11), which axe does not check: a switch must stand out from the
# page, and its knob (whose side says on or off) from the track, by 3:1, on and off, light and
# dark.

SWITCH_COLOURS = """el => [
  getComputedStyle(document.body).backgroundColor,
  getComputedStyle(el).backgroundColor,
  getComputedStyle(el, "::before").backgroundColor,
]"""


def luminance(css_colour: str) -> float:
    channels = [float(c) / 255 for c in re.findall(r"[\d.]+", css_colour)[:3]]
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(a: str, b: str) -> float:
    high, low = sorted((luminance(a), luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_switches_stand_out_on_and_off(scheme, live_prefcenter, new_context):
    prefs = live_prefcenter()
    page = new_context(color_scheme=scheme).new_page()
    sign_in(prefs, page)
    for topic in ("Billing and receipts", "Events and webinars"):  # on, off
        switch = topic_switch(page, topic)
        page_bg, track, knob = switch.evaluate(SWITCH_COLOURS)
        assert contrast(track, page_bg) >= 3, f"{topic}: track {track} on page {page_bg}"
        assert contrast(knob, track) >= 3, f"{topic}: knob {knob} on track {track}"
