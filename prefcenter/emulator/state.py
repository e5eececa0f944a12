"""Per-app emulator state: the store, the configuration and the request log."""

from __future__ import annotations

import bisect
import itertools
import re
import threading
from dataclasses import dataclass

from .store import Store

LIST_MODES: tuple[str, ...] = ("all", "overrides")
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


class EmulatorState:
    """What ``app.extensions["courier_emulator"]`` holds."""

    def __init__(self, store: Store, api_key: str, list_mode: str) -> None:
        if list_mode not in LIST_MODES:
            raise ValueError(f"list_mode must be one of {LIST_MODES}, got {list_mode!r}")
        if not api_key:
            raise ValueError("api_key must be a non-empty string")
        self.store = store
        self.api_key = api_key
        self.list_mode = list_mode
        self._lock = threading.Lock()
        self._arrivals = itertools.count()
        # (arrival number, entry): requests are logged when they finish, but kept sorted by
        # arrival so concurrent clients see the log in the order requests came in.
        self._log: list[tuple[int, LoggedRequest]] = []
        self.max_logged = MAX_LOGGED_REQUESTS

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

    def count(self, method: str, path_regex: str) -> int:
        """How many logged requests have this method and a path fully matching the regex."""
        pattern = re.compile(path_regex)
        wanted = method.upper()
        return sum(
            1
            for entry in self.requests
            if entry.method == wanted and pattern.fullmatch(entry.path) is not None
        )
