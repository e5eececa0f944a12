"""What the README's picture scripts share: a page served on a loopback port with the Courier
emulator behind it (as the browser tests do), and the command line that runs a script's
`take_all` in Debian's Chromium.

Each docs/screenshots_*.py script says what it pictures; this module only starts and stops.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

DOCS = Path(__file__).resolve().parent
ROOT = DOCS.parent
for folder in (DOCS, ROOT / "tests", ROOT):  # the package, the test fixtures, the other scripts
    if str(folder) not in sys.path:
        sys.path.insert(0, str(folder))

from flask import Flask  # noqa: E402
from screenshots import DESKTOP, PHONE  # noqa: E402

from prefcenter import create_app  # noqa: E402
from prefcenter.courier import CourierClient  # noqa: E402
from prefcenter.emulator.inprocess import wsgi_transport  # noqa: E402

from browser_fixtures import CHROMIUM, CHROMIUM_ARGS, consent_file_in_use, serve  # noqa: E402
from conftest import EMULATOR_KEY, SECRET_KEY  # noqa: E402

# What the scripts take from here, the import path being set first.
__all__ = [
    "DESKTOP",
    "DOCS",
    "EMULATOR_KEY",
    "PHONE",
    "SECRET_KEY",
    "consent_file_in_use",
    "fit_to_content",
    "picture",
    "run",
    "serve",
    "served_page",
]


@contextmanager
def served_page(
    emulator: Flask, settings: Mapping[str, Any] | None = None
) -> Iterator[tuple[Flask, str, CourierClient]]:
    """The app on a loopback port, talking to `emulator` in-process: (app, its URL, client)."""
    courier = CourierClient(EMULATOR_KEY, "http://courier.test", transport=wsgi_transport(emulator))
    holder: dict[str, Any] = {}
    server = serve(lambda environ, start: holder["app"](environ, start))
    app = holder["app"] = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": SECRET_KEY,
            "COURIER_API_KEY": "set-but-unused: the client is injected",
            "PUBLIC_BASE_URL": server.url,
            **(settings or {}),
        },
        courier=courier,
        environ={},
    )
    try:
        yield app, server.url, courier
    finally:
        server.stop()
        courier.close()
        emulator.extensions["courier_emulator"].store.close()


@contextmanager
def picture(browser: Any, options: Mapping[str, Any], path: Path) -> Iterator[Any]:
    """A page in a new browser context with `options`, pictured to `path` once the block has
    brought it to the state to show; the context is closed either way."""
    page = browser.new_context(**options).new_page()
    try:
        yield page
        page.screenshot(path=str(path), animations="disabled")
    finally:
        page.context.close()


def fit_to_content(page: Any, options: Mapping[str, Any]) -> None:
    """Make the window as tall as the page, so the whole of it is pictured (a full-page capture
    of a shorter window would draw the sticky Save bar mid-page)."""
    height = page.evaluate("document.documentElement.scrollHeight")
    page.set_viewport_size({"width": options["viewport"]["width"], "height": height})


def run(take_all: Callable[[Any, Path], dict[str, Path]], argv: list[str]) -> int:
    """Write a script's pictures to argv[0] (default: docs/) and print their paths."""
    from playwright.sync_api import sync_playwright

    out = Path(argv[0]).resolve() if argv else DOCS
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        try:
            for path in take_all(browser, out).values():
                print(path)
        finally:
            browser.close()
    return 0
