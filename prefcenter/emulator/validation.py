"""Turn decoded JSON request bodies into model objects, or raise Courier-style 400s."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime
from typing import Any

from .behaviours import Behaviours
from .errors import InvalidRequest, PaymentRequired
from .history import DEFAULT_LOG_LIMIT
from .ids import iso
from .models import (
    ALLOWED_PREFERENCES,
    BULK_STATUSES,
    CHANNELS,
    KEEP,
    MAX_BULK_TOPICS,
    PLAN_WITHOUT_CHANNELS,
    PREFERENCE_STATUSES,
    BulkEntry,
    Keep,
    PreferenceWrite,
    SectionInput,
    TenantDefault,
    TenantInput,
    TopicInput,
)


def _one_of(values: Sequence[str]) -> str:
    """Render an enum for an error message."""
    return ", ".join(values)


def require_object(value: object, where: str) -> dict[str, Any]:
    """Return ``value`` if it is a JSON object, else raise a 400 naming ``where``."""
    if not isinstance(value, dict):
        raise InvalidRequest(f"`{where}` is required and must be a JSON object")
    return value


def _optional_bool(obj: dict[str, Any], key: str, where: str) -> bool:
    """Read an optional nullable boolean; absent or null reads as False."""
    value = obj.get(key)
    if value is None:
        return False
    if not isinstance(value, bool):
        raise InvalidRequest(f"`{where}.{key}` must be a boolean or null")
    return value


def _optional_str(obj: dict[str, Any], key: str, where: str) -> str | None:
    """Read an optional nullable string."""
    value = obj.get(key)
    if value is not None and not isinstance(value, str):
        raise InvalidRequest(f"`{where}.{key}` must be a string or null")
    return value


def _required_name(obj: dict[str, Any], where: str) -> str:
    """Read a required, non-blank ``name``."""
    name = obj.get("name")
    if not isinstance(name, str) or not name.strip():
        raise InvalidRequest(f"`{where}.name` is required and must be a non-empty string")
    return name


def _enum(value: object, allowed: Sequence[str], what: str) -> str:
    """Check one enum value."""
    if not isinstance(value, str) or value not in allowed:
        raise InvalidRequest(f"`{what}` must be one of {_one_of(allowed)}; got {value!r}")
    return value


def _enum_list(
    obj: dict[str, Any], key: str, allowed: Sequence[str], where: str
) -> tuple[str, ...]:
    """Read an optional nullable list of enum values; absent or null reads as empty."""
    value = obj.get(key)
    if value is None:
        return ()
    if not isinstance(value, list):
        raise InvalidRequest(f"`{where}.{key}` must be an array or null")
    for index, item in enumerate(value):
        _enum(item, allowed, f"{where}.{key}[{index}]")
    return tuple(value)


def _optional_object(obj: dict[str, Any], key: str, where: str) -> dict[str, Any] | None:
    """Read an optional nullable JSON object."""
    value = obj.get(key)
    if value is not None and not isinstance(value, dict):
        raise InvalidRequest(f"`{where}.{key}` must be an object or null")
    return value


def needs_channel_plan(obj: Mapping[str, Any], behaviours: Behaviours) -> bool:
    """True when a plan without channel customization refuses this write with a 402."""
    if behaviours.channel_customization:
        return False
    if obj.get("has_custom_routing") is True:
        return True
    if behaviours.routing_402_trigger == "field":
        return "custom_routing" in obj
    return bool(obj.get("custom_routing"))


def parse_preference_write(
    value: object,
    where: str,
    statuses: Sequence[str] = PREFERENCE_STATUSES,
    channels: Sequence[str] = CHANNELS,
) -> PreferenceWrite:
    """Validate a ``topic`` write object (status plus routing); omitted routing is reset."""
    obj = require_object(value, where)
    status = _enum(obj.get("status"), statuses, f"{where}.status")
    return PreferenceWrite(
        status=status,
        # Courier's PUT replaces the routing fields, so omission means "no custom routing".
        has_custom_routing=_optional_bool(obj, "has_custom_routing", where),
        custom_routing=_enum_list(obj, "custom_routing", channels, where),
    )


def _digest_choice(obj: dict[str, Any]) -> str | None | Keep:
    """The write's ``digest_schedule_id``: KEEP when omitted, None (clear) when null."""
    if "digest_schedule_id" not in obj:
        return KEEP
    value = obj["digest_schedule_id"]
    if value is not None and (not isinstance(value, str) or not value):
        raise InvalidRequest("`topic.digest_schedule_id` must be a schedule id or null")
    return value


def parse_user_topic_put(body: object, behaviours: Behaviours | None = None) -> PreferenceWrite:
    """Validate the body of ``PUT /users/{id}/preferences/{topic_id}``.

    Raises InvalidRequest for a malformed body, then PaymentRequired for routing the plan
    does not allow.
    """
    behaviours = behaviours or Behaviours()
    obj = require_object(body, "request body")
    write = parse_preference_write(
        obj.get("topic"), "topic", PREFERENCE_STATUSES, behaviours.channels
    )
    topic = obj["topic"]
    write = PreferenceWrite(
        write.status, write.has_custom_routing, write.custom_routing, _digest_choice(topic)
    )
    if needs_channel_plan(topic, behaviours):
        raise PaymentRequired(PLAN_WITHOUT_CHANNELS)
    return write


