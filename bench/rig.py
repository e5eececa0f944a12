"""The app and the Courier emulator in one process, wired through httpx's WSGI transport.

Parts 1, 2, 4 and 5 (topics) measure through this: no sockets between the app and Courier, so
the figures are the app's own, with Courier's latency added only where a part injects it.
"""

from __future__ import annotations

import io
import logging
import secrets
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpx
from flask import Flask
from flask.testing import FlaskClient

from bench.common import BROWSER_HEADERS
from bench.load import API_KEY, RAISED_LIMITS, PostForm
from prefcenter import create_app
from prefcenter.access.links import LinkClaims, Purpose
from prefcenter.courier import CourierClient, RetryPolicy
from prefcenter.emulator import EmulatorState, create_emulator_app
from prefcenter.emulator.inprocess import wsgi_transport
from prefcenter.emulator.seed import seed_catalog, seed_demo_workspace
from prefcenter.platform.config import ENVIRONMENT, load_config

COURIER_URL = "http://courier.bench"  # never resolved: the transport calls the emulator app
PUBLIC_URL = "http://127.0.0.1:5000"  # links are minted on it; the bench opens their paths
SECRET_KEY = secrets.token_urlsafe(48)
WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
# Settings as the environment would give them, minus the rate limits (every request here is
# one address); the app reads no other environment (create_app(..., environ={})).
_LIMITS = {
    setting: RAISED_LIMITS[variable]
    for setting, variable in ENVIRONMENT.items()
    if variable in RAISED_LIMITS
}


class CourierLayer:
    """WSGI middleware in front of the emulator: an optional delay on every call, the time
    spent inside the emulator, and how many calls were in flight at once (the idea of
    tests/faults.py's FaultyCourier, for the bench)."""

    def __init__(self, app: WSGIApp, delay: float = 0.0) -> None:
        self.app = app
        self.delay = delay
        self._lock = threading.Lock()
        self.in_flight = 0
        self.peak_in_flight = 0
        self.emulator_seconds = 0.0  # time in the emulator itself, delays not included

    def __call__(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        with self._lock:
            self.in_flight += 1
            self.peak_in_flight = max(self.peak_in_flight, self.in_flight)
        try:
            if self.delay:
                time.sleep(self.delay)
            started = time.perf_counter()
            body = list(self.app(environ, start_response))
            spent = time.perf_counter() - started
            with self._lock:
                self.emulator_seconds += spent
            return body
        finally:
            with self._lock:
                self.in_flight -= 1

    def reset_peak(self) -> None:
        with self._lock:
            self.peak_in_flight = self.in_flight


def emulator(sections: int | None, per_section: int = 0) -> Flask:
    """An in-memory emulator holding `sections` x `per_section` generated topics, or the demo
    workspace when `sections` is None."""
    app = create_emulator_app(db_path=":memory:", api_key=API_KEY, seed=False)
    store = app.extensions["courier_emulator"].store
    if sections is None:
        seed_demo_workspace(store)
    else:
        seed_catalog(store, sections, per_section)
    return app


@dataclass
class Rig:
    """The app, its Courier client and the emulator behind them."""

    app: Flask
    courier: CourierClient
    emulator: Flask
    layer: CourierLayer

    @property
    def state(self) -> EmulatorState:
        return self.emulator.extensions["courier_emulator"]

    def person(self, user_id: str) -> Person:
        return Person(self, user_id)

    def link(self, user_id: str, purpose: Purpose = Purpose.MANAGE) -> str:
        return self.app.extensions["prefcenter"].minter.url(LinkClaims(user_id, purpose))

    def close(self) -> None:
        self.courier.close()


def build(
    courier_app: Flask,
    *,
    delay: float = 0.0,
    max_concurrent_writes: int | None = None,
) -> Rig:
    """The app talking to `courier_app` in-process, with `delay` seconds added to every call.

    The client is the app's own (prefcenter.CourierClient, the timeout and retry policy the
    app's defaults give); only its transport differs.
    """
    layer = CourierLayer(courier_app, delay=delay)
    config: dict[str, Any] = {
        "SECRET_KEY": SECRET_KEY,
        "COURIER_API_KEY": API_KEY,
        "COURIER_BASE_URL": COURIER_URL,
        "PUBLIC_BASE_URL": PUBLIC_URL,
        **_LIMITS,
    }
    if max_concurrent_writes is not None:
        config["COURIER_MAX_CONCURRENT_WRITES"] = max_concurrent_writes
    settings = load_config(config, environ={})  # what the app will have: defaults, then these
    timeout = settings["COURIER_TIMEOUT"]
    courier = CourierClient(
        API_KEY,
        COURIER_URL,
        timeout=httpx.Timeout(timeout, connect=min(2.0, timeout)),
        transport=wsgi_transport(layer),
        max_concurrent_writes=settings["COURIER_MAX_CONCURRENT_WRITES"],
        retry=RetryPolicy(
            attempts=settings["COURIER_RETRY_ATTEMPTS"], budget=settings["COURIER_RETRY_BUDGET"]
        ),
    )
    app = create_app(config, courier=courier, environ={})
    quiet_request_logs()
    return Rig(app=app, courier=courier, emulator=courier_app, layer=layer)


def quiet_request_logs() -> None:
    """Keep the app's JSON request log (its cost is part of a request's) but send it nowhere,
    so it does not fill the bench's output."""
    for handler in logging.getLogger("prefcenter").handlers:
        if isinstance(handler, logging.StreamHandler) and handler.stream is not _DEVNULL:
            handler.setStream(_DEVNULL)


class _Discard(io.TextIOBase):
    """A text stream that drops what is written to it."""

    def write(self, text: str) -> int:
        return len(text)


_DEVNULL = _Discard()


class Person:
    """A browser for one Courier user: signs in by link, views the page, posts its form."""

    def __init__(self, rig: Rig, user_id: str) -> None:
        self.rig, self.user_id = rig, user_id
        self.client: FlaskClient = rig.app.test_client()
        opened = self.client.get(urlsplit(rig.link(user_id)).path, headers=BROWSER_HEADERS)
        if opened.status_code != 302:
            raise RuntimeError(f"opening the manage link answered {opened.status_code}")

    def view(self) -> bytes:
        response = self.client.get("/", headers=BROWSER_HEADERS)
        if response.status_code != 200:
            raise RuntimeError(f"the page answered {response.status_code}")
        return response.get_data()

    def form(self) -> PostForm:
        form = PostForm(self.view().decode())
        if not form.found:
            raise RuntimeError("the page has no preferences form")
        return form

    def save(self, body: str) -> int:
        """Post the form as a browser does; the status (302 when saved). Redirect not followed."""
        response = self.client.post(
            "/",
            data=body,
            content_type="application/x-www-form-urlencoded",
            headers=BROWSER_HEADERS,
        )
        return response.status_code


def flip(form: PostForm, k: int) -> list[str]:
    """Flip the first k optional topics' switches, as a person clicking them; their names."""
    switches = form.toggles()
    if k > len(switches):
        raise ValueError(f"the page has {len(switches)} optional topics, not {k}")
    for switch in switches[:k]:
        switch["checked"] = "" if switch["checked"] else "checked"
    return [switch["name"] for switch in switches[:k]]
