"""Typed views of Courier's preference and catalog JSON, parsed at the boundary."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from .errors import CourierMalformedResponse


class PreferenceStatus(StrEnum):
    """A user's subscription status for a topic, exactly as Courier spells it."""

    OPTED_IN = "OPTED_IN"
    OPTED_OUT = "OPTED_OUT"
    REQUIRED = "REQUIRED"


class ChannelClassification(StrEnum):
    """A delivery channel a user may route a topic to, exactly as Courier spells it."""

    DIRECT_MESSAGE = "direct_message"
    EMAIL = "email"
    PUSH = "push"
    SMS = "sms"
    WEBHOOK = "webhook"
    INBOX = "inbox"


def _status(value: Any) -> PreferenceStatus | None:
    # Old Courier docs spell statuses OPT_IN/OPT_OUT and Courier's own SDKs map unknown values
    # to "unknown": an unrecognised status must fall back to the topic default, not crash.
    try:
        return PreferenceStatus(value)
    except ValueError:
        return None


# A channel as Courier stores it: a ChannelClassification when we know the value, else the
# plain string. Courier added "inbox" in 2023 and may add more; a person's routing must survive
# a round trip through the page even when it names a channel this code has never heard of.
Channel = ChannelClassification | str


def channel_of(value: str) -> Channel:
    """Return the known channel for `value`, or `value` itself when it is new to us."""
    try:
        return ChannelClassification(value)
    except ValueError:
        return value


def _stored_channels(values: Any) -> tuple[Channel, ...]:
    """A person's routing as read: every string kept, known or not, in order, once each."""
    if not isinstance(values, list):
        return ()
    kept: list[Channel] = []
    for value in values:
        if isinstance(value, str) and value and value not in kept:
            kept.append(channel_of(value))
    return tuple(kept)


def _known_channels(values: Any) -> tuple[ChannelClassification, ...]:
    """Channels a section offers: only the ones the page can name (a label needs a known value)."""
    return tuple(c for c in _stored_channels(values) if isinstance(c, ChannelClassification))


def _object(value: Any) -> dict[str, Any]:
    """A free-form object Courier holds (a topic's `topic_data`); anything else reads as empty."""
    return dict(value) if isinstance(value, Mapping) else {}


def _text(data: Mapping[str, Any], key: str, *, required: bool = True) -> str:
    value = data.get(key)
    if isinstance(value, str):
        return value
    if value is None and not required:
        return ""
    raise CourierMalformedResponse(f"expected a string in {key!r}")


@dataclass(frozen=True)
class TopicPreference:
    """One user's preference for one topic, as Courier reports it."""

    topic_id: str
    topic_name: str
    status: PreferenceStatus | None
    default_status: PreferenceStatus | None
    has_custom_routing: bool
    custom_routing: tuple[Channel, ...]
    section_id: str = ""
    section_name: str = ""
    digest_schedule_id: str | None = None

    @property
    def required(self) -> bool:
        """Whether Courier holds this topic as REQUIRED for this person (a tenant may say so)."""
        return PreferenceStatus.REQUIRED in (self.status, self.default_status)

    @classmethod
    def from_api(cls, data: Any) -> TopicPreference:
        """Parse one list item; raise CourierMalformedResponse when it is not one."""
        if not isinstance(data, Mapping):
            raise CourierMalformedResponse("a topic preference is not an object")
        return cls(
            topic_id=_text(data, "topic_id"),
            topic_name=_text(data, "topic_name", required=False),
            status=_status(data.get("status")),
            default_status=_status(data.get("default_status")),
            # Courier may omit both routing fields when there is no custom routing.
            has_custom_routing=bool(data.get("has_custom_routing")),
            custom_routing=_stored_channels(data.get("custom_routing")),
            section_id=_text(data, "section_id", required=False),
            section_name=_text(data, "section_name", required=False),
            digest_schedule_id=_text(data, "digest_schedule_id", required=False) or None,
        )


WRITABLE_STATUSES = (PreferenceStatus.OPTED_IN, PreferenceStatus.OPTED_OUT)


class _Keep(StrEnum):
    """A write field left out of the body, so Courier keeps what it holds."""

    KEEP = "keep"


