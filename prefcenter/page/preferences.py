"""The page's view model: the catalog overlaid with one user's preferences."""

from __future__ import annotations

import threading
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass, fields, replace
from functools import partial
from operator import attrgetter
from typing import Any

from ..courier import (
    CatalogTopic,
    Channel,
    ChannelClassification,
    DigestSchedule,
    PreferenceStatus,
    PreferenceUpdate,
    Section,
    TopicDefault,
    TopicPreference,
    sendable_id,
)


@dataclass(frozen=True)
class TopicState:
    """What one topic looks like for one user; the unit the form renders and diffs."""

    topic_id: str
    name: str
    description: str
    required: bool
    opted_in: bool
    # Courier's routing fields as read, resent untouched unless the person changes channels.
    has_custom_routing: bool
    custom_routing: tuple[Channel, ...]
    # Channels the person may choose from; empty when the section offers no channel choice.
    channel_options: tuple[ChannelClassification, ...]
    # False for a topic Courier holds for the person that no catalog section lists.
    catalogued: bool = True
    # Courier's own name when `name` shows a translation (page/names.py).
    courier_name: str = ""
    # The topic's active digest schedules (from the catalog); none: no "How often" choice.
    digest_schedules: tuple[DigestSchedule, ...] = ()
    # The person's digest choice as Courier holds it; None: the topic's default schedule.
    digest_schedule_id: str | None = None

    def __hash__(self) -> int:
        # A page's rows are looked up by their topics, several times per view (page/rendering.py):
        # the hash of these nested tuples is worked out once per instance. Equal states hash
        # alike, as dataclass equality compares the same fields in order. Kept out of pickles,
        # whose string hashes would differ in another process.
        cached = self.__dict__.get("_hash")
        if cached is None:
            cached = hash(_topic_fields(self))
            object.__setattr__(self, "_hash", cached)
        return cached

    def __eq__(self, other: object) -> bool:
        # As dataclass equality (the same fields, in order), compared in one C call: a page's
        # rows are found by their topics' states (page/rendering.py).
        if self is other:
            return True
        if other.__class__ is not TopicState:
            return NotImplemented
        return _topic_fields(self) == _topic_fields(other)

    def __getstate__(self) -> dict[str, object]:
        return {k: v for k, v in self.__dict__.items() if k != "_hash"}

    @property
    def recorded_name(self) -> str:
        """The name the consent record keeps: Courier's own, whatever language the page spoke."""
        return self.courier_name or self.name

    @property
    def channels(self) -> tuple[ChannelClassification, ...]:
        """The channels shown ticked: the custom choice, else every channel on offer.

        A custom routing with no channel on offer (none at all, or only channels the section
        no longer offers) is shown as the section's channels, as Courier's own web component
        does: it routes nowhere the person can see, so it is not a choice to hold them to.
        """
        if not self.channel_options:
            return ()
        chosen = ()
        if self.has_custom_routing:
            chosen = tuple(c for c in self.channel_options if c in self.custom_routing)
        return chosen or self.channel_options

    def with_choice(self, opted_in: bool, channels: Iterable[ChannelClassification]) -> TopicState:
        """Return this topic as the person left it: their toggle, and their channels if changed."""
        picked = set(channels)
        chosen = tuple(c for c in self.channel_options if c in picked)
        if not self.channel_options or chosen == self.channels:
            return self if opted_in == self.opted_in else replace(self, opted_in=opted_in)
        # Channels the page does not show (new to it, or no longer offered) stay as they were:
        # the person could not see them, so did not choose against them.
        unseen = ()
        if self.has_custom_routing:
            unseen = tuple(c for c in self.custom_routing if c not in self.channel_options)
        return replace(
            self, opted_in=opted_in, has_custom_routing=True, custom_routing=chosen + unseen
        )

    def update(self) -> PreferenceUpdate:
        """Return the write that makes Courier hold this state.

        A required topic is written OPTED_IN: REQUIRED is a topic default, never a write.
        """
        on = self.required or self.opted_in
        return PreferenceUpdate(
            status=PreferenceStatus.OPTED_IN if on else PreferenceStatus.OPTED_OUT,
            has_custom_routing=self.has_custom_routing,
            custom_routing=self.custom_routing,
        )

    def update_over(self, held: TopicState) -> PreferenceUpdate:
        """The write that turns `held` into this state.

        The digest choice is written only when it differs from what is held (null when it
        goes back to the default), and left out otherwise, so a choice made elsewhere stays.
        """
        write = self.update()
        if self.digest_schedule_id != held.digest_schedule_id:
            write = replace(write, digest_schedule_id=self.digest_schedule_id)
        return write

    def differs_from(self, other: TopicState) -> bool:
        """Whether saving this state over `other` would change anything in Courier."""
        return self.update() != other.update() or (
            self.digest_schedule_id != other.digest_schedule_id
        )

    def refreshed(self, current: TopicPreference) -> TopicState:
        """Return this topic as Courier holds it now, per a fresh read of it."""
        status = current.status or current.default_status
        return replace(
            self,
            required=current.required,
            opted_in=current.required or status is PreferenceStatus.OPTED_IN,
            has_custom_routing=current.has_custom_routing,
            custom_routing=current.custom_routing,
            digest_schedule_id=current.digest_schedule_id,
        )

    @property
    def routing(self) -> tuple[bool, tuple[Channel, ...]]:
        """The routing fields together, as Courier stores them."""
        return self.has_custom_routing, self.custom_routing

    def as_written(self, write: PreferenceUpdate) -> TopicState:
        """Return this topic as Courier holds it after `write` (which may have lost routing)."""
        return replace(
            self,
            has_custom_routing=write.has_custom_routing,
            custom_routing=write.custom_routing,
        )


