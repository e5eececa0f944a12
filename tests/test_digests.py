"""A topic's "How often" (digest schedules) on the preferences page, against the emulator.

What a person sees (schedules in the page's language, the default marked, only active ones),
and what Courier is sent: `digest_schedule_id` only when the person changed it, null when they
went back to the default, never anything invalid.
"""

from __future__ import annotations

import json
import re

import pytest
from werkzeug.datastructures import MultiDict

from prefcenter.courier import PreferenceStatus, PreferenceUpdate
from prefcenter.emulator import create_emulator_app, seed
from prefcenter.page.forms import field_key

from conftest import EMULATOR_KEY
from htmlform import HtmlForm, text_of

pytestmark = pytest.mark.consent_file  # consent records in `audit_path`

USER = "user-1"
PRODUCT = seed.TOPIC_PRODUCT_UPDATES
WRITE = rf"/users/{USER}/preferences/[^/]+"
# A second digest, on a topic whose section offers channels: weekdays, custom days, monthly.
COMMENTS_DIGEST = {
    "template_id": "tpl_comments",
    "schedules": [
        {"schedule_id": "sch_c_weekdays", "frequency": "weekdays", "time": "17:30"},
        {
            "schedule_id": "sch_c_days",
            "frequency": "custom_days",
            "days_of_week": ["friday", "tuesday"],
            "time": "08:00",
            "timezone": "America/New_York",
            "is_default": True,
        },
        {
            "schedule_id": "sch_c_monthly",
            "frequency": "monthly",
            "day_of_month": 1,
            "time": "07:00",
        },
        {
            "schedule_id": "sch_c_off",
            "frequency": "daily",
            "time": "06:00",
            "disabled": True,
        },
    ],
}


@pytest.fixture
def emulator():
    """The demo workspace, its product updates with instant, daily and weekly (default) digests."""
    return create_emulator_app(
        db_path=":memory:", api_key=EMULATOR_KEY, seed=True, digest_schedules=True
    )


@pytest.fixture
def store(courier_state):
    """The store behind the app's Courier (not the emulator fixtures' own)."""
    return courier_state.store


def digest_name(topic_id: str) -> str:
    return f"{field_key(topic_id)}-digest"


def status_name(topic_id: str) -> str:
    return f"{field_key(topic_id)}-status"


def open_page(client, lang: str | None = None):
    response = client.get("/", query_string={"lang": lang} if lang else None)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    return html, HtmlForm.parse(html)


def digest_group(html: str, topic_id: str) -> str:
    """The topic's "How often" group, as markup."""
    found = re.search(
        rf'<fieldset class="digest" id="{digest_name(topic_id)}".*?</fieldset>', html, re.S
    )
    assert found, f"no digest choice for {topic_id}"
    return found.group(0)


def held(courier_state, topic_id: str = PRODUCT) -> str | None:
    """The schedule Courier holds for the user (its read omits the field when there is none)."""
    return courier_state.store.user_preference(USER, topic_id, None).get("digest_schedule_id")


def writes(courier_state) -> list[dict]:
    return [r.body["topic"] for r in courier_state.requests if r.method == "PUT"]


def save(client, form: HtmlForm):
    return client.post("/", data=form.submission())


def records(audit_path) -> list[dict]:
    if not audit_path.exists():
        return []
    return [json.loads(line) for line in audit_path.read_text().splitlines()]


# ---- what the page shows ----------------------------------------------------------------------


def test_each_active_schedule_is_offered_in_english_with_the_default_marked_and_ticked(signed_in):
    html, form = open_page(signed_in())
    group = digest_group(html, PRODUCT)
    assert "How often" in text_of(group)
    labels = [text_of(label) for label in re.findall(r"<label.*?</label>", group, re.S)]
    assert labels == [
        "As it happens",
        "Daily at 9:00 AM (Europe/Berlin)",
        "Weekly on Monday at 9:00 AM (Europe/Berlin) Default",
    ]
    # Nobody has chosen yet: they are on the default, and the page says so.
    assert form.chosen(digest_name(PRODUCT)) == seed.SCHEDULE_WEEKLY


