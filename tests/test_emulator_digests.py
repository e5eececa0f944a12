"""Topic digests: configuration rules, the digest endpoints and people's schedule choices."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from flask import Flask

from prefcenter.emulator import EmulatorState, Store, create_emulator_app, seed
from prefcenter.emulator.errors import InvalidRequest, NotFound
from prefcenter.emulator.models import PreferenceWrite, TopicInput

USER = "user-3"
TOPICS = f"/preferences/sections/{seed.SECTION_NEWS}/topics"
PRODUCT = f"{TOPICS}/{seed.TOPIC_PRODUCT_UPDATES}"
USER_PRODUCT = f"/users/{USER}/preferences/{seed.TOPIC_PRODUCT_UPDATES}"
LEGACY_SCHEDULE = "sch/0b7f4a52-3c1e-4e8e-9a59-0d1c2b3a4f5e"


@pytest.fixture
def emu_app() -> Iterator[Flask]:
    """A seeded emulator whose product updates topic has the demo digest."""
    app = create_emulator_app(digest_schedules=True)
    yield app
    app.extensions["courier_emulator"].store.close()


def daily(**extra: Any) -> dict[str, Any]:
    """A valid daily schedule, changed by ``extra``."""
    return {"frequency": "daily", "time": "08:30", **extra}


def topic_body(digest: object, **extra: Any) -> dict[str, Any]:
    """A topic create/replace body carrying ``digest``."""
    return {"name": "Digest topic", "default_status": "OPTED_IN", "digest": digest, **extra}


def choose(http: httpx.Client, schedule: object = ..., **topic: Any) -> httpx.Response:
    """Write the user's product-updates preference, with a schedule choice unless left out."""
    body: dict[str, Any] = {"status": "OPTED_IN", **topic}
    if schedule is not ...:
        body["digest_schedule_id"] = schedule
    return http.put(USER_PRODUCT, json={"topic": body})


def chosen(http: httpx.Client, tenant_id: str | None = None) -> str | None:
    """The schedule the user's read reports, or None when the field is omitted."""
    params = {"tenant_id": tenant_id} if tenant_id else {}
    return http.get(USER_PRODUCT, params=params).json()["topic"].get("digest_schedule_id")


# ---- configuration --------------------------------------------------------------------------

INVALID_DIGESTS: dict[str, object] = {
    "not an object": "daily",
    "no template": {"schedules": [daily()]},
    "empty template": {"template_id": "", "schedules": [daily()]},
    "no schedules on create": {"template_id": "t"},
    "empty schedules": {"template_id": "t", "schedules": []},
    "schedules not a list": {"template_id": "t", "schedules": daily()},
    "schedule not an object": {"template_id": "t", "schedules": ["daily"]},
    "no frequency": {"template_id": "t", "schedules": [{"time": "08:30"}]},
    "unknown frequency": {"template_id": "t", "schedules": [daily(frequency="hourly")]},
    "daily without time": {"template_id": "t", "schedules": [{"frequency": "daily"}]},
    "time not HH:MM": {"template_id": "t", "schedules": [daily(time="8:30")]},
    "time past midnight": {"template_id": "t", "schedules": [daily(time="24:00")]},
    "instant with time": {
        "template_id": "t",
        "schedules": [{"frequency": "instant", "time": "08:30"}],
    },
    "unknown timezone": {"template_id": "t", "schedules": [daily(timezone="Mars/Olympus")]},
    "empty timezone": {"template_id": "t", "schedules": [daily(timezone="")]},
    "weekly without day": {"template_id": "t", "schedules": [daily(frequency="weekly")]},
    "unknown day": {
        "template_id": "t",
        "schedules": [daily(frequency="weekly", day_of_week="funday")],
    },
    "custom_days without days": {"template_id": "t", "schedules": [daily(frequency="custom_days")]},
    "custom_days with no days": {
        "template_id": "t",
        "schedules": [daily(frequency="custom_days", days_of_week=[])],
    },
    "a day twice": {
        "template_id": "t",
        "schedules": [daily(frequency="custom_days", days_of_week=["monday", "Monday"])],
    },
    "monthly without day": {"template_id": "t", "schedules": [daily(frequency="monthly")]},
    "day of month 0": {
        "template_id": "t",
        "schedules": [daily(frequency="monthly", day_of_month=0)],
    },
    "day of month 32": {
        "template_id": "t",
        "schedules": [daily(frequency="monthly", day_of_month=32)],
    },
    "day of month true": {
        "template_id": "t",
        "schedules": [daily(frequency="monthly", day_of_month=True)],
    },
    "same schedule id twice": {
        "template_id": "t",
        "schedules": [daily(schedule_id="sch_a"), daily(schedule_id="sch_a")],
    },
    "two defaults": {
        "template_id": "t",
        "schedules": [daily(is_default=True), daily(is_default=True)],
    },
    "flag not a boolean": {"template_id": "t", "schedules": [daily(disabled="no")]},
    "category without key": {"template_id": "t", "schedules": [daily()], "categories": [{}]},
    "ranking without sort key": {
        "template_id": "t",
        "schedules": [daily()],
        "categories": [{"category_key": "c", "retain": "highest"}],
    },
    "category limit 0": {
        "template_id": "t",
        "schedules": [daily()],
        "categories": [{"category_key": "c", "limit": 0}],
    },
    "same category twice": {
        "template_id": "t",
        "schedules": [daily()],
        "categories": [{"category_key": "c"}, {"category_key": "c"}],
    },
}