def parse_bulk_entries(
    body: object, *, min_items: int, behaviours: Behaviours | None = None
) -> list[BulkEntry]:
    """Validate a bulk body: structural faults raise 400, per-topic faults become entry errors."""
    behaviours = behaviours or Behaviours()
    obj = require_object(body, "request body")
    topics = obj.get("topics")
    if not isinstance(topics, list):
        raise InvalidRequest("`topics` is required and must be an array")
    if not min_items <= len(topics) <= MAX_BULK_TOPICS:
        raise InvalidRequest(
            f"`topics` must contain between {min_items} and {MAX_BULK_TOPICS} topics; "
            f"got {len(topics)}"
        )
    entries: list[BulkEntry] = []
    for index, item in enumerate(topics):
        where = f"topics[{index}]"
        # An entry without a usable topic_id cannot be reported in `errors` (whose topic_id is a
        # required string), so it fails the whole request as a schema error instead.
        require_object(item, where)
        topic_id = item.get("topic_id")
        if not isinstance(topic_id, str) or not topic_id:
            raise InvalidRequest(f"`{where}.topic_id` is required and must be a non-empty string")
        try:
            write = parse_preference_write(item, where, BULK_STATUSES, behaviours.channels)
        except InvalidRequest as exc:
            entries.append(BulkEntry(topic_id=topic_id, error=exc.message))
        else:
            if needs_channel_plan(item, behaviours):
                entries.append(
                    BulkEntry(topic_id=topic_id, error=PLAN_WITHOUT_CHANNELS, plan_refused=True)
                )
            else:
                entries.append(BulkEntry(topic_id=topic_id, write=write))
    return entries


def parse_section(body: object, channels: Sequence[str] = CHANNELS) -> SectionInput:
    """Validate a section create/replace body; omitted optional fields are cleared."""
    obj = require_object(body, "request body")
    return SectionInput(
        name=_required_name(obj, "body"),
        description=_optional_str(obj, "description", "body"),
        has_custom_routing=_optional_bool(obj, "has_custom_routing", "body"),
        routing_options=_enum_list(obj, "routing_options", channels, "body"),
    )


def parse_topic(body: object, channels: Sequence[str] = CHANNELS) -> TopicInput:
    """Validate a topic create/replace body; omitted optional fields (digest too) are cleared."""
    obj = require_object(body, "request body")
    topic_data = _optional_object(obj, "topic_data", "body")
    # The digest's own rules need the stored digest (an omitted `schedules` keeps it), so the
    # store checks the rest, before it writes anything.
    digest = _optional_object(obj, "digest", "body")
    return TopicInput(
        name=_required_name(obj, "body"),
        default_status=_enum(obj.get("default_status"), PREFERENCE_STATUSES, "body.default_status"),
        description=_optional_str(obj, "description", "body"),
        allowed_preferences=_enum_list(obj, "allowed_preferences", ALLOWED_PREFERENCES, "body"),
        include_unsubscribe_header=_optional_bool(obj, "include_unsubscribe_header", "body"),
        routing_options=_enum_list(obj, "routing_options", channels, "body"),
        topic_data=dict(topic_data or {}),
        digest=digest,
    )


def parse_tenant_default(
    value: object, where: str, topic_id: str, channels: Sequence[str] = CHANNELS
) -> TenantDefault:
    """Validate a SubscriptionTopicNew (not wrapped in ``topic``); REQUIRED is allowed."""
    obj = require_object(value, where)
    return TenantDefault(
        topic_id=topic_id,
        status=_enum(obj.get("status"), PREFERENCE_STATUSES, f"{where}.status"),
        has_custom_routing=_optional_bool(obj, "has_custom_routing", where),
        custom_routing=_enum_list(obj, "custom_routing", channels, where),
    )


def parse_tenant(body: object, channels: Sequence[str] = CHANNELS) -> TenantInput:
    """Validate a tenant create-or-replace body; omitted optional fields are cleared."""
    obj = require_object(body, "request body")
    preferences = _optional_object(obj, "default_preferences", "body") or {}
    items = preferences.get("items")
    if items is not None and not isinstance(items, list):
        raise InvalidRequest("`body.default_preferences.items` must be an array or null")
    defaults: list[TenantDefault] = []
    for index, item in enumerate(items or []):
        where = f"default_preferences.items[{index}]"
        topic_id = require_object(item, where).get("id")
        if not isinstance(topic_id, str) or not topic_id:
            raise InvalidRequest(f"`{where}.id` is required and must be a topic id")
        defaults.append(parse_tenant_default(item, where, topic_id, channels))
    return TenantInput(
        name=_required_name(obj, "body"),
        parent_tenant_id=_optional_str(obj, "parent_tenant_id", "body") or None,
        brand_id=_optional_str(obj, "brand_id", "body"),
        properties=_optional_object(obj, "properties", "body"),
        user_profile=_optional_object(obj, "user_profile", "body"),
        default_preferences=tuple(defaults),
    )


def _since(value: str) -> str:
    """An ISO-8601 date or date-time as the log's timestamp format; a date is its UTC midnight."""
    try:
        if len(value) == 10:
            day = date.fromisoformat(value)
            moment = datetime(day.year, day.month, day.day, tzinfo=UTC)
        else:
            moment = datetime.fromisoformat(value)
    except ValueError:
        raise InvalidRequest("`since` must be an ISO-8601 date or date-time") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return iso(moment)


def parse_log_query(args: Mapping[str, str]) -> dict[str, Any]:
    """Validate the query of ``GET /preferences/logs`` into ``Store.change_log`` arguments."""
    limit = args.get("limit")
    try:
        count = DEFAULT_LOG_LIMIT if limit is None else int(limit)
    except ValueError:
        raise InvalidRequest("`limit` must be a whole number") from None
    since = args.get("since")
    return {
        "user_id": args.get("user_id") or None,
        "tenant_id": args.get("tenant_id") or None,
        "since": None if not since else _since(since),
        "limit": count,
        "cursor": args.get("cursor") or None,
    }
