"""Error pages: every failure a person can meet gets a page and a 4xx/5xx, never a traceback."""

from __future__ import annotations

import logging

from flask import Flask, Response, jsonify, render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from .access import EmbedLinkExpired, EmbedLinkInvalid
from .courier import CourierError, CourierUnavailable

log = logging.getLogger(__name__)


def register_error_handlers(app: Flask) -> None:
    """Attach the app's error pages."""

    @app.errorhandler(CSRFError)
    def csrf_failed(error: CSRFError) -> tuple[str, int]:
        return render_template("errors/stale_form.html"), 400

    @app.errorhandler(EmbedLinkExpired)
    def embed_expired(error: EmbedLinkExpired) -> tuple[str, int]:
        return render_template("links/embed_expired.html"), 410

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

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException) -> tuple[str | Response, int]:
        if request.blueprint == "api":  # machines get JSON, people get a page
            return jsonify({"error": error.description}), error.code or 500
        return render_template("errors/http.html", error=error), error.code or 500

    @app.errorhandler(500)
    def internal_error(error: Exception) -> tuple[str, int]:
        return render_template("errors/http.html", error=None), 500
