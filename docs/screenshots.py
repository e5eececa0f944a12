"""The README's pictures of prefcenter, taken in Chromium.

The browser tests take them (tests/browser/test_screenshots.py) on every run, into a temporary
folder, so the code that makes them keeps working and the committed pictures stay untouched.
To remake the README's pictures in docs/ (or anywhere else):

    .venv/bin/python docs/screenshots.py [OUT_DIR]

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
    # The whole page on a phone, at one device pixel per CSS pixel: how far a person scrolls.
    "phone-page": ({**PHONE, "device_scale_factor": 1, "color_scheme": "light"}, True),
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


# The screenshot test writes here when set (docs/screenshots.py sets it), else to a tmp folder.
OUT_VARIABLE = "PREFCENTER_SCREENSHOTS_DIR"


def main(argv: list[str]) -> int:
    """Run the screenshot test, writing the pictures to argv[0] (default: docs/)."""
    import os

    import pytest

    out = Path(argv[0]).resolve() if argv else DOCS
    out.mkdir(parents=True, exist_ok=True)
    os.environ[OUT_VARIABLE] = str(out)
    test = ROOT / "tests" / "browser" / "test_screenshots.py"
    return pytest.main(["-q", "-p", "no:cacheprovider", str(test)])


if __name__ == "__main__":
    import sys

    raise SystemExit(main(sys.argv[1:]))
