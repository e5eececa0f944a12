"""One-click unsubscribe (RFC 8058) at a per-person, per-topic URL: /u/<token>.

The token is the only credential: mail providers POST `List-Unsubscribe=One-Click` with no
cookies, so these views neither read nor set a session, and CSRF is moot (the URL cannot be
guessed). A GET never changes anything, because mail scanners open links.

Unsubscribe links travel in mail headers that providers, scanners and forwards see, so what
they open is kept narrow: no page here carries a link that signs in. "Manage all your
preferences" is a POST that starts a short session (UNSUBSCRIBE_SESSION_MAX_AGE), and Undo
needs a value signed when the page's own button unsubscribed, good for UNDO_MAX_AGE: the link
alone can opt a person out, never back in.

For a topic with digest schedules, the page also offers to stay on a rarer schedule ("Get it
weekly instead", page/digests.py says which), before and after unsubscribing. The button posts
a value signed for this person, topic and schedule: from the page asking, it keeps a topic that
is on (never opts back in); from the page saying they are unsubscribed, it is an Undo that
lands on the rarer schedule, and lasts as long as Undo. A mail provider's one-click POST stays
a pure opt-out, and its answer carries neither.
"""

from __future__ import annotations

from dataclasses import replace

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    g,
    redirect,
    render_template,
    request,
    url_for,
)
from itsdangerous import BadData, URLSafeTimedSerializer

from ..access.guard import (
    is_token_bound_value,
    secret_keys,
    token_authenticated,
    token_bound_value,
)
from ..access.identity import Person, SignedInBy, current_person, sign_in
from ..access.links import LinkClaims, LinkExpired, LinkInvalid, Purpose
from ..courier import (
    CourierError,
    CourierNotFound,
    CourierRejected,
    DigestSchedule,
    InvalidIdentifier,
    PreferenceStatus,
    PreferenceUpdate,
    TopicPreference,
)
from ..platform.i18n import chosen_locale, use_link_locale
from ..services import services
from .consent import Via
from .digests import less_often_action, less_often_offer, schedule_label
from .fresh_link import expired_page
from .names import topic_name
from .views import someone_else_page

bp = Blueprint("unsubscribe", __name__)

ONE_CLICK = ("List-Unsubscribe", "One-Click")
WRITABLE = (PreferenceStatus.OPTED_IN, PreferenceStatus.OPTED_OUT)
# The page's own Unsubscribe button sends this value bound to the link's token as `source`,
# so the consent record can tell it from a mail provider's one-click POST.
PAGE_BUTTON = "unsubscribe-page"
UNDO_SALT = "prefcenter.undo-unsubscribe"
LESS_OFTEN_SALT = "prefcenter.less-often"
# Where a less-often offer was made: on the page asking (the topic is on) or on the page
# saying the person is unsubscribed (an Undo onto the rarer schedule).
ASKING, UNSUBSCRIBED = "asking", "unsubscribed"


class _Refused(Exception):
    """The request cannot go on; carries the page to show."""

    def __init__(self, page: tuple[str, int]) -> None:
        self.page = page


@bp.get("/u/<token>")
@token_authenticated
def confirm(token: str) -> str | tuple[str, int]:
    """Show what the link would unsubscribe from, with a button: nothing changes yet."""
    try:
        claims = _claims(token)
        topic = _topic(claims, token)
    except _Refused as refused:
        return refused.page
    return _page("confirm", topic, token)


@bp.post("/u/<token>")
@token_authenticated
def one_click(token: str) -> str | tuple[str, int]:
    """Opt out of the link's topic, keeping channel choices; answer 200, never a redirect.

    Undo is offered only to the page's own button, and only when this request opted out: a
    mail provider's answer is read by no one, and should not hold a way to opt back in.
    """
    if request.form.get(ONE_CLICK[0]) != ONE_CLICK[1]:
        return render_template("unsubscribe/bad_request.html"), 400
    try:
        claims = _claims(token)
        topic = _topic(claims, token)
    except _Refused as refused:
        return refused.page
    if topic.required:
        return _page("required", topic, token)
    undo = None
    offer = None
    if topic.status is not PreferenceStatus.OPTED_OUT:
        by_page = is_token_bound_value(PAGE_BUTTON, token, request.form.get("source", ""))
        who = _person(claims)
        _write(Via.UNSUBSCRIBE_PAGE if by_page else Via.ONE_CLICK, who, topic, opt_in=False)
        if by_page:
            undo = _undo_serializer().dumps(_undo_subject(who, topic.topic_id))
            offer = _less_often(topic, who, UNSUBSCRIBED)
    return _page("unsubscribed", topic, token, undo=undo, offer=offer)


