"""Support preview: a person's page, read-only, from a short-lived link only support can mint."""

from __future__ import annotations

import json
import logging
import time
from html.parser import HTMLParser

import pytest

from prefcenter.access.links import LinkClaims, Purpose
from prefcenter.emulator import seed
from prefcenter.platform.logs import JsonFormatter

from htmlform import text_of

API_KEY = "link-api-key-for-preview-tests"
HOST = "https://prefs.example.com"
USER = "user-1"
HOUR = 60 * 60


@pytest.fixture
def app_config(app_config):
    return {**app_config, "LINK_API_KEY": API_KEY}


def preview_token(app, user_id=USER, *, age=0.0, **claims):
    minter = app.extensions["prefcenter"].minter
    link = minter.mint(LinkClaims(user_id, Purpose.PREVIEW, **claims), now=time.time() - age)
    return link.token


class Controls(HTMLParser):
    """Every control in the page's forms, and whether the browser lets anyone use it."""

    def __init__(self) -> None:
        super().__init__()
        self.controls: list[tuple[str, str, bool]] = []  # (tag, name or text, usable)
        self.forms: list[dict[str, str]] = []
        self._fieldsets: list[bool] = []  # each open fieldset: disabled?

    def handle_starttag(self, tag, attrs):
        attributes = {key: value or "" for key, value in attrs}
        if tag == "form":
            self.forms.append(attributes)
        elif tag == "fieldset":
            self._fieldsets.append("disabled" in attributes)
        elif tag in ("input", "button", "select", "textarea"):
            usable = "disabled" not in attributes and not any(self._fieldsets)
            if attributes.get("type") == "hidden":
                return
            self.controls.append((tag, attributes.get("name", attributes.get("class", "")), usable))

    def handle_endtag(self, tag):
        if tag == "fieldset" and self._fieldsets:
            self._fieldsets.pop()


def controls_of(html: str) -> Controls:
    parser = Controls()
    parser.feed(html)
    return parser


# Minting: the command line and the link API only.


def test_the_command_mints_a_preview_link_naming_who_asked(app):
    result = app.test_cli_runner().invoke(args=["link", USER, "--preview", "--by", "agent-7"])
    assert result.exit_code == 0, result.output
    url = result.output.strip()
    assert url.startswith(f"{HOST}/preview/")
    claims = app.extensions["prefcenter"].links.load(url.rsplit("/", 1)[1], Purpose.PREVIEW)
    assert (claims.user_id, claims.by) == (USER, "agent-7")


@pytest.mark.parametrize(
    "args, message",
    [
        (["--preview", "--embed"], "choose one of"),
        (["--preview", "--unsubscribe", seed.TOPIC_DIGEST], "choose one of"),
        (["--by", "agent-7"], "only a preview link"),
        (["--preview", "--hide", "heading"], "only an embed link"),
    ],
)
def test_the_command_refuses_what_a_preview_cannot_be(app, args, message):
    result = app.test_cli_runner().invoke(args=["link", USER, *args])
    assert result.exit_code != 0
    assert message in result.output
    assert "/preview/" not in result.output


def test_the_api_mints_a_short_lived_preview_link(app, client):
    before = int(time.time())
    response = client.post(
        "/api/links",
        json={"user_id": USER, "purpose": "preview", "tenant_id": "acme", "by": "agent-7"},
        headers={"Authorization": f"Bearer {API_KEY}"},
    )
    assert response.status_code == 201
    link = response.get_json()
    assert link["purpose"] == "preview" and link["url"].startswith(f"{HOST}/preview/")
    assert before + HOUR <= link["expires_at"] <= int(time.time()) + HOUR
    claims = app.extensions["prefcenter"].links.load(link["token"], Purpose.PREVIEW)
    assert (claims.user_id, claims.tenant_id, claims.by) == (USER, "acme", "agent-7")


@pytest.mark.parametrize(
    "body, message",
    [
        ({"user_id": USER, "purpose": "preview", "by": 7}, "'by'"),
        ({"user_id": USER, "purpose": "preview", "by": "a\nb"}, "'by'"),
        ({"user_id": USER, "purpose": "manage", "by": "agent-7"}, "only a preview link"),
    ],
)
def test_the_api_refuses_a_bad_by(client, body, message):
    response = client.post("/api/links", json=body, headers={"Authorization": f"Bearer {API_KEY}"})
    assert response.status_code == 400
    assert message in response.get_json()["error"]


def test_the_preview_lifetime_is_a_setting(app_config, courier):
    from prefcenter import create_app

    app = create_app({**app_config, "PREVIEW_LINK_MAX_AGE": 600}, courier=courier, environ={})
    link = app.extensions["prefcenter"].minter.mint(LinkClaims(USER, Purpose.PREVIEW))
    assert link.expires_at - int(time.time()) in range(598, 601)


# The page: the person's own, read-only.


def test_the_preview_shows_the_page_with_every_control_disabled(app, client, courier_state):
    # The person's own choice shows: the digest, off by default, is on for them.
    courier_state.store.set_user_preference(USER, seed.TOPIC_DIGEST, _write("OPTED_IN"))
    response = client.get(f"/preview/{preview_token(app, by='agent-7')}")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    text = text_of(html)
    assert "Support preview of u…-1: read-only, nothing can be saved." in text
    assert "Weekly digest" in text and "Security alerts" in text
    parsed = controls_of(html)
    assert parsed.controls, "the page shows its controls"
    assert [c for c in parsed.controls if c[2]] == [], "every control is disabled"
    preferences = [form for form in parsed.forms if "preferences" in form.get("class", "")]
    assert preferences and all("action" not in f and "method" not in f for f in preferences)
    # Nothing that saves or leaves: no script, no unsubscribe-from-everything, no sign-out.
    assert "app.js" not in html
    assert "Unsubscribe from everything" not in text
    assert "Sign out" not in text
    assert 'name="csrf_token"' not in html
    digest = html.split(f'data-topic="{seed.TOPIC_DIGEST}"')[1].split("</div>")[0]
    assert "checked" in digest