@pytest.mark.parametrize("case", list(INVALID_DIGESTS))
def test_invalid_digest_is_400_and_writes_nothing(
    http: httpx.Client, store: Store, case: str
) -> None:
    before = store.list_topics(seed.SECTION_NEWS)

    created = http.post(TOPICS, json=topic_body(INVALID_DIGESTS[case]))
    replaced = http.put(
        f"{TOPICS}/{seed.TOPIC_EVENTS}", json=topic_body(INVALID_DIGESTS[case], name="Events")
    )

    for response in (created, replaced):
        assert response.status_code == 400
        assert response.json()["type"] == "invalid_request_error"
    assert store.list_topics(seed.SECTION_NEWS) == before


def test_created_digest_reads_back_normalised(http: httpx.Client) -> None:
    topic = http.post(
        TOPICS,
        json=topic_body(
            {
                "template_id": "tpl_weekly",
                "audience_id": "aud_1",
                "trigger_empty": False,
                "schedules": [
                    {"frequency": "weekly", "day_of_week": "Friday", "time": "17:30"},
                    {
                        "schedule_id": LEGACY_SCHEDULE,
                        "frequency": "custom_days",
                        "days_of_week": ["TUESDAY", "thursday"],
                        "time": "07:00",
                        "timezone": "America/New_York",
                        "is_default": True,
                    },
                    {"frequency": "monthly", "day_of_month": 31, "time": "12:00", "disabled": True},
                    {"frequency": "weekdays", "time": "06:15"},
                    {"frequency": "instant"},
                ],
                "categories": [
                    {"category_key": "orders", "retain": "highest", "sort_key": "amount"},
                ],
            }
        ),
    ).json()

    digest = topic["digest"]
    assert (digest["template_id"], digest["audience_id"], digest["trigger_empty"]) == (
        "tpl_weekly",
        "aud_1",
        False,
    )
    assert digest["categories"] == [
        {"category_key": "orders", "limit": 10, "retain": "HIGHEST", "sort_key": "amount"}
    ]
    weekly, custom, monthly, weekdays, instant = digest["schedules"]
    assert re.fullmatch(r"sch_[0-9a-z]{26}", weekly["schedule_id"])
    assert {k: v for k, v in weekly.items() if k not in ("schedule_id", "created", "updated")} == {
        "frequency": "weekly",
        "time": "17:30",
        "day_of_week": "friday",
        "is_default": False,
        "disabled": False,
    }
    assert "timezone" not in weekly  # absent means UTC
    assert custom["schedule_id"] == LEGACY_SCHEDULE
    assert custom["days_of_week"] == ["tuesday", "thursday"]
    assert (custom["timezone"], custom["is_default"]) == ("America/New_York", True)
    assert (monthly["day_of_month"], monthly["disabled"]) == (31, True)
    assert weekdays["frequency"] == "weekdays"
    assert "time" not in instant
    assert http.get(f"{TOPICS}/{topic['id']}").json()["digest"] == digest


def test_default_category_when_none_given(http: httpx.Client) -> None:
    topic = http.post(TOPICS, json=topic_body({"template_id": "t", "schedules": [daily()]})).json()

    assert topic["digest"]["categories"] == [
        {"category_key": "digest", "limit": 10, "retain": "FIRST"}
    ]


def test_replace_keeps_omitted_schedules_and_replaces_given_ones(http: httpx.Client) -> None:
    seeded = http.get(PRODUCT).json()
    base = {"name": "Product updates", "default_status": "OPTED_IN"}

    retemplated = http.put(PRODUCT, json={**base, "digest": {"template_id": "tpl_v2"}}).json()

    assert retemplated["digest"]["template_id"] == "tpl_v2"
    assert retemplated["digest"]["schedules"] == seeded["digest"]["schedules"]
    assert retemplated["digest"]["created"] == seeded["digest"]["created"]

    replaced = http.put(
        PRODUCT,
        json={
            **base,
            "digest": {
                "template_id": "tpl_v2",
                "schedules": [
                    {"schedule_id": seed.SCHEDULE_DAILY, "frequency": "daily", "time": "18:00"},
                    {"frequency": "instant", "is_default": True},
                ],
            },
        },
    ).json()

    kept, added = replaced["digest"]["schedules"]
    assert kept["schedule_id"] == seed.SCHEDULE_DAILY
    assert kept["time"] == "18:00"
    assert "timezone" not in kept  # restated without it: back to UTC
    assert kept["created"] == seeded["digest"]["schedules"][1]["created"]
    assert added["schedule_id"] not in (seed.SCHEDULE_INSTANT, seed.SCHEDULE_WEEKLY)


