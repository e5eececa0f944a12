"""The README's pictures of prefcenter, taken in Chromium and written next to this file.

The browser tests take them (tests/browser/test_screenshots.py), so they are remade with the
code each time the suite runs; to remake only them:

    .venv/bin/python docs/screenshots.py

`take_screenshots` drives a running app: the test starts one on a loopback port with the Courier
emulator behind it, and a host page on another origin that frames the embedded page.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

DOCS = Path(__file__).resolve().parent
ROOT = DOCS.parent

DESKTOP = {"viewport": {"width": 1280, "height": 900}}
PHONE = {
    "viewport": {"width": 360, "height": 740},
    "device_scale_factor": 2,
    "is_mobile": True,
    "has_touch": True,
}
# name -> (browser context options, whole page or just the window)
SHOTS: dict[str, tuple[dict[str, Any], bool]] = {
    "desktop-light": ({**DESKTOP, "color_scheme": "light"}, True),
    "desktop-dark": ({**DESKTOP, "color_scheme": "dark"}, True),
    "phone": ({**PHONE, "color_scheme": "light"}, False),
    "german": ({**DESKTOP, "color_scheme": "light", "locale": "de-DE"}, False),
    "embedded": ({**DESKTOP, "color_scheme": "light"}, False),
}


def path_of(name: str, out: Path = DOCS) -> Path:
    return out / f"screenshot-{name}.png"


def take_screenshots(
    new_context: Callable[..., Any],
    manage_link: Callable[..., str],
    embedding_page: str,
    out: Path = DOCS,
) -> dict[str, Path]:
    """Write every picture in SHOTS to `out`; return them by name.

    `new_context(**options)` opens a browser context, `manage_link(locale=None)` mints a
    "Manage preferences" link (with a `locale` claim when given) and `embedding_page` is the URL
    of another site's page framing the embedded page.
    """
    written = {}
    for name, (options, full_page) in SHOTS.items():
        page = new_context(**options).new_page()
        if name == "embedded":
            page.goto(embedding_page)
            frame = page.frame_locator("iframe")
            frame.get_by_role("switch").first.wait_for()
        else:
            page.goto(manage_link(locale="de" if name == "german" else None))
            page.get_by_role("switch").first.wait_for()
            if name == "german" and page.locator("html").get_attribute("lang") != "de":
                raise AssertionError("the German page is not in German")
        if full_page:
            # A window as tall as the page, so the sticky Save bar sits where the form ends
            # (a full-page capture of a shorter window would draw it mid-page).
            height = page.evaluate("document.documentElement.scrollHeight")
            page.set_viewport_size({"width": options["viewport"]["width"], "height": height})
        written[name] = path_of(name, out)
        page.screenshot(path=str(written[name]), animations="disabled")
        page.context.close()
    return written


if __name__ == "__main__":
    import pytest

    test = ROOT / "tests" / "browser" / "test_screenshots.py"
    raise SystemExit(pytest.main(["-q", "-p", "no:cacheprovider", str(test)]))
