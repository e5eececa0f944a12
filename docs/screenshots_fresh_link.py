"""The README's pictures of "Email me a new link", taken in Chromium from the running code.

    .venv/bin/python docs/screenshots_fresh_link.py [OUT_DIR]

Starts the app in demo mode on a loopback port (its own Courier emulator, the outbox at
/demo/outbox), opens an expired link, presses the button, and writes docs/fresh-link-*.png (or
to OUT_DIR): the expired page with its button, the answer, and the message in the outbox.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path
from typing import Any

DOCS = Path(__file__).resolve().parent
ROOT = DOCS.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests"), str(DOCS)]

from screenshots import DESKTOP, PHONE  # noqa: E402

from prefcenter import create_app  # noqa: E402
from prefcenter.access.links import LinkClaims, Purpose  # noqa: E402
from prefcenter.access.minting import max_ages  # noqa: E402
from prefcenter.emulator import seed  # noqa: E402

from browser_fixtures import CHROMIUM, CHROMIUM_ARGS, serve  # noqa: E402
from conftest import SECRET_KEY  # noqa: E402

# file name -> browser context options
SHOTS: dict[str, dict[str, Any]] = {
    "fresh-link-expired": {**DESKTOP, "color_scheme": "light"},
    "fresh-link-answer": {**DESKTOP, "color_scheme": "light"},
    "fresh-link-outbox": {**DESKTOP, "color_scheme": "light"},
    "fresh-link-phone": {**PHONE, "color_scheme": "dark"},
}


def path_of(name: str, out: Path = DOCS) -> Path:
    return out / f"{name}.png"


def take_shots(browser: Any, expired_link: Any, out: Path) -> dict[str, Path]:
    """Walk the flow once per window setting, picturing the step each name shows."""
    written = {}
    for name, options in SHOTS.items():
        page = browser.new_context(**options).new_page()
        page.goto(expired_link())
        button = page.get_by_role("button", name="Email me a new link")
        button.wait_for()
        if name in ("fresh-link-answer", "fresh-link-outbox"):
            button.click()
            page.locator("p.demo-outbox a").wait_for()
        if name == "fresh-link-outbox":
            page.locator("p.demo-outbox a").click()
            page.locator(".message-body a").wait_for()
        written[name] = path_of(name, out)
        page.screenshot(path=str(written[name]), animations="disabled")
        page.context.close()
    return written


def take_all(browser: Any, out: Path) -> dict[str, Path]:
    """Start the demo app and write every picture to `out`."""
    out.mkdir(parents=True, exist_ok=True)
    holder: dict[str, Any] = {}
    server = serve(lambda environ, start: holder["app"](environ, start))
    with tempfile.TemporaryDirectory() as instance:
        app = holder["app"] = create_app(
            {"TESTING": True, "SECRET_KEY": SECRET_KEY, "PUBLIC_BASE_URL": server.url},
            environ={},
            instance_path=instance,
        )
        lifetime = max_ages(app.config)[Purpose.MANAGE]
        minter = app.extensions["prefcenter"].minter

        def expired_link() -> str:
            claims = LinkClaims(seed.DEMO_USER_ID, Purpose.MANAGE)
            return minter.mint(claims, now=time.time() - lifetime - 3600).url

        try:
            return take_shots(browser, expired_link, out)
        finally:
            server.stop()
            app.extensions["courier"].close()


def main(argv: list[str]) -> int:
    """Write the pictures to argv[0] (default: docs/)."""
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


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
