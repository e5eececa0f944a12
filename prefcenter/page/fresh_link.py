"""Email me a new link: an expired link's page offers to send a fresh manage link by email.

An expired manage, unsubscribe or embed link shows "Email me a new link". Pressing it posts
back to the link's own address + /new-link; the link's signature, audience and issuer are
checked (its expiry aside, up to FRESH_LINK_MAX_PAST_EXPIRY past it), and a new manage link for
the same person, tenant and language goes to them through Courier's POST /send, named by user
id only: Courier sends it to the address it holds for them, and this app never sees or asks
for one. The answer is the same page whatever happened (sent, limited, not genuine, Courier
down), so the button tells no one whether a person exists or has an address.

At most FRESH_LINK_LIMIT sends per person (user and tenant of the link) however many addresses
ask, counted in the shared rate-limit store, and RATE_LIMIT_FRESH_LINK requests per address.
The person has no session here, so CSRF is a value bound to the link's token.
"""

from __future__ import annotations

import logging
import re
from datetime import UTC, datetime
from typing import Any

from flask import (
    Blueprint,
    Flask,
    Response,
    current_app,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import format_date, gettext
from flask_limiter.errors import RateLimitExceeded
from flask_wtf.csrf import CSRFError

from ..access.guard import is_token_bound_value, token_authenticated, token_bound_value
from ..access.links import LinkClaims, LinkInvalid, Purpose
from ..access.minting import MintedLink
from ..courier import CourierError
from ..platform.embedding import frameable
from ..platform.i18n import chosen_locale, current_locale, requested_locale, use_link_locale
from ..platform.person_limits import PersonLimit
from ..services import services

log = logging.getLogger(__name__)

bp = Blueprint("fresh_link", __name__)

CSRF_USE = "fresh-link-csrf"
LIMIT_KEY = "prefcenter_fresh_link_limit"
# Where each purpose's link is opened; its "new link" form posts to that address + /new-link.
PREFIXES = {Purpose.MANAGE: "/l", Purpose.UNSUBSCRIBE: "/u", Purpose.EMBED: "/e"}
# What a demo outbox message id may look like in the answer's address (Courier's requestId).
MESSAGE_ID = re.compile(r"[0-9A-Za-z-]{1,64}")


def register_fresh_link(app: Flask) -> None:
    """Add the "new link" routes and the per-person count they share across processes."""
    app.register_blueprint(bp)
    app.extensions[LIMIT_KEY] = PersonLimit(
        app.config["FRESH_LINK_LIMIT"], app.config["RATELIMIT_STORAGE_URI"], scope="fresh-link"
    )


def fresh_link_form(token: str, purpose: Purpose) -> dict[str, str]:
    """What an expired link's page needs for its "Email me a new link" button."""
    return {
        "action": url_for("fresh_link.ask", purpose=purpose.value, token=token, **_picked()),
        "csrf_token": token_bound_value(CSRF_USE, token),
    }


def expired_page(token: str, purpose: Purpose) -> tuple[str, int]:
    """The page of a genuine link whose time is up, offering a new one by email."""
    return render_template("links/expired.html", fresh_link=fresh_link_form(token, purpose)), 410


@token_authenticated
@frameable  # an expired embedded page posts from inside the host's frame
def ask(purpose: str, token: str) -> Response:
    """Send a fresh manage link to the person an expired link names; answer the same always."""
    if not is_token_bound_value(CSRF_USE, token, request.form.get("csrf_token", "")):
        raise CSRFError("The CSRF token is missing or does not match this page.")
    try:
        claims = services().links.recover(
            token,
            Purpose(purpose),
            max_past_expiry=current_app.config["FRESH_LINK_MAX_PAST_EXPIRY"],
        )
    except LinkInvalid:
        log.info("new link not sent: the link is not genuine, or expired too long ago")
        return _answered()
    use_link_locale(claims.locale)
    limit: PersonLimit = current_app.extensions[LIMIT_KEY]
    if not limit.allow(claims.user_id, claims.tenant_id or ""):
        log.info("new link not sent: this person had their %s already", limit.limit)
        return _answered()
    fresh = services().minter.mint(
        LinkClaims(
            claims.user_id,
            Purpose.MANAGE,
            tenant_id=claims.tenant_id,
            locale=requested_locale() or claims.locale,
        )
    )
    try:
        message_id = _send(claims, fresh)
    except CourierError as exc:
        # The person is told the same as ever; the operator sees why nothing went.
        log.warning("new link not sent: Courier failed: %s", exc)
        return _answered()
    log.info("new link sent by email (Courier request %s)", message_id)
    return _answered(message_id)


# One endpoint at each kind of link's address: /l/<token>/new-link, /u/..., /e/...
for _purpose, _prefix in PREFIXES.items():
    bp.add_url_rule(
        f"{_prefix}/<token>/new-link",
        endpoint="ask",
        view_func=ask,
        methods=["POST"],
        defaults={"purpose": _purpose.value},
    )


@bp.errorhandler(RateLimitExceeded)
def too_many_from_this_address(error: RateLimitExceeded) -> Response:
    """Over the per-address limit: nothing is sent, and the answer is still the same."""
    log.info("new link not sent: this address asked too often (%s)", error.description)
    return _answered()


@bp.get("/new-link/sent")
@token_authenticated  # acts for no one and keeps no session: the language travels in the URL
@frameable
def sent() -> str:
    """The answer: a new link is on its way if we can reach them; never which it was."""
    message_id = request.args.get("message", "")
    outbox = None
    if current_app.config["DEMO_MODE"] and MESSAGE_ID.fullmatch(message_id):
        from ..emulator.demo import outbox_url

        outbox = outbox_url(request.script_root, message_id)
    return render_template("links/new_link_sent.html", outbox_url=outbox)


def _send(claims: LinkClaims, fresh: MintedLink) -> str:
    """Send `fresh` to the person by user id: the settings' template, else built-in text."""
    expires = datetime.fromtimestamp(fresh.expires_at, UTC)
    locale = current_locale()
    courier = services().courier
    template = current_app.config["FRESH_LINK_TEMPLATE"]
    if template:
        data = {"url": fresh.url, "expires_at": expires.isoformat(), "locale": locale}
        return courier.send_message(
            claims.user_id, template=template, data=data, tenant_id=claims.tenant_id, locale=locale
        )
    content = {
        "title": gettext("Your new link to your notification preferences"),
        "body": gettext(
            "Here is the new link you asked for. It opens your notification preferences,"
            " and works until %(date)s:\n\n%(url)s\n\nIf you did not ask for it, you can"
            " ignore this email: nothing changes until the link is opened.",
            date=format_date(expires, format="long"),
            url=fresh.url,
        ),
    }
    return courier.send_message(
        claims.user_id,
        content=content,
        tenant_id=claims.tenant_id,
        locale=locale,
        channels=("email",),
    )


def _answered(message_id: str | None = None) -> Response:
    """To the answer page (PRG: a reload sends nothing); the demo names its outbox message."""
    args: dict[str, Any] = dict(_picked())
    if message_id and current_app.config["DEMO_MODE"]:
        args["message"] = message_id
    return redirect(url_for("fresh_link.sent", **args), 303)


def _picked() -> dict[str, str]:
    """The page's language when the person or their link chose it, carried to the next page
    (there is no session here to keep it)."""
    chosen = chosen_locale()
    return {"lang": chosen} if chosen else {}
