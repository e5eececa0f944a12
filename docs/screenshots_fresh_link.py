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

from shooting import DESKTOP, DOCS, PHONE, SECRET_KEY, picture, run, serve

from prefcenter import create_app
from prefcenter.access.links import LinkClaims, Purpose
from prefcenter.access.minting import max_ages
from prefcenter.emulator import seed

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
        written[name] = path_of(name, out)
        with picture(browser, options, written[name]) as page:
            page.goto(expired_link())
            button = page.get_by_role("button", name="Email me a new link")
            button.wait_for()
            if name in ("fresh-link-answer", "fresh-link-outbox"):
                button.click()
                page.locator("p.demo-outbox a").wait_for()
            if name == "fresh-link-outbox":
                page.locator("p.demo-outbox a").click()
                page.locator(".message-body a").wait_for()
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
    return run(take_all, argv)


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
