"""A fault-injecting layer in front of the emulator: delays and failures on matching requests."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any


@dataclass
class Fault:
    """What to do to requests whose method and path match."""

    method: str
    path_regex: str
    status: int | None = None  # answer with this status instead of reaching the emulator
    body: bytes = b'{"type": "api_error", "message": "injected fault"}'
    headers: tuple[tuple[str, str], ...] = ()
    delay: float = 0.0  # seconds to wait before answering (or passing through)
    times: int | None = None  # strike only the first N matching requests; None: all of them

    def matches(self, method: str, path: str) -> bool:
        return method == self.method and re.fullmatch(self.path_regex, path) is not None

    def strike(self) -> bool:
        """Whether this matching request is hit, counting down `times`."""
        if self.times is None:
            return True
        if self.times <= 0:
            return False
        self.times -= 1
        return True


class FaultyCourier:
    """WSGI middleware: wraps the emulator and tracks how many requests are in flight."""

    def __init__(self, app: Callable[..., Iterable[bytes]], *faults: Fault) -> None:
        self.app = app
        self.faults = list(faults)
        self._lock = threading.Lock()
        self.in_flight = 0
        self.peak_in_flight = 0

    def __call__(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        with self._lock:
            self.in_flight += 1
            self.peak_in_flight = max(self.peak_in_flight, self.in_flight)
        try:
            method, path = environ["REQUEST_METHOD"], environ.get("PATH_INFO", "")
            with self._lock:
                fault = next(
                    (f for f in self.faults if f.matches(method, path) and f.strike()), None
                )
            if fault and fault.delay:
                time.sleep(fault.delay)
            if fault and fault.status is not None:
                headers = [("Content-Type", "application/json"), *fault.headers]
                start_response(f"{fault.status} Injected", headers)
                return [fault.body]
            return list(self.app(environ, start_response))
        finally:
            with self._lock:
                self.in_flight -= 1