def test_days_times_and_lists_follow_the_page_language(signed_in, store):
    store.set_topic_digest(seed.SECTION_ACTIVITY, seed.TOPIC_COMMENTS, COMMENTS_DIGEST)
    client = signed_in()
    html, _form = open_page(client, "de")
    assert '<html lang="de" dir="ltr">' in html
    product = text_of(digest_group(html, PRODUCT))
    assert "Montag" in product and "09:00" in product and "Monday" not in product
    comments = text_of(digest_group(html, seed.TOPIC_COMMENTS))
    # Tuesday before Friday, however Courier listed them, joined as German joins a list.
    assert "Dienstag und Freitag" in comments and "(America/New_York)" in comments
    assert "17:30 (UTC)" in comments  # no timezone: Courier documents UTC, and the page says so

    html, _form = open_page(client, "ar")
    assert '<html lang="ar" dir="rtl">' in html
    product = text_of(digest_group(html, PRODUCT))
    assert "الاثنين" in product and "Monday" not in product


def test_disabled_schedules_are_not_offered_and_a_topic_without_a_digest_has_no_choice(
    signed_in, store
):
    store.set_topic_digest(seed.SECTION_ACTIVITY, seed.TOPIC_COMMENTS, COMMENTS_DIGEST)
    html, form = open_page(signed_in())
    offered = [c.value for c in form.controls if c.name == digest_name(seed.TOPIC_COMMENTS)]
    assert offered == ["sch_c_weekdays", "sch_c_days", "sch_c_monthly"]
    assert "Every weekday at 5:30 PM (UTC)" in text_of(html)
    assert "Monthly on day 1 at 7:00 AM (UTC)" in text_of(html)
    assert f'id="{digest_name(seed.TOPIC_DIGEST)}"' not in html
    assert not [c for c in form.controls if c.name == digest_name(seed.TOPIC_BILLING)]


def test_the_persons_own_choice_is_ticked(signed_in, courier):
    courier.put_preference(
        USER,
        PRODUCT,
        PreferenceUpdate(PreferenceStatus.OPTED_IN, digest_schedule_id=seed.SCHEDULE_DAILY),
    )
    _html, form = open_page(signed_in())
    assert form.chosen(digest_name(PRODUCT)) == seed.SCHEDULE_DAILY


def test_a_page_view_reads_courier_once_when_the_catalog_is_cached(signed_in, courier_state):
    client = signed_in()
    open_page(client)  # the catalog, digests and all, is read once and cached
    courier_state.clear_requests()
    html, _form = open_page(client)
    assert "As it happens" in html
    assert [(r.method, r.path) for r in courier_state.requests] == [
        ("GET", f"/users/{USER}/preferences")
    ]


# ---- what a save writes -----------------------------------------------------------------------


def test_choosing_a_schedule_writes_it_and_nothing_else_changes(
    signed_in, courier_state, audit_path
):
    client = signed_in()
    _html, form = open_page(client)
    courier_state.clear_requests()
    response = save(client, form.choose(digest_name(PRODUCT), seed.SCHEDULE_DAILY))
    assert response.status_code == 302
    assert writes(courier_state) == [
        {
            "status": "OPTED_IN",
            "has_custom_routing": False,
            "custom_routing": [],
            "digest_schedule_id": seed.SCHEDULE_DAILY,
        }
    ]
    assert held(courier_state) == seed.SCHEDULE_DAILY
    page = client.get("/").get_data(as_text=True)
    assert "Product updates: Daily at 9:00 AM (Europe/Berlin)." in text_of(page)
    assert HtmlForm.parse(page).chosen(digest_name(PRODUCT)) == seed.SCHEDULE_DAILY
    (record,) = records(audit_path)
    assert record["old"]["digest_schedule_id"] is None
    assert record["new"]["digest_schedule_id"] == seed.SCHEDULE_DAILY


def test_choosing_the_default_again_writes_null(signed_in, courier, courier_state):
    courier.put_preference(
        USER,
        PRODUCT,
        PreferenceUpdate(PreferenceStatus.OPTED_IN, digest_schedule_id=seed.SCHEDULE_DAILY),
    )
    client = signed_in()
    _html, form = open_page(client)
    courier_state.clear_requests()
    save(client, form.choose(digest_name(PRODUCT), seed.SCHEDULE_WEEKLY))
    (write,) = writes(courier_state)
    assert write["digest_schedule_id"] is None  # back to the topic's default, whatever it becomes
    assert held(courier_state) is None
    assert (
        HtmlForm.parse(client.get("/").get_data(as_text=True)).chosen(digest_name(PRODUCT))
        == seed.SCHEDULE_WEEKLY
    )


