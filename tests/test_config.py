"""Settings and demo mode: what starts, what refuses to, and which Courier it talks to."""

from __future__ import annotations

import re
import socket

import pytest

from prefcenter import create_app
from prefcenter.access.links import LinkClaims, Purpose
from prefcenter.emulator import seed
from prefcenter.page.forms import field_key
from prefcenter.platform.config import ConfigError, load_config

from htmlform import HtmlForm, text_of

LONG_SECRET = "s" * 48


def test_without_an_api_key_the_app_runs_in_demo_mode_with_a_banner():
    app = create_app({"TESTING": True}, environ={})
    assert app.config["DEMO_MODE"]
    client = app.test_client()
    signed_out = client.get("/")
    html = signed_out.get_data(as_text=True)
    assert "Demo mode" in text_of(html)
    [link] = re.findall(r'href="(http://127\.0\.0\.1:5000/l/[^"]+)"', html)
    response = client.get(link.removeprefix(app.config["PUBLIC_BASE_URL"]))
    assert response.status_code == 302
    page = client.get("/")
    assert page.status_code == 200
    text = text_of(page.get_data(as_text=True))
    assert "Demo mode" in text and "Security alerts" in text
    form = HtmlForm.parse(page.get_data(as_text=True))
    form.set(f"{field_key(seed.TOPIC_DIGEST)}-status", "OPTED_IN", True)
    saved = client.post("/", data=form.submission(), follow_redirects=True)
    assert "Weekly digest: turned on." in text_of(saved.get_data(as_text=True))


def test_demo_mode_prints_a_working_link_on_start(capsys):
    app = create_app({}, environ={})
    link = capsys.readouterr().err.strip().splitlines()[-1].split("Open the demo: ")[1]
    client = app.test_client()
    assert client.get(link.removeprefix("http://127.0.0.1:5000")).status_code == 302
    assert client.get("/").status_code == 200


def test_with_an_api_key_a_secret_key_is_required():
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        create_app(environ={"COURIER_API_KEY": "live-key"})


def test_link_keys_must_be_long_enough():
    with pytest.raises(ConfigError, match="at least 32"):
        create_app(environ={"COURIER_API_KEY": "live-key", "SECRET_KEY": "short"})


def test_with_an_api_key_only_the_configured_courier_is_used():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    app = create_app(
        {"TESTING": True, "COURIER_TIMEOUT": 2.0},
        environ={
            "COURIER_API_KEY": "live-key",
            "COURIER_BASE_URL": f"http://127.0.0.1:{port}",
            "SECRET_KEY": LONG_SECRET,
        },
    )
    assert not app.config["DEMO_MODE"]
    client = app.test_client()
    assert "Demo mode" not in text_of(client.get("/").get_data(as_text=True))
    token = app.extensions["prefcenter"].links.make(LinkClaims("u1", Purpose.MANAGE))
    client.get(f"/l/{token}")
    # Nothing listens there: the page says Courier is unavailable rather than showing demo data.
    response = client.get("/")
    assert response.status_code == 503
    assert "Security alerts" not in text_of(response.get_data(as_text=True))


@pytest.mark.parametrize(
    "environ, setting, expected",
    [
        (
            {"PUBLIC_BASE_URL": "https://prefs.example.com/"},
            "PUBLIC_BASE_URL",
            "https://prefs.example.com",
        ),
        ({"PUBLIC_BASE_URL": "https://prefs.example.com"}, "SESSION_COOKIE_SECURE", True),
        ({"PUBLIC_BASE_URL": "http://127.0.0.1:5000"}, "SESSION_COOKIE_SECURE", False),
        ({"PREFCENTER_CATALOG_TTL": "5"}, "CATALOG_TTL", 5.0),
        (
            {"SECRET_KEY_FALLBACKS": "a" * 40 + ", " + "b" * 40},
            "SECRET_KEY_FALLBACKS",
            ["a" * 40, "b" * 40],
        ),
    ],
)
def test_settings_come_from_the_environment(environ, setting, expected):
    app = create_app({"TESTING": True}, environ=environ)
    assert app.config[setting] == expected


def test_a_bad_number_in_the_environment_names_the_variable():
    with pytest.raises(ConfigError, match="PREFCENTER_CATALOG_TTL"):
        create_app({"TESTING": True}, environ={"PREFCENTER_CATALOG_TTL": "soon"})


@pytest.mark.parametrize(
    "environ, variable",
    [
        # Links signed with their own keys: sessions and forms still rest on SECRET_KEY.
        ({"SECRET_KEY": "short", "LINK_SIGNING_KEYS": "k" * 40}, "SECRET_KEY"),
        ({"SECRET_KEY": LONG_SECRET, "SECRET_KEY_FALLBACKS": "old-short"}, "SECRET_KEY_FALLBACKS"),
        (
            {"SECRET_KEY": LONG_SECRET, "SECRET_KEY_FALLBACKS": "o" * 40 + ",old-short"},
            "SECRET_KEY_FALLBACKS",
        ),
        (
            {"SECRET_KEY": LONG_SECRET, "LINK_SIGNING_KEYS": "k" * 40 + ",short"},
            "LINK_SIGNING_KEYS",
        ),
        ({"SECRET_KEY": "s" * 31}, "SECRET_KEY"),
    ],
)
def test_every_signing_key_must_be_long_enough(environ, variable):
    with pytest.raises(ConfigError, match=rf"^{variable} must be at least 32 characters"):
        create_app(environ={"COURIER_API_KEY": "live-key", **environ})


def test_keys_of_32_characters_are_accepted():
    app = create_app(
        {"TESTING": True},
        environ={
            "COURIER_API_KEY": "live-key",
            "SECRET_KEY": "s" * 32,
            "SECRET_KEY_FALLBACKS": "o" * 32,
            "LINK_SIGNING_KEYS": "k" * 32,
        },
    )
    assert app.config["LINK_SIGNING_KEYS"] == ["k" * 32]


@pytest.mark.parametrize(
    "environ, variable",
    [
        ({"PREFCENTER_TRUSTED_PROXIES": "10.0.0.0/8,not-an-address"}, "PREFCENTER_TRUSTED_PROXIES"),
        ({"PREFCENTER_TRUSTED_HOSTS": "https://prefs.example.com"}, "PREFCENTER_TRUSTED_HOSTS"),
        ({"PREFCENTER_TRUSTED_HOSTS": "prefs.example.com/x"}, "PREFCENTER_TRUSTED_HOSTS"),
    ],
)
def test_bad_proxy_and_host_settings_name_the_variable(environ, variable):
    with pytest.raises(ConfigError, match=variable):
        create_app({"TESTING": True}, environ=environ)


def test_trusted_hosts_are_the_public_host_and_the_extra_ones():
    config = load_config(
        {"PUBLIC_BASE_URL": "https://prefs.example.com/preferences"},
        environ={"PREFCENTER_TRUSTED_HOSTS": "prefs.internal, .example.org"},
    )
    assert config["TRUSTED_HOSTS"] == ["prefs.example.com", "prefs.internal", ".example.org"]
    assert load_config(environ={})["TRUSTED_HOSTS"] == ["127.0.0.1", "localhost"]
