"""Who a request acts for: a session signed in by link, or an embedded frame carrying a token.

Embedded pages live under /e/<token>/ and never rely on cookies, which browsers block in
third-party frames. Their token names the person; every page mints a fresh one (so an open
page keeps working) and every URL built during the request carries it. CSRF for them is a
value bound to the token, as a cookie-held CSRF secret would be blocked too.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import replace
from typing import Any

from flask import Flask, current_app, g, request, url_for
from flask_wtf.csrf import CSRFError, CSRFProtect, generate_csrf
from markupsafe import Markup, escape
from werkzeug.exceptions import BadRequest, RequestEntityTooLarge

from .i18n import requested_locale, use_link_locale
from .identity import Person, current_person
from .links import LinkExpired, LinkInvalid, Purpose
from .services import services

EMBEDDED = "embedded"  # the name the page blueprint is registered under at /e/<embed_token>/
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})


class EmbedLinkExpired(Exception):
    """An embed token past its time: the host page should mint a new one."""


class EmbedLinkInvalid(Exception):
    """An embed token that is not genuine."""


def token_authenticated(view: Any) -> Any:
    """Mark a view whose URL carries a signed token as its only credential (no session CSRF)."""
    view.authenticated_by_token = True
    return view


def is_embedded() -> bool:
    """Whether this request is for the embedded page."""
    return request.blueprint == EMBEDDED


def person() -> Person | None:
    """The person this request acts for, or None."""
    return g.get("person")


def embed_csrf_token(embed_token: str) -> str:
    """The CSRF value for forms posted to an embed URL: bound to its token, unforgeable."""
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, b"embed-csrf|" + embed_token.encode(), hashlib.sha256).hexdigest()


def csrf_value() -> str:
    """The CSRF value this request's forms carry (bound to the fresh token when embedded)."""
    return embed_csrf_token(g.embed_token) if is_embedded() else generate_csrf()


def csrf_field() -> Markup:
    """The hidden CSRF input for the current page's forms."""
    value = csrf_value()
    return Markup('<input type="hidden" name="csrf_token" value="{}">').format(escape(value))


def home_url() -> str:
    """The preferences page for whoever this request is for."""
    if is_embedded() and g.get("embed_token"):
        return url_for(f"{EMBEDDED}.page", embed_token=g.embed_token)
    return url_for("preferences.page")


def register_access(app: Flask, csrf: CSRFProtect) -> None:
    """Resolve the person before each request, and check CSRF where a session is used."""
    # CSRF is checked here rather than automatically, so embedded and token-authenticated
    # endpoints can use their own proof instead of the session's.
    app.config["WTF_CSRF_CHECK_DEFAULT"] = False

    @app.url_value_preprocessor
    def take_embed_token(endpoint: str | None, values: dict[str, Any] | None) -> None:
        g.embed_token_in = (values or {}).pop("embed_token", None)

    @app.url_defaults
    def keep_embed_token(endpoint: str, values: dict[str, Any]) -> None:
        if "embed_token" in g and app.url_map.is_endpoint_expecting(endpoint, "embed_token"):
            values.setdefault("embed_token", g.embed_token)

    @app.before_request
    def refuse_bad_bodies() -> None:
        # Werkzeug enforces MAX_CONTENT_LENGTH only when a view reads the body; some don't.
        if (request.content_length or 0) > app.config["MAX_CONTENT_LENGTH"]:
            raise RequestEntityTooLarge()
        # A multipart part without a name lands in request.form under the key None, which
        # the CSRF check cannot read: refuse such a form plainly.
        if request.method not in SAFE_METHODS and None in request.form:
            raise BadRequest("The form is malformed.")

    @app.before_request
    def resolve_person() -> None:
        if is_embedded():
            _resolve_embedded()
            return
        g.person = current_person()
        if request.method in SAFE_METHODS:
            return
        view = app.view_functions.get(request.endpoint or "")
        if not getattr(view, "authenticated_by_token", False):
            csrf.protect()


def _resolve_embedded() -> None:
    token = g.embed_token_in or ""
    links = services().links
    try:
        claims = links.load(token, Purpose.EMBED)
    except LinkExpired as exc:
        use_link_locale(exc.locale)
        raise EmbedLinkExpired() from exc
    except LinkInvalid as exc:
        raise EmbedLinkInvalid() from exc
    g.person = Person(claims.user_id, claims.tenant_id)
    # No cookies here: the token carries the language, the one picked on this page if any.
    locale = requested_locale() or claims.locale
    use_link_locale(locale)
    # A fresh expiry for every page the frame shows.
    g.embed_token = links.make(replace(claims, locale=locale))
    if request.method not in SAFE_METHODS:
        sent = request.form.get("csrf_token", "")
        if not hmac.compare_digest(sent.encode(), embed_csrf_token(token).encode()):
            raise CSRFError("The CSRF token is missing or does not match this page.")
