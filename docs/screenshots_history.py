"""The README's pictures of "Recent changes", taken in Chromium from the running code.

    .venv/bin/python docs/screenshots_history.py [OUT_DIR]

Starts the app on a loopback port with the Courier emulator behind it (as the browser tests
do), makes changes the ways a person can (on the page, by one-click unsubscribe, by
"unsubscribe from everything", and one through Courier's API as a product's backend would),
then writes docs/history-*.png (or to OUT_DIR).
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path
from typing import Any

from shooting import (
    DESKTOP,
    DOCS,
    EMULATOR_KEY,
    PHONE,
    consent_file_in_use,
    fit_to_content,
    picture,
    run,
    served_page,
)

from prefcenter.access.links import LinkClaims, Purpose
from prefcenter.courier import CourierClient, PreferenceStatus, PreferenceUpdate
from prefcenter.emulator import create_emulator_app, seed

USER = "user-1"
# name -> (browser context options, language)
SHOTS: dict[str, tuple[dict[str, Any], str]] = {
    "desktop-light": ({**DESKTOP, "color_scheme": "light"}, "en"),
    "desktop-dark": ({**DESKTOP, "color_scheme": "dark"}, "en"),
    "phone": ({**PHONE, "color_scheme": "light"}, "en"),
    "arabic": ({**DESKTOP, "color_scheme": "light"}, "ar"),
}


def path_of(name: str, out: Path = DOCS) -> Path:
    return out / f"history-{name}.png"


def make_changes(browser: Any, url: str, app: Any, courier: CourierClient) -> None:
    """Change preferences every way the history tells apart."""
    links = app.extensions["prefcenter"].minter
    page = browser.new_context(**DESKTOP).new_page()
    # Elsewhere: the product's backend turns the weekly digest on.
    courier.put_preference(USER, seed.TOPIC_DIGEST, PreferenceUpdate(PreferenceStatus.OPTED_IN))
    # One-click unsubscribe from an email, for Product updates.
    unsubscribe = links.url(
        LinkClaims(USER, Purpose.UNSUBSCRIBE, topic_id=seed.TOPIC_PRODUCT_UPDATES)
    )
    page.request.post(unsubscribe, form={"List-Unsubscribe": "One-Click"})
    # On the page: Comments and mentions by email and the in-app inbox only.
    page.goto(links.url(LinkClaims(USER, Purpose.MANAGE)))
    box = page.get_by_role("checkbox", name="Get “Comments and mentions” by Push notification")
    box.set_checked(False)
    page.locator(".autosave-status").filter(has_text="Saved").wait_for()
    # Unsubscribe from everything, asked first.
    page.get_by_role("link", name="Unsubscribe from everything…").click()
    page.get_by_role("button", name="Yes, unsubscribe from everything").click()
    page.get_by_role("button", name="Undo: turn them back on").wait_for()
    page.context.close()


def take_history_screenshots(browser: Any, url: str, link: str, out: Path) -> dict[str, Path]:
    """Open the history through the page's link in each SHOTS setting and picture it."""
    written = {}
    for name, (options, language) in SHOTS.items():
        written[name] = path_of(name, out)
        with picture(browser, options, written[name]) as page:
            page.goto(link)
            page.get_by_role("link", name="Recent changes").click()
            if language != "en":
                page.goto(f"{page.url}?lang={language}")
            page.locator("ol.history").wait_for()
            if name != "phone":
                fit_to_content(page, options)
    return written


def take_all(browser: Any, out: Path) -> dict[str, Path]:
    """Start the app and an emulator, make the changes, and write every picture to `out`."""
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as folder:
        consent = Path(folder) / "consent.jsonl"
        consent_file_in_use(consent)
        emulator = create_emulator_app(api_key=EMULATOR_KEY)
        with served_page(emulator, {"AUDIT_LOG_PATH": str(consent)}) as (app, url, courier):
            make_changes(browser, url, app, courier)
            link = app.extensions["prefcenter"].minter.url(LinkClaims(USER, Purpose.MANAGE))
            return take_history_screenshots(browser, url, link, out)


def main(argv: list[str]) -> int:
    """Write the pictures to argv[0] (default: docs/)."""
    return run(take_all, argv)


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
