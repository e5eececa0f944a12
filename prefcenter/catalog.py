"""The workspace catalog, the same for every user, cached per process for a short while."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from .courier import Section


class CatalogCache:
    """Hold the catalog for `ttl` seconds so a page view costs one user read, not two."""

    def __init__(
        self,
        fetch: Callable[[], list[Section]],
        ttl: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._fetch = fetch
        self._ttl = ttl
        self._clock = clock
        self._lock = threading.Lock()
        self._sections: tuple[Section, ...] | None = None
        self._fetched_at = 0.0

    def sections(self) -> tuple[Section, ...]:
        """Return the cached catalog, fetching it when missing or stale."""
        with self._lock:
            # One fetch at a time: concurrent page views after expiry share one catalog read.
            # A failed fetch raises and leaves the cache as it was.
            now = self._clock()
            if self._sections is None or now - self._fetched_at >= self._ttl:
                self._sections = tuple(self._fetch())
                self._fetched_at = now
            return self._sections

    def clear(self) -> None:
        """Forget the cached catalog, so the next view reads it again."""
        with self._lock:
            self._sections = None
