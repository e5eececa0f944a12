"""Demo mode: with no Courier API key, the page talks to the embedded emulator in-process."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import quote

import httpx
from flask import Flask

from ..courier import CourierClient
from . import DEFAULT_API_KEY, create_emulator_app
from .inprocess import WSGIApp, wsgi_transport

# Never resolved: WSGITransport hands every request straight to the emulator app.
EMULATOR_BASE_URL = "http://courier-emulator.invalid"
# Where the demo serves the emulator's outbox pages, beside the preference center's own.
OUTBOX_PREFIX = "/demo"


def demo_courier(
    timeout: httpx.Timeout, max_concurrent_writes: int, *, outbox_on: Flask | None = None
) -> CourierClient:
    """Return a client wired to a fresh emulator holding the demo workspace.

    With `outbox_on`, that app also serves the emulator's outbox at /demo/outbox, so the demo
    can open what it "sent" (a fresh link by email).
    """
    emulator = create_emulator_app(db_path=":memory:", api_key=DEFAULT_API_KEY, seed=True)
    if outbox_on is not None:
        serve_outbox(outbox_on, emulator)
    return CourierClient(
        DEFAULT_API_KEY,
        EMULATOR_BASE_URL,
        timeout=timeout,
        transport=wsgi_transport(emulator),
        max_concurrent_writes=max_concurrent_writes,
    )


def serve_outbox(app: Flask, emulator: Flask) -> None:
    """Hand /demo/outbox and the pages under it to the emulator; nothing else of it."""
    app.wsgi_app = _OutboxMount(app.wsgi_app, emulator)  # type: ignore[method-assign]


def outbox_url(script_root: str, message_id: str) -> str:
    """The demo outbox's page for one message."""
    return f"{script_root}{OUTBOX_PREFIX}/outbox/{quote(message_id, safe='')}"


class _OutboxMount:
    """WSGI: requests for /demo/outbox... go to the emulator (only its outbox pages, which
    need no API key); everything else to the preference center."""

    def __init__(self, app: WSGIApp, emulator: WSGIApp) -> None:
        self.app = app
        self.emulator = emulator

    def __call__(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        outbox = f"{OUTBOX_PREFIX}/outbox"
        if path == outbox or path.startswith(outbox + "/"):
            environ = {
                **environ,
                "SCRIPT_NAME": environ.get("SCRIPT_NAME", "") + OUTBOX_PREFIX,
                "PATH_INFO": path[len(OUTBOX_PREFIX) :],
            }
            return self.emulator(environ, start_response)
        return self.app(environ, start_response)
