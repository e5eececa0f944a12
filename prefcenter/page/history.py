"""The "Recent changes" view: the person's own preference changes, newest first.

It answers at /history for the person signed in and at /e/<embed_token>/history in the
embedded page, under the page blueprint's names (`register_history`), so each runs as part
of its page: same access rules, limits and links. Opening it costs one Courier read, the
log; names and defaults come from the caches every page view fills, and where each change
was made from our own consent record (`attribution.py`).

Courier's cursor is opaque and not ours to trust in an address, so the address carries it
signed, with the person it was issued for and the cursors of the newer pages before it (for
a "Newer changes" link): a forged or altered one gets a 400 and never reaches Courier.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

from flask import Flask, Response, current_app, redirect, render_template, url_for
from flask_babel import format_date, format_time, format_timedelta, get_timezone
from itsdangerous import BadData, URLSafeSerializer

from ..access.guard import person, secret_keys
from ..access.identity import Person
from ..courier import ChangeLogPage, CourierRejected, PreferenceStatus
from ..platform.embedding import EMBEDDED
from ..services import services
from .attribution import Where, attribute, read_consent_tail
from .changes import Change, describe
from .names import names_for
from .views import bp as page_bp

CURSOR_SALT = "prefcenter.page.history-cursor"
# How many older pages the address remembers for "Newer changes"; past it, that link goes
# to the newest page. Keeps the address well under any server's limit.
MAX_TRAIL = 20
# Changes younger than this also say how long ago they were made ("3 hours ago").
RELATIVE_FOR = timedelta(days=7)


@dataclass(frozen=True)
class HistoryItem:
    """One change as the page lists it."""

    sentence: str
    where: Where
    at: datetime
    when: str  # date and time in the page's language
    ago: str | None  # "3 hours ago", for recent changes


def register_history(app: Flask) -> None:
    """Add the view beside the page and beside the embedded page.

    The page's blueprint is registered twice (`preferences` at /, `embedded` at
    /e/<embed_token>) and takes no routes once registered, so these rules are the app's own,
    named as that blueprint's: Flask then treats them as part of it (`request.blueprint`),
    so the embed token is checked and carried, and `url_for(".page")` finds the right page.
    """
    for name, prefix in ((page_bp.name, ""), (EMBEDDED, "/e/<embed_token>")):
        endpoint = f"{name}.history"
        app.add_url_rule(
            f"{prefix}/history", endpoint, history, methods=["GET"], defaults={"older": None}
        )
        app.add_url_rule(f"{prefix}/history/<older>", endpoint, history, methods=["GET"])


def history(older: str | None) -> Response | str | tuple[str, int]:
    """List the person's changes, newest first, one page at a time."""
    who = person()
    if who is None:
        return redirect(url_for(".page"))  # the page says how to sign in again
    trail = _load_trail(older, who) if older is not None else []
    if trail is None:
        return render_template("preferences/history_gone.html"), 400
    svc = services()
    try:
        logged = svc.courier.preference_logs(
            who.user_id, who.tenant_id, cursor=trail[-1] if trail else None
        )
    except CourierRejected as exc:
        if trail and exc.status_code == 400:
            # A cursor Courier issued but no longer takes (it may expire): start again.
            return render_template("preferences/history_gone.html"), 400
        raise
    items = _items(who, logged)
    return render_template(
        "preferences/history.html",
        items=items,
        newer_url=_newer_url(trail, who) if trail else None,
        older_url=_older_url(trail, logged, who),
        timezone=str(get_timezone()),
    )


def _items(who: Person, logged: ChangeLogPage) -> list[HistoryItem]:
    """The page's view of each logged change: its sentence, where, and when."""
    svc = services()
    names, defaults = {}, {}
    sections = svc.catalog.sections()
    shown = names_for(sections)  # in the page's language, where translated
    for section in sections:
        for topic in section.topics:
            names[topic.id] = shown.topic(topic.id, topic.name).name
            defaults[topic.id] = topic.default_status
    tenant = svc.tenant_defaults.defaults(who.tenant_id)
    changes = []
    for entry in logged.items:
        if entry.tenant_id != who.tenant_id:
            # A page without a tenant shows the person's own choices, not a tenant's: their
            # changes are another page's history. (With a tenant, Courier filters already.)
            continue
        change = Change.from_log(entry)
        if entry.topic_id in names:  # the name the page shows, not the one at the time
            change = replace(change, topic_name=names[entry.topic_id])
        default: PreferenceStatus | None = defaults.get(entry.topic_id)
        if entry.topic_id in tenant:
            default = tenant[entry.topic_id].status or default
        changes.append(change.with_default(default))
    tail = read_consent_tail(current_app.config["AUDIT_LOG_PATH"], who.user_id, who.tenant_id)
    now = datetime.now(UTC)
    return [
        HistoryItem(
            sentence=describe(change),
            where=where,
            at=change.at,
            when=f"{format_date(change.at, 'medium')} {format_time(change.at, 'short')}",
            ago=_ago(change.at, now),
        )
        for change, where in zip(changes, attribute(changes, tail), strict=True)
    ]


def _ago(at: datetime, now: datetime) -> str | None:
    if not timedelta(0) <= now - at < RELATIVE_FOR:
        return None
    # Negative: in the past, which Babel words "… ago" in each language.
    return format_timedelta(at - now, add_direction=True)


def _serializer() -> URLSafeSerializer:
    # The last key signs; all are tried, so a rotation leaves open pages working.
    return URLSafeSerializer(list(reversed(secret_keys())), salt=CURSOR_SALT)


def _who(who: Person) -> str:
    """Name the person in a signed value that sits in an address, without their id."""
    return hashlib.sha256(f"{who.user_id}\0{who.tenant_id or ''}".encode()).hexdigest()[:32]


def _dump_trail(trail: list[str], who: Person) -> str:
    return _serializer().dumps({"w": _who(who), "t": trail[-MAX_TRAIL:]})


def _load_trail(value: str, who: Person) -> list[str] | None:
    """The cursors a signed address value holds, oldest page last; None if not ours."""
    try:
        data = _serializer().loads(value)
    except BadData:
        return None
    if not isinstance(data, dict) or data.get("w") != _who(who):
        return None
    trail = data.get("t")
    if not isinstance(trail, list) or not trail or not all(isinstance(c, str) for c in trail):
        return None
    return trail


def _older_url(trail: list[str], logged: ChangeLogPage, who: Person) -> str | None:
    if not logged.more or logged.cursor is None:
        return None
    return url_for(".history", older=_dump_trail([*trail, logged.cursor], who))


def _newer_url(trail: list[str], who: Person) -> str:
    if len(trail) <= 1:
        return url_for(".history")
    return url_for(".history", older=_dump_trail(trail[:-1], who))
