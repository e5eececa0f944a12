"""One change to one topic, and the sentence that says what it did, whoever recorded it.

Two records tell of a person's changes: Courier's change log (an entry's `previous` and its
current value) and our consent record (a line's `old` and `new`). Both are turned into a
`Change` here and said by one function, `describe`, so the same change reads the same
wherever it was recorded.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from flask_babel import gettext

from ..courier import (
    Channel,
    ChannelClassification,
    LoggedValue,
    PreferenceChange,
    PreferenceStatus,
    channel_of,
)
from ..platform.i18n import and_list
from .labels import channel_label


@dataclass(frozen=True)
class Setting:
    """A topic as one side of a change left it: on or off, and the channels chosen, if any."""

    on: bool | None  # None: a status this code does not know
    has_custom_routing: bool
    # Only when has_custom_routing: Courier's log keeps channels "only when" it is true.
    channels: frozenset[Channel]

    @classmethod
    def of(
        cls, status: PreferenceStatus | str | None, has_custom_routing: bool, channels: Any
    ) -> Setting:
        """The setting for Courier's three routing fields (a REQUIRED topic is on)."""
        on = {
            PreferenceStatus.OPTED_IN: True,
            PreferenceStatus.REQUIRED: True,
            PreferenceStatus.OPTED_OUT: False,
        }.get(status)  # type: ignore[call-overload]
        kept: frozenset[Channel] = frozenset()
        if has_custom_routing and isinstance(channels, list | tuple):
            kept = frozenset(channel_of(c) for c in channels if isinstance(c, str) and c)
        return cls(on=on, has_custom_routing=has_custom_routing, channels=kept)

    @classmethod
    def logged(cls, value: LoggedValue) -> Setting:
        """A value from Courier's change log."""
        return cls.of(value.status, value.has_custom_routing, list(value.custom_routing))

    @classmethod
    def recorded(cls, value: Any) -> Setting:
        """An `old` or `new` from a consent record; ValueError when it is not one."""
        if not isinstance(value, Mapping) or not isinstance(value.get("status"), str):
            raise ValueError("not a consent record's topic state")
        status = _known_status(value["status"])
        return cls.of(status, bool(value.get("has_custom_routing")), value.get("channels"))


def _known_status(value: str) -> PreferenceStatus | None:
    try:
        return PreferenceStatus(value)
    except ValueError:
        return None


@dataclass(frozen=True)
class Change:
    """What one change did to one topic for one person, and when."""

    topic_id: str
    topic_name: str
    at: datetime
    after: Setting
    # None when the record does not say what came before (Courier's log entry without
    # `previous`: the topic's default applied; see `with_default`).
    before: Setting | None
    tenant_id: str | None = None

    @classmethod
    def from_log(cls, entry: PreferenceChange) -> Change:
        """The change a Courier change-log entry tells of."""
        return cls(
            topic_id=entry.topic_id,
            topic_name=entry.topic_name or entry.topic_id,
            at=entry.timestamp,
            after=Setting.logged(entry.current),
            before=None if entry.previous is None else Setting.logged(entry.previous),
            tenant_id=entry.tenant_id,
        )

    @classmethod
    def from_consent(cls, record: Mapping[str, Any]) -> Change:
        """The change a consent record (one parsed JSON line) tells of; ValueError if none."""
        topic_id, at = record.get("topic_id"), record.get("at")
        if not isinstance(topic_id, str) or not topic_id or not isinstance(at, str):
            raise ValueError("not a consent record of a preference change")
        moment = datetime.fromisoformat(at)
        if moment.tzinfo is None:
            raise ValueError("a consent record's time names no zone")
        name = record.get("topic_name")
        tenant = record.get("tenant_id")
        return cls(
            topic_id=topic_id,
            topic_name=name if isinstance(name, str) and name else topic_id,
            at=moment,
            after=Setting.recorded(record.get("new")),
            before=Setting.recorded(record.get("old")),
            tenant_id=tenant if isinstance(tenant, str) and tenant else None,
        )

    def with_default(self, default: PreferenceStatus | None) -> Change:
        """Fill an unknown `before` with the topic's default, which is what applied then.

        Courier's log leaves out `previous` when the person had made no choice of their own;
        our consent record writes what the page read, which was that default. Filled in, both
        records of one change read the same.
        """
        if self.before is not None or default is None:
            return self
        return replace(self, before=Setting.of(default, False, ()))


def describe(change: Change) -> str:
    """Say in a sentence, in the page's language, what the change did."""
    topic = change.topic_name
    before, after = change.before, change.after
    if after.on is None:
        return gettext("Changed “%(topic)s”", topic=topic)
    status_changed = before is None or before.on != after.on
    routing_changed = before is None or (
        (before.has_custom_routing, before.channels) != (after.has_custom_routing, after.channels)
    )
    # Whole sentences, one per case, so each language can word them its own way. Channels are
    # named only for a topic that is on: they say nothing about one that is off.
    if status_changed:
        if not after.on:
            return gettext("Turned off “%(topic)s”", topic=topic)
        if after.has_custom_routing and after.channels:
            return gettext(
                "Turned on “%(topic)s”, by %(channels)s", topic=topic, channels=_names(after)
            )
        return gettext("Turned on “%(topic)s”", topic=topic)
    if not routing_changed:
        if after.on:
            return gettext("Kept “%(topic)s” on", topic=topic)
        return gettext("Kept “%(topic)s” off", topic=topic)
    if not after.on:
        return gettext("Changed the channels of “%(topic)s”, which stays off", topic=topic)
    if not after.has_custom_routing:
        return gettext("“%(topic)s” now by its usual channels", topic=topic)
    if after.channels:
        return gettext("“%(topic)s” now by %(channels)s", topic=topic, channels=_names(after))
    return gettext("“%(topic)s” now by no channel", topic=topic)


def _names(setting: Setting) -> str:
    """The setting's channels as a phrase, known ones by name in a steady order."""
    known = [c for c in ChannelClassification if c in setting.channels]
    new = sorted(str(c) for c in setting.channels if not isinstance(c, ChannelClassification))
    return and_list([channel_label(c) for c in known] + new)
