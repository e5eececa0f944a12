"""Minting links: from Python, and from the JSON endpoint protected by its own key."""

from __future__ import annotations

import pytest

from prefcenter import create_app
from prefcenter.access.links import LinkClaims, Purpose
from prefcenter.access.minting import LinkMinter
from prefcenter.emulator import seed

API_KEY = "link-api-key-for-tests"
HOST = "https://prefs.example.com"


@pytest.fixture
def app_config(app_config):
    return {**app_config, "LINK_API_KEY": API_KEY}


def mint(client, body, key=API_KEY):
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    return client.post("/api/links", json=body, headers=headers)


@pytest.mark.parametrize(
    "body, path_prefix, opens_with",
    [
        ({"user_id": "u1", "purpose": "manage", "tenant_id": "acme"}, "/l/", 302),
        ({"user_id": "u1", "purpose": "unsubscribe", "topic_id": seed.TOPIC_DIGEST}, "/u/", 200),
        ({"user_id": "u1", "purpose": "embed", "locale": "de"}, "/e/", 200),
    ],
)
def test_the_endpoint_mints_working_links(app, client, body, path_prefix, opens_with):
    response = mint(client, body)
    assert response.status_code == 201
    link = response.get_json()
    assert link["purpose"] == body["purpose"]
    assert link["url"].startswith(HOST + path_prefix)
    assert link["token"] in link["url"]
    assert isinstance(link["expires_at"], int)
    claims = app.extensions["prefcenter"].links.load(link["token"], Purpose(body["purpose"]))
    assert claims.user_id == "u1"
    assert app.test_client().get(link["url"].removeprefix(HOST)).status_code == opens_with
    if body["purpose"] == "unsubscribe":
        assert link["headers"] == {
            "List-Unsubscribe": f"<{link['url']}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        }


@pytest.mark.parametrize("key", [None, "wrong", API_KEY + "x"])
def test_the_endpoint_refuses_without_its_key(client, key):
    response = mint(client, {"user_id": "u1", "purpose": "manage"}, key=key)
    assert response.status_code == 401
    assert "token" not in response.get_json()


def test_the_endpoint_is_off_unless_a_key_is_configured(app_config, courier):
    app = create_app({**app_config, "LINK_API_KEY": None}, courier=courier, environ={})
    response = mint(app.test_client(), {"user_id": "u1", "purpose": "manage"}, key="")
    assert response.status_code == 404


@pytest.mark.parametrize(
    "body, message",
    [
        ({"purpose": "manage"}, "'user_id'"),
        ({"user_id": "", "purpose": "manage"}, "'user_id'"),
        ({"user_id": 7, "purpose": "manage"}, "'user_id'"),
        ({"user_id": "u1", "purpose": "admin"}, "'purpose' must be one of"),
        ({"user_id": "u1", "purpose": "unsubscribe"}, "'topic_id'"),
        ({"user_id": "u" * 300, "purpose": "manage"}, "at most 256"),
        ({"user_id": "u\n1", "purpose": "manage"}, "printable"),
        ({"user_id": "u1", "purpose": "manage", "locale": ["de"]}, "'locale'"),
        ({"user_id": "u1", "purpose": "embed", "hide": "heading"}, "'hide'"),
        ({"user_id": "u1", "purpose": "embed", "hide": ["footer"]}, "cannot hide footer"),
        ({"user_id": "u1", "purpose": "manage", "hide": ["heading"]}, "only an embed link"),
        ([1, 2], "JSON object"),
        ("nope", "JSON object"),
    ],
)
def test_bad_requests_get_a_clear_400(client, body, message):
    response = mint(client, body)
    assert response.status_code == 400
    assert message in response.get_json()["error"]


def test_a_body_that_is_not_json_gets_a_400(client):
    response = client.post(
        "/api/links",
        data=b"\xff\xfe not json",
        headers={"Authorization": f"Bearer {API_KEY}", "Content-Type": "application/json"},
    )
    assert response.status_code == 400


@pytest.mark.parametrize("depth", [30_000, 100_000])
@pytest.mark.parametrize("opening", ["[", '{"a":'])
def test_deeply_nested_json_gets_a_clear_400(app_config, courier, depth, opening):
    # Room for 100,000 levels: the 64 KiB default would refuse the body as too large first.
    app = create_app({**app_config, "MAX_CONTENT_LENGTH": 1 << 20}, courier=courier, environ={})
    closing = "]" if opening == "[" else "}"
    response = app.test_client().post(
        "/api/links",
        data=opening * depth + "1" + closing * depth,
        headers={"Authorization": f"Bearer {API_KEY}", "Content-Type": "application/json"},
    )
    assert response.status_code == 400
    assert "nested too deeply" in response.get_json()["error"]


def test_deeply_nested_json_over_the_size_limit_is_refused_for_its_size(client):
    response = client.post(
        "/api/links",
        data="[" * 100_000 + "]" * 100_000,
        headers={"Authorization": f"Bearer {API_KEY}", "Content-Type": "application/json"},
    )
    assert response.status_code == 413


def test_python_senders_mint_from_the_same_environment(app, client):
    minter = LinkMinter.from_environment(
        SECRET_KEY=app.config["SECRET_KEY"],
        COURIER_API_KEY="unused",
        PUBLIC_BASE_URL=HOST,
    )
    link = minter.mint(LinkClaims("u5", Purpose.MANAGE))
    assert client.get(link.url.removeprefix(HOST)).status_code == 302
    with client.session_transaction() as session:
        assert session["user_id"] == "u5"


def test_an_unsubscribe_link_without_a_topic_cannot_be_minted(app):
    with pytest.raises(ValueError, match="topic"):
        app.extensions["prefcenter"].minter.mint(LinkClaims("u1", Purpose.UNSUBSCRIBE))


def test_an_embed_link_may_hide_the_parts_its_host_shows_itself(app, client):
    response = mint(client, {"user_id": "u1", "purpose": "embed", "hide": ["heading", "language"]})
    assert response.status_code == 201
    url = response.get_json()["url"].removeprefix(HOST)
    html = app.test_client(use_cookies=False).get(url).get_data(as_text=True)
    assert "<h1>" not in html and 'class="language-picker"' not in html
    assert "Weekly digest" in html


def test_the_cli_mints_an_embed_link_that_hides_parts(app):
    result = app.test_cli_runner().invoke(args=["link", "u1", "--embed", "--hide", "heading"])
    assert result.exit_code == 0, result.output
    url = result.output.strip().splitlines()[0].removeprefix(HOST)
    html = app.test_client(use_cookies=False).get(url).get_data(as_text=True)
    assert "<h1>" not in html and 'class="language-picker"' in html
    refused = app.test_cli_runner().invoke(args=["link", "u1", "--hide", "heading"])
    assert refused.exit_code != 0 and "only an embed link" in refused.output
