"""Embedding in a product's settings page: framing rules, no cookies, token-bound CSRF, proxies."""

from __future__ import annotations

import json
import re
import time

import jwt
import pytest

from prefcenter import create_app
from prefcenter.access.guard import embed_csrf_token
from prefcenter.access.links import LinkClaims, LinkSigner, Purpose
from prefcenter.emulator import seed
from prefcenter.page.forms import field_key

from htmlform import HtmlForm, text_of

USER = "user-1"
HOST_ORIGIN = "https://app.example.com"
DIGEST = f"{field_key(seed.TOPIC_DIGEST)}-status"


@pytest.fixture
def app_config(app_config):
    return {**app_config, "EMBED_ALLOWED_ORIGINS": [HOST_ORIGIN, "http://localhost:8000"]}


@pytest.fixture
def frame(app):
    """A third-party frame: the browser keeps no cookies for it."""
    return app.test_client(use_cookies=False)


def embed_url(mint, **claims):
    return f"/e/{mint(USER, Purpose.EMBED, **claims)}/"


def test_the_embedded_page_may_be_framed_only_by_configured_origins(frame, mint):
    response = frame.get(embed_url(mint))
    assert response.status_code == 200
    policy = response.headers["Content-Security-Policy"]
    assert f"frame-ancestors {HOST_ORIGIN} http://localhost:8000" in policy
    assert "X-Frame-Options" not in response.headers
    assert "Set-Cookie" not in response.headers
    assert "Security alerts" in text_of(response.get_data(as_text=True))


@pytest.mark.parametrize("path", ["/", "/l/whatever", "/u/whatever", "/static/style.css"])
def test_every_other_page_refuses_framing(client, path):
    response = client.get(path)
    response.close()  # a static file is streamed from disk
    assert response.headers["X-Frame-Options"] == "DENY"
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]


def test_no_page_allows_inline_script_or_style(frame, mint, client):
    for response in (frame.get(embed_url(mint)), client.get("/")):
        policy = response.headers["Content-Security-Policy"]
        assert "unsafe-inline" not in policy and "script-src 'self'" in policy
        html = response.get_data(as_text=True)
        assert "<script>" not in html and "style=" not in html and "<style" not in html


def test_a_save_in_the_frame_works_without_cookies(frame, mint, courier_state):
    page = frame.get(embed_url(mint))
    form = HtmlForm.parse(page.get_data(as_text=True)).set(DIGEST, "OPTED_IN", True)
    assert form.action.startswith("/e/") and form.action.endswith("/")
    courier_state.clear_requests()

    posted = frame.post(form.action, data=form.submission())

    # Redirected to the page, what to say signed in its address (a frame has no cookies for
    # flashes), so a reload posts nothing again.
    assert posted.status_code == 303 and "Set-Cookie" not in posted.headers
    assert posted.headers["Location"].startswith("/e/")
    assert "said=" in posted.headers["Location"]
    assert courier_state.store.user_preference(USER, seed.TOPIC_DIGEST)["status"] == "OPTED_IN"
    assert courier_state.count("PUT", r".*") == 1
    response = frame.get(posted.headers["Location"])
    assert response.status_code == 200 and "Set-Cookie" not in response.headers
    html = response.get_data(as_text=True)
    assert "Weekly digest: turned on." in text_of(html)
    event = json.loads(re.search(r"data-save-event='([^']+)'", html).group(1))
    assert event == {
        "type": "prefcenter:saved",
        "saved": [{"topic_id": seed.TOPIC_DIGEST, "status": "OPTED_IN", "channels": []}],
        "failed": [],
    }
    # The page after the save keeps working: a second change saves too.
    again = HtmlForm.parse(html).set(DIGEST, "OPTED_IN", False)
    assert frame.post(again.action, data=again.submission()).status_code == 303
    assert courier_state.store.user_preference(USER, seed.TOPIC_DIGEST)["status"] == "OPTED_OUT"
    # A reload of the result page writes nothing.
    courier_state.clear_requests()
    assert frame.get(posted.headers["Location"]).status_code == 200
    assert courier_state.count("PUT", r".*") == 0


