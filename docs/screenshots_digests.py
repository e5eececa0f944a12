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

from shooting import DESKTOP, DOCS, EMULATOR_KEY, PHONE, picture, run, served_page

from prefcenter.access.links import LinkClaims, Purpose
from prefcenter.emulator import create_emulator_app, seed
from prefcenter.emulator.models import PreferenceWrite

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
        written[name] = path_of(name, out)
        with picture(browser, options, written[name]) as page:
            page.goto(link(purpose, locale))
            if purpose is Purpose.MANAGE:
                group = page.locator(".digest").first
                group.wait_for()
                # The product updates' row and its "How often", with the rows around it.
                group.scroll_into_view_if_needed()
                page.evaluate("window.scrollBy(0, 120)")
            else:
                page.locator("form.less-often button").wait_for()
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
    with served_page(emulator) as (app, _, _):
        minter = app.extensions["prefcenter"].minter

        def link(purpose: Purpose, locale: str | None) -> str:
            topic = seed.TOPIC_PRODUCT_UPDATES if purpose is Purpose.UNSUBSCRIBE else None
            return minter.url(LinkClaims(USER, purpose, topic_id=topic, locale=locale))

        return take_shots(browser, link, out)


def main(argv: list[str]) -> int:
    """Write the pictures to argv[0] (default: docs/)."""
    return run(take_all, argv)


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