@bp.post("/u/<token>/undo")
@token_authenticated
def resubscribe(token: str) -> str | tuple[str, int]:
    """Undo an unsubscribe made on the page a moment ago: opt back in, same channels."""
    try:
        claims = _claims(token)
        if not _undo_is_valid(request.form.get("undo", ""), claims):
            return render_template("unsubscribe/undo_refused.html", token=token), 400
        topic = _topic(claims, token)
    except _Refused as refused:
        return refused.page
    if not topic.required and topic.status is not PreferenceStatus.OPTED_IN:
        _write(Via.UNSUBSCRIBE_UNDO, _person(claims), topic, opt_in=True)
    return _page("resubscribed", topic, token)


@bp.post("/u/<token>/less-often")
@token_authenticated
def less_often(token: str) -> str | tuple[str, int]:
    """Stay subscribed on the rarer digest schedule the page offered, instead of leaving."""
    try:
        claims = _claims(token)
        who = _person(claims)
        offered = _offered(request.form.get("offer", ""), who, claims.topic_id or "")
        if offered is None:
            return render_template("unsubscribe/undo_refused.html", token=token), 400
        where, schedule_id = offered
        topic = _topic(claims, token)
    except _Refused as refused:
        return refused.page
    if topic.required:
        return _page("required", topic, token)
    if where == ASKING and topic.status is PreferenceStatus.OPTED_OUT:
        # Unsubscribed since the page asked: its offer was to keep a topic that was on, and
        # the link alone never opts anyone back in.
        return _page("confirm", topic, token), 409
    schedule = next((s for s in _schedules(topic.topic_id) if s.schedule_id == schedule_id), None)
    if schedule is None:
        return _page("offer_gone", topic, token), 409
    try:
        _write(Via.LESS_OFTEN, who, topic, opt_in=True, digest_schedule_id=schedule_id)
    except CourierRejected as exc:
        if exc.status_code != 400:
            raise
        # Courier refuses a schedule that stopped being active since the catalog was read.
        return _page("offer_gone", topic, token), 409
    return _page("less_often", topic, token, schedule=schedule_label(schedule))


@bp.post("/u/<token>/manage")
@token_authenticated
def manage(token: str) -> Response | str | tuple[str, int]:
    """Open all of the person's preferences in a short session; never a link that signs in.

    No CSRF value guards this form (the page keeps no session to hold one; the token is the
    credential), so another site's form posting here is refused by the browser's own word
    (`Sec-Fetch-Site`), and replacing someone signed in asks first, as manage links do.
    """
    try:
        claims = _claims(token)
    except _Refused as refused:
        return refused.page
    if request.headers.get("Sec-Fetch-Site") == "cross-site":
        abort(403)
    signed_in = current_person()
    if signed_in == _person(claims):
        return redirect(url_for("preferences.page"), 303)  # keep the session they have
    if signed_in is not None and signed_in.user_id != claims.user_id:
        if request.form.get("switch") != "1":
            return someone_else_page(signed_in, claims, confirm_field=True)
        current_app.extensions["csrf"].protect()  # the confirmation came from that session
    sign_in(
        replace(claims, locale=chosen_locale()),
        by=SignedInBy.UNSUBSCRIBE_LINK,
        lifetime=current_app.config["UNSUBSCRIBE_SESSION_MAX_AGE"],
    )
    return redirect(url_for("preferences.page"), 303)


def _claims(token: str) -> LinkClaims:
    """The claims of a genuine, current unsubscribe link that names a topic."""
    try:
        claims = services().links.load(token, Purpose.UNSUBSCRIBE)
    except LinkExpired as expired:
        use_link_locale(expired.locale)
        raise _Refused(expired_page(token, Purpose.UNSUBSCRIBE)) from None
    except LinkInvalid:
        raise _Refused((render_template("links/invalid.html"), 404)) from None
    use_link_locale(claims.locale)
    if not claims.topic_id:
        raise _Refused((render_template("links/invalid.html"), 404))
    return claims


def _person(claims: LinkClaims) -> Person:
    return Person(claims.user_id, claims.tenant_id)


def _topic(claims: LinkClaims, token: str) -> TopicPreference:
    """The link's topic as Courier holds it for the link's person."""
    who = _person(claims)
    g.person = who  # for the brand; this link acts only for this person and topic
    try:
        return services().courier.get_preference(who.user_id, claims.topic_id or "", who.tenant_id)
    except InvalidIdentifier:
        raise _Refused((render_template("links/invalid.html"), 404)) from None
    except CourierNotFound:
        raise _Refused((render_template("unsubscribe/gone.html", token=token), 404)) from None


