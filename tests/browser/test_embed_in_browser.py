"""In a real browser: a host page on one origin frames the page from another, cookies blocked."""

from __future__ import annotations

import html
import time
from typing import Any
from urllib.parse import parse_qs

from prefcenter.access.links import LinkClaims, Purpose
from prefcenter.emulator import seed

from browser_fixtures import LiveServer, serve

HOST_SCRIPT = b"""
window.prefcenterMessages = [];
window.addEventListener("message", function (event) {
  window.prefcenterMessages.push({origin: event.origin, data: event.data});
  if (event.data && event.data.type === "prefcenter:resize") {
    document.querySelector("iframe").style.height = event.data.height + "px";
  }
  // As the README's host page: mint a new embed URL from the backend (here, handed over by
  // the test) and open it in the frame.
  if (event.data && event.data.type === "prefcenter:expired" && window.freshEmbedUrl) {
    document.querySelector("iframe").src = window.freshEmbedUrl;
  }
});
"""


def host_site() -> LiveServer:
    """The product's account settings page, framing the embed URL given as ?frame=."""

    def host(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        if environ["PATH_INFO"] == "/host.js":
            start_response("200 OK", [("Content-Type", "text/javascript")])
            return [HOST_SCRIPT]
        frame = parse_qs(environ.get("QUERY_STRING", "")).get("frame", [""])[0]
        page = (
            "<!doctype html><html><head><title>Account settings</title>"
            '<script src="/host.js"></script></head><body><h1>Account settings</h1>'
            f'<iframe title="Notification preferences" src="{html.escape(frame)}" '
            'width="600" height="400"></iframe></body></html>'
        )
        start_response("200 OK", [("Content-Type", "text/html; charset=utf-8")])
        return [page.encode()]

    return serve(host)


def test_a_person_saves_inside_a_cross_site_frame_with_cookies_blocked(
    live_prefcenter, browser_context
):
    host = host_site()
    host_origin = host.url.replace("127.0.0.1", "localhost")
    try:
        prefs = live_prefcenter(EMBED_ALLOWED_ORIGINS=[host_origin])
        token = prefs.app.extensions["prefcenter"].links.make(LinkClaims("user-1", Purpose.EMBED))
        page = browser_context.new_page()
        page.goto(f"{host_origin}/?frame={prefs.url}/e/{token}/")

        frame = page.frame_locator("iframe")
        frame.get_by_role("heading", name="Notification preferences").wait_for()
        inner = page.frames[1]
        # The precondition: this browser really keeps no cookies for the framed site.
        assert inner.evaluate("document.cookie = 'probe=1'; document.cookie") == ""

        frame.get_by_role("switch", name="Weekly digest").check()
        # JavaScript is on: the change saves itself (static/app.js), with no Save press.
        frame.get_by_text("Saved. Weekly digest: turned on.").wait_for()

        stored = prefs.courier_state.store.user_preference("user-1", seed.TOPIC_DIGEST)
        assert stored["status"] == "OPTED_IN"
        page.wait_for_function(
            "window.prefcenterMessages.some(m => m.data.type === 'prefcenter:saved')"
        )
        messages = page.evaluate("window.prefcenterMessages")
        saved = [m for m in messages if m["data"]["type"] == "prefcenter:saved"]
        assert saved == [
            {
                "origin": prefs.url,
                "data": {
                    "type": "prefcenter:saved",
                    "saved": [
                        {"topic_id": seed.TOPIC_DIGEST, "status": "OPTED_IN", "channels": []}
                    ],
                    "failed": [],
                },
            }
        ]
        heights = [
            m["data"]["height"] for m in messages if m["data"]["type"] == "prefcenter:resize"
        ]
        assert heights and all(h > 300 for h in heights)
        assert int(page.evaluate("document.querySelector('iframe').offsetHeight")) >= heights[-1]
    finally:
        host.stop()


def test_a_host_not_on_the_list_cannot_frame_the_page(live_prefcenter, browser_context):
    host = host_site()
    host_origin = host.url.replace("127.0.0.1", "localhost")
    try:
        prefs = live_prefcenter(EMBED_ALLOWED_ORIGINS=["https://app.example.com"])
        token = prefs.app.extensions["prefcenter"].links.make(LinkClaims("user-1", Purpose.EMBED))
        page = browser_context.new_page()
        page.goto(f"{host_origin}/?frame={prefs.url}/e/{token}/")
        page.wait_for_timeout(500)
        # Chromium refuses to render a frame its CSP forbids: no content from our page.
        assert page.frame_locator("iframe").get_by_role("switch").count() == 0
    finally:
        host.stop()


def frame_height(page: Any) -> int:
    return int(page.evaluate("document.querySelector('iframe').clientHeight"))


def test_the_frame_follows_the_content_height_down_as_well_as_up(live_prefcenter, browser_context):
    host = host_site()
    host_origin = host.url.replace("127.0.0.1", "localhost")
    try:
        prefs = live_prefcenter(EMBED_ALLOWED_ORIGINS=[host_origin])
        token = prefs.app.extensions["prefcenter"].links.make(LinkClaims("user-1", Purpose.EMBED))
        page = browser_context.new_page()
        page.goto(f"{host_origin}/?frame={prefs.url}/e/{token}/")
        frame = page.frame_locator("iframe")
        frame.get_by_role("heading", name="Notification preferences").wait_for()
        page.wait_for_function("document.querySelector('iframe').clientHeight > 400")
        grown = frame_height(page)
        inner = page.frames[1]
        content = inner.evaluate("Math.ceil(document.body.getBoundingClientRect().height)")
        assert abs(grown - content) <= 1  # sized to the content, no more

        # The content gets shorter (as when a notice goes away): the frame follows it down.
        inner.evaluate("document.querySelector('form.preferences fieldset, .section').remove()")
        page.wait_for_function(f"document.querySelector('iframe').clientHeight < {grown}")
        shrunk = frame_height(page)
        content = inner.evaluate("Math.ceil(document.body.getBoundingClientRect().height)")
        assert abs(shrunk - content) <= 1

        # And back up when content comes back.
        inner.evaluate(
            "document.querySelector('main').append(Object.assign(document.createElement('div'),"
            " {textContent: 'x'.repeat(4000)}))"
        )
        page.wait_for_function(f"document.querySelector('iframe').clientHeight > {shrunk}")
    finally:
        host.stop()


def test_an_expired_frame_tells_the_host_which_opens_a_fresh_link(live_prefcenter, browser_context):
    host = host_site()
    host_origin = host.url.replace("127.0.0.1", "localhost")
    try:
        prefs = live_prefcenter(EMBED_ALLOWED_ORIGINS=[host_origin])
        links = prefs.app.extensions["prefcenter"].links
        expired = links.make(LinkClaims("user-1", Purpose.EMBED), now=time.time() - 3600)
        page = browser_context.new_page()
        page.goto(f"{host_origin}/?frame={prefs.url}/e/{expired}/")
        frame = page.frame_locator("iframe")
        frame.get_by_role("heading", name="This page has expired").wait_for()
        page.wait_for_function(
            "window.prefcenterMessages.some(m => m.data.type === 'prefcenter:expired')"
        )
        expired_messages = [
            m
            for m in page.evaluate("window.prefcenterMessages")
            if m["data"]["type"] == "prefcenter:expired"
        ]
        assert expired_messages == [{"origin": prefs.url, "data": {"type": "prefcenter:expired"}}]

        # The host renews: the frame shows the page again.
        fresh = links.make(LinkClaims("user-1", Purpose.EMBED))
        page.evaluate(f"window.freshEmbedUrl = '{prefs.url}/e/{fresh}/'")
        page.evaluate("window.postMessage({type: 'prefcenter:expired'}, '*')")
        frame.get_by_role("heading", name="Notification preferences").wait_for()
    finally:
        host.stop()


def test_an_autosave_after_the_session_ended_leads_the_host_to_renew(
    live_prefcenter, browser_context
):
    host = host_site()
    host_origin = host.url.replace("127.0.0.1", "localhost")
    try:
        prefs = live_prefcenter(EMBED_ALLOWED_ORIGINS=[host_origin], EMBED_SESSION_MAX_AGE=3)
        links = prefs.app.extensions["prefcenter"].links
        token = links.make(LinkClaims("user-1", Purpose.EMBED))
        page = browser_context.new_page()
        page.goto(f"{host_origin}/?frame={prefs.url}/e/{token}/")
        frame = page.frame_locator("iframe")
        frame.get_by_role("heading", name="Notification preferences").wait_for()
        # What the host's backend will mint when asked, after the wait below.
        fresh = links.make(LinkClaims("user-1", Purpose.EMBED), now=time.time() + 3.5)
        page.evaluate(f"window.freshEmbedUrl = '{prefs.url}/e/{fresh}/'")
        page.wait_for_timeout(3500)  # the session's maximum age passes with the page open

        # One click, in this page: check() would click again in the fresh page, should the host
        # swap the frame (on the refusal below) before check() saw the switch ticked.
        frame.get_by_role("switch", name="Weekly digest").evaluate("toggle => toggle.click()")
        # Refused with 410: the page tells the host at once (no need to press Reload), and
        # the host opens its fresh link.
        page.wait_for_function(
            "window.prefcenterMessages.some(m => m.data.type === 'prefcenter:expired')"
        )
        frame.get_by_role("heading", name="Notification preferences").wait_for()
        assert fresh in page.evaluate("document.querySelector('iframe').src")
        stored = prefs.courier_state.store.user_preference("user-1", seed.TOPIC_DIGEST)
        assert stored["status"] != "OPTED_IN"
    finally:
        host.stop()