def test_schedules_omitted_on_a_topic_without_digest_is_400(http: httpx.Client) -> None:
    response = http.put(
        f"{TOPICS}/{seed.TOPIC_EVENTS}", json=topic_body({"template_id": "t"}, name="Events")
    )

    assert response.status_code == 400
    assert "digest" not in http.get(f"{TOPICS}/{seed.TOPIC_EVENTS}").json()


@pytest.mark.parametrize("how", ["null", "omitted", "delete"])
def test_digest_is_turned_off(http: httpx.Client, how: str) -> None:
    assert choose(http, seed.SCHEDULE_DAILY).status_code == 200
    base = {"name": "Product updates", "default_status": "OPTED_IN"}

    if how == "delete":
        response = http.delete(f"{PRODUCT}/digest")
        assert (response.status_code, response.content) == (204, b"")
    else:
        body = {**base, "digest": None} if how == "null" else base
        assert http.put(PRODUCT, json=body).status_code == 200

    assert "digest" not in http.get(PRODUCT).json()
    assert chosen(http) is None
    assert choose(http, seed.SCHEDULE_DAILY).status_code == 400


def test_release_digest(http: httpx.Client) -> None:
    release = f"{PRODUCT}/digest/release"

    assert http.post(release, json={"user_id": USER}).status_code == 204
    assert http.post(release, json={"user_id": USER, "tenant_id": "acme"}).status_code == 204
    assert http.post(release, json={}).status_code == 400
    assert (
        http.post(
            f"{TOPICS}/{seed.TOPIC_EVENTS}/digest/release", json={"user_id": USER}
        ).status_code
        == 400
    )
    assert http.post(f"{TOPICS}/pt_nope/digest/release", json={"user_id": USER}).status_code == 404


def test_store_takes_a_digest_through_topic_input(store: Store) -> None:
    digest = {"template_id": "t", "schedules": [daily(schedule_id="sch_x")]}

    topic = store.create_topic(
        seed.SECTION_NEWS,
        TopicInput(name="Stored", default_status="OPTED_IN", digest=digest),
        topic_id="pt_stored",
    )

    assert topic["digest"]["schedules"][0]["schedule_id"] == "sch_x"
    with pytest.raises(InvalidRequest):
        store.create_topic(
            seed.SECTION_NEWS,
            TopicInput(name="Bad", default_status="OPTED_IN", digest={"template_id": "t"}),
        )
    assert [t["id"] for t in store.list_topics(seed.SECTION_NEWS)][-1] == "pt_stored"


def test_seed_digest_schedules_once_and_only_with_the_demo(store: Store) -> None:
    schedules = store.get_topic(seed.SECTION_NEWS, seed.TOPIC_PRODUCT_UPDATES)["digest"][
        "schedules"
    ]

    assert [(s["schedule_id"], s["frequency"], s["is_default"]) for s in schedules] == [
        (seed.SCHEDULE_INSTANT, "instant", False),
        (seed.SCHEDULE_DAILY, "daily", False),
        (seed.SCHEDULE_WEEKLY, "weekly", True),
    ]
    assert schedules[2]["day_of_week"] == "monday"
    assert schedules[1]["timezone"] == "Europe/Berlin"
    assert seed.seed_digest_schedules(store) is False
    empty = Store(":memory:")
    try:
        with pytest.raises(NotFound):
            seed.seed_digest_schedules(empty)
    finally:
        empty.close()


# ---- a person's schedule choice -------------------------------------------------------------


def test_choice_is_read_back_in_both_reads(http: httpx.Client, emu_state: EmulatorState) -> None:
    emu_state.behaviours.list_mode = "all"  # to list a topic without a choice, too
    assert chosen(http) is None  # no choice: omitted, the topic's default applies

    assert choose(http, seed.SCHEDULE_DAILY).json() == {"message": "success"}

    assert chosen(http) == seed.SCHEDULE_DAILY
    listed = {i["topic_id"]: i for i in http.get(f"/users/{USER}/preferences").json()["items"]}
    assert listed[seed.TOPIC_PRODUCT_UPDATES]["digest_schedule_id"] == seed.SCHEDULE_DAILY
    assert "digest_schedule_id" not in listed[seed.TOPIC_EVENTS]


