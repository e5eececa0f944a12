"""Where a change was made, told by matching Courier's log against our consent record.

Courier's change log says what changed and when, not which client made the change. Our
consent record says both for every change these pages made. The rule, kept honest:

1. With no consent file (AUDIT_LOG_PATH unset: records go to the log stream), nothing can be
   looked up, and every change is shown as plainly "Changed".
2. Otherwise the file's last CONSENT_TAIL_BYTES are read (never the whole file). A log entry
   is ours when a record of this person in that tail names the same topic and tenant, the
   same new status and channels, and a time within MATCH_WINDOW of Courier's; each record
   vouches for one entry at most (the nearest in time). It then says how: this page, an
   unsubscribe link, one-click unsubscribe or unsubscribe from everything.
3. An entry with no such record is "elsewhere" (support, the product's backend, Courier's own
   page) only when it falls inside the time the tail covers: from its first record (plus the
   window) until now. An older entry is plainly "Changed": the tail cannot speak for it.

Rule 3 assumes every instance of the app appends to this one file, and that a record was
written for each change (a record that failed to write is logged instead, and its change
would read "elsewhere"). Two writes of the same value to the same topic within the window,
one ours and one not, cannot be told apart; one of them is credited to us.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from flask_babel import LazyString, lazy_gettext

from .changes import Change, Setting
from .consent import Via

log = logging.getLogger(__name__)

# Enough for the recent changes of a busy service; a read of it costs well under a millisecond.
CONSENT_TAIL_BYTES = 256 * 1024
# Courier stamps a change when it takes the write; the record is written just after it
# answers, by a clock that may differ a little. A save's retries end within its budget.
MATCH_WINDOW = timedelta(seconds=30)


class Where(StrEnum):
    """Where a change was made, as far as can honestly be told."""

    THIS_PAGE = "this_page"
    UNSUBSCRIBE_LINK = "unsubscribe_link"
    ONE_CLICK = "one_click"
    EVERYTHING = "unsubscribe_all"
    OUR_PAGES = "our_pages"  # a record of ours with a way this code does not name
    ELSEWHERE = "elsewhere"
    UNKNOWN = "unknown"

    @property
    def label(self) -> LazyString:
        """What the person reads for it, in the page's language."""
        return WHERE_LABELS[self]


WHERE_LABELS: dict[Where, LazyString] = {
    Where.THIS_PAGE: lazy_gettext("On this page"),
    Where.UNSUBSCRIBE_LINK: lazy_gettext("With an unsubscribe link"),
    Where.ONE_CLICK: lazy_gettext("With one-click unsubscribe in an email"),
    Where.EVERYTHING: lazy_gettext("With “Unsubscribe from everything”"),
    Where.OUR_PAGES: lazy_gettext("On your preferences pages"),
    Where.ELSEWHERE: lazy_gettext("Elsewhere: by support, in the product or on Courier’s page"),
    Where.UNKNOWN: lazy_gettext("Changed"),
}

VIA_WHERE: dict[str, Where] = {
    Via.MANAGE_PAGE: Where.THIS_PAGE,
    Via.EMBEDDED_PAGE: Where.THIS_PAGE,
    Via.UNSUBSCRIBE_PAGE: Where.UNSUBSCRIBE_LINK,
    Via.UNSUBSCRIBE_UNDO: Where.UNSUBSCRIBE_LINK,
    # "Get it weekly instead" on an unsubscribe link's page (named by its value: a record
    # names the way it was made, whichever version of this code wrote it).
    "less_often": Where.UNSUBSCRIBE_LINK,
    Via.ONE_CLICK: Where.ONE_CLICK,
    Via.UNSUBSCRIBE_ALL: Where.EVERYTHING,
    Via.UNSUBSCRIBE_ALL_UNDO: Where.EVERYTHING,
}


@dataclass(frozen=True)
class Recorded:
    """One consent record of this person's: the change it tells of and how it was made."""

    change: Change
    via: str


@dataclass(frozen=True)
class ConsentTail:
    """This person's records in the file's tail, and from when the tail speaks for them."""

    records: tuple[Recorded, ...]
    # The first record's time: before it, the tail cannot say whether a change was ours.
    covers_from: datetime | None


NOTHING_RECORDED = ConsentTail(records=(), covers_from=None)


def read_consent_tail(
    path: str | None, user_id: str, tenant_id: str | None, max_bytes: int = CONSENT_TAIL_BYTES
) -> ConsentTail:
    """Read the last `max_bytes` of the consent file for this person's records."""
    if not path:
        return NOTHING_RECORDED
    try:
        with open(path, "rb") as file:
            size = file.seek(0, os.SEEK_END)
            start = max(0, size - max_bytes)
            file.seek(start)
            data = file.read(max_bytes)
    except FileNotFoundError:
        return NOTHING_RECORDED  # nothing recorded yet, or rotated away: no claim either way
    except OSError as exc:
        # The history still lists every change; it only cannot say where they were made.
        log.warning("could not read the consent record for the history: %s", exc)
        return NOTHING_RECORDED
    if start > 0:
        data = data.partition(b"\n")[2]  # the first line was cut by the tail's edge
    records: list[Recorded] = []
    covers_from = None
    for line in data.splitlines():
        entry = _json(line)
        if entry is None or entry.get("event") != "preference_changed":
            continue
        try:
            change = Change.from_consent(entry)
        except ValueError:
            continue
        if covers_from is None:
            covers_from = change.at
        if entry.get("user_id") == user_id and change.tenant_id == (tenant_id or None):
            records.append(Recorded(change, str(entry.get("via", ""))))
    return ConsentTail(records=tuple(records), covers_from=covers_from)


def _json(line: bytes) -> dict | None:
    try:
        value = json.loads(line)
    except (json.JSONDecodeError, UnicodeDecodeError):
        return None
    return value if isinstance(value, dict) else None


def attribute(changes: Iterable[Change], tail: ConsentTail) -> list[Where]:
    """Say where each change was made (see the module's docstring for the rule)."""
    unused = list(tail.records)
    places = []
    for change in changes:
        candidates = [r for r in unused if _same_change(r.change, change)]
        if candidates:
            nearest = min(candidates, key=lambda r: abs(r.change.at - change.at))
            unused.remove(nearest)
            places.append(VIA_WHERE.get(nearest.via, Where.OUR_PAGES))
        elif tail.covers_from is not None and change.at >= tail.covers_from + MATCH_WINDOW:
            places.append(Where.ELSEWHERE)
        else:
            places.append(Where.UNKNOWN)
    return places


def _same_change(recorded: Change, logged: Change) -> bool:
    """Whether a consent record and a log entry tell of the same write."""
    return (
        recorded.topic_id == logged.topic_id
        and recorded.tenant_id == logged.tenant_id
        and _same_setting(recorded.after, logged.after)
        and abs(recorded.at - logged.at) <= MATCH_WINDOW
    )


def _same_setting(a: Setting, b: Setting) -> bool:
    return (a.on, a.has_custom_routing, a.channels) == (b.on, b.has_custom_routing, b.channels)
