"""The page as it was rendered, carried signed in the form so a save writes only real changes."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from typing import Any

from itsdangerous import BadData, URLSafeSerializer

from .courier import ChannelClassification, Section
from .preferences import SectionState, TopicState, build_page

SALT = "prefcenter.rendered-preferences"


class SnapshotInvalid(Exception):
    """The form's record of what was shown is missing, tampered or for someone else."""


def _serializer(secret_key: str, fallbacks: Iterable[str]) -> URLSafeSerializer:
    return URLSafeSerializer([*reversed(list(fallbacks)), secret_key], salt=SALT)


def dump_snapshot(
    page: Iterable[SectionState], user_id: str, secret_key: str, fallbacks: Iterable[str] = ()
) -> str:
    """Sign what each topic looked like on the page shown to `user_id`."""
    topics = {
        topic.topic_id: [
            int(topic.opted_in),
            int(topic.has_custom_routing),
            [channel.value for channel in topic.custom_routing],
        ]
        for section in page
        for topic in section.topics
    }
    return _serializer(secret_key, fallbacks).dumps({"u": user_id, "t": topics})


def load_snapshot(
    sections: Iterable[Section],
    signed: str,
    user_id: str,
    secret_key: str,
    fallbacks: Iterable[str] = (),
) -> tuple[SectionState, ...]:
    """Rebuild the page as it was shown, from today's catalog and the signed record.

    Topics added to the catalog since the page was shown are left out: the person never saw
    them, so this save must not touch them. Raises SnapshotInvalid.
    """
    try:
        data: Any = _serializer(secret_key, fallbacks).loads(signed)
    except BadData as exc:
        raise SnapshotInvalid("the form's record of the page is not valid") from exc
    if (
        not isinstance(data, dict)
        or data.get("u") != user_id
        or not isinstance(data.get("t"), dict)
    ):
        raise SnapshotInvalid("the form was shown to someone else")
    shown = data["t"]
    page = []
    for section in build_page(sections, ()):
        topics = []
        for topic in section.topics:
            if topic.topic_id in shown:
                topics.append(_restore(topic, shown[topic.topic_id]))
        if topics:
            page.append(replace(section, topics=tuple(topics)))
    return tuple(page)


def _restore(topic: TopicState, record: Any) -> TopicState:
    try:
        opted_in, has_custom_routing, routing = record
        channels = tuple(ChannelClassification(value) for value in routing)
    except (TypeError, ValueError) as exc:
        raise SnapshotInvalid("the form's record of the page is not valid") from exc
    return replace(
        topic,
        opted_in=topic.required or bool(opted_in),
        has_custom_routing=bool(has_custom_routing),
        custom_routing=channels,
    )
