"""Plain value objects passed from request validation to the store (no Flask, no SQL)."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import Any

PREFERENCE_STATUSES: tuple[str, ...] = ("OPTED_IN", "OPTED_OUT", "REQUIRED")
# The bulk endpoints narrow the write status (SDK: Literal["OPTED_IN", "OPTED_OUT"]).
BULK_STATUSES: tuple[str, ...] = ("OPTED_IN", "OPTED_OUT")
CHANNELS: tuple[str, ...] = ("direct_message", "email", "push", "sms", "webhook", "inbox")
ALLOWED_PREFERENCES: tuple[str, ...] = ("snooze", "channel_preferences")
MAX_BULK_TOPICS = 50
# Courier's message for routing writes on a plan without channel delivery customization.
PLAN_WITHOUT_CHANNELS = "Channel delivery customization is not available for your plan"


class Keep(Enum):
    """Marker for a write field that was left out: keep what is stored."""

    KEEP = "keep"


KEEP = Keep.KEEP


@dataclass(frozen=True)
class PreferenceWrite:
    """A user's choice for one topic, as written by PUT or a bulk entry."""

    status: str
    has_custom_routing: bool = False
    custom_routing: tuple[str, ...] = ()
    # Unlike the routing fields, an omitted digest choice is kept; None clears it.
    digest_schedule_id: str | None | Keep = KEEP


@dataclass(frozen=True)
class BulkEntry:
    """One entry of a bulk request: a valid write, or the reason it is invalid."""

    topic_id: str
    write: PreferenceWrite | None = None
    error: str | None = None
    # The error is the plan's 402, which fails an atomic request as a 402 rather than a 400.
    plan_refused: bool = False


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
    # As written: TopicDigestRequest (create needs `schedules`); None means no digest.
    digest: dict[str, Any] | None = None


@dataclass(frozen=True)
class TenantDefault:
    """A tenant's default preference for one topic (may be REQUIRED, unlike a user's)."""

    topic_id: str
    status: str
    has_custom_routing: bool = False
    custom_routing: tuple[str, ...] = ()


@dataclass(frozen=True)
class TenantInput:
    """The writable fields of a tenant (full replacement semantics)."""

    name: str
    parent_tenant_id: str | None = None
    brand_id: str | None = None
    properties: dict[str, Any] | None = None
    user_profile: dict[str, Any] | None = None
    default_preferences: tuple[TenantDefault, ...] = ()
