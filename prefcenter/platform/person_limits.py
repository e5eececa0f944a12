"""Limits per person rather than per address: "at most 3 new links an hour for this person".

Counted in the rate-limit store (RATELIMIT_STORAGE_URI), so every worker and instance shares
one count through Redis; while that store is unreachable, each process counts on its own, as
the address limits do. People are named in the store by a digest, never by their ids.
"""

from __future__ import annotations

import hashlib
import logging

from limits import parse
from limits.errors import StorageError
from limits.storage import MemoryStorage, storage_from_string
from limits.strategies import MovingWindowRateLimiter

log = logging.getLogger(__name__)


class PersonLimit:
    """At most `limit` ("3 per hour") events per person within a moving window."""

    def __init__(self, limit: str, storage_uri: str, scope: str) -> None:
        self.limit = parse(limit)
        self._scope = scope
        self._shared = MovingWindowRateLimiter(
            storage_from_string(storage_uri, wrap_exceptions=True)
        )
        self._local = MovingWindowRateLimiter(MemoryStorage())
        self._store_down = False  # said once per outage, not on every hit during it

    def allow(self, *person: str) -> bool:
        """Count one event for this person; False when they have had their allowance."""
        key = hashlib.sha256("\0".join(person).encode()).hexdigest()[:32]
        try:
            allowed = self._shared.hit(self.limit, self._scope, key)
        except StorageError as exc:
            if not self._store_down:
                self._store_down = True
                log.warning("rate-limit store unreachable, counting in this process: %s", exc)
            return self._local.hit(self.limit, self._scope, key)
        if self._store_down:
            self._store_down = False
            log.warning("rate-limit store reachable again (%s), counting there", self._scope)
        return allowed
