"""How tall the preferences page is, in Chromium: a table of heights in CSS pixels.

    .venv/bin/python docs/page_height.py [--json FILE] [--before FILE]

The page is measured as a person signed in by a "Manage preferences" link sees it (JavaScript
on), for two workspaces, the demo one (3 sections, 7 topics) and a generated one of 40 topics
(5 sections of 8, bench/'s catalog: every other section offers channels), at two windows, a
laptop (1280x800) and a phone (360x740). The height is `document.documentElement.scrollHeight`:
the whole page a person scrolls through, header and footer included. "Screens" is that height
over the window's. The figures are for reading, not for asserting (fonts differ by machine).

docs/page_height_before.json holds the figures of the page before its compact layout (taken
with --json); `--before` adds each height as a share of that one.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from werkzeug.serving import make_server

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a script from anywhere
    sys.path.insert(0, str(ROOT))

from prefcenter import create_app  # noqa: E402
from prefcenter.access.links import LinkClaims, Purpose  # noqa: E402
from prefcenter.courier import CourierClient  # noqa: E402
from prefcenter.emulator import create_emulator_app  # noqa: E402
from prefcenter.emulator.inprocess import wsgi_transport  # noqa: E402
from prefcenter.emulator.seed import seed_catalog  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
API_KEY = "page-height-emulator-key"
SECRET_KEY = "page-height-secret-key-0123456789-abcdefghij"
USER = "user-1"

WINDOWS = {"1280x800": {"width": 1280, "height": 800}, "360x740": {"width": 360, "height": 740}}


def demo_workspace() -> Any:
    return create_emulator_app(api_key=API_KEY)  # seeded with the demo workspace


def forty_topics() -> Any:
    emulator = create_emulator_app(api_key=API_KEY, seed=False)
    seed_catalog(emulator.extensions["courier_emulator"].store, 5, 8)
    return emulator


WORKSPACES: dict[str, Callable[[], Any]] = {
    "demo (7 topics)": demo_workspace,
    "40 topics": forty_topics,
}


@contextmanager
def served(emulator: Any) -> Iterator[tuple[str, str]]:
    """The app on a loopback port with `emulator` behind it; yields (base URL, manage link)."""
    holder: dict[str, Any] = {}
    server = make_server("127.0.0.1", 0, lambda e, s: holder["app"](e, s), threaded=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    url = f"http://127.0.0.1:{server.server_port}"
    courier = CourierClient(API_KEY, "http://courier.local", transport=wsgi_transport(emulator))
    try:
        config = {"SECRET_KEY": SECRET_KEY, "COURIER_API_KEY": API_KEY, "PUBLIC_BASE_URL": url}
        holder["app"] = create_app(config, courier=courier, environ={})
        logging.getLogger("prefcenter").setLevel(logging.WARNING)  # no request log lines
        minter = holder["app"].extensions["prefcenter"].minter
        yield url, minter.url(LinkClaims(USER, Purpose.MANAGE))
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
        courier.close()


def measure() -> list[dict[str, Any]]:
    from playwright.sync_api import sync_playwright

    rows = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        try:
            for workspace, make in WORKSPACES.items():
                with served(make()) as (_, link):
                    for window, viewport in WINDOWS.items():
                        context = browser.new_context(viewport=viewport, color_scheme="light")
                        page = context.new_page()
                        page.goto(link)
                        page.get_by_role("switch").first.wait_for()
                        page.wait_for_load_state("load")
                        height = page.evaluate("document.documentElement.scrollHeight")
                        rows.append(
                            {
                                "workspace": workspace,
                                "window": window,
                                "height": height,
                                "screens": round(height / viewport["height"], 2),
                            }
                        )
                        context.close()
        finally:
            browser.close()
    return rows


def table(rows: list[dict[str, Any]], before: list[dict[str, Any]] | None = None) -> str:
    was = {(row["workspace"], row["window"]): row["height"] for row in before or []}
    head = "| Workspace | Window | Page height (px) | Screens |"
    rule = "|---|---|---:|---:|"
    if was:
        head = "| Workspace | Window | Before (px) | After (px) | After / before | Screens |"
        rule = "|---|---|---:|---:|---:|---:|"
    lines = [head, rule]
    for row in rows:
        cells = [row["workspace"], row["window"]]
        old = was.get((row["workspace"], row["window"]))
        if was:
            cells.append(str(old) if old else "")
        cells.append(str(row["height"]))
        if was:
            cells.append(f"{row['height'] / old:.0%}" if old else "")
        cells.append(f"{row['screens']:.2f}")
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    parser.add_argument("--before", type=Path, help="figures (--json) to compare with")
    args = parser.parse_args(argv)
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    rows = measure()
    before = json.loads(args.before.read_text()) if args.before else None
    print("Height: document.documentElement.scrollHeight, CSS px, JavaScript on, light.")
    print(table(rows, before))
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
