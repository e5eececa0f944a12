"""The page as it was rendered, carried signed in the form so a save writes only real changes.

The record holds what a save needs and must never re-derive: for each topic whether it was
required, on, and its routing exactly as read (unknown channels included); for a topic no
catalog lists, also its name and group; and the person's digest choice as read, so a save
writes `digest_schedule_id` only when the person changed it. A save rebuilds the page from the
record and today's catalog (names, descriptions, channel options, digest schedules), so a
REQUIRED that came from a tenant, or a topic the catalog lacks, is saved as it was shown.

The record is signed with the time it was made and refused after a maximum age (the page is
then out of date and must be reloaded); every save, autosave included, answers a fresh one.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from itsdangerous import BadData, SignatureExpired, URLSafeTimedSerializer

from ..access.identity import Person
from ..courier import PreferenceStatus, Section, TopicPreference, channel_of
from .preferences import SectionState, TopicState, build_page

SALT = "prefcenter.rendered-preferences"

_ON, _CUSTOM, _REQUIRED = 1, 2, 4  # bits of a topic's flags in the record


class SnapshotInvalid(Exception):
    """The form's record of what was shown is missing, tampered, too old or for someone else."""


class SnapshotExpired(SnapshotInvalid):
    """A genuine record for this person, older than allowed; `page` is what it showed."""

    def __init__(self, page: tuple[SectionState, ...]) -> None:
        super().__init__("the form's record of the page has expired")
        self.page = page


def _serializer(secret_key: str, fallbacks: Iterable[str]) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer([*reversed(list(fallbacks)), secret_key], salt=SALT)


def dump_snapshot(
    page: Iterable[SectionState],
    person: Person,
    secret_key: str,
    fallbacks: Iterable[str] = (),
) -> str:
    """Sign what each topic looked like on the page shown to `person`."""
    topics: dict[str, list[Any]] = {}
    # Digest choices as read, only for topics that hold one (most hold none): kept apart
    # from the topic records so records signed before digests existed still load.
    digests: dict[str, str] = {}
    # Whether channels were offered: a save rebuilds them so even if the plan refuses them
    # meanwhile (402), and the person is told, rather than refused for ticking them.
    channel_choice = any(section.channel_options for section in page)
    for section in page:
        for topic in section.topics:
            record: list[Any] = [_flags(topic), [str(c) for c in topic.custom_routing]]
            if not topic.catalogued:
                record += [topic.recorded_name, section.name, section.section_id]
            topics[topic.topic_id] = record
            if topic.digest_schedule_id is not None:
                digests[topic.topic_id] = topic.digest_schedule_id
    data: dict[str, Any] = {
        "u": person.user_id,
        "n": person.tenant_id or "",
        "c": int(channel_choice),
        "t": topics,
    }
    if digests:
        data["d"] = digests
    return _serializer(secret_key, fallbacks).dumps(data)


def load_snapshot(
    sections: Iterable[Section],
    signed: str,
    person: Person,
    secret_key: str,
    fallbacks: Iterable[str] = (),
    *,
    max_age: int,
    other_heading: str = "Other",
) -> tuple[SectionState, ...]:
    """Rebuild the page as it was shown, from today's catalog and the signed record.

    Topics added to the catalog since the page was shown are left out, and so are catalog
    topics removed since: the person never saw the first, and the second are gone.
    Raises SnapshotInvalid, also for a record made more than `max_age` seconds ago.
    """
    serializer = _serializer(secret_key, fallbacks)
    expired = False
    try:
        data: Any = serializer.loads(signed, max_age=max_age)
    except SignatureExpired as exc:
        # Genuine but old: what it showed is still known, so the person's choices need not
        # be lost (the caller decides); it is never saved as it is.
        data, expired = serializer.load_payload(exc.payload), True
    except BadData as exc:
        raise SnapshotInvalid("the form's record of the page is not valid") from exc
    page = _page_of(data, person, sections, other_heading)
    if expired:
        raise SnapshotExpired(page)
    return page


def _page_of(
    data: Any, person: Person, sections: Iterable[Section], other_heading: str
) -> tuple[SectionState, ...]:
    if (
        not isinstance(data, dict)
        or data.get("u") != person.user_id
        or data.get("n") != (person.tenant_id or "")
        or not isinstance(data.get("t"), dict)
    ):
        raise SnapshotInvalid("the form was shown to someone else")
    sections = list(sections)
    catalog_ids = {topic.id for section in sections for topic in section.topics}
    digests = data.get("d") or {}
    if not isinstance(digests, dict) or not all(isinstance(v, str) for v in digests.values()):
        raise SnapshotInvalid("the form's record of the page is not valid")
    shown = []
    for topic_id, record in data["t"].items():
        preference = _preference(topic_id, record, digests.get(topic_id))
        if preference.topic_name or topic_id in catalog_ids:
            shown.append(preference)
    return build_page(
        sections,
        shown,
        channel_choice=bool(data.get("c", 1)),
        other_heading=other_heading,
        only={pref.topic_id for pref in shown},
    )


def _flags(topic: TopicState) -> int:
    return (
        (_ON if topic.opted_in else 0)
        | (_CUSTOM if topic.has_custom_routing else 0)
        | (_REQUIRED if topic.required else 0)
    )


def _preference(topic_id: str, record: Any, digest_schedule_id: str | None) -> TopicPreference:
    """The topic as the record says it was shown, in the shape Courier's list gives."""
    try:
        flags, routing, *stray = record
        name, group, section_id = stray or ("", "", "")
        if not all(isinstance(v, str) for v in (topic_id, name, group, section_id, *routing)):
            raise TypeError("not text")
        flags = int(flags)
    except (TypeError, ValueError) as exc:
        raise SnapshotInvalid("the form's record of the page is not valid") from exc
    if flags & _REQUIRED:
        status = PreferenceStatus.REQUIRED
    else:
        status = PreferenceStatus.OPTED_IN if flags & _ON else PreferenceStatus.OPTED_OUT
    return TopicPreference(
        topic_id=topic_id,
        topic_name=name,
        status=status,
        default_status=None,
        has_custom_routing=bool(flags & _CUSTOM),
        custom_routing=tuple(channel_of(value) for value in routing),
        section_id=section_id,
        section_name=group,
        digest_schedule_id=digest_schedule_id,
    )