# Every field of a topic state in order, as one tuple: what its equality compares.
_topic_fields = attrgetter(*(f.name for f in fields(TopicState)))


@dataclass(frozen=True)
class SectionState:
    """A section heading with its topics, in catalog order."""

    section_id: str
    name: str
    description: str
    channel_options: tuple[ChannelClassification, ...]
    topics: tuple[TopicState, ...]


def build_page(
    sections: Iterable[Section],
    preferences: Iterable[TopicPreference],
    defaults: Mapping[str, TopicDefault] | None = None,
    *,
    channel_choice: bool = True,
    other_heading: str = "Other",
    only: Collection[str] | None = None,
    shared: DefaultStates | None = None,
) -> tuple[SectionState, ...]:
    """Overlay the user's preferences on the catalog, by topic id.

    Courier's list holds either every topic or only the user's overrides; both give the
    same page, because a topic missing from the list shows its default: the tenant's
    (`defaults`) where it has one, else the catalog's. Topics Courier holds for the person
    that the catalog does not list are shown too: in their section when the catalog has it,
    else grouped under the section name Courier gave, else under `other_heading`.
    `channel_choice` False withdraws channel choice everywhere (a plan without it);
    `only`, when given, keeps just those topics. Sections without topics are left out.
    `shared` hands out the states of topics the person holds no choice for, made once.
    """
    defaults = defaults or {}
    state_of = _catalog_topic if shared is None else shared.follow_catalog(sections)
    by_topic = {pref.topic_id: pref for pref in preferences if sendable_id(pref.topic_id)}
    catalog_ids = {topic.id for section in sections for topic in section.topics}
    strays = [pref for topic_id, pref in by_topic.items() if topic_id not in catalog_ids]
    section_ids = {section.id for section in sections}
    page = []
    for section in sections:
        options = (
            section.routing_options if channel_choice and section.offers_channel_choice else ()
        )
        topics = [
            state_of(topic, by_topic.get(topic.id), defaults.get(topic.id), options)
            for topic in section.topics
            if sendable_id(topic.id)
        ]
        topics += [_stray_topic(pref, options) for pref in strays if pref.section_id == section.id]
        page.append(_section(section.id, section.name, section.description, options, topics, only))
    groups: dict[str, list[TopicState]] = {}
    for pref in strays:
        if pref.section_id in section_ids and pref.section_id:
            continue
        groups.setdefault(pref.section_name, []).append(_stray_topic(pref, ()))
    for name, topics in groups.items():
        if name:
            page.append(_section("", name, "", (), topics, only))
    if "" in groups:
        # str(): the heading may be a lazy translation, made only for a page that needs it.
        page.append(_section("", str(other_heading), "", (), groups[""], only))
    return tuple(section for section in page if section.topics)


def _section(
    section_id: str,
    name: str,
    description: str,
    options: tuple[ChannelClassification, ...],
    topics: list[TopicState],
    only: Collection[str] | None,
) -> SectionState:
    kept = tuple(t for t in topics if only is None or t.topic_id in only)
    return SectionState(section_id, name, description, options, kept)


