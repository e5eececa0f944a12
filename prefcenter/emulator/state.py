"""Per-app emulator state: the store, the behaviour switches and the request log."""

from __future__ import annotations

import bisect
import itertools
import re
import threading
from collections.abc import Hashable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass

from .behaviours import LIST_MODES, Behaviours
from .store import Store

__all__ = ["LIST_MODES", "MAX_LOGGED_REQUESTS", "Behaviours", "EmulatorState", "LoggedRequest"]

# The request log keeps the newest entries only, so a long load run cannot grow it forever.
MAX_LOGGED_REQUESTS = 50_000


@dataclass(frozen=True)
class LoggedRequest:
    """One request the emulator answered."""

    method: str
    path: str
    query: dict[str, str]
    body: object | None
    status: int


class _KeyLocks:
    """A lock per key, kept only while some thread holds or waits for it."""

    def __init__(self) -> None:
        self._guard = threading.Lock()
        self._locks: dict[Hashable, tuple[threading.Lock, int]] = {}

    @contextmanager
    def hold(self, key: Hashable) -> Iterator[None]:
        """Hold the key's lock for the block, waiting for whoever holds it now."""
        with self._guard:
            lock, users = self._locks.get(key) or (threading.Lock(), 0)
            self._locks[key] = (lock, users + 1)
        try:
            with lock:
                yield
        finally:
            with self._guard:
                users = self._locks[key][1] - 1
                if users:
                    self._locks[key] = (lock, users)
                else:
                    del self._locks[key]


class EmulatorState:
    """What ``app.extensions["courier_emulator"]`` holds."""

    def __init__(
        self,
        store: Store,
        api_key: str,
        list_mode: str | None = None,
        behaviours: Behaviours | None = None,
    ) -> None:
        if not api_key:
            raise ValueError("api_key must be a non-empty string")
        self.store = store
        self.api_key = api_key
        if behaviours is not None:
            self.behaviours = behaviours
        if list_mode is not None:  # given on its own, it wins over the behaviours' list_mode
            self.list_mode = list_mode
        self._lock = threading.Lock()
        self._arrivals = itertools.count()
        # (arrival number, entry): requests are logged when they finish, but kept sorted by
        # arrival so concurrent clients see the log in the order requests came in.
        self._log: list[tuple[int, LoggedRequest]] = []
        self.max_logged = MAX_LOGGED_REQUESTS
        self._idempotency_keys = _KeyLocks()

    @property
    def behaviours(self) -> Behaviours:
        """The switches in force; the store reads the same object on every call."""
        return self.store.behaviours

    @behaviours.setter
    def behaviours(self, value: Behaviours) -> None:
        self.store.behaviours = value

    @property
    def list_mode(self) -> str:
        """Shorthand for ``behaviours.list_mode``."""
        return self.behaviours.list_mode

    @list_mode.setter
    def list_mode(self, value: str) -> None:
        self.behaviours.list_mode = value

    def arrival(self) -> int:
        """Reserve the log position of a request that just arrived."""
        with self._lock:
            return next(self._arrivals)

    def record(self, arrival: int, entry: LoggedRequest) -> None:
        """Add a finished request to the log at its arrival position."""
        with self._lock:
            bisect.insort(self._log, (arrival, entry), key=lambda item: item[0])
            if len(self._log) > self.max_logged:
                del self._log[: len(self._log) - self.max_logged]

    @property
    def requests(self) -> list[LoggedRequest]:
        """A snapshot of the logged requests, in arrival order."""
        with self._lock:
            return [entry for _, entry in self._log]

    def clear_requests(self) -> None:
        """Forget every logged request."""
        with self._lock:
            self._log.clear()

    def hold_idempotency_key(
        self, key: str, method: str, path: str
    ) -> AbstractContextManager[None]:
        """Hold an Idempotency-Key on a route: a second request with it waits until released."""
        return self._idempotency_keys.hold((key, method, path))

    def count(self, method: str, path_regex: str) -> int:
        """How many logged requests have this method and a path fully matching the regex."""
        pattern = re.compile(path_regex)
        wanted = method.upper()
        return sum(
            1
            for entry in self.requests
            if entry.method == wanted and pattern.fullmatch(entry.path) is not None
        )