@pytest.mark.parametrize("csrf", [None, "", "0" * 64])
def test_a_frame_post_without_the_token_bound_csrf_is_refused(frame, mint, courier_state, csrf):
    page = frame.get(embed_url(mint))
    form = HtmlForm.parse(page.get_data(as_text=True)).set(DIGEST, "OPTED_IN", True)
    data = form.submission()
    if csrf is None:
        data.pop("csrf_token")
    else:
        data["csrf_token"] = csrf
    courier_state.clear_requests()
    assert frame.post(form.action, data=data).status_code == 400
    assert courier_state.count("PUT", r".*") == 0


def test_csrf_from_one_frame_does_not_work_for_another_person(frame, mint, courier_state):
    mine = HtmlForm.parse(frame.get(embed_url(mint)).get_data(as_text=True))
    other = f"/e/{mint('user-2', Purpose.EMBED)}/"
    data = mine.set(DIGEST, "OPTED_IN", True).submission()
    courier_state.clear_requests()
    assert frame.post(other, data=data).status_code == 400
    assert courier_state.count("PUT", r".*") == 0


def test_the_frame_acts_only_for_the_person_in_its_token(frame, mint, courier_state):
    page = frame.get(embed_url(mint) + "?user_id=victim")
    form = HtmlForm.parse(page.get_data(as_text=True)).set(DIGEST, "OPTED_IN", True)
    courier_state.clear_requests()
    frame.post(form.action + "?user_id=victim", data=form.submission(("user_id", "victim")))
    assert [r.path for r in courier_state.requests if r.method == "PUT"] == [
        f"/users/{USER}/preferences/{seed.TOPIC_DIGEST}"
    ]


def test_unsubscribe_from_everything_works_in_the_frame(frame, mint, courier_state):
    html = frame.get(embed_url(mint)).get_data(as_text=True)
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)
    ask = re.search(r'href="(/e/[^"]+/unsubscribe-all)"', html).group(1)
    confirm = frame.get(ask).get_data(as_text=True)
    action = re.search(r'action="(/e/[^"]+/unsubscribe-all)"', confirm).group(1)
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', confirm).group(1)
    response = frame.post(action, data={"csrf_token": csrf}, follow_redirects=True)
    assert response.status_code == 200
    assert courier_state.store.user_preference(USER, seed.TOPIC_BILLING)["status"] == "OPTED_OUT"


def test_embed_tokens_are_refused_elsewhere_and_others_are_refused_here(frame, mint):
    assert frame.get(f"/e/{mint(USER)}/").status_code == 404  # a manage token
    assert frame.get(f"/l/{mint(USER, Purpose.EMBED)}").status_code == 404
    assert frame.get("/e/garbage/").status_code == 404


def test_an_expired_frame_asks_for_a_reload(app, frame):
    signer = LinkSigner(app.config["LINK_SIGNING_KEYS"], {Purpose.EMBED: 60})
    token = signer.make(LinkClaims(USER, Purpose.EMBED), now=1_000_000)
    response = frame.get(f"/e/{token}/")
    assert response.status_code == 410
    assert "Reload the page" in text_of(response.get_data(as_text=True))


