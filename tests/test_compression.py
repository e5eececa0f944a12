"""Pages, stylesheets and scripts go out compressed when the browser accepts it: brotli or gzip,
as it prefers, with `Vary: Accept-Encoding`, and the hashed assets compressed once, not per
request. Checked through the test client and through gunicorn with the production settings.
"""

from __future__ import annotations

import gzip
import http.client
import re
from collections.abc import Callable, Iterator
from urllib.parse import urlsplit

import brotli
import httpx
import pytest
from flask import Flask, Response
from flask.testing import FlaskClient

from prefcenter.access.links import LinkClaims, Purpose
from prefcenter.access.minting import LinkMinter
from prefcenter.emulator import seed
from prefcenter.page.forms import field_key
from prefcenter.platform import assets, compression

from htmlform import HtmlForm
from test_slow_clients import API_KEY, Server, emulator_url, production  # noqa: F401

DECODE: dict[str, Callable[[bytes], bytes]] = {"br": brotli.decompress, "gzip": gzip.decompress}
CHROMIUM = "gzip, deflate, br, zstd"  # what Chromium sends
# Values signed with the time, so they differ between two renders of the same page.
SIGNED_VALUES = re.compile(r'(name="(?:csrf_token|rendered)"[^>]*? value=")[^"]*')


def same_page(html: str) -> str:
    return SIGNED_VALUES.sub(r"\1…", html)


def asset_urls(html: str) -> list[str]:
    return re.findall(r'(?:href|src)="(/assets/[^"]+)"', html)


# ---- pages ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("accepted", "encoding"),
    [("br", "br"), ("gzip", "gzip"), (CHROMIUM, "br"), ("gzip;q=1, br;q=0.5", "gzip")],
)
def test_the_page_goes_out_in_the_encoding_the_browser_prefers(signed_in, accepted, encoding):
    client = signed_in()
    plain = client.get("/")
    packed = client.get("/", headers={"Accept-Encoding": accepted})
    assert packed.status_code == 200
    assert packed.headers["Content-Encoding"] == encoding
    body = packed.get_data()
    assert int(packed.headers["Content-Length"]) == len(body)
    assert len(body) < len(plain.get_data()) / 4
    html = DECODE[encoding](body).decode()
    assert "Security alerts" in html
    assert same_page(html) == same_page(plain.get_data(as_text=True))


@pytest.mark.parametrize("accepted", [None, "identity", "deflate", "br;q=0, gzip;q=0"])
def test_no_compression_unless_the_browser_accepts_ours(signed_in, accepted):
    client = signed_in()
    headers = {"Accept-Encoding": accepted} if accepted is not None else {}
    response = client.get("/", headers=headers)
    assert response.status_code == 200
    assert "Content-Encoding" not in response.headers
    assert "Security alerts" in response.get_data(as_text=True)
    # Compressed or not, caches are told the answer depends on Accept-Encoding.
    assert "Accept-Encoding" in response.vary


def test_a_compressed_page_keeps_its_headers(signed_in):
    response = signed_in().get("/", headers={"Accept-Encoding": "br"})
    assert response.headers["Content-Encoding"] == "br"
    assert "Accept-Encoding" in response.vary
    assert response.headers["Cache-Control"] == "no-store"
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Content-Language"] == "en"


def test_the_page_after_a_save_is_compressed_too(signed_in):
    client = signed_in()
    form = HtmlForm.parse(client.get("/").get_data(as_text=True))
    form.set(f"{field_key(seed.TOPIC_DIGEST)}-status", "OPTED_IN", True)
    saved = client.post("/", data=form.submission(), headers={"Accept-Encoding": "br"})
    assert saved.status_code == 302
    page = client.get(saved.headers["Location"], headers={"Accept-Encoding": "br"})
    assert page.headers["Content-Encoding"] == "br"
    assert "<h2>Saved</h2>" in brotli.decompress(page.get_data()).decode()


def test_head_is_not_compressed(signed_in):
    response = signed_in().head("/", headers={"Accept-Encoding": "br"})
    assert response.status_code == 200
    assert "Content-Encoding" not in response.headers


def test_error_pages_are_not_compressed(signed_in):
    # A not-found page echoes its path (in its language links) beside the CSRF value:
    # compressed, its size would leak how much of a guess matches the value (BREACH).
    client = signed_in()
    response = client.get("/guess-IjQ0OWQ0", headers={"Accept-Encoding": "br"})
    assert response.status_code == 404
    assert "Content-Encoding" not in response.headers
    html = response.get_data(as_text=True)
    assert "guess-IjQ0OWQ0" in html and 'name="csrf_token"' in html


def test_small_and_streamed_answers_are_left_alone(app: Flask, client: FlaskClient):
    def chunks() -> Iterator[str]:
        yield "<p>" + "streamed " * 200
        yield "</p>"

    app.add_url_rule("/tiny", "tiny", lambda: "<p>Small</p>")
    app.add_url_rule("/streamed", "streamed", lambda: Response(chunks(), mimetype="text/html"))
    tiny = client.get("/tiny", headers={"Accept-Encoding": "br"})
    assert tiny.status_code == 200 and "Content-Encoding" not in tiny.headers
    assert tiny.get_data() == b"<p>Small</p>"
    streamed = client.get("/streamed", headers={"Accept-Encoding": "br"})
    assert streamed.status_code == 200 and "Content-Encoding" not in streamed.headers
    assert streamed.get_data(as_text=True).endswith("streamed </p>")