# `digest_schedule_id` of a write that leaves the person's digest choice alone. Unlike the
# routing fields, Courier keeps an omitted digest choice (SDK 9.13 write params), so this is
# every write's default: a write that does not mean to change the choice can never erase one.
KEEP_DIGEST = _Keep.KEEP


@dataclass(frozen=True)
class PreferenceUpdate:
    """The body of one topic write. Courier's PUT replaces routing, so all three go together.

    A write's status is OPTED_IN or OPTED_OUT only: REQUIRED is a topic default, never a
    person's choice, and Courier documents no write of it (SDK 9.13 write params).
    `digest_schedule_id` is KEEP_DIGEST (left out: the choice stays), None (sent as null: back
    to the topic's default schedule) or a schedule id.
    """

    status: PreferenceStatus
    has_custom_routing: bool = False
    custom_routing: tuple[Channel, ...] = ()
    # False for a write of the status alone: what a plan without channel choice accepts.
    with_routing: bool = True
    digest_schedule_id: str | None | _Keep = KEEP_DIGEST

    def __post_init__(self) -> None:
        if self.status not in WRITABLE_STATUSES:
            raise ValueError(f"a preference write cannot set status {self.status}")

    @property
    def writes_digest(self) -> bool:
        """Whether this write sets the person's digest choice (to a schedule, or to null)."""
        return self.digest_schedule_id is not KEEP_DIGEST

    def status_only(self) -> PreferenceUpdate:
        """The same write without routing fields (Courier then resets them).

        A digest choice stays in: a plan refusing channel choice says nothing about digests.
        """
        return PreferenceUpdate(
            self.status, with_routing=False, digest_schedule_id=self.digest_schedule_id
        )

    def to_api(self) -> dict[str, Any]:
        """Return the JSON body Courier expects, wrapped in "topic"."""
        topic: dict[str, Any] = {"status": self.status.value}
        if self.with_routing:
            topic["has_custom_routing"] = self.has_custom_routing
            topic["custom_routing"] = [str(channel) for channel in self.custom_routing]
        if self.writes_digest:
            topic["digest_schedule_id"] = self.digest_schedule_id
        return {"topic": topic}


@dataclass(frozen=True)
class TopicDefault:
    """A tenant's default for one topic: it replaces the workspace default for its people."""

    topic_id: str
    status: PreferenceStatus | None
    has_custom_routing: bool
    custom_routing: tuple[Channel, ...]

    @classmethod
    def from_api(cls, data: Any) -> TopicDefault:
        """Parse one `default_preferences.items` entry; raise CourierMalformedResponse."""
        if not isinstance(data, Mapping):
            raise CourierMalformedResponse("a tenant default is not an object")
        return cls(
            topic_id=_text(data, "id"),
            status=_status(data.get("status")),
            has_custom_routing=bool(data.get("has_custom_routing")),
            custom_routing=_stored_channels(data.get("custom_routing")),
        )


def parse_tenant_defaults(data: Any) -> dict[str, TopicDefault]:
    """Return a tenant's defaults by topic id from `GET /tenants/{id}`."""
    if not isinstance(data, Mapping):
        raise CourierMalformedResponse("a tenant is not an object")
    defaults = data.get("default_preferences") or {}
    if not isinstance(defaults, Mapping):
        raise CourierMalformedResponse("a tenant's default_preferences is not an object")
    items = defaults.get("items") or []
    if not isinstance(items, list):
        raise CourierMalformedResponse("a tenant's default preferences are not a list")
    parsed = [TopicDefault.from_api(item) for item in items]
    return {item.topic_id: item for item in parsed}


DIGEST_FREQUENCIES = ("instant", "daily", "weekdays", "weekly", "custom_days", "monthly")
DAYS_OF_WEEK = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_TIME = re.compile(r"(?:[01]\d|2[0-3]):[0-5]\d")


