"""The README's pictures of a topic's "How often" and of "Get it weekly instead" on an
unsubscribe page, taken in Chromium from the running code.

    .venv/bin/python docs/screenshots_digests.py [OUT_DIR]

Starts the app on a loopback port with the Courier emulator behind it (as the browser tests
do), the demo's product updates given instant, daily and weekly digests (the emulator's
--digest-schedules), and a person who chose "As it happens"; then writes docs/digest-*.png (or
to OUT_DIR).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

DOCS = Path(__file__).resolve().parent
ROOT = DOCS.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests"), str(DOCS)]

from screenshots import DESKTOP, PHONE  # noqa: E402

from prefcenter import create_app  # noqa: E402
from prefcenter.access.links import LinkClaims, Purpose  # noqa: E402
from prefcenter.courier import CourierClient  # noqa: E402
from prefcenter.emulator import create_emulator_app, seed  # noqa: E402
from prefcenter.emulator.inprocess import wsgi_transport  # noqa: E402
from prefcenter.emulator.models import PreferenceWrite  # noqa: E402

from browser_fixtures import CHROMIUM, CHROMIUM_ARGS, serve  # noqa: E402
from conftest import EMULATOR_KEY, SECRET_KEY  # noqa: E402

USER = "user-1"
# file name -> (browser context options, link purpose, language)
SHOTS: dict[str, tuple[dict[str, Any], Purpose, str | None]] = {
    "digest-choice": ({**DESKTOP, "color_scheme": "light"}, Purpose.MANAGE, None),
    "digest-choice-phone": ({**PHONE, "color_scheme": "dark"}, Purpose.MANAGE, None),
    "digest-less-often": ({**DESKTOP, "color_scheme": "light"}, Purpose.UNSUBSCRIBE, None),
    "digest-less-often-phone": ({**PHONE, "color_scheme": "light"}, Purpose.UNSUBSCRIBE, None),
    "digest-choice-german": ({**DESKTOP, "color_scheme": "light"}, Purpose.MANAGE, "de"),
    "digest-less-often-arabic": ({**PHONE, "color_scheme": "light"}, Purpose.UNSUBSCRIBE, "ar"),
}


def path_of(name: str, out: Path = DOCS) -> Path:
    return out / f"{name}.png"


def take_shots(browser: Any, link: Any, out: Path) -> dict[str, Path]:
    """Open each SHOTS link in its setting and picture it; `link(purpose, locale)` mints one."""
    written = {}
    for name, (options, purpose, locale) in SHOTS.items():
        page = browser.new_context(**options).new_page()
        page.goto(link(purpose, locale))
        if purpose is Purpose.MANAGE:
            group = page.locator(".digest").first
            group.wait_for()
            # The product updates' row and its "How often", with the rows around it.
            group.scroll_into_view_if_needed()
            page.evaluate("window.scrollBy(0, 120)")
        else:
            page.locator("form.less-often button").wait_for()
        written[name] = path_of(name, out)
        page.screenshot(path=str(written[name]), animations="disabled")
        page.context.close()
    return written


def take_all(browser: Any, out: Path) -> dict[str, Path]:
    """Start the app and an emulator, set a person's choices, and write every picture to `out`."""
    out.mkdir(parents=True, exist_ok=True)
    emulator = create_emulator_app(api_key=EMULATOR_KEY, digest_schedules=True)
    store = emulator.extensions["courier_emulator"].store
    store.set_user_preference(
        USER,
        seed.TOPIC_PRODUCT_UPDATES,
        PreferenceWrite("OPTED_IN", digest_schedule_id=seed.SCHEDULE_INSTANT),
    )
    courier = CourierClient(EMULATOR_KEY, "http://courier.test", transport=wsgi_transport(emulator))
    holder: dict[str, Any] = {}
    server = serve(lambda environ, start: holder["app"](environ, start))
    app = holder["app"] = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": SECRET_KEY,
            "COURIER_API_KEY": "set-but-unused: the client is injected",
            "PUBLIC_BASE_URL": server.url,
        },
        courier=courier,
        environ={},
    )
    minter = app.extensions["prefcenter"].minter

    def link(purpose: Purpose, locale: str | None) -> str:
        topic = seed.TOPIC_PRODUCT_UPDATES if purpose is Purpose.UNSUBSCRIBE else None
        return minter.url(LinkClaims(USER, purpose, topic_id=topic, locale=locale))

    try:
        return take_shots(browser, link, out)
    finally:
        server.stop()
        courier.close()
        store.close()


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
