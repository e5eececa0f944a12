"""One-click unsubscribe (RFC 8058) at a per-person, per-topic URL: /u/<token>.

The token is the only credential: mail providers POST `List-Unsubscribe=One-Click` with no
cookies, so these views neither read nor set a session, and CSRF is moot (the URL cannot be
guessed). A GET never changes anything, because mail scanners open links.
"""

from __future__ import annotations

from flask import Blueprint, g, render_template, request

from .access import token_authenticated
from .audit import Via
from .courier import (
    CourierNotFound,
    InvalidIdentifier,
    PreferenceStatus,
    PreferenceUpdate,
    TopicPreference,
)
from .i18n import use_link_locale
from .identity import Person
from .links import LinkClaims, LinkExpired, LinkInvalid, Purpose
from .services import services
from .views import manage_url

bp = Blueprint("unsubscribe", __name__)

ONE_CLICK = ("List-Unsubscribe", "One-Click")
WRITABLE = (PreferenceStatus.OPTED_IN, PreferenceStatus.OPTED_OUT)


class _Refused(Exception):
    """The request cannot go on; carries the page to show."""

    def __init__(self, page: tuple[str, int]) -> None:
        self.page = page


@bp.get("/u/<token>")
@token_authenticated
def confirm(token: str) -> str | tuple[str, int]:
    """Show what the link would unsubscribe from, with a button: nothing changes yet."""
    try:
        claims, who, topic = _resolve(token)
    except _Refused as refused:
        return refused.page
    return _page("confirm", claims, who, topic, token)


@bp.post("/u/<token>")
@token_authenticated
def one_click(token: str) -> str | tuple[str, int]:
    """Opt out of the link's topic, keeping channel choices; answer 200, never a redirect."""
    if request.form.get(ONE_CLICK[0]) != ONE_CLICK[1]:
        return render_template("unsubscribe/bad_request.html"), 400
    try:
        claims, who, topic = _resolve(token)
    except _Refused as refused:
        return refused.page
    if _is_required(topic):
        return _page("required", claims, who, topic, token)
    if topic.status is not PreferenceStatus.OPTED_OUT:
        # Our own page's button says so; anything else is a mail provider's one-click POST.
        via = Via.UNSUBSCRIBE_PAGE if request.form.get("source") == "page" else Via.ONE_CLICK
        _write(via, who, topic, PreferenceStatus.OPTED_OUT)
    return _page("unsubscribed", claims, who, topic, token)


@bp.post("/u/<token>/undo")
@token_authenticated
def resubscribe(token: str) -> str | tuple[str, int]:
    """Undo: opt back in to the link's topic, with the same channel choices."""
    try:
        claims, who, topic = _resolve(token)
    except _Refused as refused:
        return refused.page
    if not _is_required(topic) and topic.status is not PreferenceStatus.OPTED_IN:
        _write(Via.UNSUBSCRIBE_UNDO, who, topic, PreferenceStatus.OPTED_IN)
    return _page("resubscribed", claims, who, topic, token)


def _resolve(token: str) -> tuple[LinkClaims, Person, TopicPreference]:
    svc = services()
    try:
        claims = svc.links.load(token, Purpose.UNSUBSCRIBE)
    except LinkExpired as expired:
        use_link_locale(expired.locale)
        raise _Refused((render_template("links/expired.html"), 410)) from None
    except LinkInvalid:
        raise _Refused((render_template("links/invalid.html"), 404)) from None
    use_link_locale(claims.locale)
    if not claims.topic_id:
        raise _Refused((render_template("links/invalid.html"), 404))
    who = Person(claims.user_id, claims.tenant_id)
    g.person = who  # for the brand; this link acts only for this person and topic
    try:
        topic = svc.courier.get_preference(who.user_id, claims.topic_id, who.tenant_id)
    except InvalidIdentifier:
        raise _Refused((render_template("links/invalid.html"), 404)) from None
    except CourierNotFound:
        return_page = render_template("unsubscribe/gone.html", manage_url=manage_url(who))
        raise _Refused((return_page, 404)) from None
    return claims, who, topic


def _is_required(topic: TopicPreference) -> bool:
    return topic.required


def _write(via: Via, who: Person, topic: TopicPreference, status: PreferenceStatus) -> None:
    # Courier's PUT replaces routing, so the person's channel choices are sent back as read
    # (on a plan that refuses channels, the client writes the status alone: the opt-out
    # always lands).
    routing = (topic.has_custom_routing, topic.custom_routing)
    before = topic.status if topic.status in WRITABLE else (topic.default_status or status)
    old = PreferenceUpdate(before if before in WRITABLE else status, *routing)
    svc = services()
    new = svc.courier.put_preference(
        who.user_id, topic.topic_id, PreferenceUpdate(status, *routing), who.tenant_id
    )
    svc.consent.record(via, who, topic.topic_id, topic.topic_name, old, new)


def _page(state: str, claims: LinkClaims, who: Person, topic: TopicPreference, token: str) -> str:
    opted_out = topic.status is PreferenceStatus.OPTED_OUT
    if state == "unsubscribed":
        opted_out = True
    elif state == "resubscribed":
        opted_out = False
    return render_template(
        "unsubscribe/page.html",
        state=state,
        topic_name=topic.topic_name or topic.topic_id,
        required=_is_required(topic),
        opted_out=opted_out,
        token=token,
        manage_url=manage_url(who),
    )
