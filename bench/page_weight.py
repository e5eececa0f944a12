"""Part 4: page weight, as a real browser (Debian's Chromium, through Playwright) fetches it on a
first view: every response's body by resource type, on the wire (as the app sent it, compressed
when the browser accepts it) and decoded, and any request to another host; then a repeat view
of the same page, counting the requests that reach the server."""

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
BUDGET = 20_000  # bytes on the wire, for everything a first view fetches
DEMO_BUDGET = 8_000  # the same, for the demo workspace's page
TIMEOUT_MS = 15_000
# Measured with esbuild (production, minified, React 18 included), per the issue.
COMPARISON = {
    "Courier's React preferences component": 465_584,
    "Novu's preferences component": 716_549,
}
TYPES = ("document", "stylesheet", "script", "image", "font")


class Counted:
    """WSGI middleware counting the requests that reach the app (a browser's cache hits
    never do)."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.requests = 0
        self._lock = threading.Lock()

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        with self._lock:
            self.requests += 1
        return self.app(environ, start_response)


@contextmanager
def served(rig_: rig.Rig, counter: Counted | None = None) -> Iterator[str]:
    """Serve the rig's app on a free loopback port (threaded werkzeug) while the block runs;
    through `counter`, when given, which must wrap the rig's app."""
    # werkzeug's request log would print paths, which carry sign-in tokens.
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    server = make_server("127.0.0.1", 0, counter or rig_.app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True, name="bench-server")
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def first_view(
    browser: Any, url: str, sign_in: str | None, counter: Counted | None = None
) -> dict[str, Any]:
    """Open `url` in a fresh context (empty cache, JavaScript on); what the browser fetched.
    Then open it again in the same tab, as a person coming back: the requests that reached
    the server (`counter`'s count) for that repeat view.

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
                    "encoding": answer.headers.get("content-encoding", ""),
                    "bytes": len(body),
                    # As received: the body's bytes on the wire, compressed or not.
                    "wire_bytes": answer.request.sizes()["responseBodySize"],
                    "gzip_bytes": len(gzip.compress(body, compresslevel=6)) if body else 0,
                }
            )
        elsewhere = sorted({u for u in requests if urlsplit(u).netloc not in ("", host)})
        view = {"responses": fetched, "other_hosts": elsewhere, "requests": len(requests)}
        if counter is not None:
            before = counter.requests
            again = page.goto(url, wait_until="networkidle", timeout=TIMEOUT_MS)
            if again is None or again.status != 200:
                raise RuntimeError(f"the repeat view answered {again.status if again else '-'}")
            view["repeat_view_requests"] = counter.requests - before
        return view
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
    """Bytes on the wire by resource type ("other" for the rest), and in all; in all also
    decoded and as gzip level 6 would have them."""
    sums = {name: 0 for name in (*TYPES, "other", "total", "decoded_total", "gzip_total")}
    sums["decoded_script"] = 0  # compared with other components' minified, uncompressed builds
    for item in view["responses"]:
        kind = item["type"] if item["type"] in TYPES else "other"
        if kind == "script":
            sums["decoded_script"] += item["bytes"]
        sums[kind] += item["wire_bytes"]
        sums["total"] += item["wire_bytes"]
        sums["decoded_total"] += item["bytes"]
        sums["gzip_total"] += item["gzip_bytes"]
    return sums


def run(smoke: bool) -> Part:
    del smoke  # one first view per page is already quick
    from playwright.sync_api import sync_playwright

    topics = SECTIONS * TOPICS_PER_SECTION
    part = Part("4", "page weight of a first view (Chromium, cache empty, JavaScript on)")
    Where = Callable[[rig.Rig, str], tuple[str, str | None]]
    pages: list[tuple[str, int | None, int, int, Where]] = [
        (
            f"page, {topics} topics",
            SECTIONS,
            TOPICS_PER_SECTION,
            BUDGET,
            lambda r, base: (base + "/", _link(r, base, Purpose.MANAGE)),
        ),
        (
            "page, demo workspace (7 topics)",
            None,
            0,
            DEMO_BUDGET,
            lambda r, base: (base + "/", _link(r, base, Purpose.MANAGE)),
        ),
        (
            f"embedded page, {topics} topics",
            SECTIONS,
            TOPICS_PER_SECTION,
            BUDGET,
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
            for name, sections, per_section, _, where in pages:
                view_rig = rig.build(rig.emulator(sections, per_section))
                counter = Counted(view_rig.app)
                try:
                    with served(view_rig, counter) as base:
                        url, sign_in = where(view_rig, base)
                        views[name] = first_view(browser, url, sign_in, counter)
                finally:
                    view_rig.close()
        finally:
            browser.close()

    budgets = {name: budget for name, _, _, budget, _ in pages}
    for name, view in views.items():
        sums = totals(view)
        view["totals"] = sums
        budget = budgets[name]
        part.add(
            f"{name}: first view, all bytes on the wire ({len(view['responses'])} responses)",
            sums["total"],
            "B",
            target=f"<= {budget:,} B",
            ok=sums["total"] <= budget,
        )
        part.add(
            f"{name}: decoded / as gzip level 6 would send each",
            f"{sums['decoded_total']:,} / {sums['gzip_total']:,}",
            "B",
        )
        part.add(
            f"{name}: on the wire, HTML / CSS / JS / images / fonts / other",
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
        repeat = view["repeat_view_requests"]
        part.add(
            f"{name}: repeat view, requests reaching the server",
            repeat,
            target="1",
            ok=repeat == 1,
        )
    main = views[pages[0][0]]["totals"]
    for label, script_bytes in COMPARISON.items():
        part.add(
            f"JavaScript: {label} / this page's",
            f"{script_bytes:,} / {main['decoded_script']:,} B"
            f" ({script_bytes / main['decoded_script']:.0f}x)"
            if main["decoded_script"]
            else f"{script_bytes:,} / 0 B",
        )
    part.details["views"] = views
    part.details["budget_bytes"] = BUDGET
    part.details["comparison_script_bytes"] = COMPARISON
    part.notes.append(
        "on the wire: each response's body as Chromium received it (Playwright's"
        " responseBodySize: compressed when the app compressed it), headers aside; decoded: the"
        " same bodies after decoding (the JavaScript comparison is of decoded bytes, as the"
        " others' sizes are of minified, uncompressed builds); the signed-in"
        " page's manage link is opened before the view, through the context's request API, so"
        " the view starts with an empty cache; the repeat view opens the same address again"
        " in the same tab, and counts the requests the server received for it"
    )
    return part


def _link(view_rig: rig.Rig, base: str, purpose: Purpose) -> str:
    """A link minted for the served address (the app was built before its port was known)."""
    link = urlsplit(view_rig.link(BENCH_USER, purpose))
    return base + link.path
