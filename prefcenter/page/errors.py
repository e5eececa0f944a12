"""Error pages: every failure a person can meet gets a page and a 4xx/5xx, never a traceback."""

from __future__ import annotations

import logging

from flask import Flask, Response, g, jsonify, render_template, request
from flask_babel import LazyString, lazy_gettext
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, SecurityError

from ..access.guard import EmbedLinkExpired, EmbedLinkInvalid
from ..access.links import Purpose
from ..courier import CourierError, CourierUnavailable
from .fresh_link import fresh_link_form

log = logging.getLogger(__name__)

# What people read for HTTP errors (Werkzeug's own names and descriptions are English only).
HTTP_ERRORS: dict[int, tuple[LazyString, LazyString]] = {
    400: (
        lazy_gettext("This request could not be understood"),
        lazy_gettext("Nothing was changed. Go back and try again, or reload the page."),
    ),
    403: (
        lazy_gettext("You can’t open this page"),
        lazy_gettext("This page is not open to you. Nothing was changed."),
    ),
    404: (
        lazy_gettext("Page not found"),
        lazy_gettext("There is no page at this address. Check that you opened the whole link."),
    ),
    405: (
        lazy_gettext("This page can’t be opened this way"),
        lazy_gettext("Nothing was changed. Go to your preferences and try again from there."),
    ),
    413: (
        lazy_gettext("Too much data"),
        lazy_gettext("The form sent more than this page accepts. Nothing was changed."),
    ),
    429: (
        lazy_gettext("Too Many Requests"),
        lazy_gettext("This page was opened too often in a short time. Please wait a minute."),
    ),
}
SOMETHING_WENT_WRONG = (
    lazy_gettext("Something went wrong"),
    lazy_gettext("Nothing was changed. Please try again in a moment."),
)


def http_error_text(error: HTTPException | None) -> tuple[LazyString, LazyString]:
    """The title and explanation of an error page, in the page's language."""
    if error is None:
        return SOMETHING_WENT_WRONG
    return HTTP_ERRORS.get(error.code or 500, SOMETHING_WENT_WRONG)


STALE_MESSAGE = lazy_gettext(
    "This page is out of date, so nothing was saved. Reload the page and make your change again."
)


def wants_json() -> bool:
    """Whether the page's own script asked for a JSON answer (autosave) instead of a page."""
    accept = request.accept_mimetypes
    return accept.best_match(["text/html", "application/json"]) == "application/json"


def json_refusal(
    message: str | LazyString, status: int, *, reload: bool = False
) -> tuple[Response, int]:
    """A JSON answer saying nothing was saved and why; `reload` when only a reload can help."""
    errors = [{"field": None, "message": str(message)}]
    return jsonify({"errors": errors, "reload": reload}), status


def register_error_handlers(app: Flask) -> None:
    """Attach the app's error pages."""

    @app.errorhandler(CSRFError)
    def csrf_failed(error: CSRFError) -> tuple[str | Response, int]:
        if wants_json():
            return json_refusal(STALE_MESSAGE, 400, reload=True)
        return render_template("errors/stale_form.html"), 400

    @app.errorhandler(EmbedLinkExpired)
    def embed_expired(error: EmbedLinkExpired) -> tuple[str | Response, int]:
        if wants_json():
            return json_refusal(STALE_MESSAGE, 410, reload=True)
        token = g.get("embed_token_in")
        fresh_link = fresh_link_form(token, Purpose.EMBED) if token else None
        return render_template("links/embed_expired.html", fresh_link=fresh_link), 410

    @app.errorhandler(EmbedLinkInvalid)
    def embed_invalid(error: EmbedLinkInvalid) -> tuple[str, int]:
        return render_template("links/invalid.html"), 404

    @app.errorhandler(CourierUnavailable)
    def courier_unavailable(error: CourierUnavailable) -> tuple[str, int, dict[str, str]]:
        log.warning("Courier unavailable: %s", error)
        retry_after = max(5, round(error.retry_after or 0))
        return render_template("errors/unavailable.html"), 503, {"Retry-After": str(retry_after)}

    @app.errorhandler(CourierError)
    def courier_failed(error: CourierError) -> tuple[str, int]:
        # Courier refused a read we built ourselves: a setup fault (key, catalog), not the
        # person's; they get the same "try later" page while the log says what to fix.
        log.error("Courier refused a request: %s", error)
        return render_template("errors/unavailable.html"), 502

    @app.errorhandler(SecurityError)
    def untrusted_host(error: SecurityError) -> tuple[Response, int]:
        # A Host this app does not serve: no URL can be built for it, so no page with links.
        title, _ = http_error_text(error)
        return Response(f"{title}\n", mimetype="text/plain"), 400

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException) -> tuple[str | Response, int]:
        if request.blueprint == "api":  # machines get JSON, people get a page
            return jsonify({"error": error.description}), error.code or 500
        return render_template("errors/http.html", error=error), error.code or 500

    @app.errorhandler(500)
    def internal_error(error: Exception) -> tuple[str, int]:
        return render_template("errors/http.html", error=None), 500
