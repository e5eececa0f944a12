"""When to try a Courier call again, and how long to wait: bounded, so pages answer promptly."""

from __future__ import annotations

import email.utils
import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field


@dataclass(frozen=True)
class RetryPolicy:
    """Capped exponential backoff with jitter, honouring Retry-After, within a time budget."""

    attempts: int = 3  # tries in all, the first included
    base_delay: float = 0.2  # seconds before the first retry, doubled for each next one
    max_delay: float = 2.0
    budget: float = 8.0  # seconds from the first try after which no retry starts
    sleep: Callable[[float], None] = field(default=time.sleep, compare=False)
    clock: Callable[[], float] = field(default=time.monotonic, compare=False)
    jitter: Callable[[], float] = field(default=lambda: random.uniform(0.5, 1.0), compare=False)

    def backoff(self, retry_number: int) -> float:
        """The wait before retry number `retry_number` (1 for the first retry)."""
        delay = min(self.max_delay, self.base_delay * 2 ** (retry_number - 1))
        return delay * self.jitter()


NO_RETRIES = RetryPolicy(attempts=1)


def retry_after_seconds(value: str | None, now: float | None = None) -> float | None:
    """Parse a Retry-After header (seconds, or an HTTP date); None when absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    try:
        seconds = float(value)  # Courier's SDK honours fractional seconds too
    except ValueError:
        pass
    else:
        return seconds if seconds >= 0 and seconds == seconds else None  # NaN, negatives: unread
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when is None:
        return None
    current = time.time() if now is None else now
    return max(0.0, when.timestamp() - current)


def retry_after_from_headers(headers: Mapping[str, str]) -> float | None:
    """How long the answer asks us to wait: `retry-after-ms` first, as Courier's SDK reads it."""
    millis = headers.get("retry-after-ms")
    if millis:
        try:
            value = float(millis)
        except ValueError:
            value = -1.0
        if value >= 0:
            return value / 1000
    return retry_after_seconds(headers.get("retry-after"))
