"""Typed views of Courier's preference and catalog JSON, parsed at the boundary."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
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


def _channels(values: Any) -> tuple[ChannelClassification, ...]:
    # Unknown channel names are dropped rather than fatal: Courier added "inbox" in 2023 and
    # may add more; the page can only offer the ones it knows.
    if not isinstance(values, list):
        return ()
    known = []
    for value in values:
        try:
            channel = ChannelClassification(value)
        except ValueError:
            continue
        if channel not in known:
            known.append(channel)
    return tuple(known)


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
    custom_routing: tuple[ChannelClassification, ...]
    section_id: str = ""
    section_name: str = ""

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
            custom_routing=_channels(data.get("custom_routing")),
            section_id=_text(data, "section_id", required=False),
            section_name=_text(data, "section_name", required=False),
        )


@dataclass(frozen=True)
class PreferenceUpdate:
    """The body of one topic write. Courier's PUT replaces routing, so all three go together."""

    status: PreferenceStatus
    has_custom_routing: bool
    custom_routing: tuple[ChannelClassification, ...]

    def to_api(self) -> dict[str, Any]:
        """Return the JSON body Courier expects, wrapped in "topic"."""
        return {
            "topic": {
                "status": self.status.value,
                "has_custom_routing": self.has_custom_routing,
                "custom_routing": [channel.value for channel in self.custom_routing],
            }
        }


@dataclass(frozen=True)
class CatalogTopic:
    """A subscription topic defined in the workspace catalog."""

    id: str
    name: str
    description: str
    default_status: PreferenceStatus

    @classmethod
    def from_api(cls, data: Any) -> CatalogTopic:
        """Parse one catalog topic; raise CourierMalformedResponse when it is not one."""
        if not isinstance(data, Mapping):
            raise CourierMalformedResponse("a catalog topic is not an object")
        return cls(
            id=_text(data, "id"),
            name=_text(data, "name", required=False) or _text(data, "id"),
            description=_text(data, "description", required=False),
            default_status=_status(data.get("default_status")) or PreferenceStatus.OPTED_IN,
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
            routing_options=_channels(data.get("routing_options")),
            topics=tuple(CatalogTopic.from_api(topic) for topic in topics),
        )


def parse_list(data: Any, key: str, parse: Any) -> list[Any]:
    """Parse `data[key]` as a list of items with `parse`; raise CourierMalformedResponse."""
    if not isinstance(data, Mapping) or not isinstance(data.get(key), list):
        raise CourierMalformedResponse(f"expected a list in {key!r}")
    items: Iterable[Any] = data[key]
    return [parse(item) for item in items]
