"""Flask blueprint for Courier's REST API: auth, request log, JSON errors, users' preferences."""

from __future__ import annotations

import functools
import hmac
import json
from collections.abc import Callable
from typing import Any

from flask import Blueprint, Response, current_app, g, jsonify, request
from werkzeug.exceptions import HTTPException, MethodNotAllowed

from .errors import EmulatorError, InvalidRequest, NotFound, PaymentRequired, Unauthorized
from .models import PLAN_WITHOUT_CHANNELS
from .state import EmulatorState, LoggedRequest
from .validation import parse_bulk_entries, parse_user_topic_put

EXTENSION_KEY = "courier_emulator"

bp = Blueprint("courier_emulator", __name__)

# Courier's error `type` per status (Courier docs, "Handling responses and errors").
_ERROR_TYPES = {401: "authentication_error", 403: "authorization_error", 429: "rate_limit_error"}

View = Callable[..., Any]


def emulator_state() -> EmulatorState:
    """The emulator state of the current app."""
    return current_app.extensions[EXTENSION_KEY]


def _error(status: int, message: str, error_type: str | None = None) -> Response:
    """A Courier-shaped JSON error response."""
    if error_type is None:
        default = "api_error" if status >= 500 else "invalid_request_error"
        error_type = _ERROR_TYPES.get(status, default)
    response = jsonify({"type": error_type, "message": message})
    response.status_code = status
    return response


def json_body() -> object:
    """The decoded JSON body, None when empty; a 400 when it is not valid JSON."""
    raw = request.get_data(cache=True)
    if not raw or raw.isspace():
        return None
    try:
        return json.loads(raw)
    except ValueError:  # JSONDecodeError and UnicodeDecodeError are both ValueErrors
        raise InvalidRequest("Request body is not valid JSON") from None


def _logged_body(state: EmulatorState) -> tuple[bytes, int]:
    """The body bytes the request log keeps (the request's own, not a copy) and its size.

    A request refused before it was processed (no valid API key, a body over
    MAX_CONTENT_LENGTH) and a body over the log's per-body cap are logged by size only, and
    never read for the log's sake.
    """
    size = request.content_length or 0
    if not g.get("emulator_authenticated") or not state.keeps_body(size):
        return b"", size
    try:
        raw = request.get_data(cache=True)
    except HTTPException:  # over MAX_CONTENT_LENGTH without a Content-Length: the 413
        return b"", size
    return (raw, len(raw)) if state.keeps_body(len(raw)) else (b"", len(raw))


def tenant_arg() -> str | None:
    """The optional ``tenant_id`` query parameter (empty means none)."""
    return request.args.get("tenant_id") or None


def idempotent(view: View) -> View:
    """Replay the first response recorded for a POST's Idempotency-Key, like Courier does."""

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        key = request.headers.get("Idempotency-Key")
        if not key:
            return view(*args, **kwargs)
        state = emulator_state()
        route = (key, request.method, request.path)
        # The first request with a key holds it until its response is recorded, so one that
        # arrives meanwhile waits and replays that response instead of running the write again.
        with state.hold_idempotency_key(*route):
            cached = state.store.idempotent_response(*route)
            if cached is not None:
                status, body = cached
                return jsonify(body), status
            try:
                response = current_app.make_response(view(*args, **kwargs))
            except EmulatorError as exc:
                response = _error(exc.status, exc.message, exc.type)
            # Courier caches the outcome per key whatever it was, errors included; an
            # unexpected failure (a 500) is not cached, so a retry runs again.
            state.store.remember_response(*route, response.status_code, response.get_json())
        return response

    return wrapper


def inspection_page(view: View) -> View:
    """Mark a view as the emulator's own page for people (the outbox), not Courier's API.

    Such a page needs no API key (a browser has none to send) and stays out of the request
    log, which records what clients asked of Courier.
    """
    view.emulator_inspection_page = True  # type: ignore[attr-defined]
    return view


def _is_inspection_page() -> bool:
    view = current_app.view_functions.get(request.endpoint or "")
    return bool(getattr(view, "emulator_inspection_page", False))


# ---- request lifecycle: log, auth, errors ---------------------------------------------------


@bp.before_app_request
def _arrive_and_authenticate() -> None:
    """Reserve the request's log slot, then require the Bearer API key."""
    if _is_inspection_page():
        return
    state = emulator_state()
    g.emulator_arrival = state.arrival()
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("Missing API key: send `Authorization: Bearer <API key>`")
    if not hmac.compare_digest(token.strip().encode(), state.api_key.encode()):
        raise Unauthorized("Invalid API key")
    g.emulator_authenticated = True