def test_served_under_a_path_prefix_behind_a_proxy(app_config, courier, mint):
    app = create_app({**app_config, "PROXY_FIX_HOPS": 1}, courier=courier, environ={})
    browser = app.test_client()
    proxy = {
        "X-Forwarded-Prefix": "/prefs",
        "X-Forwarded-Proto": "https",
        "X-Forwarded-Host": "prefs.example.com",  # a trusted host: PUBLIC_BASE_URL's
    }
    token = app.extensions["prefcenter"].links.make(LinkClaims(USER, Purpose.MANAGE))
    signed_in = browser.get(f"/l/{token}", headers=proxy)
    assert signed_in.headers["Location"] == "/prefs/"
    page = browser.get("/", headers=proxy)
    form = HtmlForm.parse(page.get_data(as_text=True))
    assert form.action == "/prefs/"
    assert re.search(r'href="/prefs/assets/style\.[0-9a-f]{12}\.css"', page.get_data(as_text=True))
    embedded = app.test_client(use_cookies=False).get(
        f"/e/{app.extensions['prefcenter'].links.make(LinkClaims(USER, Purpose.EMBED))}/",
        headers=proxy,
    )
    assert HtmlForm.parse(embedded.get_data(as_text=True)).action.startswith("/prefs/e/")


def test_without_proxy_fix_forwarded_headers_are_ignored(client, signed_in):
    signed_in()
    page = client.get("/", headers={"X-Forwarded-Prefix": "/evil"})
    assert HtmlForm.parse(page.get_data(as_text=True)).action == "/"


# ---- An embedded session ends, however often its token is renewed ---------------------------

HOUR = 60 * 60


def renewed(app, started_ago: float, **claims):
    """A token as the frame renews it, for a session begun `started_ago` seconds ago."""
    links = app.extensions["prefcenter"].links
    return links.make(
        LinkClaims(USER, Purpose.EMBED, session_started=int(time.time() - started_ago), **claims)
    )


def token_in(html: str) -> str:
    return HtmlForm.parse(html).action.split("/")[2]


def test_each_renewed_token_carries_when_the_session_began(app, frame, mint):
    first = mint(USER, Purpose.EMBED)
    began = jwt.decode(first, options={"verify_signature": False})["iat"]
    token = first
    for _ in range(3):
        token = token_in(frame.get(f"/e/{token}/").get_data(as_text=True))
        claims = jwt.decode(token, options={"verify_signature": False})
        assert claims["ses"] == began


def test_an_embedded_session_ends_after_its_maximum_age(app, frame, courier_state):
    assert app.config["EMBED_SESSION_MAX_AGE"] == 12 * HOUR
    alive = frame.get(f"/e/{renewed(app, 12 * HOUR - 60)}/")
    assert alive.status_code == 200
    courier_state.clear_requests()

    response = frame.get(f"/e/{renewed(app, 12 * HOUR + 60, locale='de')}/")

    assert response.status_code == 410
    assert '<html lang="de"' in response.get_data(as_text=True)  # the frame's language
    assert courier_state.requests == []


def test_a_save_from_a_frame_whose_session_ended_is_refused(app, frame, courier_state):
    token = renewed(app, 12 * HOUR + 60)
    with app.test_request_context():
        csrf = embed_csrf_token(token)
    courier_state.clear_requests()
    plain = frame.post(f"/e/{token}/", data={"csrf_token": csrf, DIGEST: "OPTED_IN"})
    assert plain.status_code == 410
    assert "This page has expired" in text_of(plain.get_data(as_text=True))
    autosave = frame.post(
        f"/e/{token}/",
        data={"csrf_token": csrf, DIGEST: "OPTED_IN"},
        headers={"Accept": "application/json"},
    )
    assert autosave.status_code == 410 and autosave.get_json()["reload"] is True
    assert courier_state.count("PUT", r".*") == 0


def test_a_session_start_after_the_token_was_issued_counts_from_the_token(app, frame):
    # A sender cannot stretch a session by dating its start in the future.
    links = app.extensions["prefcenter"].links
    token = links.make(
        LinkClaims(USER, Purpose.EMBED, session_started=int(time.time() + 100 * HOUR)),
        now=time.time() - 60,
    )
    claims = jwt.decode(token, options={"verify_signature": False})
    assert claims["ses"] == claims["iat"]
    renewed_token = token_in(frame.get(f"/e/{token}/").get_data(as_text=True))
    assert jwt.decode(renewed_token, options={"verify_signature": False})["ses"] == claims["iat"]


