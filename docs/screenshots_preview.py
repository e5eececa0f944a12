"""The README's pictures of the support preview and of topic names in the page's language,
taken in Chromium from the running code.

    .venv/bin/python docs/screenshots_preview.py [OUT_DIR]

Starts the app on a loopback port with the Courier emulator behind it (as the browser tests
do), with the example translations file (docs/catalog-translations.example.json) and a person
who has made a few choices, then writes docs/preview-*.png and docs/names-*.png (or to OUT_DIR).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from shooting import DESKTOP, DOCS, EMULATOR_KEY, PHONE, fit_to_content, picture, run, served_page

from prefcenter.access.links import LinkClaims, Purpose
from prefcenter.emulator import create_emulator_app, seed
from prefcenter.emulator.models import PreferenceWrite

USER = "user-1"
TRANSLATIONS = DOCS / "catalog-translations.example.json"
# file name -> (browser context options, link purpose, language, whole page)
SHOTS: dict[str, tuple[dict[str, Any], Purpose, str | None, bool]] = {
    "preview-desktop": ({**DESKTOP, "color_scheme": "light"}, Purpose.PREVIEW, None, True),
    "preview-phone": ({**PHONE, "color_scheme": "dark"}, Purpose.PREVIEW, None, False),
    "names-german": ({**DESKTOP, "color_scheme": "light"}, Purpose.MANAGE, "de", True),
}


def path_of(name: str, out: Path = DOCS) -> Path:
    return out / f"{name}.png"


def take_shots(browser: Any, link: Any, out: Path) -> dict[str, Path]:
    """Open each SHOTS link in its setting and picture it; `link(purpose, locale)` mints one."""
    written = {}
    for name, (options, purpose, locale, full_page) in SHOTS.items():
        written[name] = path_of(name, out)
        with picture(browser, options, written[name]) as page:
            page.goto(link(purpose, locale))
            page.get_by_role("switch").first.wait_for()
            if full_page:
                fit_to_content(page, options)
    return written


def take_all(browser: Any, out: Path) -> dict[str, Path]:
    """Start the app and an emulator, set a person's choices, and write every picture to `out`."""
    out.mkdir(parents=True, exist_ok=True)
    emulator = create_emulator_app(api_key=EMULATOR_KEY)
    store = emulator.extensions["courier_emulator"].store
    store.set_user_preference(USER, seed.TOPIC_DIGEST, PreferenceWrite("OPTED_IN"))
    store.set_user_preference(
        USER, seed.TOPIC_REMINDERS, PreferenceWrite("OPTED_IN", True, ("push", "inbox"))
    )
    with served_page(emulator, {"CATALOG_TRANSLATIONS_PATH": str(TRANSLATIONS)}) as (app, _, _):
        minter = app.extensions["prefcenter"].minter

        def link(purpose: Purpose, locale: str | None) -> str:
            by = "support-agent-7" if purpose is Purpose.PREVIEW else None
            return minter.url(LinkClaims(USER, purpose, locale=locale, by=by))

        return take_shots(browser, link, out)


def main(argv: list[str]) -> int:
    """Write the pictures to argv[0] (default: docs/)."""
    return run(take_all, argv)


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