@dataclass(frozen=True)
class DigestSchedule:
    """One of a topic's digest schedules (SDK 9.13 TopicDigestScheduleResponse).

    `time` is "HH:MM" in `timezone` (an IANA name; "" when Courier gives none, which it
    documents as UTC); the day fields are those the frequency uses.
    """

    schedule_id: str
    frequency: str
    time: str = ""
    timezone: str = ""
    day_of_week: str = ""
    days_of_week: tuple[str, ...] = ()
    day_of_month: int = 0
    is_default: bool = False
    disabled: bool = False

    @classmethod
    def from_api(cls, data: Any) -> DigestSchedule | None:
        """Parse one schedule; None for one this code cannot describe to a person.

        A schedule with a frequency newer than this code, or missing the day or time its
        frequency needs, is left out of the page rather than failing it: the rest of the
        catalog is still good, and a person cannot choose what cannot be described.
        """
        if not isinstance(data, Mapping):
            return None
        schedule_id, frequency = data.get("schedule_id"), data.get("frequency")
        if (
            not isinstance(schedule_id, str)
            or not schedule_id
            or frequency not in DIGEST_FREQUENCIES
        ):
            return None
        time = data.get("time") if isinstance(data.get("time"), str) else ""
        if frequency != "instant" and not _TIME.fullmatch(time):
            return None
        days = data.get("days_of_week") if isinstance(data.get("days_of_week"), list) else []
        day_of_month = data.get("day_of_month")
        schedule = cls(
            schedule_id=schedule_id,
            frequency=frequency,
            time=time if frequency != "instant" else "",
            timezone=data.get("timezone") if isinstance(data.get("timezone"), str) else "",
            day_of_week=str(data.get("day_of_week") or "").lower(),
            days_of_week=tuple(str(day).lower() for day in days),
            day_of_month=day_of_month if type(day_of_month) is int else 0,
            is_default=data.get("is_default") is True,
            disabled=data.get("disabled") is True,
        )
        if not schedule._has_its_days():
            return None
        return schedule

    def _has_its_days(self) -> bool:
        if self.frequency == "weekly":
            return self.day_of_week in DAYS_OF_WEEK
        if self.frequency == "custom_days":
            return bool(self.days_of_week) and all(d in DAYS_OF_WEEK for d in self.days_of_week)
        if self.frequency == "monthly":
            return 1 <= self.day_of_month <= 31
        return True


def _digest_schedules(data: Mapping[str, Any]) -> tuple[DigestSchedule, ...]:
    """A catalog topic's digest schedules a person may be put on: the describable, active ones."""
    digest = data.get("digest")
    if not isinstance(digest, Mapping) or not isinstance(digest.get("schedules"), list):
        return ()
    parsed = (DigestSchedule.from_api(item) for item in digest["schedules"])
    return tuple(s for s in parsed if s is not None and not s.disabled)


@dataclass(frozen=True)
class CatalogTopic:
    """A subscription topic defined in the workspace catalog."""

    id: str
    name: str
    description: str
    # None when the catalog does not say (or says something unknown): never guessed.
    default_status: PreferenceStatus | None
    # The topic's custom data, free-form in Courier; the page reads translated names from it
    # (page/names.py). Not part of which topic this is, so not compared.
    topic_data: Mapping[str, Any] = field(default_factory=dict, compare=False)
    # The topic's active digest schedules, in the catalog's order; none without a digest.
    digest_schedules: tuple[DigestSchedule, ...] = ()

    @classmethod
    def from_api(cls, data: Any) -> CatalogTopic:
        """Parse one catalog topic; raise CourierMalformedResponse when it is not one."""
        if not isinstance(data, Mapping):
            raise CourierMalformedResponse("a catalog topic is not an object")
        return cls(
            id=_text(data, "id"),
            name=_text(data, "name", required=False) or _text(data, "id"),
            description=_text(data, "description", required=False),
            default_status=_status(data.get("default_status")),
            topic_data=_object(data.get("topic_data")),
            digest_schedules=_digest_schedules(data),
        )


