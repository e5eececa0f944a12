"""Digest schedules in the page's language, and which one "less often" offers.

Courier describes a schedule by frequency, day, time and timezone; a person reads "Weekly on
Monday at 9:00 AM (Europe/Berlin)". Day names, times and lists come from Babel in the page's
locale; the sentences around them are ours, one per frequency, so each language words its own.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable

from babel.dates import format_time, get_day_names
from babel.lists import format_list
from flask_babel import get_locale, gettext

from ..courier import DigestSchedule
from ..courier.models import DAYS_OF_WEEK

# Roughly how many digests a month each frequency sends, to tell which is least often. An
# instant schedule sends every message as it comes, so it is more often than any other.
_PER_MONTH = {"instant": 10_000.0, "daily": 30.0, "weekdays": 22.0, "weekly": 4.3, "monthly": 1.0}


def schedule_label(schedule: DigestSchedule) -> str:
    """Say when a schedule sends, in the page's language: "Daily at 09:00 (Europe/Berlin)"."""
    if schedule.frequency == "instant":
        return gettext("As it happens")
    time = _time(schedule.time)
    if schedule.frequency == "daily":
        when = gettext("Daily at %(time)s", time=time)
    elif schedule.frequency == "weekdays":
        when = gettext("Every weekday at %(time)s", time=time)
    elif schedule.frequency == "weekly":
        when = gettext("Weekly on %(day)s at %(time)s", day=_day(schedule.day_of_week), time=time)
    elif schedule.frequency == "custom_days":
        days = format_list(
            [_day(d) for d in _in_week_order(schedule.days_of_week)], locale=_locale()
        )
        when = gettext("Every %(days)s at %(time)s", days=days, time=time)
    else:
        when = gettext("Monthly on day %(day)s at %(time)s", day=schedule.day_of_month, time=time)
    # Courier documents a schedule without a timezone as UTC; say so rather than leave the
    # person to guess whose 9 o'clock it is.
    return gettext("%(when)s (%(timezone)s)", when=when, timezone=schedule.timezone or "UTC")


def less_often_action(schedule: DigestSchedule) -> str:
    """The button keeping a topic on this schedule instead of leaving: "Get it weekly instead"."""
    if schedule.frequency == "monthly":
        return gettext("Get it monthly instead")
    if schedule.frequency == "weekly":
        return gettext("Get it weekly instead")
    if schedule.frequency == "daily":
        return gettext("Get it once a day instead")
    if schedule.frequency == "weekdays":
        return gettext("Get it once each weekday instead")
    return gettext("Get it on fewer days instead")


def default_schedule(schedules: Iterable[DigestSchedule]) -> DigestSchedule | None:
    """The schedule people who have not chosen are on (Courier's `is_default`), if one is marked."""
    return next((s for s in schedules if s.is_default), None)


def effective_schedule(
    schedules: tuple[DigestSchedule, ...], chosen_id: str | None
) -> DigestSchedule | None:
    """The schedule a person is on: their choice while it is active, else the default."""
    chosen = next((s for s in schedules if s.schedule_id == chosen_id), None)
    return chosen or default_schedule(schedules)


def less_often_offer(
    schedules: tuple[DigestSchedule, ...], chosen_id: str | None
) -> DigestSchedule | None:
    """The schedule to offer someone about to leave a topic, or None when there is none.

    "Weekly instead" is the idea, but a topic may have several weekly schedules, or none: the
    offer is the topic's least frequent active schedule (the first of equals, in Courier's
    order), and only when it is less often than what the person gets now. With no default
    marked and no choice made, what they get now is unknown, so the offer stands.
    """
    if not schedules:
        return None
    rarest = min(schedules, key=sends_per_month)
    now = effective_schedule(schedules, chosen_id)
    if now is not None and sends_per_month(now) <= sends_per_month(rarest):
        return None
    return rarest


def sends_per_month(schedule: DigestSchedule) -> float:
    """About how many digests a month the schedule sends."""
    if schedule.frequency == "custom_days":
        return 4.3 * len(set(schedule.days_of_week))
    return _PER_MONTH[schedule.frequency]


def _locale() -> str:
    return str(get_locale() or "en")


def _time(value: str) -> str:
    hours, minutes = (int(part) for part in value.split(":"))
    return format_time(datetime.time(hours, minutes), "short", locale=_locale())


def _day(name: str) -> str:
    # Babel numbers the days from Monday (0), as DAYS_OF_WEEK lists them.
    return get_day_names("wide", locale=_locale())[DAYS_OF_WEEK.index(name)]


def _in_week_order(days: Iterable[str]) -> list[str]:
    return sorted(set(days), key=DAYS_OF_WEEK.index)
