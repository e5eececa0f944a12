"""Less often instead of leaving: an unsubscribe page offers a topic's rarest digest schedule.

The offer is one press, next to the plain Unsubscribe, and keeps the topic on at that schedule;
after the page's own Unsubscribe it comes back as an Undo onto that schedule. A mail provider's
one-click POST stays a pure opt-out. Every offer is signed for one person, topic and schedule.
"""

from __future__ import annotations

import json
import re

import pytest

from prefcenter.access.links import Purpose
from prefcenter.courier import DigestSchedule, PreferenceStatus, PreferenceUpdate
from prefcenter.emulator import create_emulator_app, seed
from prefcenter.page.digests import less_often_offer

from conftest import EMULATOR_KEY
from htmlform import HtmlForm, text_of

pytestmark = pytest.mark.consent_file  # consent records in `audit_path`

USER = "user-1"
PRODUCT = seed.TOPIC_PRODUCT_UPDATES
ONE_CLICK = {"List-Unsubscribe": "One-Click"}
OFFER = re.compile(
    r'<form method="post" action="([^"]+/less-often[^"]*)".*?name="offer" value="([^"]+)"', re.S
)


@pytest.fixture
def emulator():
    """The demo workspace, its product updates with instant, daily and weekly (default) digests."""
    return create_emulator_app(
        db_path=":memory:", api_key=EMULATOR_KEY, seed=True, digest_schedules=True
    )


@pytest.fixture
def browser(app):
    """A person's browser on an unsubscribe page: it keeps no session there."""
    return app.test_client(use_cookies=False)


@pytest.fixture
def on_instant(courier):
    """The person chose to get product updates as they happen."""
    courier.put_preference(
        USER,
        PRODUCT,
        PreferenceUpdate(PreferenceStatus.OPTED_IN, digest_schedule_id=seed.SCHEDULE_INSTANT),
    )


def link(mint, topic_id: str = PRODUCT, user_id: str = USER) -> str:
    return f"/u/{mint(user_id, Purpose.UNSUBSCRIBE, topic_id=topic_id)}"


def offer_of(html: str) -> tuple[str, str] | None:
    """(action, signed value) of the page's less-often button, if it has one."""
    found = OFFER.search(html)
    return (found.group(1), found.group(2)) if found else None


def held(courier_state, topic_id: str = PRODUCT) -> dict:
    return courier_state.store.user_preference(USER, topic_id, None)


def writes(courier_state) -> list[dict]:
    return [r.body["topic"] for r in courier_state.requests if r.method == "PUT"]


def records(audit_path) -> list[dict]:
    if not audit_path.exists():
        return []
    return [json.loads(line) for line in audit_path.read_text().splitlines()]


def test_the_page_offers_weekly_instead_next_to_unsubscribe(browser, mint, on_instant):
    address = link(mint)  # minted once: a link minted a second later differs in its iat
    page = browser.get(address).get_data(as_text=True)
    text = text_of(page)
    assert "Unsubscribe from “Product updates”?" in text
    assert "Get it weekly instead Weekly on Monday at 9:00 AM (Europe/Berlin)" in text
    # The plain Unsubscribe stays the page's first form, so its button is not hidden behind it.
    assert HtmlForm.parse(page).action == address
    assert offer_of(page) is not None


def test_one_press_keeps_the_topic_on_at_the_weekly_schedule(
    browser, mint, on_instant, courier_state, audit_path
):
    page = browser.get(link(mint)).get_data(as_text=True)
    action, value = offer_of(page)
    courier_state.clear_requests()
    response = browser.post(action, data={"offer": value})
    assert response.status_code == 200
    text = text_of(response.get_data(as_text=True))
    assert "You will get it less often" in text
    assert "now on this schedule: Weekly on Monday at 9:00 AM (Europe/Berlin)" in text
    assert writes(courier_state) == [
        {
            "status": "OPTED_IN",
            "has_custom_routing": False,
            "custom_routing": [],
            "digest_schedule_id": seed.SCHEDULE_WEEKLY,
        }
    ]
    now = held(courier_state)
    assert now["status"] == "OPTED_IN" and now["digest_schedule_id"] == seed.SCHEDULE_WEEKLY
    (record,) = records(audit_path)
    assert record["via"] == "less_often"
    assert record["old"]["digest_schedule_id"] == seed.SCHEDULE_INSTANT
    assert record["new"]["digest_schedule_id"] == seed.SCHEDULE_WEEKLY