def test_leaving_the_default_ticked_writes_nothing(signed_in, courier_state):
    client = signed_in()
    _html, form = open_page(client)
    courier_state.clear_requests()
    save(client, form)
    assert writes(courier_state) == []


def test_other_changes_leave_the_digest_choice_out(signed_in, courier, courier_state):
    courier.put_preference(
        USER,
        PRODUCT,
        PreferenceUpdate(PreferenceStatus.OPTED_IN, digest_schedule_id=seed.SCHEDULE_INSTANT),
    )
    client = signed_in()
    _html, form = open_page(client)
    courier_state.clear_requests()
    save(client, form.set(status_name(seed.TOPIC_DIGEST), "OPTED_IN", True))
    assert [sorted(w) for w in writes(courier_state)] == [
        ["custom_routing", "has_custom_routing", "status"]
    ]
    assert held(courier_state) == seed.SCHEDULE_INSTANT


def test_a_choice_made_elsewhere_stays_when_the_person_changes_only_channels(
    signed_in, store, courier, courier_state
):
    store.set_topic_digest(seed.SECTION_ACTIVITY, seed.TOPIC_COMMENTS, COMMENTS_DIGEST)
    client = signed_in()
    _html, form = open_page(client)
    # Meanwhile, in the product's own settings, the person picks the monthly digest.
    courier.put_preference(
        USER,
        seed.TOPIC_COMMENTS,
        PreferenceUpdate(PreferenceStatus.OPTED_IN, digest_schedule_id="sch_c_monthly"),
    )
    courier_state.clear_requests()
    channels = f"{field_key(seed.TOPIC_COMMENTS)}-channels"
    save(client, form.set(channels, "push", False))
    (write,) = writes(courier_state)
    assert "digest_schedule_id" not in write
    assert write["custom_routing"] == ["email", "inbox"]
    assert held(courier_state, seed.TOPIC_COMMENTS) == "sch_c_monthly"


def test_a_different_choice_made_elsewhere_meanwhile_is_kept_and_the_person_told(
    signed_in, courier, courier_state
):
    client = signed_in()
    _html, form = open_page(client)
    courier.put_preference(
        USER,
        PRODUCT,
        PreferenceUpdate(PreferenceStatus.OPTED_IN, digest_schedule_id=seed.SCHEDULE_INSTANT),
    )
    courier_state.clear_requests()
    response = save(client, form.choose(digest_name(PRODUCT), seed.SCHEDULE_DAILY))
    assert writes(courier_state) == []
    assert held(courier_state) == seed.SCHEDULE_INSTANT
    assert "was changed elsewhere" in text_of(client.get(response.location).get_data(as_text=True))


def test_a_choice_for_a_topic_turned_off_is_ignored(signed_in, courier_state):
    client = signed_in()
    _html, form = open_page(client)
    form.set(status_name(PRODUCT), "OPTED_IN", False).choose(
        digest_name(PRODUCT), seed.SCHEDULE_DAILY
    )
    courier_state.clear_requests()
    save(client, form)
    (write,) = writes(courier_state)
    assert write["status"] == "OPTED_OUT" and "digest_schedule_id" not in write
    assert held(courier_state) is None


@pytest.mark.parametrize("value", ["sch_nope", "sch_c_off", seed.SCHEDULE_DAILY + "x"])
def test_a_schedule_not_offered_is_refused_and_nothing_is_sent(signed_in, courier_state, value):
    client = signed_in()
    _html, form = open_page(client)
    courier_state.clear_requests()
    submission = form.submission()
    submission.setlist(digest_name(PRODUCT), [value])
    response = client.post("/", data=submission)
    assert response.status_code == 400
    assert f"“{value}” is not a schedule offered here." in text_of(response.get_data(as_text=True))
    assert writes(courier_state) == []