def _catalog_topic(
    topic: CatalogTopic,
    pref: TopicPreference | None,
    default: TopicDefault | None,
    options: tuple[ChannelClassification, ...],
) -> TopicState:
    default_status = (default.status if default else None) or topic.default_status
    if pref is not None:
        # The person's own choice, under the catalog's name (built whole: once per topic and
        # page view, so no intermediate state).
        required = pref.required or default_status is PreferenceStatus.REQUIRED
        status = pref.status or default_status
        return TopicState(
            topic_id=pref.topic_id,
            name=topic.name,
            description=topic.description,
            required=required,
            opted_in=required or status is PreferenceStatus.OPTED_IN,
            has_custom_routing=pref.has_custom_routing,
            custom_routing=pref.custom_routing,
            channel_options=options,
            digest_schedules=topic.digest_schedules,
            digest_schedule_id=pref.digest_schedule_id,
        )
    required = default_status is PreferenceStatus.REQUIRED
    return TopicState(
        topic_id=topic.id,
        name=topic.name,
        description=topic.description,
        required=required,
        opted_in=required or default_status is PreferenceStatus.OPTED_IN,
        has_custom_routing=default.has_custom_routing if default else False,
        custom_routing=default.custom_routing if default else (),
        channel_options=options,
        digest_schedules=topic.digest_schedules,
    )


class DefaultStates:
    """The states of topics a person holds no choice for, made once per catalog and shared.

    An overrides-only list names just the topics a person changed, so most of a page shows
    topics at their default, whose state depends on the catalog topic, the tenant's default
    and the channels on offer alone. Sharing those states spares making them on every view,
    and lets the row caches find them by identity (page/rendering.py). Emptied when the
    catalog changes; bounded, since each tenant's defaults make states of their own.
    """

    def __init__(self, size: int = 4096) -> None:
        self.size = size
        # The catalog the states were made from, and the states: replaced together, so a
        # view made from one catalog never takes a state made from another.
        self._current: tuple[Any, dict[Any, TopicState]] = (None, {})
        self._lock = threading.Lock()

    def follow_catalog(self, sections: Any) -> Callable[..., TopicState]:
        """The maker of this page's catalog topics (`_catalog_topic`'s signature), sharing
        the states made from `sections`; the states of any other catalog are dropped."""
        catalog, states = self._current
        if catalog is not sections:
            with self._lock:
                catalog, states = self._current
                if catalog is not sections:
                    if catalog != sections:
                        states = {}
                    self._current = (sections, states)
        return partial(self._state, states)

    def _state(
        self,
        states: dict[Any, TopicState],
        topic: CatalogTopic,
        pref: TopicPreference | None,
        default: TopicDefault | None,
        options: tuple[ChannelClassification, ...],
    ) -> TopicState:
        if pref is not None:
            return _catalog_topic(topic, pref, default, options)
        key = (topic.id, default, options)
        state = states.get(key)
        if state is None:
            state = _catalog_topic(topic, None, default, options)
            if len(states) >= self.size:
                states.clear()
            states[key] = state
        return state


def _stray_topic(pref: TopicPreference, options: tuple[ChannelClassification, ...]) -> TopicState:
    """A topic as Courier's list reports it, with no catalog entry to add to it."""
    status = pref.status or pref.default_status
    return TopicState(
        topic_id=pref.topic_id,
        name=pref.topic_name or pref.topic_id,
        description="",
        required=pref.required,
        opted_in=pref.required or status is PreferenceStatus.OPTED_IN,
        has_custom_routing=pref.has_custom_routing,
        custom_routing=pref.custom_routing,
        channel_options=options,
        catalogued=False,
        digest_schedule_id=pref.digest_schedule_id,
    )


def topics_without_default(
    sections: Iterable[Section],
    preferences: Iterable[TopicPreference],
    defaults: Mapping[str, TopicDefault] | None = None,
) -> list[str]:
    """Catalog topics whose status nothing read so far tells: no list entry, no known default.

    Only an overrides-only list over a catalog that omits `default_status` leaves any; the
    page then asks Courier for those topics one by one rather than guess.
    """
    defaults = defaults or {}
    listed = {pref.topic_id for pref in preferences if pref.status or pref.default_status}
    return [
        topic.id
        for section in sections
        for topic in section.topics
        if topic.default_status is None
        and topic.id not in listed
        and not (topic.id in defaults and defaults[topic.id].status)
        and sendable_id(topic.id)
    ]


def topics_of(page: Iterable[SectionState]) -> dict[str, TopicState]:
    """Index a page's topics by topic id."""
    return {topic.topic_id: topic for section in page for topic in section.topics}
