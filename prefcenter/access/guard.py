"""Who a request acts for: a session signed in by link, or an embedded frame carrying a token.

Embedded pages live under /e/<token>/ and never rely on cookies, which browsers block in
third-party frames. Their token names the person; every page mints a fresh one (so an open
page keeps working, up to EMBED_SESSION_MAX_AGE after the host page's token was minted) and
every URL built during the request carries it. CSRF for them is a value bound to the token, as
a cookie-held CSRF secret would be blocked too.

Values this app signs for its own forms (CSRF, the form's record, undo) are checked against
SECRET_KEY and SECRET_KEY_FALLBACKS, so rotating the key does not break pages already open.
"""

from __future__ import annotations

import hashlib
import hmac
import io
import time
from dataclasses import replace
from typing import Any

from flask import Flask, current_app, g, request
from flask_wtf.csrf import CSRFError, CSRFProtect, generate_csrf
from markupsafe import Markup, escape
from werkzeug.exceptions import BadRequest, RequestEntityTooLarge
from werkzeug.wsgi import get_content_length

from ..platform.embedding import is_embedded
from ..platform.i18n import requested_locale, use_link_locale
from ..services import services
from .identity import Person, current_person, masked
from .links import LinkExpired, LinkInvalid, Purpose

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
TOO_LARGE = "prefcenter.body_too_large"  # set in the WSGI environ by StreamedBodyLimit
UNREADABLE = "prefcenter.body_unreadable"  # likewise: a chunked body broken on the way in


class EmbedLinkExpired(Exception):
    """An embed token past its time: the host page should mint a new one."""


class EmbedLinkInvalid(Exception):
    """An embed token that is not genuine."""


def token_authenticated(view: Any) -> Any:
    """Mark a view whose URL carries a signed token as its only credential (no session CSRF)."""
    view.authenticated_by_token = True
    return view


def is_by_token() -> bool:
    """Whether this request's view takes a token in its URL as its credential."""
    view = current_app.view_functions.get(request.endpoint or "")
    return bool(getattr(view, "authenticated_by_token", False))


def person() -> Person | None:
    """The person this request acts for, or None."""
    return g.get("person")


def hidden_by_host(part: str) -> bool:
    """Whether the embedding host asked, in its token, to hide this part of the page."""
    return is_embedded() and part in g.get("embed_hide", frozenset())


def signed_in_as() -> str | None:
    """Who the session is signed in as, masked, for the page to say; None off the session."""
    if is_embedded() or is_by_token():
        return None
    who = person()
    return masked(who.user_id) if who else None


def secret_keys() -> list[str]:
    """SECRET_KEY, then the fallbacks still accepted while it is rotated."""
    return [current_app.config["SECRET_KEY"], *current_app.config["SECRET_KEY_FALLBACKS"]]


def token_bound_value(use: str, token: str, key: str | None = None) -> str:
    """A value bound to a link token and a use (`embed-csrf`, ...): unforgeable without a key."""
    secret = (key or current_app.config["SECRET_KEY"]).encode()
    return hmac.new(secret, f"{use}|{token}".encode(), hashlib.sha256).hexdigest()


def is_token_bound_value(use: str, token: str, sent: str) -> bool:
    """Whether `sent` is the value for this token and use, made with any accepted key."""
    return any(
        hmac.compare_digest(sent.encode(), token_bound_value(use, token, key).encode())
        for key in secret_keys()
    )


def embed_csrf_token(embed_token: str) -> str:
    """The CSRF value for forms posted to an embed URL: bound to its token, unforgeable."""
    return token_bound_value("embed-csrf", embed_token)


def csrf_value() -> str:
    """The CSRF value this request's forms carry (bound to the fresh token when embedded)."""
    return embed_csrf_token(g.embed_token) if is_embedded() else generate_csrf()


def csrf_field() -> Markup:
    """The hidden CSRF input for the current page's forms."""
    value = csrf_value()
    return Markup('<input type="hidden" name="csrf_token" value="{}">').format(escape(value))


