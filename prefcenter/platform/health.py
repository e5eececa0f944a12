"""Probes for load balancers and orchestrators: alive, and ready (Courier reachable)."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from flask import Blueprint, Response, current_app, jsonify
from flask.blueprints import BlueprintSetupState

from ..courier import CourierError

bp = Blueprint("health", __name__)
log = logging.getLogger(__name__)

READINESS = "prefcenter_readiness"


class Readiness:
    """The last readiness answer, reused for `ttl` seconds; one check at a time, so probes
    arriving together share one Courier call instead of each spending the key's rate limit."""

    def __init__(self, ttl: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl = ttl
        self.clock = clock
        self._lock = threading.Lock()
        self._checked_at: float | None = None
        self._sections: int | None = None

    def sections(self, check: Callable[[], int | None]) -> int | None:
        """The number of catalog sections Courier listed, or None when it did not answer."""
        with self._lock:
            now = self.clock()
            if self._checked_at is None or now - self._checked_at >= self.ttl:
                self._sections = check()
                self._checked_at = self.clock()
            return self._sections


@bp.record_once
def _keep_readiness(state: BlueprintSetupState) -> None:
    state.app.extensions[READINESS] = Readiness(state.app.config["READY_CACHE_TTL"])


@bp.get("/healthz")
def alive() -> Response:
    """The process answers."""
    return jsonify({"status": "ok"})


@bp.get("/readyz")
def ready() -> tuple[Response, int]:
    """Courier answers with this instance's key: one catalog read, reused for a few seconds."""
    sections = current_app.extensions[READINESS].sections(_count_sections)
    if sections is None:
        return jsonify({"status": "unavailable", "courier": "unreachable"}), 503
    return jsonify({"status": "ready", "sections": sections}), 200


def _count_sections() -> int | None:
    try:
        return len(current_app.extensions["courier"].list_sections())
    except CourierError as exc:
        log.warning("not ready: %s", exc)
        return None
