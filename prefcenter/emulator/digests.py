"""Topic digest configuration: validate a written digest into the shape reads return."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from .errors import InvalidRequest
from .ids import new_schedule_id

FREQUENCIES: tuple[str, ...] = ("instant", "daily", "weekdays", "weekly", "custom_days", "monthly")
DAYS_OF_WEEK: tuple[str, ...] = (
    "sunday",
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
)
RETAIN: tuple[str, ...] = ("FIRST", "LAST", "HIGHEST", "LOWEST", "NONE")
DEFAULT_CATEGORY_LIMIT = 10
_TIME = re.compile(r"(?:[01]\d|2[0-3]):[0-5]\d")
# The day field each frequency cannot do without (SDK TopicDigestScheduleRequestParam).
_NEEDS_DAY = {"weekly": "day_of_week", "custom_days": "days_of_week", "monthly": "day_of_month"}

Json = dict[str, Any]


def stored_digest(
    requested: object, current: Mapping[str, Any] | None, *, creating: bool, stamp: str
) -> Json:
    """Validate a written digest against the stored one; return what reads will show.

    Raises InvalidRequest for anything Courier documents as a 400.
    """
    if not isinstance(requested, Mapping):
        raise InvalidRequest("`digest` must be an object or null")
    template_id = requested.get("template_id")
    if not isinstance(template_id, str) or not template_id:
        raise InvalidRequest("`digest.template_id` is required: a digest needs a template")
    schedules = _schedules(requested, current, creating=creating, stamp=stamp)
    digest: Json = {
        "template_id": template_id,
        "schedules": schedules,
        "categories": _categories(requested.get("categories")),
    }
    audience_id = requested.get("audience_id")
    if audience_id is not None:
        if not isinstance(audience_id, str):
            raise InvalidRequest("`digest.audience_id` must be a string")
        digest["audience_id"] = audience_id
    trigger_empty = requested.get("trigger_empty")
    if trigger_empty is not None:
        if not isinstance(trigger_empty, bool):
            raise InvalidRequest("`digest.trigger_empty` must be a boolean")
        digest["trigger_empty"] = trigger_empty
    digest["created"] = current["created"] if current else stamp
    digest["updated"] = stamp
    return digest


def active_schedule_ids(digest: Mapping[str, Any] | None) -> list[str]:
    """Ids of the digest's schedules a recipient may be put on (the ones not disabled)."""
    if not digest:
        return []
    return [s["schedule_id"] for s in digest["schedules"] if not s.get("disabled", False)]


def _schedules(
    requested: Mapping[str, Any],
    current: Mapping[str, Any] | None,
    *,
    creating: bool,
    stamp: str,
) -> list[Json]:
    """The digest's schedules after this write: replaced wholesale, or kept when omitted."""
    stored = list(current["schedules"]) if current else []
    if "schedules" not in requested:
        # Omitting the key leaves the stored schedules alone, but a digest must end up with one.
        if creating or not stored:
            raise InvalidRequest(
                "`digest.schedules` is required: this topic has no digest schedules stored yet"
            )
        return stored
    value = requested["schedules"]
    if not isinstance(value, list):
        raise InvalidRequest("`digest.schedules` must be an array")
    if not value:
        raise InvalidRequest(
            "`digest.schedules` must not be empty: a digest with no schedule can never be sent"
        )
    created = {s["schedule_id"]: s.get("created", stamp) for s in stored}
    schedules = [
        _schedule(item, f"digest.schedules[{index}]", created, stamp)
        for index, item in enumerate(value)
    ]
    ids = [s["schedule_id"] for s in schedules]
    if len(set(ids)) != len(ids):
        raise InvalidRequest("`digest.schedules` names the same schedule_id more than once")
    if sum(1 for s in schedules if s["is_default"]) > 1:
        raise InvalidRequest("`digest.schedules` may mark at most one schedule is_default")
    return schedules


