"""Structured logs: one JSON object per line, each tagged with the request's id."""

from __future__ import annotations

import contextvars
import json
import logging
import re
import sys
import time
import types
import uuid
from datetime import UTC, datetime
from typing import Any

from flask import Flask, Response, g, has_request_context, request
from werkzeug.exceptions import HTTPException
from werkzeug.routing import Map

REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")
_HANDLER_NAME = "prefcenter-json"

access_log = logging.getLogger("prefcenter.access")
# The request's id, also where Flask's `g` is out of reach: threads a request starts (the
# Courier client's writers) run in a copy of its context, so their log lines carry it too.
_request_id: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "prefcenter_request_id", default=None
)


class JsonFormatter(logging.Formatter):
    """Format a record as one JSON line; extra fields go in `extra={"fields": {...}}`."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        request_id = getattr(record, "request_id", None)
        if request_id:
            entry["request_id"] = request_id
        entry.update(getattr(record, "fields", {}))
        if record.exc_info:
            entry["error"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


class RequestIdFilter(logging.Filter):
    """Attach the current request's id to every record logged while handling it."""

    def filter(self, record: logging.LogRecord) -> bool:
        request_id = current_request_id()
        if request_id:
            record.request_id = request_id
        return True


class RoutePatternFilter(logging.Filter):
    """Put the route pattern in place of the path in the development server's request lines.

    Werkzeug's server (`flask run`, `make run`) logs every request line as it came, and paths
    carry sign-in tokens; the app's own access line already names the route.
    """

    REQUEST_LINE = re.compile(r"(?P<method>[A-Z]+) (?P<target>\S+) (?P<version>HTTP/\d(\.\d)?)")

    def __init__(self, url_map: Map) -> None:
        super().__init__()
        self.url_map = url_map

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(
                self.REQUEST_LINE.sub(self._pattern, arg) if isinstance(arg, str) else arg
                for arg in record.args
            )
        if isinstance(record.msg, str):
            record.msg = self.REQUEST_LINE.sub(self._pattern, record.msg)
        return True

    def _pattern(self, found: re.Match[str]) -> str:
        method, path = found["method"], found["target"].partition("?")[0]
        try:
            rule, _ = self.url_map.bind("localhost").match(path, method, return_rule=True)
            route = rule.rule
        except HTTPException:  # no route, a redirect to add a slash, a method not allowed
            route = "(no route)"
        except ValueError:  # not a path at all
            route = "(unreadable)"
        return f"{method} {route} {found['version']}"


def current_request_id() -> str | None:
    """The id of the request being handled, if any (in its own thread or one it started)."""
    if has_request_context() and "request_id" in g:
        return g.request_id
    return _request_id.get()


def configure_logging(app: Flask) -> None:
    """Send the app's logs to stderr as JSON lines and tag requests with an id."""
    logger = logging.getLogger("prefcenter")
    logger.setLevel(app.config["LOG_LEVEL"])  # checked by load_config
    # Flask's own line for an unhandled error names the request path, which carries sign-in
    # tokens; ours names the route pattern instead.
    app.log_exception = types.MethodType(_log_exception, app)  # type: ignore[method-assign]
    _hide_paths_from_werkzeug(app)
    # One handler per process, however many apps are built in it (tests build many).
    if not any(handler.get_name() == _HANDLER_NAME for handler in logger.handlers):
        handler = logging.StreamHandler(sys.stderr)
        handler.set_name(_HANDLER_NAME)
        handler.setFormatter(JsonFormatter())
        handler.addFilter(RequestIdFilter())
        logger.addHandler(handler)

    @app.before_request
    def tag_request() -> None:
        sent = request.headers.get("X-Request-ID", "")
        g.request_id = sent if REQUEST_ID.fullmatch(sent) else uuid.uuid4().hex
        g.request_started = time.perf_counter()
        _request_id.set(g.request_id)

    @app.after_request
    def log_request(response: Response) -> Response:
        response.headers["X-Request-ID"] = g.get("request_id", "")
        # The route's pattern, never the path: paths carry sign-in tokens.
        route = request.url_rule.rule if request.url_rule else "(no route)"
        elapsed = time.perf_counter() - g.get("request_started", time.perf_counter())
        access_log.info(
            "%s %s %s",
            request.method,
            route,
            response.status_code,
            extra={
                "fields": {
                    "method": request.method,
                    "route": route,
                    "status": response.status_code,
                    "duration_ms": round(elapsed * 1000, 2),
                }
            },
        )
        return response


def _log_exception(app: Flask, exc_info: Any) -> None:
    """Log an unhandled error with the route pattern, never the path (it carries tokens)."""
    route = request.url_rule.rule if request.url_rule else "(no route)"
    app.logger.error("Exception on %s %s", request.method, route, exc_info=exc_info)


def _hide_paths_from_werkzeug(app: Flask) -> None:
    # One filter per process; every app has the same routes, so the latest app's map serves.
    werkzeug_log = logging.getLogger("werkzeug")
    for existing in werkzeug_log.filters:
        if isinstance(existing, RoutePatternFilter):
            existing.url_map = app.url_map
            return
    werkzeug_log.addFilter(RoutePatternFilter(app.url_map))
