"""The page's view model: the catalog overlaid with one user's preferences."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace

from .courier import (
    ChannelClassification,
    PreferenceStatus,
    PreferenceUpdate,
    Section,
    TopicPreference,
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
    custom_routing: tuple[ChannelClassification, ...]
    # Channels the person may choose from; empty when the section offers no channel choice.
    channel_options: tuple[ChannelClassification, ...]

    @property
    def channels(self) -> tuple[ChannelClassification, ...]:
        """The channels shown ticked: the custom choice, else every channel on offer."""
        if not self.channel_options:
            return ()
        if self.has_custom_routing:
            return tuple(c for c in self.channel_options if c in self.custom_routing)
        return self.channel_options

    def with_choice(self, opted_in: bool, channels: Iterable[ChannelClassification]) -> TopicState:
        """Return this topic as the person left it: their toggle, and their channels if changed."""
        chosen = tuple(c for c in self.channel_options if c in set(channels))
        if not self.channel_options or chosen == self.channels:
            return replace(self, opted_in=opted_in)
        return replace(self, opted_in=opted_in, has_custom_routing=True, custom_routing=chosen)

    def update(self) -> PreferenceUpdate:
        """Return the write that makes Courier hold this state."""
        if self.required:
            # Courier's own preference UIs resend a REQUIRED topic's status as they read it.
            status = PreferenceStatus.REQUIRED
        elif self.opted_in:
            status = PreferenceStatus.OPTED_IN
        else:
            status = PreferenceStatus.OPTED_OUT
        return PreferenceUpdate(
            status=status,
            has_custom_routing=self.has_custom_routing,
            custom_routing=self.custom_routing,
        )

    def differs_from(self, other: TopicState) -> bool:
        """Whether saving this state over `other` would change anything in Courier."""
        return self.update() != other.update()


@dataclass(frozen=True)
class SectionState:
    """A section heading with its topics, in catalog order."""

    section_id: str
    name: str
    description: str
    channel_options: tuple[ChannelClassification, ...]
    topics: tuple[TopicState, ...]


def build_page(
    sections: Iterable[Section], preferences: Iterable[TopicPreference]
) -> tuple[SectionState, ...]:
    """Overlay the user's preferences on the catalog, by topic id.

    Courier's list holds either every topic or only the user's overrides; both give the
    same page, because a topic missing from the list simply shows its catalog default.
    """
    by_topic = {pref.topic_id: pref for pref in preferences}
    page = []
    for section in sections:
        options = section.routing_options if section.offers_channel_choice else ()
        topics = []
        for topic in section.topics:
            pref = by_topic.get(topic.id)
            required = topic.default_status is PreferenceStatus.REQUIRED or (
                pref is not None and pref.status is PreferenceStatus.REQUIRED
            )
            status = pref.status if pref is not None and pref.status else topic.default_status
            topics.append(
                TopicState(
                    topic_id=topic.id,
                    name=topic.name,
                    description=topic.description,
                    required=required,
                    opted_in=required or status is PreferenceStatus.OPTED_IN,
                    has_custom_routing=pref.has_custom_routing if pref else False,
                    custom_routing=pref.custom_routing if pref else (),
                    channel_options=options,
                )
            )
        page.append(
            SectionState(
                section_id=section.id,
                name=section.name,
                description=section.description,
                channel_options=options,
                topics=tuple(topics),
            )
        )
    return tuple(page)


def topics_of(page: Iterable[SectionState]) -> dict[str, TopicState]:
    """Index a page's topics by topic id."""
    return {topic.topic_id: topic for section in page for topic in section.topics}
