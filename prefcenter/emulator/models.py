"""Plain value objects passed from request validation to the store (no Flask, no SQL)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

PREFERENCE_STATUSES: tuple[str, ...] = ("OPTED_IN", "OPTED_OUT", "REQUIRED")
# The bulk endpoints narrow the write status (SDK: Literal["OPTED_IN", "OPTED_OUT"]).
BULK_STATUSES: tuple[str, ...] = ("OPTED_IN", "OPTED_OUT")
CHANNELS: tuple[str, ...] = ("direct_message", "email", "push", "sms", "webhook", "inbox")
ALLOWED_PREFERENCES: tuple[str, ...] = ("snooze", "channel_preferences")
MAX_BULK_TOPICS = 50


@dataclass(frozen=True)
class PreferenceWrite:
    """A user's choice for one topic, as written by PUT or a bulk entry."""

    status: str
    has_custom_routing: bool = False
    custom_routing: tuple[str, ...] = ()


@dataclass(frozen=True)
class BulkEntry:
    """One entry of a bulk request: a valid write, or the reason it is invalid."""

    topic_id: str
    write: PreferenceWrite | None = None
    error: str | None = None


@dataclass(frozen=True)
class SectionInput:
    """The writable fields of a workspace section (full replacement semantics)."""

    name: str
    description: str | None = None
    has_custom_routing: bool = False
    routing_options: tuple[str, ...] = ()


@dataclass(frozen=True)
class TopicInput:
    """The writable fields of a workspace topic (full replacement semantics)."""

    name: str
    default_status: str
    description: str | None = None
    allowed_preferences: tuple[str, ...] = ()
    include_unsubscribe_header: bool = False
    routing_options: tuple[str, ...] = ()
    topic_data: dict[str, Any] = field(default_factory=dict)