def test_a_disabled_schedule_is_refused_and_nothing_is_sent(signed_in, store, courier_state):
    store.set_topic_digest(seed.SECTION_ACTIVITY, seed.TOPIC_COMMENTS, COMMENTS_DIGEST)
    client = signed_in()
    _html, form = open_page(client)
    courier_state.clear_requests()
    submission = form.submission()
    submission.setlist(digest_name(seed.TOPIC_COMMENTS), ["sch_c_off"])
    response = client.post("/", data=submission)
    assert response.status_code == 400
    assert "“sch_c_off” is not a schedule offered here." in text_of(response.get_data(as_text=True))
    assert writes(courier_state) == []


def test_two_schedules_at_once_are_refused(signed_in, courier_state):
    client = signed_in()
    _html, form = open_page(client)
    courier_state.clear_requests()
    submission = form.submission()
    submission.setlist(digest_name(PRODUCT), [seed.SCHEDULE_DAILY, seed.SCHEDULE_INSTANT])
    response = client.post("/", data=submission)
    assert response.status_code == 400
    assert "Choose one schedule." in text_of(response.get_data(as_text=True))
    assert writes(courier_state) == []


def test_autosave_of_a_digest_choice_alone(signed_in, courier_state):
    client = signed_in()
    _html, form = open_page(client)
    courier_state.clear_requests()
    topic = field_key(PRODUCT)
    body = [
        ("csrf_token", form.value("csrf_token")),
        ("rendered", form.value("rendered")),
        ("only", PRODUCT),
        (f"{topic}-status", "OPTED_IN"),
        (digest_name(PRODUCT), seed.SCHEDULE_INSTANT),
    ]
    response = client.post("/", data=MultiDict(body), headers={"Accept": "application/json"})
    assert response.status_code == 200, response.get_json()
    assert [m["message"] for m in response.get_json()["saved"]] == [
        "Product updates: As it happens."
    ]
    assert held(courier_state) == seed.SCHEDULE_INSTANT


def test_channels_refused_by_the_plan_still_write_the_digest_choice(
    signed_in, store, courier_state, behaviours_402
):
    store.set_topic_digest(seed.SECTION_ACTIVITY, seed.TOPIC_COMMENTS, COMMENTS_DIGEST)
    client = signed_in()
    _html, form = open_page(client)
    channels = f"{field_key(seed.TOPIC_COMMENTS)}-channels"
    form.set(channels, "push", False).choose(digest_name(seed.TOPIC_COMMENTS), "sch_c_monthly")
    save(client, form)
    assert held(courier_state, seed.TOPIC_COMMENTS) == "sch_c_monthly"
    assert writes(courier_state)[-1] == {
        "status": "OPTED_IN",
        "digest_schedule_id": "sch_c_monthly",
    }


@pytest.fixture
def behaviours_402(courier_state):
    """A plan without channel delivery customization: writes with routing get a 402."""
    courier_state.behaviours.channel_customization = False
    return courier_state.behaviours


def test_a_new_frequency_courier_adds_is_left_out_rather_than_breaking_the_page(
    signed_in, store, courier_state
):
    # Courier's replace validates frequencies, so the row is changed underneath it, as a
    # newer Courier would hold it.
    digest = {
        "template_id": "tpl",
        "schedules": [
            {"schedule_id": "sch_hourly", "frequency": "daily", "time": "10:00"},
            {
                "schedule_id": "sch_ok",
                "frequency": "weekly",
                "day_of_week": "friday",
                "time": "10:00",
            },
        ],
    }
    store.set_topic_digest(seed.SECTION_ACTIVITY, seed.TOPIC_COMMENTS, digest)
    with store._write() as conn:  # noqa: SLF001 - a state real Courier may send, not a write
        row = conn.execute(
            "SELECT digest FROM topics WHERE id = ?", (seed.TOPIC_COMMENTS,)
        ).fetchone()
        stored = json.loads(row["digest"])
        stored["schedules"][0]["frequency"] = "hourly"
        conn.execute(
            "UPDATE topics SET digest = ? WHERE id = ?", (json.dumps(stored), seed.TOPIC_COMMENTS)
        )
    _html, form = open_page(signed_in())
    offered = [c.value for c in form.controls if c.name == digest_name(seed.TOPIC_COMMENTS)]
    assert offered == ["sch_ok"]
