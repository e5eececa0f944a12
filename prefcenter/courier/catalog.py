"""Values every person shares, read from Courier rarely: the catalog and tenants' defaults.

Each is held for a while per process and refreshed so that a slow or failing Courier costs
one call, not one per view: one fetch at a time shares its result (or failure) with every
view waiting on it; a value that has expired is served while a fresh one is fetched in the
background, and for a day while fetching fails (stale-if-error); after a failure there is a
short pause before the next attempt; and a value close to expiry is refreshed ahead of time.
Only a view with nothing at hand waits, and then for the one shared fetch.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from concurrent.futures import Future
from typing import Generic, TypeVar

from . import Section, TopicDefault

log = logging.getLogger(__name__)

T = TypeVar("T")

# Past this share of its lifetime a value is refreshed in the background while still served.
REFRESH_AHEAD = 0.8
# After a failed fetch, views use what is held (or fail fast) for this long before retrying.
RETRY_PAUSE = 5.0
# How long past its expiry a value may stand in for one Courier cannot give.
STALE_IF_ERROR = 24 * 60 * 60.0


class SharedValue(Generic[T]):
    """One value fetched from Courier and shared by every request of the process."""

    def __init__(
        self,
        fetch: Callable[[], T],
        ttl: float,
        clock: Callable[[], float] = time.monotonic,
        *,
        retry_pause: float = RETRY_PAUSE,
        stale_if_error: float = STALE_IF_ERROR,
    ) -> None:
        self._fetch = fetch
        self._ttl = ttl
        self._clock = clock
        self._retry_pause = retry_pause
        self._stale_if_error = stale_if_error
        self._lock = threading.Lock()
        self._value: T | None = None
        self._fetched_at = 0.0
        self._failure: Exception | None = None
        self._failed_at = 0.0
        self._in_flight: Future[T] | None = None

    def get(self) -> T:
        """Return the value, fetching it when missing or expired; raise what fetching raised."""
        with self._lock:
            now = self._clock()
            age = now - self._fetched_at
            held = self._value is not None
            if held and age < self._ttl:
                if age >= self._ttl * REFRESH_AHEAD and self._may_fetch(now):
                    self._start_in_background()
                return self._value  # type: ignore[return-value]
            usable_stale = held and age < self._ttl + self._stale_if_error
            if usable_stale and self._may_fetch(now):
                # Expired but at hand: serve it while a fresh one is fetched for later views.
                self._start_in_background()
                return self._value  # type: ignore[return-value]
            if self._in_flight is not None:
                if usable_stale:
                    return self._value  # type: ignore[return-value]
                waiting, leader = self._in_flight, False
            elif not self._may_fetch(now):
                if usable_stale:
                    return self._value  # type: ignore[return-value]
                assert self._failure is not None
                raise self._failure
            else:
                waiting, leader = self._begin(), True
        if leader:
            self._run(waiting)
        return waiting.result()  # nothing usable at hand: wait for the one shared fetch

    def clear(self) -> None:
        """Forget the value and any failure, so the next call fetches."""
        with self._lock:
            self._value = None
            self._failure = None

    def _may_fetch(self, now: float) -> bool:
        if self._in_flight is not None:
            return False
        return self._failure is None or now - self._failed_at >= self._retry_pause

    def _begin(self) -> Future[T]:
        self._in_flight = Future()
        return self._in_flight

    def _start_in_background(self) -> None:
        future = self._begin()
        threading.Thread(target=self._run, args=(future,), daemon=True).start()

    def _run(self, future: Future[T]) -> None:
        """Fetch, publish the outcome to everyone waiting, and remember it."""
        try:
            value = self._fetch()
        except BaseException as exc:  # shared with every waiter, re-raised there
            if self._value is not None:
                log.warning("Courier could not refresh a shared value; the held copy stands in")
            with self._lock:
                if isinstance(exc, Exception):
                    self._failure, self._failed_at = exc, self._clock()
                self._in_flight = None
            future.set_exception(exc)
            if not isinstance(exc, Exception):
                raise
            return
        with self._lock:
            self._value, self._fetched_at = value, self._clock()
            self._failure = None
            self._in_flight = None
        future.set_result(value)


class CatalogCache:
    """The workspace catalog, so a page view costs one user read, not two."""

    def __init__(
        self,
        fetch: Callable[[], list[Section]],
        ttl: float,
        clock: Callable[[], float] = time.monotonic,
        **tuning: float,
    ) -> None:
        self._shared = SharedValue(lambda: tuple(fetch()), ttl, clock, **tuning)

    def sections(self) -> tuple[Section, ...]:
        """Return the catalog: held, refreshed or fetched as SharedValue explains."""
        return self._shared.get()

    def clear(self) -> None:
        """Forget the cached catalog, so the next view reads it again."""
        self._shared.clear()


class TenantDefaultsCache:
    """Each tenant's default preferences, held like the catalog, one SharedValue per tenant."""

    # Enough for every tenant a process sees in a period; past it the oldest entry goes.
    MAX_TENANTS = 10_000

    def __init__(
        self,
        fetch: Callable[[str], Mapping[str, TopicDefault]],
        ttl: float,
        clock: Callable[[], float] = time.monotonic,
        **tuning: float,
    ) -> None:
        self._fetch = fetch
        self._ttl = ttl
        self._clock = clock
        self._tuning = tuning
        self._lock = threading.Lock()
        self._tenants: dict[str, SharedValue[Mapping[str, TopicDefault]]] = {}

    def defaults(self, tenant_id: str | None) -> Mapping[str, TopicDefault]:
        """Return the tenant's defaults by topic id; none without a tenant."""
        if not tenant_id:
            return {}
        with self._lock:
            shared = self._tenants.get(tenant_id)
            if shared is None:
                shared = SharedValue(
                    lambda: self._fetch(tenant_id), self._ttl, self._clock, **self._tuning
                )
                self._tenants[tenant_id] = shared
                while len(self._tenants) > self.MAX_TENANTS:
                    del self._tenants[next(iter(self._tenants))]
        return shared.get()

    def clear(self) -> None:
        """Forget every tenant's defaults."""
        with self._lock:
            self._tenants.clear()