def _schedule(item: object, where: str, created: Mapping[str, str], stamp: str) -> Json:
    """One validated schedule; an omitted field is cleared, as Courier's replace does."""
    if not isinstance(item, Mapping):
        raise InvalidRequest(f"`{where}` must be an object")
    frequency = item.get("frequency")
    if frequency not in FREQUENCIES:
        raise InvalidRequest(f"`{where}.frequency` must be one of {', '.join(FREQUENCIES)}")
    schedule_id = item.get("schedule_id")
    if schedule_id is None:
        schedule_id = new_schedule_id()
    elif not isinstance(schedule_id, str) or not schedule_id.strip():
        raise InvalidRequest(f"`{where}.schedule_id` must be a non-empty string")
    schedule: Json = {"schedule_id": schedule_id, "frequency": frequency}
    time = item.get("time")
    if frequency == "instant":
        if time is not None:
            raise InvalidRequest(f"`{where}.time` must be left out: instant takes no time")
    elif not isinstance(time, str) or not _TIME.fullmatch(time):
        raise InvalidRequest(f"`{where}.time` is required for {frequency} as 24-hour HH:MM")
    else:
        schedule["time"] = time
    timezone = item.get("timezone")
    if timezone is not None:
        schedule["timezone"] = _timezone(timezone, where)
    schedule.update(_days(item, where, frequency))
    for flag in ("is_default", "disabled"):
        value = item.get(flag, False)
        if not isinstance(value, bool):
            raise InvalidRequest(f"`{where}.{flag}` must be a boolean")
        schedule[flag] = value
    schedule["created"] = created.get(schedule_id, stamp)
    schedule["updated"] = stamp
    return schedule


def _timezone(value: object, where: str) -> str:
    """An IANA timezone name, checked against the system's zone database."""
    if isinstance(value, str) and value and not value.startswith("/"):
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            pass
        else:
            return value
    raise InvalidRequest(f"`{where}.timezone` must be an IANA timezone such as Europe/Berlin")


def _days(item: Mapping[str, Any], where: str, frequency: str) -> Json:
    """The day fields given, validated; the one the frequency needs must be there."""
    days: Json = {}
    if item.get("day_of_week") is not None:
        days["day_of_week"] = _day(item["day_of_week"], f"{where}.day_of_week")
    if item.get("days_of_week") is not None:
        value = item["days_of_week"]
        if not isinstance(value, list) or not value:
            raise InvalidRequest(f"`{where}.days_of_week` must be a non-empty array of days")
        chosen = [_day(day, f"{where}.days_of_week[{i}]") for i, day in enumerate(value)]
        if len(set(chosen)) != len(chosen):
            raise InvalidRequest(f"`{where}.days_of_week` names a day more than once")
        days["days_of_week"] = chosen
    if item.get("day_of_month") is not None:
        value = item["day_of_month"]
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 31:
            raise InvalidRequest(f"`{where}.day_of_month` must be a whole number from 1 to 31")
        days["day_of_month"] = value
    needed = _NEEDS_DAY.get(frequency)
    if needed is not None and needed not in days:
        raise InvalidRequest(f"`{where}.{needed}` is required when frequency is {frequency}")
    return days


def _day(value: object, where: str) -> str:
    """A day of the week, accepted in any case and returned lowercase."""
    if isinstance(value, str) and value.lower() in DAYS_OF_WEEK:
        return value.lower()
    raise InvalidRequest(f"`{where}` must be one of {', '.join(DAYS_OF_WEEK)}")


def _categories(value: object) -> list[Json]:
    """Retention rules per category; by default one `digest` category keeping the first."""
    if value is None:
        return [{"category_key": "digest", "limit": DEFAULT_CATEGORY_LIMIT, "retain": "FIRST"}]
    if not isinstance(value, Sequence) or isinstance(value, str):
        raise InvalidRequest("`digest.categories` must be an array")
    categories: list[Json] = []
    for index, item in enumerate(value):
        where = f"digest.categories[{index}]"
        if not isinstance(item, Mapping):
            raise InvalidRequest(f"`{where}` must be an object")
        key = item.get("category_key")
        if not isinstance(key, str) or not key:
            raise InvalidRequest(f"`{where}.category_key` is required and must be a string")
        limit = item.get("limit", DEFAULT_CATEGORY_LIMIT)
        if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
            raise InvalidRequest(f"`{where}.limit` must be a positive whole number")
        retain = item.get("retain", "FIRST")
        if not isinstance(retain, str) or retain.upper() not in RETAIN:
            raise InvalidRequest(f"`{where}.retain` must be one of {', '.join(RETAIN)}")
        category: Json = {"category_key": key, "limit": limit, "retain": retain.upper()}
        sort_key = item.get("sort_key")
        if sort_key is not None:
            if not isinstance(sort_key, str) or not sort_key:
                raise InvalidRequest(f"`{where}.sort_key` must be a non-empty string")
            category["sort_key"] = sort_key
        elif category["retain"] in ("HIGHEST", "LOWEST"):
            raise InvalidRequest(f"`{where}.sort_key` is required to retain {retain.upper()}")
        categories.append(category)
    keys = [c["category_key"] for c in categories]
    if len(set(keys)) != len(keys):
        raise InvalidRequest("`digest.categories` names the same category_key more than once")
    return categories
