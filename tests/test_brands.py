"""Brands: name, logo, colours and support link from settings, per tenant, as CSS properties."""

from __future__ import annotations

import json
import re

import pytest

from prefcenter import create_app
from prefcenter.platform.branding import Brand, contrast
from prefcenter.platform.config import ConfigError

from htmlform import text_of


@pytest.fixture
def brands_file(tmp_path):
    path = tmp_path / "brands.json"
    path.write_text(
        json.dumps(
            {
                "default": {"product_name": "Acme Cloud", "support_url": "https://acme.test/help"},
                "tenants": {
                    "globex": {
                        "product_name": "Globex",
                        "logo_url": "https://cdn.globex.test/logo.svg",
                        "primary_colour": "#ffd500",
                    }
                },
            }
        )
    )
    return path


@pytest.fixture
def app_config(app_config, brands_file):
    return {**app_config, "BRANDS_FILE": str(brands_file)}


def stylesheet(client, html):
    href = re.search(r'href="(/brand\.css[^"]*)"', html).group(1).replace("&amp;", "&")
    response = client.get(href)
    assert response.status_code == 200 and response.mimetype == "text/css"
    return response


def test_the_default_brand_names_the_product_and_links_support(signed_in):
    client = signed_in()
    html = client.get("/").get_data(as_text=True)
    text = text_of(html)
    assert "Acme Cloud" in text
    assert 'href="https://acme.test/help"' in html
    css = stylesheet(client, html).get_data(as_text=True)
    assert "--brand:#2251cc" in css


def test_a_tenant_s_brand_applies_to_its_people(signed_in):
    client = signed_in("user-1", tenant_id="globex")
    html = client.get("/").get_data(as_text=True)
    assert 'src="https://cdn.globex.test/logo.svg" alt="Globex"' in html
    response = stylesheet(client, html)
    css = response.get_data(as_text=True)
    assert "--brand:#ffd500" in css
    # Yellow is too pale for white text or for links on white: the contrast picks for us.
    assert "--brand-contrast:#000000" in css
    assert "--link:#1d4ed8" in css
    assert response.cache_control.max_age == 365 * 24 * 60 * 60
    # The CSP lets the logo's host in, and nothing more.
    policy = client.get("/").headers["Content-Security-Policy"]
    assert "img-src 'self' data: https://cdn.globex.test;" in policy


def test_the_unsubscribe_page_wears_the_tenant_s_brand(app, mint):
    from prefcenter.access.links import Purpose
    from prefcenter.emulator import seed

    token = mint("user-1", Purpose.UNSUBSCRIBE, topic_id=seed.TOPIC_DIGEST, tenant_id="globex")
    html = app.test_client().get(f"/u/{token}").get_data(as_text=True)
    assert "Globex" in text_of(html) or 'alt="Globex"' in html


@pytest.mark.parametrize(
    "brand, message",
    [
        ({"primary_colour": "red"}, "primary_colour"),
        ({"logo_url": "javascript:alert(1)"}, "logo_url"),
        ({"support_url": 'https://x.test/"><script>'}, "support_url"),
        ({"colour": "#000000"}, "unknown settings"),
        # Scheme-relative and backslash URLs look like local paths but lead to another site.
        ({"logo_url": "//evil.example/logo.svg"}, "logo_url"),
        ({"logo_url": "/\\evil.example/logo.svg"}, "logo_url"),
        ({"support_url": "//evil.example/help"}, "support_url"),
        ({"support_url": "/\\evil.example/help"}, "support_url"),
        ({"support_url": "/\t/evil.example/help"}, "support_url"),
        ({"support_url": "https:\\\\evil.example/help"}, "support_url"),
        ({"support_url": "https:///help"}, "support_url"),
    ],
)
def test_bad_brand_settings_refuse_to_start(tmp_path, brand, message):
    path = tmp_path / "brands.json"
    path.write_text(json.dumps({"tenants": {"t": brand}}))
    with pytest.raises(ConfigError, match=message):
        create_app({"TESTING": True, "BRANDS_FILE": str(path)}, environ={})


def test_brand_colours_keep_text_readable():
    for colour in ("#ffd500", "#2251cc", "#000000", "#ffffff", "#7f7f7f"):
        css = Brand(primary_colour=colour).css()
        text = re.search(r"--brand-contrast:(#[0-9a-f]{6})", css).group(1)
        assert contrast(text, colour) >= 4.5


@pytest.mark.parametrize(
    "setting, url",
    [
        ("PREFCENTER_BRAND_LOGO_URL", "//evil.example/logo.svg"),
        ("PREFCENTER_BRAND_LOGO_URL", "/\\evil.example/logo.svg"),
        ("PREFCENTER_BRAND_SUPPORT_URL", "//evil.example/help"),
        ("PREFCENTER_BRAND_SUPPORT_URL", "/\\evil.example/help"),
    ],
)
def test_brand_urls_from_the_environment_must_stay_local_or_be_https(setting, url):
    with pytest.raises(ConfigError, match=setting.removeprefix("PREFCENTER_BRAND_").lower()):
        create_app({"TESTING": True}, environ={setting: url})


@pytest.mark.parametrize(
    "brand",
    [
        {"logo_url": "/static/logo.svg", "support_url": "/help"},
        {"logo_url": "https://cdn.example.com/logo.svg", "support_url": "mailto:help@example.com"},
    ],
)
def test_local_paths_https_and_mailto_urls_are_accepted(tmp_path, brand):
    path = tmp_path / "brands.json"
    path.write_text(json.dumps({"default": brand}))
    app = create_app({"TESTING": True, "BRANDS_FILE": str(path)}, environ={})
    assert app.config["BRANDS"].default.support_url == brand["support_url"]
