"""The workspace catalog, the same for every user, cached per process for a short while."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping

from .courier import Section, TopicDefault


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


class TenantDefaultsCache:
    """Each tenant's default preferences, held `ttl` seconds like the catalog.

    Read once per tenant and period rather than once per view: they change as rarely as the
    catalog does. A failed read raises and caches nothing.
    """

    # Enough for every tenant a process sees in a period; past it the oldest entry goes.
    MAX_TENANTS = 10_000

    def __init__(
        self,
        fetch: Callable[[str], Mapping[str, TopicDefault]],
        ttl: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._fetch = fetch
        self._ttl = ttl
        self._clock = clock
        self._lock = threading.Lock()
        self._entries: dict[str, tuple[float, Mapping[str, TopicDefault]]] = {}

    def defaults(self, tenant_id: str | None) -> Mapping[str, TopicDefault]:
        """Return the tenant's defaults by topic id; none without a tenant."""
        if not tenant_id:
            return {}
        with self._lock:
            entry = self._entries.get(tenant_id)
            if entry is not None and self._clock() - entry[0] < self._ttl:
                return entry[1]
        # Fetched outside the lock: one slow tenant must not hold views of every other.
        value = self._fetch(tenant_id)
        with self._lock:
            self._entries.pop(tenant_id, None)
            self._entries[tenant_id] = (self._clock(), value)
            while len(self._entries) > self.MAX_TENANTS:
                del self._entries[next(iter(self._entries))]
        return value

    def clear(self) -> None:
        """Forget every tenant's defaults."""
        with self._lock:
            self._entries.clear()
