"""Turning a submitted form into the fewest Courier writes, and reporting what happened."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace

from flask_babel import gettext

from ..access.identity import Person
from ..courier import CourierClient, PreferenceUpdate, TopicPreference
from .consent import ConsentLog, Via
from .digests import effective_schedule, schedule_label
from .labels import channel_list
from .preferences import TopicState


@dataclass(frozen=True)
class SaveOutcome:
    """Which changed topics Courier took (as it now holds them), and which it did not."""

    saved: dict[str, TopicState] = field(default_factory=dict)
    failed: dict[str, TopicState] = field(default_factory=dict)
    # Topics where a field the person changed was also changed elsewhere since the page was
    # shown, to something else: that field is left as Courier holds it (shown here).
    conflicts: dict[str, TopicState] = field(default_factory=dict)
    # Saved topics whose routing Courier's plan refused: only on/off was written ...
    routing_dropped: frozenset[str] = frozenset()
    # ... and, of those, the ones where that routing was a change the person made.
    channels_refused: frozenset[str] = frozenset()
    # Each saved or conflicting topic as Courier held it just before this save.
    before: dict[str, TopicState] = field(default_factory=dict)


@dataclass(frozen=True)
class Merged:
    """A person's change applied on top of what Courier holds now."""

    state: TopicState  # the topic as it is to be held
    conflict: bool  # a field they changed was changed elsewhere meanwhile, to something else


def merge_change(shown: TopicState, chosen: TopicState, now: TopicState) -> Merged:
    """Apply only the fields the person changed (against `shown`) to `now`, field by field.

    A page left open must not undo what happened elsewhere since: a one-click opt-out is
    kept when the old page only changes channels, and channels chosen elsewhere are kept
    when it only turns the topic off.
    """
    state, conflict = now, False
    if chosen.opted_in != shown.opted_in:
        if now.required and not chosen.opted_in:
            conflict = True  # required since: cannot be turned off
        else:
            state = replace(state, opted_in=chosen.opted_in)
    if chosen.routing != shown.routing:
        if now.routing not in (shown.routing, chosen.routing):
            conflict = True
        else:
            state = replace(
                state,
                has_custom_routing=chosen.has_custom_routing,
                custom_routing=chosen.custom_routing,
            )
    if chosen.digest_schedule_id != shown.digest_schedule_id:
        if now.digest_schedule_id not in (shown.digest_schedule_id, chosen.digest_schedule_id):
            conflict = True  # a schedule chosen elsewhere meanwhile stays
        else:
            state = replace(state, digest_schedule_id=chosen.digest_schedule_id)
    return Merged(state, conflict)


def changed_topics(
    shown: Mapping[str, TopicState], chosen: Mapping[str, TopicState]
) -> dict[str, TopicState]:
    """Return the topics whose chosen state differs from how they were shown."""
    return {
        topic_id: state
        for topic_id, state in chosen.items()
        if topic_id in shown
        and state is not shown[topic_id]  # most topics of a save come back as they were
        and state.differs_from(shown[topic_id])
    }


def save_changes(
    courier: CourierClient,
    consent: ConsentLog,
    via: Via,
    person: Person,
    shown: Mapping[str, TopicState],
    changes: Mapping[str, TopicState],
) -> SaveOutcome:
    """Apply each changed topic on top of what Courier holds now; record each change made.

    Each changed topic is read right before it is written (concurrently, one write per topic
    at most), so a save from a page left open changes only what the person changed there.
    """
    if not changes:
        return SaveOutcome()
    merged: dict[str, Merged] = {}
    before: dict[str, TopicState] = {}

    def change(current: TopicPreference) -> PreferenceUpdate | None:
        topic_id = current.topic_id
        now = shown[topic_id].refreshed(current)
        before[topic_id] = now
        merged[topic_id] = merge_change(shown[topic_id], changes[topic_id], now)
        state = merged[topic_id].state
        return state.update_over(now) if state.differs_from(now) else None

    taken = courier.update_preferences(person.user_id, list(changes), change, person.tenant_id)
    saved: dict[str, TopicState] = {}
    failed: dict[str, TopicState] = {}
    conflicts: dict[str, TopicState] = {}
    dropped: set[str] = set()
    refused: set[str] = set()
    for topic_id, chosen in changes.items():
        result = taken[topic_id]
        if not isinstance(result, tuple):
            failed[topic_id] = chosen
            continue
        _current, write = result
        state = merged[topic_id].state
        if write is not None:
            state = state.as_written(write)
            wanted = merged[topic_id].state.update_over(before[topic_id])
            if write != wanted:
                dropped.add(topic_id)
                if merged[topic_id].state.routing != before[topic_id].routing:
                    refused.add(topic_id)
            held = _as_held(before[topic_id], write)
            consent.record(via, person, topic_id, chosen.recorded_name, held, write)
        if merged[topic_id].conflict:
            conflicts[topic_id] = state
        else:
            saved[topic_id] = state
    return SaveOutcome(
        saved=saved,
        failed=failed,
        conflicts=conflicts,
        routing_dropped=frozenset(dropped),
        channels_refused=frozenset(refused),
        before=before,
    )


def _as_held(before: TopicState, write: PreferenceUpdate) -> PreferenceUpdate:
    """What Courier held before `write`, with the digest choice when the write changes it."""
    held = before.update()
    if write.writes_digest:
        held = replace(held, digest_schedule_id=before.digest_schedule_id)
    return held


def describe_change(before: TopicState, after: TopicState) -> str:
    """Say in a sentence, in the page's language, what a save did to one topic."""
    said = _describe_on_and_channels(before, after)
    if after.digest_schedule_id == before.digest_schedule_id:
        return said
    schedule = effective_schedule(after.digest_schedules, after.digest_schedule_id)
    if schedule is None:
        return said
    label = schedule_label(schedule)
    if after.update() == before.update():  # only how often changed
        return gettext("%(topic)s: %(schedule)s.", topic=after.name, schedule=label)
    return f"{said} {gettext('How often: %(schedule)s.', schedule=label)}"


def _describe_on_and_channels(before: TopicState, after: TopicState) -> str:
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
