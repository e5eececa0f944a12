"""Part 4: page weight, as a real browser (Debian's Chromium, through Playwright) fetches it on a
first view: every response's body by resource type, uncompressed and gzipped, and any request
to another host."""

from __future__ import annotations

import gzip
import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlsplit

from werkzeug.serving import make_server

from bench import rig
from bench.common import BENCH_USER, SECTIONS, TOPICS_PER_SECTION, Part
from prefcenter.access.links import Purpose

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
BUDGET = 20_000  # bytes, uncompressed, for everything a first view fetches
TIMEOUT_MS = 15_000
# Measured with esbuild (production, minified, React 18 included), per the issue.
COMPARISON = {
    "Courier's React preferences component": 465_584,
    "Novu's preferences component": 716_549,
}
TYPES = ("document", "stylesheet", "script", "image", "font")


@contextmanager
def served(rig_: rig.Rig) -> Iterator[str]:
    """Serve the rig's app on a free loopback port (threaded werkzeug) while the block runs."""
    # werkzeug's request log would print paths, which carry sign-in tokens.
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    server = make_server("127.0.0.1", 0, rig_.app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True, name="bench-server")
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def first_view(browser: Any, url: str, sign_in: str | None) -> dict[str, Any]:
    """Open `url` in a fresh context (empty cache, JavaScript on); what the browser fetched.

    `sign_in`: a manage link opened first through the context's own request API, so the view
    itself starts signed in, with nothing cached.
    """
    context = browser.new_context(java_script_enabled=True)
    context.set_default_timeout(TIMEOUT_MS)
    try:
        if sign_in is not None:
            opened = context.request.get(sign_in, max_redirects=0)
            if opened.status != 302:
                raise RuntimeError(f"opening the manage link answered {opened.status}")
        page = context.new_page()
        requests: list[str] = []
        responses: list[Any] = []
        page.on("request", lambda request: requests.append(request.url))
        page.on("response", lambda answer: responses.append(answer))
        response = page.goto(url, wait_until="networkidle", timeout=TIMEOUT_MS)
        if response is None or response.status != 200:
            raise RuntimeError(f"{url} answered {response.status if response else 'nothing'}")
        host = urlsplit(url).netloc
        fetched = []
        for answer in responses:
            try:
                body = answer.body()
            except Exception:  # a redirect, or a body the browser did not keep
                body = b""
            fetched.append(
                {
                    "url": _path(answer.url, host),
                    "type": answer.request.resource_type,
                    "status": answer.status,
                    "bytes": len(body),
                    "gzip_bytes": len(gzip.compress(body, compresslevel=6)) if body else 0,
                }
            )
        elsewhere = sorted({u for u in requests if urlsplit(u).netloc not in ("", host)})
        return {"responses": fetched, "other_hosts": elsewhere, "requests": len(requests)}
    finally:
        context.close()


def _path(url: str, host: str) -> str:
    parts = urlsplit(url)
    if parts.netloc != host:
        return url
    path = parts.path
    if path.startswith("/e/"):
        path = "/e/<token>/" + path.split("/", 3)[3]  # no tokens in the report
    return path + ("?" + parts.query if parts.query else "")


def totals(view: dict[str, Any]) -> dict[str, int]:
    """Bytes by resource type ("other" for the rest), and in all, uncompressed and gzipped."""
    sums = {name: 0 for name in (*TYPES, "other", "total", "gzip_total")}
    for item in view["responses"]:
        kind = item["type"] if item["type"] in TYPES else "other"
        sums[kind] += item["bytes"]
        sums["total"] += item["bytes"]
        sums["gzip_total"] += item["gzip_bytes"]
    return sums


def run(smoke: bool) -> Part:
    del smoke  # one first view per page is already quick
    from playwright.sync_api import sync_playwright

    topics = SECTIONS * TOPICS_PER_SECTION
    part = Part("4", "page weight of a first view (Chromium, cache empty, JavaScript on)")
    pages: list[tuple[str, int | None, int, Callable[[rig.Rig, str], tuple[str, str | None]]]] = [
        (
            f"page, {topics} topics",
            SECTIONS,
            TOPICS_PER_SECTION,
            lambda r, base: (base + "/", _link(r, base, Purpose.MANAGE)),
        ),
        (
            "page, demo workspace (7 topics)",
            None,
            0,
            lambda r, base: (base + "/", _link(r, base, Purpose.MANAGE)),
        ),
        (
            f"embedded page, {topics} topics",
            SECTIONS,
            TOPICS_PER_SECTION,
            lambda r, base: (_link(r, base, Purpose.EMBED), None),
        ),
    ]
    views: dict[str, dict[str, Any]] = {}
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS, timeout=TIMEOUT_MS
        )
        try:
            part.details["chromium"] = browser.version
            for name, sections, per_section, where in pages:
                view_rig = rig.build(rig.emulator(sections, per_section))
                try:
                    with served(view_rig) as base:
                        url, sign_in = where(view_rig, base)
                        views[name] = first_view(browser, url, sign_in)
                finally:
                    view_rig.close()
        finally:
            browser.close()

    for name, view in views.items():
        sums = totals(view)
        view["totals"] = sums
        part.add(
            f"{name}: all bytes fetched ({len(view['responses'])} responses)",
            sums["total"],
            "B",
            target=f"< {BUDGET:,} B",
            ok=sums["total"] < BUDGET,
        )
        part.add(f"{name}: gzipped (level 6, each response)", sums["gzip_total"], "B")
        part.add(
            f"{name}: HTML / CSS / JS / images / fonts / other",
            " / ".join(
                f"{sums[k]:,}"
                for k in ("document", "stylesheet", "script", "image", "font", "other")
            ),
            "B",
        )
        part.add(
            f"{name}: requests to another host",
            len(view["other_hosts"]),
            target="0",
            ok=not view["other_hosts"],
        )
    main = views[pages[0][0]]["totals"]
    for label, script_bytes in COMPARISON.items():
        part.add(
            f"JavaScript: {label} / this page's",
            f"{script_bytes:,} / {main['script']:,} B ({script_bytes / main['script']:.0f}x)"
            if main["script"]
            else f"{script_bytes:,} / 0 B",
        )
    part.details["views"] = views
    part.details["budget_bytes"] = BUDGET
    part.details["comparison_script_bytes"] = COMPARISON
    part.notes.append(
        "response bodies as Chromium received them (the app sends no Content-Encoding, so"
        " these are also the bytes on the wire, headers aside); gzip: gzip.compress(body, 6)"
        " per response, summed; the signed-in page's manage link is opened before the view,"
        " through the context's request API, so the view starts with an empty cache"
    )
    return part


def _link(view_rig: rig.Rig, base: str, purpose: Purpose) -> str:
    """A link minted for the served address (the app was built before its port was known)."""
    link = urlsplit(view_rig.link(BENCH_USER, purpose))
    return base + link.path
