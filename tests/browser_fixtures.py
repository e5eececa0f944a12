"""Real-browser fixtures: Debian's Chromium through Playwright, and the app on a loopback port."""

from __future__ import annotations

import functools
import html
import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import pytest
from flask import Flask
from werkzeug.serving import make_server

from prefcenter import create_app
from prefcenter.access.links import LinkClaims, Purpose
from prefcenter.access.minting import max_ages
from prefcenter.courier import CourierClient
from prefcenter.emulator import create_emulator_app, seed
from prefcenter.emulator.inprocess import wsgi_transport

from conftest import EMULATOR_KEY, FAST_RETRIES, SECRET_KEY
from faults import Fault, FaultyCourier

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


def _closed_before_sending(app: Any) -> Any:
    """Read each answer whole and close it before the server sends it. Werkzeug's dev server
    skips close() when the browser drops a connection mid-answer (a page left while a script
    loads), leaving a static file open: a ResourceWarning, an error under filterwarnings."""

    def wsgi(environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        body = app(environ, start_response)
        try:
            return [b"".join(body)]
        finally:
            if hasattr(body, "close"):
                body.close()

    return wsgi


def serve(app: Any, host: str = "127.0.0.1") -> LiveServer:
    """Serve `app` on a free loopback port until stop() is called."""
    server = make_server(host, 0, _closed_before_sending(app), threaded=True)
    # A short poll interval: stop() waits for the loop to notice, once per test.
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
    )
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
    # Between the app and the emulator: append a Fault to `courier.faults` to make Courier fail.
    courier: FaultyCourier | None = None

    @property
    def courier_state(self) -> Any:
        return self.emulator.extensions["courier_emulator"]

    def link(
        self, purpose: Purpose, user_id: str = "user-1", *, age: float = 0, **claims: Any
    ) -> str:
        """A link as an email would carry it; `age` seconds old (older than the purpose's
        lifetime makes an expired link)."""
        minter = self.app.extensions["prefcenter"].minter
        return minter.mint(LinkClaims(user_id, purpose, **claims), now=time.time() - age).url

    def expired_link(self, purpose: Purpose, user_id: str = "user-1", **claims: Any) -> str:
        """A genuine link whose lifetime ended an hour ago."""
        lifetime = max_ages(self.app.config)[purpose]
        return self.link(purpose, user_id, age=lifetime + 3600, **claims)


