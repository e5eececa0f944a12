"""Calling a WSGI app (the emulator) in-process through httpx, with paths encoded per PEP 3333."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import httpx

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


def _pep3333_paths(app: WSGIApp) -> WSGIApp:
    # httpx.WSGITransport puts the decoded path into PATH_INFO as text, but WSGI wants the
    # path's UTF-8 bytes spelled as latin-1 (what real servers do). Without this, an id
    # such as "ü" reaches the app garbled.
    def wrapped(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        environ["PATH_INFO"] = environ["PATH_INFO"].encode("utf-8").decode("latin-1")
        return app(environ, start_response)

    return wrapped


def wsgi_transport(app: WSGIApp) -> httpx.WSGITransport:
    """Return an httpx transport that hands every request to `app` in this process."""
    return httpx.WSGITransport(app=_pep3333_paths(app))
