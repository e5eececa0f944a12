"""Helpers for tests: talk to an emulator app in-process, over httpx's WSGI transport."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

import httpx
from flask import Flask

from . import DEFAULT_API_KEY

if TYPE_CHECKING:  # the SDK is a test dependency only
    from courier import Courier

BASE_URL = "http://courier.test"


def http_client(app: Flask, api_key: str | None = DEFAULT_API_KEY) -> httpx.Client:
    """An httpx client bound to ``app`` (caller closes it), sending the Bearer key if given."""
    headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
    return httpx.Client(transport=httpx.WSGITransport(app=app), base_url=BASE_URL, headers=headers)


@contextmanager
def courier_client(
    app: Flask, api_key: str = DEFAULT_API_KEY, *, strict: bool = False
) -> Iterator[Courier]:
    """The official Courier SDK pointed at ``app`` in-process, no retries; closed on exit.

    ``strict`` makes the SDK validate every response against its models and raise
    ``courier.APIResponseValidationError`` on a mismatch, instead of building it leniently.
    """
    from courier import Courier

    client = Courier(
        api_key=api_key,
        base_url=BASE_URL,
        http_client=httpx.Client(transport=httpx.WSGITransport(app=app)),
        max_retries=0,
        _strict_response_validation=strict,
    )
    try:
        yield client
    finally:
        client.close()