def test_no_offer_when_the_person_already_gets_the_rarest_schedule(browser, mint, courier):
    # Nobody has chosen: they are on the default, weekly, already the rarest.
    assert offer_of(browser.get(link(mint)).get_data(as_text=True)) is None
    courier.put_preference(
        USER,
        PRODUCT,
        PreferenceUpdate(PreferenceStatus.OPTED_IN, digest_schedule_id=seed.SCHEDULE_DAILY),
    )
    assert offer_of(browser.get(link(mint)).get_data(as_text=True)) is not None


def test_no_offer_for_a_topic_without_a_digest_or_one_already_left(
    browser, mint, courier, on_instant
):
    assert offer_of(browser.get(link(mint, seed.TOPIC_COMMENTS)).get_data(as_text=True)) is None
    courier.put_preference(USER, PRODUCT, PreferenceUpdate(PreferenceStatus.OPTED_OUT))
    page = browser.get(link(mint)).get_data(as_text=True)
    assert "You are already unsubscribed" in text_of(page) and offer_of(page) is None


def test_the_rarest_of_several_schedules_is_offered(browser, mint, courier_state, courier):
    courier_state.store.set_topic_digest(
        seed.SECTION_NEWS,
        PRODUCT,
        {
            "template_id": "tpl",
            "schedules": [
                {
                    "schedule_id": "a_daily",
                    "frequency": "daily",
                    "time": "09:00",
                    "is_default": True,
                },
                {
                    "schedule_id": "b_weekly",
                    "frequency": "weekly",
                    "day_of_week": "monday",
                    "time": "09:00",
                },
                {
                    "schedule_id": "c_monthly",
                    "frequency": "monthly",
                    "day_of_month": 15,
                    "time": "09:00",
                },
                {
                    "schedule_id": "d_weekly",
                    "frequency": "weekly",
                    "day_of_week": "friday",
                    "time": "09:00",
                },
                {
                    "schedule_id": "e_yearly",
                    "frequency": "monthly",
                    "day_of_month": 1,
                    "time": "09:00",
                    "disabled": True,
                },
            ],
        },
    )
    page = browser.get(link(mint)).get_data(as_text=True)
    assert "Get it monthly instead Monthly on day 15 at 9:00 AM (UTC)" in text_of(page)


def test_a_mail_providers_one_click_stays_a_pure_opt_out(
    app, mint, on_instant, courier_state, audit_path
):
    mail_provider = app.test_client(use_cookies=False)
    app.extensions["prefcenter"].catalog.sections()  # cached, as on any running server
    courier_state.clear_requests()
    response = mail_provider.post(link(mint), data=ONE_CLICK)
    assert response.status_code == 200
    assert offer_of(response.get_data(as_text=True)) is None
    (write,) = writes(courier_state)
    assert write["status"] == "OPTED_OUT" and "digest_schedule_id" not in write
    assert [(r.method, r.path) for r in courier_state.requests] == [
        ("GET", f"/users/{USER}/preferences/{PRODUCT}"),
        ("PUT", f"/users/{USER}/preferences/{PRODUCT}"),
    ]
    assert held(courier_state)["digest_schedule_id"] == seed.SCHEDULE_INSTANT  # kept for later
    assert [r["via"] for r in records(audit_path)] == ["one_click"]


def test_after_unsubscribing_on_the_page_the_offer_is_an_undo_onto_weekly(
    browser, mint, on_instant, courier_state, audit_path
):
    page = browser.get(link(mint)).get_data(as_text=True)
    form = HtmlForm.parse(page)
    result = browser.post(form.action, data=form.submission())
    text = text_of(result.get_data(as_text=True))
    assert "You are unsubscribed" in text and "Undo: subscribe again" in text
    assert held(courier_state)["status"] == "OPTED_OUT"
    action, value = offer_of(result.get_data(as_text=True))
    response = browser.post(action, data={"offer": value})
    assert response.status_code == 200
    now = held(courier_state)
    assert now["status"] == "OPTED_IN" and now["digest_schedule_id"] == seed.SCHEDULE_WEEKLY
    assert [r["via"] for r in records(audit_path)] == ["unsubscribe_page", "less_often"]


def test_the_undo_onto_weekly_lasts_as_long_as_undo(
    browser, mint, on_instant, courier_state, clock
):
    form = HtmlForm.parse(browser.get(link(mint)).get_data(as_text=True))
    result = browser.post(form.action, data=form.submission())
    action, value = offer_of(result.get_data(as_text=True))
    clock(3601)
    courier_state.clear_requests()
    response = browser.post(action, data={"offer": value})
    assert response.status_code == 400
    assert "Nothing was changed." in text_of(response.get_data(as_text=True))
    assert writes(courier_state) == []
    assert held(courier_state)["status"] == "OPTED_OUT"


