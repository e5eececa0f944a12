"""Email me a new link, in a real browser, in demo mode: an expired link's page, the button,
the answer page's link to the demo outbox, the message there, and its new link signing in;
axe finds nothing on the new pages, in every language, JavaScript on and off."""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from flask import Flask
from playwright.sync_api import expect

from prefcenter import create_app
from prefcenter.access.links import LinkClaims, Purpose
from prefcenter.access.minting import max_ages
from prefcenter.emulator import seed
from prefcenter.platform.i18n import SUPPORTED_LOCALES

from browser_fixtures import axe_violations, serve
from conftest import SECRET_KEY

BUTTON = "Email me a new link"


@pytest.fixture
def demo(tmp_path) -> Iterator[tuple[str, Flask]]:
    """The app in demo mode (its own emulator, outbox at /demo/outbox) on a loopback port."""
    holder: dict[str, Flask] = {}

    def wsgi(environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        return holder["app"](environ, start_response)

    server = serve(wsgi)
    config = {"TESTING": True, "SECRET_KEY": SECRET_KEY, "PUBLIC_BASE_URL": server.url}
    holder["app"] = create_app(config, environ={}, instance_path=tmp_path)
    assert holder["app"].config["DEMO_MODE"]
    yield server.url, holder["app"]
    server.stop()
    holder["app"].extensions["courier"].close()


def expired_link(app: Flask, purpose: Purpose, **claims: Any) -> str:
    """A genuine link for the demo person whose lifetime ended an hour ago."""
    if purpose is Purpose.UNSUBSCRIBE:
        claims.setdefault("topic_id", seed.TOPIC_COMMENTS)
    lifetime = max_ages(app.config)[purpose]
    minter = app.extensions["prefcenter"].minter
    claims = LinkClaims(seed.DEMO_USER_ID, purpose, **claims)
    return minter.mint(claims, now=time.time() - lifetime - 3600).url


@pytest.mark.parametrize("purpose", [Purpose.MANAGE, Purpose.UNSUBSCRIBE], ids=lambda p: p.value)
def test_an_expired_link_leads_through_the_demo_outbox_to_a_new_link_that_works(
    demo, page, purpose
):
    url, app = demo
    page.goto(expired_link(app, purpose))
    expect(page.get_by_role("heading", name="This link has expired")).to_be_visible()

    page.get_by_role("button", name=BUTTON).click()

    expect(page.get_by_role("heading", name="Check your email")).to_be_visible()
    assert "/new-link/sent" in page.url
    assert seed.DEMO_USER_EMAIL not in page.content()
    page.get_by_role("link", name="Open the message in the demo outbox").click()

    expect(
        page.get_by_role("heading", name="Your new link to your notification preferences")
    ).to_be_visible()
    expect(page.get_by_text(seed.DEMO_USER_EMAIL)).to_be_visible()
    link = page.locator(".message-body a")
    expect(link).to_have_text(re.compile(r"^http://127\.0\.0\.1:\d+/l/"))
    link.click()

    expect(page.get_by_text("Security alerts").first).to_be_visible()
    assert page.url.rstrip("/") == url


@pytest.mark.parametrize("locale", SUPPORTED_LOCALES)
def test_the_new_pages_have_no_accessibility_violations(demo, new_context, javascript, locale):
    _, app = demo
    context = new_context()
    if not javascript:
        # axe needs JavaScript to run, so the page's own scripts are blocked instead: the page
        # is then what a browser without JavaScript shows (as test_accessibility.py does).
        context.route(re.compile(r"\.js(\?.*)?$"), lambda route: route.abort())
    page = context.new_page()
    found: dict[str, list[str]] = {}

    def check(state: str) -> None:
        page.wait_for_load_state()  # colours are checked: the stylesheets must be in
        for scheme in ("light", "dark"):
            page.emulate_media(color_scheme=scheme)
            found[f"{state} ({scheme})"] = axe_violations(page)

    page.goto(expired_link(app, Purpose.MANAGE, locale=locale))
    expect(page.locator("form.fresh-link button")).to_be_visible()
    assert page.locator("html").get_attribute("lang") == locale
    check("expired link")

    page.goto(expired_link(app, Purpose.UNSUBSCRIBE, locale=locale))
    check("expired unsubscribe link")

    page.goto(expired_link(app, Purpose.EMBED, locale=locale))
    expect(page.locator("form.fresh-link button")).to_be_visible()
    check("expired embedded page")

    page.locator("form.fresh-link button").click()
    expect(page.locator("p.demo-outbox a")).to_be_visible()
    assert page.locator("html").get_attribute("lang") == locale
    assert page.locator("html").get_attribute("dir") == ("rtl" if locale == "ar" else "ltr")
    check("answer")

    page.locator("p.demo-outbox a").click()
    check("outbox message")
    page.get_by_role("link", name="Outbox").click()
    check("outbox")

    assert {state: v for state, v in found.items() if v} == {}
