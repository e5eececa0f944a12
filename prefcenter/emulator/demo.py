"""Demo mode: with no Courier API key, the page talks to the embedded emulator in-process."""

from __future__ import annotations

import httpx

from ..courier import CourierClient
from . import DEFAULT_API_KEY, create_emulator_app
from .inprocess import wsgi_transport

# Never resolved: WSGITransport hands every request straight to the emulator app.
EMULATOR_BASE_URL = "http://courier-emulator.invalid"


def demo_courier(timeout: httpx.Timeout, max_concurrent_writes: int) -> CourierClient:
    """Return a client wired to a fresh emulator holding the demo workspace."""
    emulator = create_emulator_app(db_path=":memory:", api_key=DEFAULT_API_KEY, seed=True)
    return CourierClient(
        DEFAULT_API_KEY,
        EMULATOR_BASE_URL,
        timeout=timeout,
        transport=wsgi_transport(emulator),
        max_concurrent_writes=max_concurrent_writes,
    )
