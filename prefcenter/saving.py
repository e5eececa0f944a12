"""Turning a submitted form into the fewest Courier writes, and reporting what happened."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from flask_babel import gettext

from .audit import ConsentLog, Via
from .courier import CourierClient, PreferenceUpdate
from .identity import Person
from .labels import channel_list
from .preferences import TopicState


@dataclass(frozen=True)
class SaveOutcome:
    """Which changed topics Courier took (as it now holds them), and which it did not."""

    saved: dict[str, TopicState] = field(default_factory=dict)
    failed: dict[str, TopicState] = field(default_factory=dict)
    # Saved topics whose routing Courier's plan refused: only on/off was written ...
    routing_dropped: frozenset[str] = frozenset()
    # ... and, of those, the ones where that routing was a change the person made.
    channels_refused: frozenset[str] = frozenset()


def changed_topics(
    shown: Mapping[str, TopicState], chosen: Mapping[str, TopicState]
) -> dict[str, TopicState]:
    """Return the topics whose chosen state differs from how they were shown."""
    return {
        topic_id: state
        for topic_id, state in chosen.items()
        if topic_id in shown and state.differs_from(shown[topic_id])
    }


def save_changes(
    courier: CourierClient,
    consent: ConsentLog,
    via: Via,
    person: Person,
    shown: Mapping[str, TopicState],
    changes: Mapping[str, TopicState],
) -> SaveOutcome:
    """Write each changed topic to Courier, concurrently, one write per topic; record each."""
    if not changes:
        return SaveOutcome()
    wanted = {topic_id: state.update() for topic_id, state in changes.items()}
    taken = courier.put_preferences(person.user_id, wanted, person.tenant_id)
    saved: dict[str, TopicState] = {}
    failed: dict[str, TopicState] = {}
    dropped: set[str] = set()
    refused: set[str] = set()
    for topic_id, state in changes.items():
        write = taken.get(topic_id)
        if not isinstance(write, PreferenceUpdate):
            failed[topic_id] = state
            continue
        saved[topic_id] = state.as_written(write)
        if write != wanted[topic_id]:
            dropped.add(topic_id)
            if wanted[topic_id].custom_routing != shown[topic_id].update().custom_routing:
                refused.add(topic_id)
        consent.record(via, person, topic_id, state.name, shown[topic_id].update(), write)
    return SaveOutcome(
        saved=saved,
        failed=failed,
        routing_dropped=frozenset(dropped),
        channels_refused=frozenset(refused),
    )


def describe_change(before: TopicState, after: TopicState) -> str:
    """Say in a sentence, in the page's language, what a save did to one topic."""
    topic = after.name
    status = None if after.opted_in == before.opted_in else after.opted_in
    channels_changed = after.channels != before.channels
    channels = channel_list(after.channels)
    # Whole sentences, one per combination, so each language can word them its own way.
    if status is None and not channels_changed:
        return gettext("%(topic)s: updated.", topic=topic)
    if status is None:
        if after.channels:
            return gettext("%(topic)s: now by %(channels)s.", topic=topic, channels=channels)
        return gettext("%(topic)s: no channels.", topic=topic)
    if not channels_changed:
        if status:
            return gettext("%(topic)s: turned on.", topic=topic)
        return gettext("%(topic)s: turned off.", topic=topic)
    if status:
        if after.channels:
            return gettext(
                "%(topic)s: turned on, now by %(channels)s.", topic=topic, channels=channels
            )
        return gettext("%(topic)s: turned on, no channels.", topic=topic)
    if after.channels:
        return gettext(
            "%(topic)s: turned off, now by %(channels)s.", topic=topic, channels=channels
        )
    return gettext("%(topic)s: turned off, no channels.", topic=topic)