def _undo_serializer() -> URLSafeTimedSerializer:
    # itsdangerous signs with the last key and tries them all: the current one signs.
    return URLSafeTimedSerializer(list(reversed(secret_keys())), salt=UNDO_SALT)


def _undo_subject(who: Person, topic_id: str) -> dict[str, str]:
    return {"u": who.user_id, "n": who.tenant_id or "", "t": topic_id}


def _undo_is_valid(value: str, claims: LinkClaims) -> bool:
    """Whether `value` is a current undo for this link's person, tenant and topic."""
    try:
        data = _undo_serializer().loads(value, max_age=current_app.config["UNDO_MAX_AGE"])
    except BadData:  # missing, tampered, or issued too long ago
        return False
    return data == _undo_subject(_person(claims), claims.topic_id or "")


def _write(
    via: Via,
    who: Person,
    topic: TopicPreference,
    *,
    opt_in: bool,
    digest_schedule_id: str | None = None,
) -> None:
    # Courier's PUT replaces routing, so the person's channel choices are sent back as read
    # (on a plan that refuses channels, the client writes the status alone: the opt-out
    # always lands). The digest choice is left out, so it stays, unless one is given.
    status = PreferenceStatus.OPTED_IN if opt_in else PreferenceStatus.OPTED_OUT
    routing = (topic.has_custom_routing, topic.custom_routing)
    before = topic.status if topic.status in WRITABLE else (topic.default_status or status)
    old = PreferenceUpdate(before if before in WRITABLE else status, *routing)
    write = PreferenceUpdate(status, *routing)
    if digest_schedule_id is not None:
        old = replace(old, digest_schedule_id=topic.digest_schedule_id)
        write = replace(write, digest_schedule_id=digest_schedule_id)
    svc = services()
    new = svc.courier.put_preference(who.user_id, topic.topic_id, write, who.tenant_id)
    svc.consent.record(via, who, topic.topic_id, topic.topic_name, old, new)


def _schedules(topic_id: str) -> tuple[DigestSchedule, ...]:
    """The topic's active digest schedules, from the cached catalog (no Courier read)."""
    for section in services().catalog.sections():
        for catalogued in section.topics:
            if catalogued.id == topic_id:
                return catalogued.digest_schedules
    return ()


def _less_often(topic: TopicPreference, who: Person, where: str) -> dict[str, str] | None:
    """The rarer schedule to offer instead of leaving, with its signed button value.

    None also when the catalog cannot be read: unsubscribing must work whatever happens.
    """
    try:
        schedules = _schedules(topic.topic_id)
    except CourierError:
        return None
    schedule = less_often_offer(schedules, topic.digest_schedule_id)
    if schedule is None:
        return None
    value = _less_often_serializer().dumps(
        {**_undo_subject(who, topic.topic_id), "s": schedule.schedule_id, "w": where}
    )
    return {
        "action": less_often_action(schedule),
        "label": schedule_label(schedule),
        "value": value,
    }


def _less_often_serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(list(reversed(secret_keys())), salt=LESS_OFTEN_SALT)


def _offered(value: str, who: Person, topic_id: str) -> tuple[str, str] | None:
    """(where it was offered, schedule id) of a current offer for this person and topic."""
    serializer = _less_often_serializer()
    try:
        data = serializer.loads(value, max_age=current_app.config["UNSUBSCRIBE_LINK_MAX_AGE"])
    except BadData:
        return None
    if not isinstance(data, dict) or not isinstance(data.get("s"), str):
        return None
    if {k: data.get(k) for k in ("u", "n", "t")} != _undo_subject(who, topic_id):
        return None
    where = data.get("w")
    if where == UNSUBSCRIBED:
        # Opting back in is an Undo: it lasts as long as Undo does.
        try:
            serializer.loads(value, max_age=current_app.config["UNDO_MAX_AGE"])
        except BadData:
            return None
    elif where != ASKING:
        return None
    return where, data["s"]


def _page(
    state: str,
    topic: TopicPreference,
    token: str,
    *,
    undo: str | None = None,
    offer: dict[str, str] | None = None,
    schedule: str | None = None,
) -> str:
    opted_out = topic.status is PreferenceStatus.OPTED_OUT
    if state == "unsubscribed":
        opted_out = True
    elif state in ("resubscribed", "less_often"):
        opted_out = False
    if state == "confirm" and not opted_out and not topic.required:
        offer = _less_often(topic, g.person, ASKING)
    return render_template(
        "unsubscribe/page.html",
        state=state,
        topic_name=topic_name(topic.topic_id, topic.topic_name or topic.topic_id),
        required=topic.required,
        opted_out=opted_out,
        token=token,
        page_button=token_bound_value(PAGE_BUTTON, token),
        undo=undo,
        offer=offer,
        schedule=schedule,
    )
