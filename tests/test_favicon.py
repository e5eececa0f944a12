"""A favicon per brand: every page names one that answers, so no first view logs a 404."""

from __future__ import annotations

import json
import re

import pytest

from prefcenter import create_app
from prefcenter.platform.config import ConfigError


@pytest.fixture
def brands_file(tmp_path):
    path = tmp_path / "brands.json"
    path.write_text(
        json.dumps(
            {
                "tenants": {
                    "globex": {"primary_colour": "#ffd500"},
                    "initech": {"favicon_url": "https://cdn.initech.test/icon.png"},
                }
            }
        )
    )
    return path


@pytest.fixture
def app_config(app_config, brands_file):
    return {**app_config, "BRANDS_FILE": str(brands_file)}


def icon_href(html: str) -> str:
    [href] = re.findall(r'<link rel="icon" href="([^"]+)"', html)
    return href.replace("&amp;", "&")


def test_every_page_names_an_icon_in_its_brand_colour_that_answers(signed_in):
    client = signed_in()
    html = client.get("/").get_data(as_text=True)
    href = icon_href(html)
    icon = client.get(href)
    assert icon.status_code == 200 and icon.mimetype == "image/svg+xml"
    assert 'fill="#2251cc"' in icon.get_data(as_text=True)
    assert icon.cache_control.max_age == 365 * 24 * 60 * 60 and icon.cache_control.immutable


def test_a_tenant_gets_its_own_icon(signed_in):
    client = signed_in("user-1", tenant_id="globex")
    icon = client.get(icon_href(client.get("/").get_data(as_text=True)))
    body = icon.get_data(as_text=True)
    assert 'fill="#ffd500"' in body and 'fill="#000000"' in body  # a dark bell on yellow


def test_a_brand_s_own_icon_is_named_and_the_csp_lets_it_in(signed_in):
    client = signed_in("user-1", tenant_id="initech")
    page = client.get("/")
    assert icon_href(page.get_data(as_text=True)) == "https://cdn.initech.test/icon.png"
    assert "https://cdn.initech.test" in page.headers["Content-Security-Policy"]


@pytest.mark.parametrize("path", ["/", "/l/not-a-token", "/u/not-a-token", "/no-such-page"])
def test_signed_out_and_error_pages_name_an_icon_that_answers(client, path):
    html = client.get(path).get_data(as_text=True)
    assert client.get(icon_href(html)).status_code == 200


def test_favicon_ico_answers_for_browsers_that_ask_anyway(client):
    response = client.get("/favicon.ico", follow_redirects=True)
    assert response.status_code == 200 and response.mimetype == "image/svg+xml"
    assert response.cache_control.immutable


def test_a_favicon_url_must_be_https_or_a_local_path(app_config):
    with pytest.raises(ConfigError, match="favicon_url"):
        create_app({**app_config, "BRANDS_FILE": None, "BRAND_FAVICON_URL": "http://x.test/i"})