def _write(status, *channels):
    from prefcenter.emulator.models import PreferenceWrite

    return PreferenceWrite(status, bool(channels), tuple(channels))


def test_the_preview_is_kept_out_of_search_engines_and_caches(app, client):
    response = client.get(f"/preview/{preview_token(app)}")
    assert "noindex" in response.headers["X-Robots-Tag"]
    assert response.headers["Cache-Control"] == "no-store"


def test_a_preview_view_reads_courier_once(app, client, courier_state):
    token = preview_token(app)
    client.get(f"/preview/{token}")  # the catalog is read once per process, then cached
    courier_state.clear_requests()
    assert client.get(f"/preview/{token}").status_code == 200
    assert [(r.method, r.path) for r in courier_state.requests] == [
        ("GET", f"/users/{USER}/preferences")
    ]


def test_a_tenant_preview_reads_that_tenant(app, client, courier_state):
    client.get(f"/preview/{preview_token(app, tenant_id='acme')}")
    reads = [r for r in courier_state.requests if r.path == f"/users/{USER}/preferences"]
    assert reads and all(r.query.get("tenant_id") == "acme" for r in reads)


@pytest.mark.parametrize("data", [{}, {"t_pt_weekly_digest-status": "OPTED_IN", "rendered": "x"}])
def test_a_crafted_post_to_a_preview_is_refused_and_nothing_reaches_courier(
    app, client, courier_state, data
):
    token = preview_token(app)
    client.get(f"/preview/{token}")
    courier_state.clear_requests()
    response = client.post(f"/preview/{token}", data=data)
    assert response.status_code == 403
    assert "read-only preview" in text_of(response.get_data(as_text=True))
    assert courier_state.requests == []


def test_a_preview_signs_no_one_in_and_leaves_the_viewers_session_alone(app, client, signed_in):
    # No session before: the preview starts none.
    response = client.get(f"/preview/{preview_token(app)}")
    assert response.status_code == 200
    assert "Set-Cookie" not in response.headers
    assert client.get("/").status_code == 401  # still signed out
    # Signed in as someone else: the preview neither replaces nor touches that session.
    signed_in("user-2")
    response = client.get(f"/preview/{preview_token(app)}")
    assert response.status_code == 200 and "Set-Cookie" not in response.headers
    page = client.get("/")
    assert page.status_code == 200
    assert "Signed in as u…-2." in text_of(page.get_data(as_text=True))


# One purpose per token.


@pytest.mark.parametrize(
    "path",
    ["/l/{token}", "/u/{token}", "/e/{token}/"],
)
def test_a_preview_token_opens_nothing_else(app, client, path):
    response = client.get(path.format(token=preview_token(app)))
    assert response.status_code in (401, 404)
    assert "Set-Cookie" not in response.headers


@pytest.mark.parametrize(
    "purpose, claims",
    [
        (Purpose.MANAGE, {}),
        (Purpose.UNSUBSCRIBE, {"topic_id": seed.TOPIC_DIGEST}),
        (Purpose.EMBED, {}),
    ],
)
def test_other_tokens_do_not_open_a_preview(app, client, mint, purpose, claims):
    response = client.get(f"/preview/{mint(USER, purpose, **claims)}")
    assert response.status_code == 404
    assert "Support preview" not in response.get_data(as_text=True)


def test_an_expired_preview_says_so(app, client):
    response = client.get(f"/preview/{preview_token(app, age=HOUR + 120)}")
    assert response.status_code == 410
    text = text_of(response.get_data(as_text=True))
    assert "This preview has expired" in text and "Ask for a new preview link." in text
    assert "Support preview" not in text
    assert "Email me a new link" not in text  # a preview never mails the person


def test_a_preview_minted_to_live_longer_than_an_hour_is_refused(app, client):
    from prefcenter.access.links import LinkSigner

    long_lived = LinkSigner(app.config["LINK_SIGNING_KEYS"], {Purpose.PREVIEW: 30 * 24 * HOUR})
    token = long_lived.make(LinkClaims(USER, Purpose.PREVIEW))
    assert client.get(f"/preview/{token}").status_code == 404


# The log of previews.


def test_each_preview_is_logged_with_who_asked_and_never_the_token(app, client, caplog):
    token = preview_token(app, tenant_id="acme", by="agent-7")
    with caplog.at_level(logging.INFO):
        response = client.get(f"/preview/{token}")
    lines = [json.loads(JsonFormatter().format(record)) for record in caplog.records]
    viewed = [line for line in lines if line.get("event") == "preview_viewed"]
    assert len(viewed) == 1
    assert viewed[0]["user_id"] == USER
    assert viewed[0]["tenant_id"] == "acme"
    assert viewed[0]["by"] == "agent-7"
    assert viewed[0]["request_id"] == response.headers["X-Request-ID"]
    assert all(token not in json.dumps(line) for line in lines)
    assert all(token.split(".")[2] not in json.dumps(line) for line in lines)


def test_a_refused_preview_is_not_logged_as_viewed(app, client, caplog):
    with caplog.at_level(logging.INFO):
        client.get(f"/preview/{preview_token(app, age=HOUR + 120)}")
    assert not [r for r in caplog.records if getattr(r, "fields", {}).get("event")]