def test_an_offer_from_asking_never_opts_back_in(browser, mint, on_instant, courier, courier_state):
    action, value = offer_of(browser.get(link(mint)).get_data(as_text=True))
    # Unsubscribed meanwhile (a mail provider's one-click, say), then the old page's button.
    courier.put_preference(USER, PRODUCT, PreferenceUpdate(PreferenceStatus.OPTED_OUT))
    courier_state.clear_requests()
    response = browser.post(action, data={"offer": value})
    assert response.status_code == 409
    assert "You are already unsubscribed" in text_of(response.get_data(as_text=True))
    assert writes(courier_state) == []


def test_an_offer_is_bound_to_its_person_and_topic(browser, mint, on_instant, courier_state):
    _action, value = offer_of(browser.get(link(mint)).get_data(as_text=True))
    courier_state.clear_requests()
    for other_link in (link(mint, user_id="user-2"), link(mint, seed.TOPIC_COMMENTS)):
        response = browser.post(f"{other_link}/less-often", data={"offer": value})
        assert response.status_code == 400
    tampered = value[:-2] + ("AA" if not value.endswith("AA") else "BB")
    assert browser.post(f"{link(mint)}/less-often", data={"offer": tampered}).status_code == 400
    assert browser.post(f"{link(mint)}/less-often", data={}).status_code == 400
    assert writes(courier_state) == []


def test_a_schedule_withdrawn_after_the_offer_is_not_written(
    browser, mint, on_instant, app, courier_state
):
    action, value = offer_of(browser.get(link(mint)).get_data(as_text=True))
    digest = json.loads(
        json.dumps(courier_state.store.get_topic(seed.SECTION_NEWS, PRODUCT)["digest"])
    )
    for schedule in digest["schedules"]:
        if schedule["schedule_id"] == seed.SCHEDULE_WEEKLY:
            schedule["disabled"] = True
    courier_state.store.set_topic_digest(seed.SECTION_NEWS, PRODUCT, digest)
    app.extensions["prefcenter"].catalog.clear()
    courier_state.clear_requests()
    response = browser.post(action, data={"offer": value})
    assert response.status_code == 409
    assert "That schedule is no longer offered" in text_of(response.get_data(as_text=True))
    assert writes(courier_state) == []


def test_the_unsubscribe_page_still_reads_courier_once(browser, mint, on_instant, courier_state):
    browser.get(link(mint))  # the catalog, digests and all, is read once and cached
    courier_state.clear_requests()
    page = browser.get(link(mint)).get_data(as_text=True)
    assert offer_of(page) is not None
    assert [(r.method, r.path) for r in courier_state.requests] == [
        ("GET", f"/users/{USER}/preferences/{PRODUCT}")
    ]


@pytest.mark.parametrize("lang", ["de", "es", "fr", "ar"])
def test_the_offer_speaks_the_pages_language(browser, mint, on_instant, lang):
    page = browser.get(link(mint), query_string={"lang": lang}).get_data(as_text=True)
    assert f'<html lang="{lang}"' in page
    assert offer_of(page) is not None
    day = {"de": "Montag", "es": "lunes", "fr": "lundi", "ar": "الاثنين"}[lang]
    assert day in text_of(page)


# ---- which schedule is offered (no Courier needed) ----------------------------------------------


def schedule(schedule_id: str, frequency: str, **fields) -> DigestSchedule:
    return DigestSchedule(schedule_id, frequency, time="09:00", **fields)


def test_the_offer_is_the_rarest_schedule_and_only_when_rarer_than_now():
    daily = schedule("d", "daily")
    three_days = schedule("c3", "custom_days", days_of_week=("monday", "wednesday", "friday"))
    two_days = schedule("c2", "custom_days", days_of_week=("tuesday", "friday"), is_default=True)
    weekly = schedule("w", "weekly", day_of_week="monday")
    everything = (daily, three_days, two_days, weekly)
    assert less_often_offer(everything, "d") == weekly
    assert less_often_offer(everything, None) == weekly  # on the default, twice a week
    assert less_often_offer(everything, "w") is None  # already the rarest
    assert less_often_offer((daily, three_days), "d") == three_days  # no weekly: the rarest
    # Two weekly schedules: the first in Courier's order.
    other_weekly = schedule("w2", "weekly", day_of_week="friday")
    assert less_often_offer((daily, weekly, other_weekly), "d") == weekly
    assert less_often_offer((), None) is None


def test_with_no_default_and_no_choice_the_rarest_is_offered():
    # Where Courier puts people who have not chosen is then unknown: the offer stands.
    daily, weekly = schedule("d", "daily"), schedule("w", "weekly", day_of_week="monday")
    assert less_often_offer((daily, weekly), None) == weekly
    # A choice of a schedule no longer active counts as no choice.
    assert less_often_offer((daily, weekly), "gone") == weekly