@pytest.fixture
def live_prefcenter() -> Iterator[Callable[..., LivePrefcenter]]:
    """Start the app on a loopback port: call with settings to change, and any Courier faults."""
    started: list[tuple[LiveServer, CourierClient]] = []

    def start(*faults: Fault, **settings: Any) -> LivePrefcenter:
        emulator = create_emulator_app(api_key=EMULATOR_KEY)
        faulty = FaultyCourier(emulator, *faults)
        # Retries without real waiting, so "Courier is down" answers as fast as it would in CI.
        courier = CourierClient(
            EMULATOR_KEY,
            "http://courier.test",
            transport=wsgi_transport(faulty),
            retry=FAST_RETRIES,
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
        return LivePrefcenter(url=server.url, app=holder["app"], emulator=emulator, courier=faulty)

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


@pytest.fixture(scope="session")
def browser(playwright_instance: Any) -> Iterator[Any]:
    """One Chromium for the whole session; tests open their own contexts in it (new_context)."""
    chromium = playwright_instance.chromium.launch(
        executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
    )
    yield chromium
    chromium.close()


@pytest.fixture
def new_context(browser: Any) -> Iterator[Callable[..., Any]]:
    """Open fresh browser contexts (no shared cookies or storage), closed after the test.

    Call with `javascript=False` for a browser with JavaScript off, and with any of Playwright's
    context options: `viewport`, `device_scale_factor`, `color_scheme` ("light"/"dark"),
    `reduced_motion` ("reduce"), `locale`, ...
    """
    opened: list[Any] = []

    def open_context(*, javascript: bool = True, **options: Any) -> Any:
        options.setdefault("viewport", {"width": 1280, "height": 800})
        context = browser.new_context(java_script_enabled=javascript, **options)
        context.set_default_timeout(10_000)
        opened.append(context)
        return context

    yield open_context
    for context in opened:
        context.close()


@pytest.fixture(params=[True, False], ids=["js-on", "js-off"])
def javascript(request: pytest.FixtureRequest) -> bool:
    """Run the test twice: in a browser with JavaScript on, and with it off."""
    return request.param


@pytest.fixture
def page(new_context: Callable[..., Any], javascript: bool) -> Any:
    """A fresh page in a fresh context, JavaScript on or off (see `javascript`)."""
    return new_context(javascript=javascript).new_page()


def framing_host() -> LiveServer:
    """Another site's page (serve it on "localhost", a different origin than 127.0.0.1) that
    frames the URL given as ?frame= in an iframe titled "Notification preferences"."""

    def host(environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        frame = parse_qs(environ.get("QUERY_STRING", "")).get("frame", [""])[0]
        page = (
            '<!doctype html><html lang="en"><head><meta charset="utf-8">'
            "<title>Account settings · Example app</title><style>"
            "body{font:16px/1.5 system-ui,sans-serif;margin:0;background:#f0f2f5;color:#1b1f24}"
            "header{background:#1b1f24;color:#fff;padding:12px 24px;font-weight:700}"
            "main{max-width:760px;margin:24px auto;padding:0 16px}"
            "iframe{width:100%;height:1100px;border:1px solid #c9ced6;border-radius:8px;"
            "background:#fff}</style></head><body><header>Example app</header><main>"
            "<h1>Account settings</h1><h2>Notifications</h2>"
            f'<iframe title="Notification preferences" src="{html.escape(frame)}"></iframe>'
            "</main></body></html>"
        )
        start_response("200 OK", [("Content-Type", "text/html; charset=utf-8")])
        return [page.encode()]

    return serve(host)


def topic_switch(page: Any, topic_name: str) -> Any:
    """The on/off switch of an optional topic, found as a person using a screen reader would."""
    return page.get_by_role("switch", name=topic_name, exact=True)


def channel_box(page: Any, topic_name: str, channel_label: str) -> Any:
    """One channel checkbox of a topic, found by the name a screen reader says, which names its
    topic ("Get “Task reminders” by Email"): the page shows the channel once per section."""
    return page.get_by_role("checkbox", name=f"Get “{topic_name}” by {channel_label}", exact=True)


# -- accessibility ----------------------------------------------------------------------------

AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"]
AXE_OPTIONS = {"runOnly": {"type": "tag", "values": AXE_TAGS}, "resultTypes": ["violations"]}


@functools.cache
def _axe_script() -> str:
    """axe-core's source, as the axe-playwright-python package ships it (half a megabyte)."""
    from axe_playwright_python.sync_playwright import Axe

    return Axe().axe_script


def axe_in_both_schemes(page: Any) -> dict[str, list[str]]:
    """axe's violations in `page` with light colours and with dark, by scheme."""
    page.wait_for_load_state()  # colours are checked: the stylesheets must be in
    found = {}
    for scheme in ("light", "dark"):
        page.emulate_media(color_scheme=scheme)
        found[scheme] = axe_violations(page)
    return found


def axe_violations(target: Any) -> list[str]:
    """Run axe-core in a page or frame; one line per violation and element.

    axe runs as a script in the page, so the page must allow scripts: to check a page as it is
    without JavaScript, block the page's own scripts rather than turning JavaScript off.
    """
    if not target.evaluate("typeof axe !== 'undefined'"):
        target.evaluate(_axe_script())  # once per document
    results = target.evaluate(f"axe.run(document, {json.dumps(AXE_OPTIONS)})")
    return [
        f"{rule['id']} ({rule['impact']}): {rule['help']} at {node['target']}"
        f" - {node.get('failureSummary', '').replace(chr(10), ' ')}"
        for rule in results["violations"]
        for node in rule["nodes"]
    ]


# -- consent records --------------------------------------------------------------------------


def consent_file_in_use(path: Path) -> None:
    """A consent file written for an hour already, its first record someone else's: where a
    change was made can then be told ("Elsewhere" needs a record older than the change)."""
    record = {
        "event": "preference_changed",
        "at": (datetime.now(UTC) - timedelta(hours=1)).isoformat(timespec="milliseconds"),
        "user_id": "someone-else",
        "tenant_id": None,
        "topic_id": seed.TOPIC_DIGEST,
        "topic_name": "Weekly digest",
        "old": {"status": "OPTED_OUT", "has_custom_routing": False, "channels": []},
        "new": {"status": "OPTED_IN", "has_custom_routing": False, "channels": []},
        "via": "manage_page",
        "request_id": None,
    }
    with open(path, "a", encoding="utf-8") as file:
        file.write(json.dumps(record) + "\n")