@dataclass(frozen=True)
class Section:
    """A catalog section: a heading, its topics, and the channels its topics may use."""

    id: str
    name: str
    description: str
    has_custom_routing: bool
    routing_options: tuple[ChannelClassification, ...]
    topics: tuple[CatalogTopic, ...]

    @property
    def offers_channel_choice(self) -> bool:
        """Whether people may pick channels for this section's topics."""
        return self.has_custom_routing and bool(self.routing_options)

    @classmethod
    def from_api(cls, data: Any) -> Section:
        """Parse one catalog section; raise CourierMalformedResponse when it is not one."""
        if not isinstance(data, Mapping):
            raise CourierMalformedResponse("a section is not an object")
        topics = data.get("topics") or []
        if not isinstance(topics, list):
            raise CourierMalformedResponse("a section's topics are not a list")
        return cls(
            id=_text(data, "id"),
            name=_text(data, "name", required=False),
            description=_text(data, "description", required=False),
            has_custom_routing=bool(data.get("has_custom_routing")),
            routing_options=_known_channels(data.get("routing_options")),
            topics=tuple(CatalogTopic.from_api(topic) for topic in topics),
        )


@dataclass(frozen=True)
class LoggedValue:
    """A topic's status and routing as Courier's change log records it (before or after)."""

    status: PreferenceStatus | None
    has_custom_routing: bool
    custom_routing: tuple[Channel, ...]

    @classmethod
    def from_api(cls, data: Any) -> LoggedValue:
        """Parse a PreferenceChangeLogValue; raise CourierMalformedResponse when it is not one."""
        if not isinstance(data, Mapping):
            raise CourierMalformedResponse("a logged preference value is not an object")
        has_custom_routing = bool(data.get("has_custom_routing"))
        return cls(
            status=_status(data.get("status")),
            has_custom_routing=has_custom_routing,
            # Channels are "present only when has_custom_routing is true".
            custom_routing=_stored_channels(data.get("custom_routing"))
            if has_custom_routing
            else (),
        )


@dataclass(frozen=True)
class PreferenceChange:
    """One entry of Courier's preference change log (`GET /preferences/logs`)."""

    id: str
    user_id: str
    tenant_id: str | None
    topic_id: str
    topic_name: str
    timestamp: datetime
    current: LoggedValue
    # None when the person had no choice of their own before: the topic's default applied.
    previous: LoggedValue | None

    @classmethod
    def from_api(cls, data: Any) -> PreferenceChange:
        """Parse a PreferenceChangeLogEntry; raise CourierMalformedResponse when it is not one."""
        if not isinstance(data, Mapping):
            raise CourierMalformedResponse("a change log entry is not an object")
        previous = data.get("previous")
        return cls(
            id=_text(data, "id", required=False),
            user_id=_text(data, "user_id"),
            tenant_id=_text(data, "tenant_id", required=False) or None,
            topic_id=_text(data, "topic_id"),
            topic_name=_text(data, "topic_name", required=False),
            timestamp=_timestamp(data.get("timestamp")),
            current=LoggedValue.from_api(data),
            previous=None if previous is None else LoggedValue.from_api(previous),
        )


@dataclass(frozen=True)
class ChangeLogPage:
    """One page of the change log, newest first, and the cursor to the next (older) one."""

    items: tuple[PreferenceChange, ...]
    more: bool
    cursor: str | None

    @classmethod
    def from_api(cls, data: Any) -> ChangeLogPage:
        """Parse a PreferenceLogsListResponse; raise CourierMalformedResponse."""
        items = parse_list(data, "items", PreferenceChange.from_api)
        paging = data.get("paging") or {}
        if not isinstance(paging, Mapping):
            raise CourierMalformedResponse("a change log's paging is not an object")
        cursor = paging.get("cursor")
        more = bool(paging.get("more")) and isinstance(cursor, str) and bool(cursor)
        return cls(items=tuple(items), more=more, cursor=cursor if more else None)


def _timestamp(value: Any) -> datetime:
    """An ISO 8601 time from Courier, as an aware datetime (UTC when it names no zone)."""
    if not isinstance(value, str):
        raise CourierMalformedResponse("expected a timestamp string")
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError as exc:
        raise CourierMalformedResponse(f"not an ISO 8601 timestamp: {value[:40]!r}") from exc
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def parse_list(data: Any, key: str, parse: Any) -> list[Any]:
    """Parse `data[key]` as a list of items with `parse`; raise CourierMalformedResponse."""
    if not isinstance(data, Mapping) or not isinstance(data.get(key), list):
        raise CourierMalformedResponse(f"expected a list in {key!r}")
    items: Iterable[Any] = data[key]
    return [parse(item) for item in items]