# ---- Key rotation ----------------------------------------------------------------------------


def test_a_frame_rendered_before_a_key_rotation_still_saves(app_config, courier, frame, mint):
    page = frame.get(embed_url(mint))
    form = HtmlForm.parse(page.get_data(as_text=True)).set(DIGEST, "OPTED_IN", True)
    rotated = create_app(
        {
            **app_config,
            "SECRET_KEY": "new-secret-key-0123456789-abcdefghijklmnopq",
            "SECRET_KEY_FALLBACKS": [app_config["SECRET_KEY"]],
        },
        courier=courier,
        environ={},
    )
    response = rotated.test_client(use_cookies=False).post(
        form.action, data=form.submission(), follow_redirects=True
    )
    assert response.status_code == 200, text_of(response.get_data(as_text=True))
    assert "Weekly digest: turned on." in text_of(response.get_data(as_text=True))


# ---- Messages for the host page --------------------------------------------------------------


def host_messages(html: str) -> list[dict]:
    """What embed.js posts to the host page from this page (data-save-event, data-embed-event)."""
    found = re.findall(r"data-(?:save|embed)-event='([^']+)'", html)
    return [json.loads(message.replace("&#34;", '"').replace("&quot;", '"')) for message in found]


def test_an_expired_token_tells_the_host_page(app, frame):
    signer = LinkSigner(app.config["LINK_SIGNING_KEYS"], {Purpose.EMBED: 60})
    token = signer.make(LinkClaims(USER, Purpose.EMBED), now=1_000_000)
    html = frame.get(f"/e/{token}/").get_data(as_text=True)
    assert host_messages(html) == [{"type": "prefcenter:expired"}]
    assert re.search(r'src="/assets/embed\.[0-9a-f]+\.js"', html)


def test_an_ended_session_tells_the_host_page(app, frame):
    response = frame.get(f"/e/{renewed(app, 12 * HOUR + 60)}/")
    assert response.status_code == 410
    assert host_messages(response.get_data(as_text=True)) == [{"type": "prefcenter:expired"}]


def test_a_page_in_a_live_session_tells_the_host_nothing_but_its_height(frame, mint):
    assert host_messages(frame.get(embed_url(mint)).get_data(as_text=True)) == []


def unsubscribe_all_in_frame(frame, mint):
    html = frame.get(embed_url(mint)).get_data(as_text=True)
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)
    action = token_in(html).join(("/e/", "/unsubscribe-all"))
    return frame.post(action, data={"csrf_token": csrf}, follow_redirects=True)


def saved_event(html: str) -> dict:
    events = [m for m in host_messages(html) if m["type"] == "prefcenter:saved"]
    assert len(events) == 1, events
    return events[0]


def test_unsubscribe_from_everything_tells_the_host_what_it_saved(frame, mint, courier_state):
    response = unsubscribe_all_in_frame(frame, mint)
    assert response.status_code == 200
    event = saved_event(response.get_data(as_text=True))
    assert event["failed"] == []
    turned_off = {topic["topic_id"] for topic in event["saved"]}
    assert seed.TOPIC_BILLING in turned_off and seed.TOPIC_SECURITY not in turned_off
    assert {topic["status"] for topic in event["saved"]} == {"OPTED_OUT"}
    for topic_id in turned_off:
        assert courier_state.store.user_preference(USER, topic_id)["status"] == "OPTED_OUT"


def test_undoing_unsubscribe_from_everything_tells_the_host_what_it_saved(
    frame, mint, courier_state
):
    html = unsubscribe_all_in_frame(frame, mint).get_data(as_text=True)
    action = re.search(r'action="(/e/[^"]+/unsubscribe-all/undo)"', html).group(1)
    data = {
        name: re.search(rf'name="{name}" value="([^"]+)"', html).group(1)
        for name in ("csrf_token", "undo")
    }
    response = frame.post(action, data=data, follow_redirects=True)
    assert response.status_code == 200
    event = saved_event(response.get_data(as_text=True))
    assert event["failed"] == [] and seed.TOPIC_BILLING in {t["topic_id"] for t in event["saved"]}
    assert {topic["status"] for topic in event["saved"]} == {"OPTED_IN"}
    assert courier_state.store.user_preference(USER, seed.TOPIC_BILLING)["status"] == "OPTED_IN"