def test_omitted_keeps_the_choice_null_clears_it(http: httpx.Client, store: Store) -> None:
    choose(http, seed.SCHEDULE_DAILY, has_custom_routing=True, custom_routing=["email"])

    choose(http, status="OPTED_OUT")  # routing replaced, schedule kept

    topic = http.get(USER_PRODUCT).json()["topic"]
    assert (topic["status"], topic["custom_routing"]) == ("OPTED_OUT", [])
    assert topic["digest_schedule_id"] == seed.SCHEDULE_DAILY

    choose(http, None)

    assert chosen(http) is None
    assert "digest_schedule_id" not in store.raw_override(USER, seed.TOPIC_PRODUCT_UPDATES)


def test_bulk_writes_keep_the_choice(http: httpx.Client) -> None:
    choose(http, seed.SCHEDULE_WEEKLY)

    http.post(
        f"/users/{USER}/preferences",
        json={"topics": [{"topic_id": seed.TOPIC_PRODUCT_UPDATES, "status": "OPTED_OUT"}]},
    )

    assert chosen(http) == seed.SCHEDULE_WEEKLY


@pytest.mark.parametrize("schedule", ["sch_nope", "", 7])
def test_a_choice_that_is_no_schedule_is_400_before_anything_is_written(
    http: httpx.Client, store: Store, schedule: object
) -> None:
    choose(http, seed.SCHEDULE_DAILY)
    changes = store.change_count()

    response = choose(http, schedule, status="OPTED_OUT")

    assert response.status_code == 400
    assert store.raw_override(USER, seed.TOPIC_PRODUCT_UPDATES) == {
        "status": "OPTED_IN",
        "has_custom_routing": False,
        "custom_routing": [],
        "digest_schedule_id": seed.SCHEDULE_DAILY,
    }
    assert store.change_count() == changes


def test_a_disabled_schedule_cannot_be_chosen_and_a_chosen_one_stops_being_read(
    http: httpx.Client, store: Store
) -> None:
    choose(http, seed.SCHEDULE_DAILY)
    schedules = http.get(PRODUCT).json()["digest"]["schedules"]
    for schedule in schedules:
        for stamp in ("created", "updated"):
            schedule.pop(stamp)
    schedules[1]["disabled"] = True
    body = {"name": "Product updates", "default_status": "OPTED_IN"}
    http.put(PRODUCT, json={**body, "digest": {"template_id": "t", "schedules": schedules}})

    assert chosen(http) is None  # disabled: the default applies, so the field is omitted
    assert store.raw_override(USER, seed.TOPIC_PRODUCT_UPDATES)["digest_schedule_id"] == (
        seed.SCHEDULE_DAILY
    )
    assert choose(http, seed.SCHEDULE_DAILY).status_code == 400

    schedules[1]["disabled"] = False
    http.put(PRODUCT, json={**body, "digest": {"template_id": "t", "schedules": schedules}})
    assert chosen(http) == seed.SCHEDULE_DAILY  # back on the schedule they chose

    http.put(PRODUCT, json={**body, "digest": {"template_id": "t", "schedules": schedules[2:]}})
    assert chosen(http) is None  # deleted


def test_legacy_schedule_ids_with_a_slash(http: httpx.Client) -> None:
    body = {"name": "Product updates", "default_status": "OPTED_IN"}
    schedule = {"schedule_id": LEGACY_SCHEDULE, "frequency": "instant"}
    http.put(PRODUCT, json={**body, "digest": {"template_id": "t", "schedules": [schedule]}})

    assert choose(http, LEGACY_SCHEDULE).status_code == 200
    assert chosen(http) == LEGACY_SCHEDULE


def test_choice_in_a_tenant_context_is_its_own(http: httpx.Client) -> None:
    choose(http, seed.SCHEDULE_DAILY)
    http.put(
        USER_PRODUCT,
        params={"tenant_id": "acme"},
        json={"topic": {"status": "OPTED_IN", "digest_schedule_id": seed.SCHEDULE_INSTANT}},
    )

    assert chosen(http, "acme") == seed.SCHEDULE_INSTANT
    assert chosen(http) == seed.SCHEDULE_DAILY


def test_store_write_checks_the_choice(store: Store) -> None:
    with pytest.raises(InvalidRequest):
        store.set_user_preference(
            USER, seed.TOPIC_EVENTS, PreferenceWrite("OPTED_IN", digest_schedule_id="sch_daily")
        )
    store.set_user_preference(
        USER,
        seed.TOPIC_PRODUCT_UPDATES,
        PreferenceWrite("OPTED_IN", digest_schedule_id=seed.SCHEDULE_WEEKLY),
    )
    topic = store.user_preference(USER, seed.TOPIC_PRODUCT_UPDATES)
    assert topic["digest_schedule_id"] == seed.SCHEDULE_WEEKLY
