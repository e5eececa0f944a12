"""Real-browser fixtures: Debian's Chromium through Playwright, and the app on a loopback port."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from werkzeug.serving import make_server

from prefcenter import create_app
from prefcenter.courier import CourierClient
from prefcenter.emulator import create_emulator_app
from prefcenter.inprocess import wsgi_transport

from conftest import EMULATOR_KEY, SECRET_KEY

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    # "localhost" must reach our loopback servers even where it resolves to ::1 first.
    "--host-resolver-rules=MAP localhost 127.0.0.1",
]


@dataclass
class LiveServer:
    """A WSGI app served on 127.0.0.1 in a background thread."""

    app: Any
    url: str
    stop: Callable[[], None]


def serve(app: Any, host: str = "127.0.0.1") -> LiveServer:
    """Serve `app` on a free loopback port until stop() is called."""
    server = make_server(host, 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()

    def stop() -> None:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)

    return LiveServer(app=app, url=f"http://{host}:{server.server_port}", stop=stop)


@dataclass
class LivePrefcenter:
    """The preference center on a port, with the emulator behind it."""

    url: str
    app: Flask
    emulator: Flask

    @property
    def courier_state(self) -> Any:
        return self.emulator.extensions["courier_emulator"]


@pytest.fixture
def live_prefcenter() -> Iterator[Callable[..., LivePrefcenter]]:
    """Start the app on a loopback port: call with settings to change."""
    started: list[tuple[LiveServer, CourierClient]] = []

    def start(**settings: Any) -> LivePrefcenter:
        emulator = create_emulator_app(api_key=EMULATOR_KEY)
        courier = CourierClient(
            EMULATOR_KEY, "http://courier.test", transport=wsgi_transport(emulator)
        )
        holder: dict[str, Flask] = {}

        def wsgi(environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
            return holder["app"](environ, start_response)

        server = serve(wsgi)
        config = {
            "TESTING": True,
            "SECRET_KEY": SECRET_KEY,
            "COURIER_API_KEY": "set-but-unused: the client is injected",
            "PUBLIC_BASE_URL": server.url,
            **settings,
        }
        holder["app"] = create_app(config, courier=courier, environ={})
        started.append((server, courier))
        return LivePrefcenter(url=server.url, app=holder["app"], emulator=emulator)

    yield start
    for server, courier in started:
        server.stop()
        courier.close()


@pytest.fixture(scope="session")
def playwright_instance() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        yield playwright


@pytest.fixture(scope="session")
def browser_profile(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A Chromium profile that blocks third-party cookies, as privacy-minded browsers do."""
    profile = tmp_path_factory.mktemp("chromium-profile")
    (profile / "Default").mkdir()
    (profile / "Default" / "Preferences").write_text(
        json.dumps({"profile": {"block_third_party_cookies": True, "cookie_controls_mode": 1}})
    )
    return profile


@pytest.fixture
def browser_context(playwright_instance: Any, browser_profile: Path) -> Iterator[Any]:
    """A fresh Chromium window (JavaScript on) with third-party cookies blocked."""
    context = playwright_instance.chromium.launch_persistent_context(
        str(browser_profile),
        executable_path=CHROMIUM,
        headless=True,
        args=CHROMIUM_ARGS,
    )
    context.clear_cookies()
    yield context
    context.close()
