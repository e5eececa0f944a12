"""POST /api/links: mint links for senders not written in Python, behind its own API key."""

from __future__ import annotations

import hmac
from typing import Any

from flask import Blueprint, Response, current_app, jsonify, request

from ..courier import CourierUnavailable
from ..services import services
from .guard import token_authenticated
from .links import LinkClaims, Purpose
from .minting import UnknownTopic, check_topic

bp = Blueprint("api", __name__, url_prefix="/api")

MAX_ID_LENGTH = 256
MAX_LOCALE_LENGTH = 35  # the longest BCP 47 tag anyone uses, with room to spare


class _BadRequest(Exception):
    pass


def _error(status: int, message: str) -> tuple[Response, int]:
    return jsonify({"error": message}), status


def _text(body: dict[str, Any], name: str, *, required: bool, limit: int) -> str | None:
    value = body.get(name)
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value.strip():
        raise _BadRequest(f"'{name}' must be a non-empty string")
    if len(value) > limit or any(ord(char) < 32 for char in value):
        raise _BadRequest(f"'{name}' must be at most {limit} printable characters")
    return value


def _parts(body: dict[str, object]) -> frozenset[str]:
    """The optional `hide`: a list of the embedded page's parts its host shows itself."""
    value = body.get("hide")
    if value is None:
        return frozenset()
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise _BadRequest("'hide' must be a list of names: heading, language, banner")
    return frozenset(value)


@bp.post("/links")
@token_authenticated
def mint_link() -> tuple[Response, int]:
    """Mint one link. Body: user_id, purpose, and optional tenant_id, topic_id, locale, hide,
    by (preview: who asked for it)."""
    expected = current_app.config["LINK_API_KEY"]
    if not expected:
        return _error(404, "the link API is not enabled (set LINK_API_KEY)")
    scheme, _, sent = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(sent.encode(), expected.encode()):
        return _error(401, "send the link API key as 'Authorization: Bearer <key>'")
    try:
        body = request.get_json(silent=True)
    except RecursionError:  # json gives up past Python's recursion limit (about 1,000 levels)
        return _error(400, "the JSON is nested too deeply: send a flat JSON object")
    if not isinstance(body, dict):
        return _error(400, "send a JSON object")
    try:
        purpose_name = _text(body, "purpose", required=True, limit=20)
        try:
            purpose = Purpose(purpose_name)
        except ValueError:
            raise _BadRequest(
                "'purpose' must be one of: " + ", ".join(p.value for p in Purpose)
            ) from None
        claims = LinkClaims(
            user_id=_text(body, "user_id", required=True, limit=MAX_ID_LENGTH) or "",
            purpose=purpose,
            tenant_id=_text(body, "tenant_id", required=False, limit=MAX_ID_LENGTH),
            topic_id=_text(
                body, "topic_id", required=purpose is Purpose.UNSUBSCRIBE, limit=MAX_ID_LENGTH
            ),
            locale=_text(body, "locale", required=False, limit=MAX_LOCALE_LENGTH),
            hide=_parts(body),
            by=_text(body, "by", required=False, limit=MAX_ID_LENGTH),
        )
    except (_BadRequest, ValueError) as exc:
        return _error(400, str(exc))
    svc = services()
    try:
        check_topic(claims, svc.catalog.sections, svc.courier)
    except UnknownTopic as exc:
        return _error(400, f"{exc}: an unsubscribe link for it could never work")
    except CourierUnavailable:
        response, status = _error(503, "Courier did not answer; try again in a moment")
        response.headers["Retry-After"] = "5"
        return response, status
    return jsonify(svc.minter.mint(claims).to_json()), 201