def register_access(app: Flask, csrf: CSRFProtect) -> None:
    """Resolve the person before each request, and check CSRF where a session is used."""
    # CSRF is checked here rather than automatically, so embedded and token-authenticated
    # endpoints can use their own proof instead of the session's.
    app.config["WTF_CSRF_CHECK_DEFAULT"] = False
    # Flask-WTF signs and checks with one key; itsdangerous, which it uses, takes a list (the
    # last signs, all are tried), so a form rendered before a key rotation still posts.
    app.config["WTF_CSRF_SECRET_KEY"] = [
        *reversed(app.config["SECRET_KEY_FALLBACKS"]),
        app.config["SECRET_KEY"],
    ]
    # The CSRF value only proves a post comes from our own page; how old a page may be is the
    # form record's to say (FORM_RECORD_MAX_AGE). Flask-WTF's one hour would lose the next
    # change of a tab left open over lunch; a value outliving the record lets the save view
    # meet an expired record and keep the person's choices.
    app.config["WTF_CSRF_TIME_LIMIT"] = 2 * app.config["FORM_RECORD_MAX_AGE"]
    app.jinja_env.globals["signed_in_as"] = signed_in_as
    app.jinja_env.globals["hidden_by_host"] = hidden_by_host
    app.wsgi_app = StreamedBodyLimit(  # type: ignore[method-assign]
        app.wsgi_app, app.config["MAX_CONTENT_LENGTH"]
    )

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
        # A body without Content-Length was measured by StreamedBodyLimit.
        too_large = (request.content_length or 0) > app.config["MAX_CONTENT_LENGTH"]
        if too_large or request.environ.get(TOO_LARGE):
            raise RequestEntityTooLarge()
        if request.environ.get(UNREADABLE):
            raise BadRequest("The request body could not be read.")
        # A multipart part without a name lands in request.form under the key None, which
        # the CSRF check cannot read: refuse such a form plainly.
        if request.method not in SAFE_METHODS and None in request.form:
            raise BadRequest("The form is malformed.")

    @app.before_request
    def resolve_person() -> None:
        if is_embedded():
            _resolve_embedded()
            return
        if is_by_token():
            g.person = None  # the view acts for whom its token names, and reads no session
            return
        g.person = current_person()
        if request.method not in SAFE_METHODS:
            csrf.protect()


class StreamedBodyLimit:
    """WSGI middleware: read a body sent without Content-Length (chunked) whole, up to a limit.

    A server that de-chunks sets `wsgi.input_terminated`; Werkzeug then reads such a body only
    up to MAX_CONTENT_LENGTH and silently drops the rest, so a form cut short would be
    processed. Here the body is read before anything else sees it, and one byte past the limit
    marks the request for a 413 (see `refuse_bad_bodies`) with an empty body in its place.
    Without `wsgi.input_terminated` Werkzeug reads no such body at all: an empty form, refused.
    """

    def __init__(self, wsgi_app: Any, limit: int) -> None:
        self.wsgi_app = wsgi_app
        self.limit = limit

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        if (
            environ.get("wsgi.input_terminated")
            and environ.get("REQUEST_METHOD", "GET") not in SAFE_METHODS
            and get_content_length(environ) is None
        ):
            try:
                body = self._read(environ["wsgi.input"])
            except (OSError, ValueError):
                # A malformed chunk (Werkzeug's server reports it when read): the client's
                # fault, a 400 like any other bad body, not a 500.
                environ[UNREADABLE] = True
                body = b""
            if len(body) > self.limit:
                environ[TOO_LARGE] = True
                body = b""
            environ["wsgi.input"] = io.BytesIO(body)
        return self.wsgi_app(environ, start_response)

    def _read(self, stream: Any) -> bytes:
        chunks: list[bytes] = []
        size = 0
        while size <= self.limit:
            chunk = stream.read(min(64 * 1024, self.limit + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        return b"".join(chunks)


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
    started = claims.session_started
    if started is not None and time.time() - started > current_app.config["EMBED_SESSION_MAX_AGE"]:
        # Renewed on every view, the token would keep an open frame signed in for ever.
        use_link_locale(claims.locale)
        raise EmbedLinkExpired()
    g.person = Person(claims.user_id, claims.tenant_id)
    g.embed_hide = claims.hide  # the renewed token keeps it too
    # No cookies here: the token carries the language, the one picked on this page if any.
    locale = requested_locale() or claims.locale
    use_link_locale(locale)
    # A fresh expiry for every page the frame shows.
    g.embed_token = links.make(replace(claims, locale=locale))
    if request.method not in SAFE_METHODS:
        sent = request.form.get("csrf_token", "")
        if not is_token_bound_value("embed-csrf", token, sent):
            raise CSRFError("The CSRF token is missing or does not match this page.")