# ---- What the host page hides -----------------------------------------------------------------

HIDEABLE_PARTS = {
    "heading": "<h1>Notification preferences</h1>",
    "language": 'class="language-picker"',
    "banner": 'class="demo-banner"',
}


@pytest.fixture
def demo_frame(app_config, courier):
    """A frame of an app in demo mode (no Courier key given), which shows the demo banner."""
    app = create_app({**app_config, "COURIER_API_KEY": ""}, courier=courier, environ={})
    links = app.extensions["prefcenter"].links
    browser = app.test_client(use_cookies=False)

    def open_page(**claims) -> str:
        token = links.make(LinkClaims(USER, Purpose.EMBED, **claims))
        return browser.get(f"/e/{token}/").get_data(as_text=True)

    return open_page


def test_by_default_the_embedded_page_shows_its_heading_language_picker_and_banner(demo_frame):
    html = demo_frame()
    for marker in HIDEABLE_PARTS.values():
        assert marker in html


@pytest.mark.parametrize(
    "part",
    ["heading", "language", "banner"],
)
def test_the_host_hides_one_part_and_the_others_stay(demo_frame, part):
    html = demo_frame(hide=frozenset({part}))
    assert HIDEABLE_PARTS[part] not in html
    for other, marker in HIDEABLE_PARTS.items():
        if other != part:
            assert marker in html
    assert "Weekly digest" in text_of(html)  # the preferences themselves are all there


def test_what_the_host_hides_stays_hidden_on_every_renewed_page(app_config, courier):
    app = create_app({**app_config, "COURIER_API_KEY": ""}, courier=courier, environ={})
    browser = app.test_client(use_cookies=False)
    hide = frozenset({"language", "banner"})
    token = app.extensions["prefcenter"].links.make(LinkClaims(USER, Purpose.EMBED, hide=hide))
    html = browser.get(f"/e/{token}/").get_data(as_text=True)
    form = HtmlForm.parse(html).set(DIGEST, "OPTED_IN", True)
    after_save = browser.post(form.action, data=form.submission(), follow_redirects=True).get_data(
        as_text=True
    )
    assert "Weekly digest: turned on." in text_of(after_save)
    renewed_token = token_in(after_save)
    assert jwt.decode(renewed_token, options={"verify_signature": False})["hide"] == sorted(hide)
    again = browser.get(f"/e/{renewed_token}/").get_data(as_text=True)
    for page in (after_save, again):
        assert HIDEABLE_PARTS["language"] not in page and HIDEABLE_PARTS["banner"] not in page


def test_a_signed_in_page_ignores_nothing_and_hides_nothing(client, signed_in, app_config):
    signed_in()
    html = client.get("/").get_data(as_text=True)
    assert HIDEABLE_PARTS["language"] in html and HIDEABLE_PARTS["heading"] in html


def test_a_python_sender_mints_an_embed_url_that_hides_parts(app, frame):
    minter = app.extensions["prefcenter"].minter
    link = minter.mint(LinkClaims(USER, Purpose.EMBED, hide=frozenset({"language"})))
    html = frame.get(link.url.removeprefix(app.config["PUBLIC_BASE_URL"].rstrip("/"))).get_data(
        as_text=True
    )
    assert "Weekly digest" in text_of(html) and HIDEABLE_PARTS["language"] not in html
    with pytest.raises(ValueError, match="cannot hide"):
        minter.mint(LinkClaims(USER, Purpose.EMBED, hide=frozenset({"sidebar"})))