@bp.after_app_request
def _log_request(response: Response) -> Response:
    """Log every finished request, failing ones included."""
    if _is_inspection_page():
        return response
    state = emulator_state()
    arrival = g.get("emulator_arrival")
    if arrival is None:  # a hook before ours failed; still log it, at the end
        arrival = state.arrival()
    raw_body, body_size = _logged_body(state)
    state.record(
        arrival,
        LoggedRequest(
            method=request.method,
            path=request.path,
            query=request.args.to_dict(),
            raw_body=raw_body,
            status=response.status_code,
            body_size=body_size,
        ),
    )
    return response


@bp.app_errorhandler(EmulatorError)
def _emulator_error(exc: EmulatorError) -> Response:
    """Domain errors become Courier's error body with their status."""
    return _error(exc.status, exc.message, exc.type)


@bp.app_errorhandler(HTTPException)
def _http_error(exc: HTTPException) -> Response:
    """Routing errors (404, 405, 413, ...) as JSON, never an HTML page."""
    status = exc.code or 500
    if status == 404:
        message = f"No such endpoint: {request.method} {request.path}"
    elif status == 405:
        message = f"Method {request.method} is not allowed on {request.path}"
    else:
        message = exc.description or exc.name
    response = _error(status, message)
    if isinstance(exc, MethodNotAllowed) and exc.valid_methods:
        response.headers["Allow"] = ", ".join(exc.valid_methods)
    return response


@bp.app_errorhandler(Exception)
def _unexpected_error(exc: Exception) -> Response:
    """Anything else is a Courier-style 500, logged with its traceback."""
    current_app.logger.exception("Courier emulator failed on %s %s", request.method, request.path)
    return _error(500, "Internal error in the Courier emulator")


# ---- users' preferences -----------------------------------------------------------------
# user_id uses the path converter so ids containing an encoded "/" still route.


@bp.get("/users/<path:user_id>/preferences")
def list_user_preferences(user_id: str) -> Any:
    """GET: the user's topic preferences (all topics, or overrides only, per list mode)."""
    items = emulator_state().store.user_preferences(user_id, tenant_arg())
    # `paging` is "Deprecated - Paging not implemented on this endpoint": always one page.
    return {"items": items, "paging": {"more": False}}


@bp.post("/users/<path:user_id>/preferences")
@idempotent
def bulk_update_user_preferences(user_id: str) -> Any:
    """POST: partial bulk upsert; bad topics land in ``errors``, the rest are written."""
    store = emulator_state().store
    entries = parse_bulk_entries(json_body(), min_items=1, behaviours=store.behaviours)
    items, errors = store.bulk_update(user_id, entries, tenant_arg())
    return {"items": items, "errors": errors}


@bp.put("/users/<path:user_id>/preferences")
def bulk_replace_user_preferences(user_id: str) -> Any:
    """PUT: atomic replacement of the user's override set; omitted topics reset to default."""
    store = emulator_state().store
    entries = parse_bulk_entries(json_body(), min_items=0, behaviours=store.behaviours)
    if any(entry.plan_refused for entry in entries):
        raise PaymentRequired(PLAN_WITHOUT_CHANNELS)  # atomic: one refused topic fails all
    items, deleted = store.bulk_replace(user_id, entries, tenant_arg())
    return {"items": items, "deleted": deleted}


@bp.get("/users/<path:user_id>/preferences/<topic_id>")
def get_user_preference(user_id: str, topic_id: str) -> Any:
    """GET: one topic's effective preference; 404 only for an unknown topic."""
    topic = emulator_state().store.user_preference(user_id, topic_id, tenant_arg())
    if topic is None:
        raise NotFound(f"Topic {topic_id} not found")
    return {"topic": topic}


@bp.put("/users/<path:user_id>/preferences/<topic_id>")
def put_user_preference(user_id: str, topic_id: str) -> Any:
    """PUT: replace the user's override for one topic (a 402 when the plan refuses routing)."""
    store = emulator_state().store
    write = parse_user_topic_put(json_body(), store.behaviours)
    # The switch governs what the API accepts, not what a test may seed straight into the store.
    refuse = store.behaviours.refuse_required_writes
    store.set_user_preference(user_id, topic_id, write, tenant_arg(), refuse_required=refuse)
    return {"message": "success"}


@bp.delete("/users/<path:user_id>/preferences/<topic_id>")
def delete_user_preference(user_id: str, topic_id: str) -> Any:
    """DELETE: drop the override, resetting the topic to its default."""
    emulator_state().store.delete_user_preference(user_id, topic_id, tenant_arg())
    return "", 204
