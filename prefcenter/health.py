"""Probes for load balancers and orchestrators: alive, and ready (Courier reachable)."""

from __future__ import annotations

import logging

from flask import Blueprint, Response, jsonify

from .courier import CourierError
from .services import services

bp = Blueprint("health", __name__)
log = logging.getLogger(__name__)


@bp.get("/healthz")
def alive() -> Response:
    """The process answers."""
    return jsonify({"status": "ok"})


@bp.get("/readyz")
def ready() -> tuple[Response, int]:
    """Courier answers with this instance's key: one catalog read, no cache."""
    try:
        sections = services().courier.list_sections()
    except CourierError as exc:
        log.warning("not ready: %s", exc)
        return jsonify({"status": "unavailable", "courier": "unreachable"}), 503
    return jsonify({"status": "ready", "sections": len(sections)}), 200