@pytest.mark.parametrize("size", [512, 1008, 1009, 65520, 65521, 600_000, 17_000_000])
def test_a_page_of_any_size_decodes_to_itself_in_its_fitted_window(size):
    # Bodies at each edge of a window, and one larger than the largest window (16 MiB).
    body = (b"<p>" + bytes(range(48, 123)) * (size // 75 + 1))[:size]
    encoded = compression.compressed(body, "br")
    assert brotli.decompress(encoded) == body
    assert len(encoded) <= len(brotli.compress(body, quality=4)) + 8


# ---- hashed assets ------------------------------------------------------------------------------


def test_hashed_assets_are_compressed_once_not_per_request(signed_in, monkeypatch):
    client = signed_in()
    urls = asset_urls(client.get("/").get_data(as_text=True))
    assert {url.rsplit(".", 1)[1] for url in urls} == {"css", "js"}

    def refuse(*args: object, **kwargs: object) -> bytes:
        raise AssertionError("compressed while answering a request")

    # The app is built, so its assets are compressed already: nothing may compress from now.
    monkeypatch.setattr(compression, "compressed", refuse)
    monkeypatch.setattr(assets, "compressed", refuse)
    for url in urls:
        plain = client.get(url)
        assert plain.status_code == 200 and "Content-Encoding" not in plain.headers
        for encoding, decode in DECODE.items():
            first = client.get(url, headers={"Accept-Encoding": encoding})
            again = client.get(url, headers={"Accept-Encoding": encoding})
            assert first.headers["Content-Encoding"] == encoding
            assert "Accept-Encoding" in first.vary
            assert first.cache_control.immutable and first.cache_control.public
            assert first.get_data() == again.get_data()
            assert len(first.get_data()) < len(plain.get_data()) / 2
            assert decode(first.get_data()) == plain.get_data()


def test_a_hashed_asset_answers_304_to_its_etag_in_each_encoding(signed_in):
    client = signed_in()
    [css] = [url for url in asset_urls(client.get("/").get_data(as_text=True)) if "css" in url]
    etags = set()
    for accepted in (None, "gzip", "br"):
        headers = {"Accept-Encoding": accepted} if accepted else {}
        first = client.get(css, headers=headers)
        etag = first.headers["ETag"]
        etags.add(etag)
        again = client.get(css, headers={**headers, "If-None-Match": etag})
        assert again.status_code == 304
        assert again.get_data() == b""
        assert "Accept-Encoding" in again.vary
    assert len(etags) == 3  # each encoding's bytes have their own tag


def test_static_files_keep_their_own_etags_and_are_not_recompressed(client):
    # Flask's static files are streamed from disk: left as they are, 304s included.
    with client.get("/static/style.css", headers={"Accept-Encoding": "br"}) as first:
        assert first.status_code == 200
        assert "Content-Encoding" not in first.headers
        etag = first.headers["ETag"]
    headers = {"Accept-Encoding": "br", "If-None-Match": etag}
    with client.get("/static/style.css", headers=headers) as again:
        assert again.status_code == 304


# ---- through gunicorn ---------------------------------------------------------------------------


def raw_get(url: str, headers: dict[str, str]) -> http.client.HTTPResponse:
    """One GET with http.client, which leaves the body as sent (httpx would decode it)."""
    address = urlsplit(url)
    connection = http.client.HTTPConnection(address.hostname, address.port, timeout=10)
    connection.request("GET", address.path or "/", headers=headers)
    response = connection.getresponse()
    response.body = response.read()  # type: ignore[attr-defined]
    connection.close()
    return response


def test_gunicorn_sends_compressed_pages_and_assets(production: Server):  # noqa: F811
    minter = LinkMinter.from_environment(
        SECRET_KEY=production.secret_key,
        COURIER_API_KEY=API_KEY,
        PUBLIC_BASE_URL=production.url,
        LINK_SIGNING_KEYS=[],
    )
    link = minter.url(LinkClaims("user-compressed", Purpose.MANAGE))
    with httpx.Client(trust_env=False, headers={"Accept-Language": "en"}) as client:
        assert client.get(link).status_code == 302
        cookie = "; ".join(f"{name}={value}" for name, value in client.cookies.items())
    base = {"Accept-Language": "en", "Cookie": cookie}

    plain = raw_get(production.url + "/", base)
    assert plain.status == 200 and plain.getheader("Content-Encoding") is None
    plain_html = plain.body.decode()  # type: ignore[attr-defined]
    assert "Security alerts" in plain_html
    for encoding, decode in DECODE.items():
        page = raw_get(production.url + "/", {**base, "Accept-Encoding": encoding})
        assert page.status == 200
        assert page.getheader("Content-Encoding") == encoding
        assert "Accept-Encoding" in page.getheader("Vary", "")
        assert page.getheader("Cache-Control") == "no-store"
        body = page.body  # type: ignore[attr-defined]
        assert int(page.getheader("Content-Length", "-1")) == len(body)
        assert same_page(decode(body).decode()) == same_page(plain_html)

    for url in asset_urls(plain_html):
        identity = raw_get(production.url + url, base).body  # type: ignore[attr-defined]
        for encoding, decode in DECODE.items():
            answers = [
                raw_get(production.url + url, {**base, "Accept-Encoding": encoding})
                for _ in range(2)
            ]
            assert {a.getheader("Content-Encoding") for a in answers} == {encoding}
            bodies = {a.body for a in answers}  # type: ignore[attr-defined]
            assert len(bodies) == 1  # the same bytes each time: compressed once
            assert decode(bodies.pop()) == identity
