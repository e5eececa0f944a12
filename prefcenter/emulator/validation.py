"""Turn decoded JSON request bodies into model objects, or raise Courier-style 400s."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .errors import InvalidRequest
from .models import (
    ALLOWED_PREFERENCES,
    BULK_STATUSES,
    CHANNELS,
    MAX_BULK_TOPICS,
    PREFERENCE_STATUSES,
    BulkEntry,
    PreferenceWrite,
    SectionInput,
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


def parse_preference_write(
    value: object, where: str, statuses: Sequence[str] = PREFERENCE_STATUSES
) -> PreferenceWrite:
    """Validate a ``topic`` write object (status plus routing); omitted routing is reset."""
    obj = require_object(value, where)
    status = _enum(obj.get("status"), statuses, f"{where}.status")
    return PreferenceWrite(
        status=status,
        # Courier's PUT replaces the routing fields, so omission means "no custom routing".
        has_custom_routing=_optional_bool(obj, "has_custom_routing", where),
        custom_routing=_enum_list(obj, "custom_routing", CHANNELS, where),
    )


def parse_user_topic_put(body: object) -> PreferenceWrite:
    """Validate the body of ``PUT /users/{id}/preferences/{topic_id}``."""
    obj = require_object(body, "request body")
    write = parse_preference_write(obj.get("topic"), "topic")
    schedule = obj["topic"].get("digest_schedule_id")
    if schedule is not None:
        # Courier rejects an id that is not an active schedule on the topic with a 400 before
        # writing anything; the emulator keeps no digest schedules, so every id is inactive.
        raise InvalidRequest(
            f"`topic.digest_schedule_id` {schedule!r} is not an active digest schedule "
            "on this topic"
        )
    return write


def parse_bulk_entries(body: object, *, min_items: int) -> list[BulkEntry]:
    """Validate a bulk body: structural faults raise 400, per-topic faults become entry errors."""
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
            write = parse_preference_write(item, where, BULK_STATUSES)
        except InvalidRequest as exc:
            entries.append(BulkEntry(topic_id=topic_id, error=exc.message))
        else:
            entries.append(BulkEntry(topic_id=topic_id, write=write))
    return entries


def parse_section(body: object) -> SectionInput:
    """Validate a section create/replace body; omitted optional fields are cleared."""
    obj = require_object(body, "request body")
    return SectionInput(
        name=_required_name(obj, "body"),
        description=_optional_str(obj, "description", "body"),
        has_custom_routing=_optional_bool(obj, "has_custom_routing", "body"),
        routing_options=_enum_list(obj, "routing_options", CHANNELS, "body"),
    )


def parse_topic(body: object) -> TopicInput:
    """Validate a topic create/replace body; omitted optional fields are cleared."""
    obj = require_object(body, "request body")
    if obj.get("digest") is not None:
        # Digest configuration (templates, schedules) is out of the emulator's scope; refusing it
        # loudly beats silently dropping a config a caller expects to be stored.
        raise InvalidRequest("`digest` configuration is not supported by the Courier emulator")
    topic_data = obj.get("topic_data")
    if topic_data is not None and not isinstance(topic_data, dict):
        raise InvalidRequest("`body.topic_data` must be an object or null")
    return TopicInput(
        name=_required_name(obj, "body"),
        default_status=_enum(obj.get("default_status"), PREFERENCE_STATUSES, "body.default_status"),
        description=_optional_str(obj, "description", "body"),
        allowed_preferences=_enum_list(obj, "allowed_preferences", ALLOWED_PREFERENCES, "body"),
        include_unsubscribe_header=_optional_bool(obj, "include_unsubscribe_header", "body"),
        routing_options=_enum_list(obj, "routing_options", CHANNELS, "body"),
        topic_data=dict(topic_data or {}),
    )
