"""Per-app emulator state: the store, the behaviour switches and the request log."""

from __future__ import annotations

import bisect
import itertools
import json
import re
import threading
from collections.abc import Hashable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass

from .behaviours import LIST_MODES, Behaviours
from .store import Store

__all__ = [
    "LIST_MODES",
    "MAX_LOGGED_BODY_BYTES",
    "MAX_LOGGED_BYTES",
    "MAX_LOGGED_REQUESTS",
    "Behaviours",
    "EmulatorState",
    "LoggedRequest",
]

# The request log keeps the newest entries only, so a long load run cannot grow it forever:
# at most this many entries, holding at most MAX_LOGGED_BYTES of bodies between them.
MAX_LOGGED_REQUESTS = 50_000
MAX_LOGGED_BYTES = 16 * 1024 * 1024
# A body larger than this is logged by its size only: the log is there to check what clients
# sent, and a real preference write is a few hundred bytes.
MAX_LOGGED_BODY_BYTES = 64 * 1024


@dataclass(frozen=True)
class LoggedRequest:
    """One request the emulator answered.

    ``raw_body`` holds the bytes as received, or nothing when the body was not kept (a request
    refused before it was processed, or one over the per-body cap); ``body_size`` is the size
    the client sent (its Content-Length when the body was not read).
    """

    method: str
    path: str
    query: dict[str, str]
    raw_body: bytes
    status: int
    body_size: int = 0

    @property
    def body(self) -> object | None:
        """The body: JSON if it parses, else the text; None when empty or not kept."""
        # Decoded on each read, not when logged: a megabyte of JSON can take twenty as objects.
        if not self.raw_body or self.raw_body.isspace():
            return None
        try:
            return json.loads(self.raw_body)
        except ValueError:
            return self.raw_body.decode("utf-8", errors="replace")


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
        self._logged_bytes = 0
        self.max_logged = MAX_LOGGED_REQUESTS
        self.max_logged_bytes = MAX_LOGGED_BYTES
        self.max_logged_body = MAX_LOGGED_BODY_BYTES
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

    def keeps_body(self, size: int) -> bool:
        """Whether a body of ``size`` bytes goes into the log (else only its size does)."""
        return size <= min(self.max_logged_body, self.max_logged_bytes)

    def record(self, arrival: int, entry: LoggedRequest) -> None:
        """Add a finished request to the log at its arrival position, dropping the oldest."""
        with self._lock:
            bisect.insort(self._log, (arrival, entry), key=lambda item: item[0])
            drop = max(len(self._log) - self.max_logged, 0)
            kept = self._logged_bytes + len(entry.raw_body)
            kept -= sum(len(dropped.raw_body) for _, dropped in self._log[:drop])
            while kept > self.max_logged_bytes and drop < len(self._log):
                kept -= len(self._log[drop][1].raw_body)
                drop += 1
            del self._log[:drop]
            self._logged_bytes = kept

    @property
    def requests(self) -> list[LoggedRequest]:
        """A snapshot of the logged requests, in arrival order."""
        with self._lock:
            return [entry for _, entry in self._log]

    @property
    def logged_bytes(self) -> int:
        """Total size of the bodies the request log holds."""
        with self._lock:
            return self._logged_bytes

    def clear_requests(self) -> None:
        """Forget every logged request."""
        with self._lock:
            self._log.clear()
            self._logged_bytes = 0

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
