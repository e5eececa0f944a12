"""Security: headers, cookie flags, rate limits, request ids, and the API key kept out of sight."""

from __future__ import annotations

import json
import logging
import re
import socket
from urllib.parse import quote, unquote, urljoin, urlsplit

import pytest

from prefcenter import create_app
from prefcenter.access.links import LinkClaims, Purpose
from prefcenter.courier import CourierClient
from prefcenter.emulator import create_emulator_app, seed
from prefcenter.emulator.inprocess import wsgi_transport
from prefcenter.page.forms import field_key
from prefcenter.platform.logs import JsonFormatter

from conftest import FAST_RETRIES
from faults import Fault, FaultyCourier
from htmlform import HtmlForm

ONE_CLICK = {"List-Unsubscribe": "One-Click"}


def test_pages_carry_the_security_headers(client, signed_in, mint):
    signed_in()
    for path in (
        "/",
        f"/l/{mint()}",
        f"/u/{mint(purpose=Purpose.UNSUBSCRIBE, topic_id=seed.TOPIC_DIGEST)}",
        "/nope",
    ):
        response = client.get(path)
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Referrer-Policy"] == "no-referrer"
        policy = response.headers["Content-Security-Policy"]
        assert "default-src 'none'" in policy and "unsafe-inline" not in policy


def test_hsts_only_over_https(client):
    assert "Strict-Transport-Security" not in client.get("/").headers
    secure = client.get("/", base_url="https://prefs.example.com")
    assert secure.headers["Strict-Transport-Security"].startswith("max-age=31536000")


def test_the_session_cookie_is_httponly_samesite_and_secure_over_https(client, mint):
    cookie = client.get(f"/l/{mint()}").headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" in cookie


def test_the_session_cookie_is_not_secure_for_plain_http_local_use(app_config, courier, mint):
    app = create_app(
        {**app_config, "PUBLIC_BASE_URL": "http://127.0.0.1:5000"}, courier=courier, environ={}
    )
    token = app.extensions["prefcenter"].links.make(LinkClaims("u1", Purpose.MANAGE))
    cookie = app.test_client().get(f"/l/{token}").headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "Secure" not in cookie


@pytest.fixture
def app_config(app_config):
    return {
        **app_config,
        "RATE_LIMIT_LINKS": "3 per minute",
        "RATE_LIMIT_ONE_CLICK": "2 per minute",
        "RATE_LIMIT_API": "2 per minute",
        "LINK_API_KEY": "api-key",
    }


def test_opening_links_is_rate_limited_per_address(client, mint):
    statuses = [client.get(f"/l/{mint()}").status_code for _ in range(4)]
    assert statuses == [302, 302, 302, 429]
    assert "Too Many Requests" in client.get(f"/l/{mint()}").get_data(as_text=True)
    # Another address has its own allowance.
    other = client.get(f"/l/{mint()}", environ_base={"REMOTE_ADDR": "10.9.8.7"})
    assert other.status_code == 302


def test_one_click_and_the_api_have_their_own_limits(app, mint):
    mail = app.test_client(use_cookies=False)
    link = f"/u/{mint(purpose=Purpose.UNSUBSCRIBE, topic_id=seed.TOPIC_BILLING)}"
    assert [mail.post(link, data=ONE_CLICK).status_code for _ in range(3)] == [200, 200, 429]
    headers = {"Authorization": "Bearer api-key"}
    body = {"user_id": "u1", "purpose": "manage"}
    codes = [mail.post("/api/links", json=body, headers=headers).status_code for _ in range(3)]
    assert codes == [201, 201, 429]
    limited = mail.post("/api/links", json=body, headers=headers)
    assert "error" in limited.get_json()


def test_every_response_has_a_request_id_and_a_safe_incoming_one_is_kept(client):
    generated = client.get("/").headers["X-Request-ID"]
    assert len(generated) == 32
    assert (
        client.get("/", headers={"X-Request-ID": "lb-1234.abc"}).headers["X-Request-ID"]
        == "lb-1234.abc"
    )
    forged = client.get("/", headers={"X-Request-ID": "<script>x</script>"})
    assert len(forged.headers["X-Request-ID"]) == 32


def test_logs_are_json_with_the_route_not_the_token(client, mint, caplog):
    token = mint()
    with caplog.at_level(logging.INFO, logger="prefcenter"):
        client.get(f"/l/{token}", headers={"X-Request-ID": "req-42"})
    lines = [json.loads(JsonFormatter().format(r)) for r in caplog.records]
    access = [line for line in lines if line["logger"] == "prefcenter.access"]
    assert access[-1]["route"] == "/l/<token>" and access[-1]["status"] == 302
    assert access[-1]["request_id"] == "req-42"
    assert all(token not in json.dumps(line) for line in lines)


def test_a_request_body_over_the_limit_is_refused(signed_in):
    client = signed_in()
    response = client.post("/", data={"x": "y" * 70_000})
    assert response.status_code == 413


SECRET_API_KEY = "sk_live_DO_NOT_LEAK_0123456789abcdef"


def test_the_courier_api_key_never_appears_in_pages_or_logs(caplog, mint):
    emulator = create_emulator_app(api_key=SECRET_API_KEY)
    faulty = FaultyCourier(emulator)
    courier = CourierClient(
        SECRET_API_KEY, "http://courier.test", transport=wsgi_transport(faulty), retry=FAST_RETRIES
    )
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "s" * 40,
            "COURIER_API_KEY": SECRET_API_KEY,
            "PROPAGATE_EXCEPTIONS": False,
        },
        courier=courier,
        environ={},
    )
    links = app.extensions["prefcenter"].links

    client = app.test_client()
    pages = []
    with caplog.at_level(logging.DEBUG):
        pages.append(client.get(f"/l/{links.make(LinkClaims('u1', Purpose.MANAGE))}"))
        page = client.get("/")
        pages.append(page)
        form = HtmlForm.parse(page.get_data(as_text=True))
        form.set(f"{field_key(seed.TOPIC_DIGEST)}-status", "OPTED_IN", True)
        faulty.faults.append(Fault("PUT", r".*", status=500))
        pages.append(client.post("/", data=form.submission()))
        faulty.faults[:] = [Fault("GET", r".*", status=401, body=b'{"message":"bad key"}')]
        pages.append(client.get("/"))
        pages.append(client.get("/readyz"))
        faulty.faults[:] = [Fault("GET", r".*", status=200, body=b"{broken")]
        pages.append(client.get("/"))
        unsubscribe = links.make(LinkClaims("u1", Purpose.UNSUBSCRIBE, topic_id=seed.TOPIC_BILLING))
        pages.append(app.test_client(use_cookies=False).post(f"/u/{unsubscribe}", data=ONE_CLICK))
    assert {p.status_code for p in pages} >= {302, 502, 503}
    for response in pages:
        assert SECRET_API_KEY not in response.get_data(as_text=True)
        assert all(SECRET_API_KEY not in value for value in response.headers.values())
    formatted = [JsonFormatter().format(record) for record in caplog.records]
    assert formatted, "the failures above should have been logged"
    assert all(SECRET_API_KEY not in line for line in formatted)
    courier.close()


# ---- Caching: nothing personal is kept, only public assets are ----------------------------

PUBLIC_ENDPOINTS = {"assets.serve", "brand.stylesheet"}


def every_route_once(app, client, mint):
    """A request per (endpoint, method) of the app, as a signed-in person or a frame would send
    it: yields (endpoint, method, response). Routes this table does not know yet get a plain
    request with a manage token for each argument, so a new route is never left out."""
    embed = f"/e/{mint(purpose=Purpose.EMBED)}/"
    unsubscribe = f"/u/{mint(purpose=Purpose.UNSUBSCRIBE, topic_id=seed.TOPIC_DIGEST)}"
    frame = app.test_client(use_cookies=False)
    assets = app.extensions["prefcenter_assets"]["by_name"]
    brand = app.config["BRANDS"].default
    done = set()

    def seen(endpoint, response):
        done.add((endpoint, response.request.method))
        return endpoint, response.request.method, response

    yield seen("links.open_link", client.get(f"/l/{mint()}"))
    page = client.get("/")
    yield seen("preferences.page", page)
    form = HtmlForm.parse(page.get_data(as_text=True))
    form.set(f"{field_key(seed.TOPIC_DIGEST)}-status", "OPTED_IN", True)
    yield seen("preferences.save", client.post("/", data=form.submission()))
    csrf = {"csrf_token": form.submission()["csrf_token"]}
    yield seen("preferences.unsubscribe_all", client.post("/unsubscribe-all", data=csrf))
    undo_all = client.post("/unsubscribe-all/undo", data=csrf)
    yield seen("preferences.undo_unsubscribe_all", undo_all)
    framed = frame.get(embed)
    yield seen("embedded.page", framed)
    embed_form = HtmlForm.parse(framed.get_data(as_text=True))
    yield seen("embedded.save", frame.post(embed_form.action, data=embed_form.submission()))
    embed_csrf = {"csrf_token": embed_form.submission()["csrf_token"]}
    framed_all = frame.post(f"{embed}unsubscribe-all", data=embed_csrf)
    yield seen("embedded.unsubscribe_all", framed_all)
    framed_undo = frame.post(f"{embed}unsubscribe-all/undo", data=embed_csrf)
    yield seen("embedded.undo_unsubscribe_all", framed_undo)
    yield seen("unsubscribe.confirm", frame.get(unsubscribe))
    yield seen("unsubscribe.one_click", frame.post(unsubscribe, data=ONE_CLICK))
    yield seen("unsubscribe.resubscribe", frame.post(f"{unsubscribe}/undo"))
    minted = frame.post(
        "/api/links",
        json={"user_id": "u1", "purpose": "manage"},
        headers={"Authorization": "Bearer api-key"},
    )
    yield seen("api.mint_link", minted)
    yield seen("health.alive", client.get("/healthz"))
    yield seen("health.ready", client.get("/readyz"))
    yield seen("brand.stylesheet", client.get(f"/brand.css?v={brand.css_version}"))
    yield seen("assets.serve", client.get(f"/assets/{assets['style.css'].hashed_name}"))
    source = client.get("/static/style.css")  # the uncompacted source, which no page uses
    source.close()
    yield seen("static", source)
    for rule in app.url_map.iter_rules():
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            if (rule.endpoint, method) not in done:
                path = re.sub(r"<[^>]+>", lambda _: mint(), rule.rule)
                yield seen(rule.endpoint, client.open(path, method=method))


def test_no_personal_response_may_be_stored_in_any_cache(app, client, mint):
    routes = {
        (rule.endpoint, method)
        for rule in app.url_map.iter_rules()
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }
    answered = set()
    for endpoint, method, response in every_route_once(app, client, mint):
        answered.add((endpoint, method))
        if endpoint in PUBLIC_ENDPOINTS:
            assert response.status_code == 200, endpoint
            assert response.cache_control.public and response.cache_control.immutable, endpoint
            assert response.cache_control.max_age == 365 * 24 * 60 * 60, endpoint
            continue
        assert response.status_code < 500, endpoint
        assert response.headers["Cache-Control"] == "no-store", endpoint
        assert response.headers["Pragma"] == "no-cache", endpoint
    assert answered == routes


@pytest.mark.parametrize(
    "path",
    [
        "/nope",  # error pages
        "/brand.css",  # a brand stylesheet not asked for by its version: it may change
        "/assets/style.000000000000.css",  # an asset that is not there
        "/l/not-a-token",
    ],
)
def test_answers_other_than_public_assets_are_not_stored_either(client, path):
    assert client.get(path).headers["Cache-Control"] == "no-store"


# ---- The language picker links only to this site ------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "/%5Cevil.example/x",  # the backslash browsers read as a slash
        "//evil.example/x",
        "/%2F%2Fevil.example",
        "/%09/evil.example",  # browsers drop tabs from URLs
    ],
)
def test_the_language_picker_never_links_off_site(client, path):
    # What a server hands the app: the path percent-decoded.
    response = client.get("/", environ_overrides={"PATH_INFO": unquote(path)})
    assert response.status_code == 404
    links = re.findall(r'<a href="([^"]*)" lang="[a-z]+" hreflang', response.get_data(as_text=True))
    assert len(links) == 5
    for href in links:
        assert href.startswith("/") and not href.startswith("//"), href
        assert "\\" not in href and not any(ord(char) <= 32 for char in href), href
        # How a browser resolves it: backslashes as slashes, against the page's address.
        resolved = urljoin(f"https://prefs.example.com{quote(unquote(path))}", href)
        assert urlsplit(resolved.replace("\\", "/")).hostname == "prefs.example.com", href


def test_the_language_picker_still_links_to_the_page_asked_for(client):
    response = client.get("/no/such/page")
    assert 'href="/no/such/page?lang=de"' in response.get_data(as_text=True)


# ---- Host names: only this app's own ------------------------------------------------------


def test_a_request_for_another_host_is_refused_and_never_redirected_there(client, mint):
    token = mint(purpose=Purpose.EMBED)
    for path in (f"/e/{token}", f"/e/{token}/", "/", f"/l/{mint()}"):
        response = client.get(path, headers={"Host": "evil.example"})
        assert response.status_code == 400, path
        assert "evil.example" not in response.headers.get("Location", "")
        assert "This request could not be understood" in response.get_data(as_text=True)
    refused_post = client.post("/", headers={"Host": "evil.example"})
    assert refused_post.status_code == 400


def test_the_public_host_gets_a_relative_trailing_slash_redirect(client, mint):
    token = mint(purpose=Purpose.EMBED)
    response = client.get(f"/e/{token}", base_url="https://prefs.example.com")
    assert response.status_code == 308
    assert response.headers["Location"] == f"/e/{token}/"


def test_extra_hosts_come_from_a_setting(app_config, courier, mint):
    app = create_app(
        {**app_config, "TRUSTED_HOSTS": ["prefs.internal"]}, courier=courier, environ={}
    )
    client = app.test_client()
    assert client.get("/healthz", headers={"Host": "prefs.internal"}).status_code == 200
    assert client.get("/", headers={"Host": "prefs.internal:8443"}).status_code == 401
    assert client.get("/", headers={"Host": "other.internal"}).status_code == 400


def test_probes_answer_whatever_host_a_load_balancer_sends(client):
    # Load balancers and orchestrators probe each instance by its address.
    assert client.get("/healthz", headers={"Host": "10.0.0.5:8000"}).status_code == 200
    assert client.get("/readyz", headers={"Host": "10.0.0.5:8000"}).status_code == 200


# ---- Reverse proxies: only trusted peers' X-Forwarded-* count -----------------------------


def proxied(app_config, courier, **settings):
    return create_app({**app_config, "PROXY_FIX_HOPS": 1, **settings}, courier=courier, environ={})


def test_forwarded_headers_from_an_untrusted_peer_are_ignored(app_config, courier, mint):
    app = proxied(app_config, courier)
    client = app.test_client()
    outsider = {"REMOTE_ADDR": "203.0.113.9"}  # reached gunicorn directly
    statuses = []
    for i in range(4):
        spoofed = {
            "X-Forwarded-For": f"198.51.100.{i}",  # a fresh address each time, to dodge limits
            "X-Forwarded-Prefix": "/evil",
            "X-Forwarded-Proto": "https",
            "X-Forwarded-Host": "evil.example",
        }
        response = client.get(f"/l/{mint()}", headers=spoofed, environ_base=outsider)
        statuses.append(response.status_code)
        if i == 0:
            assert response.headers["Location"] == "/"
    # Counted against the peer's own address: the limit (3 a minute here) holds.
    assert statuses == [302, 302, 302, 429]


def test_forwarded_headers_from_a_trusted_proxy_are_honoured(app_config, courier, mint):
    app = proxied(app_config, courier, TRUSTED_PROXIES=["10.0.0.0/8"])
    client = app.test_client()
    proxy = {"REMOTE_ADDR": "10.1.2.3"}
    statuses = [
        client.get(
            f"/l/{mint()}",
            headers={"X-Forwarded-For": f"198.51.100.{i}", "X-Forwarded-Prefix": "/prefs"},
            environ_base=proxy,
        ).status_code
        for i in range(4)
    ]
    assert statuses == [302] * 4  # four people behind the proxy, one link each
    response = client.get(
        f"/l/{mint()}", headers={"X-Forwarded-Prefix": "/prefs"}, environ_base=proxy
    )
    assert response.headers["Location"] == "/prefs/"
    # Loopback is no longer trusted once the setting names other proxies.
    direct = client.get(f"/l/{mint()}", headers={"X-Forwarded-Prefix": "/prefs"})
    assert direct.headers["Location"] == "/"


@pytest.mark.parametrize(
    "prefix",
    [
        "//evil.example",
        "/\\evil.example",
        "https://evil.example",
        "evil.example",
        "/prefs//evil.example",
        "/prefs/..",
        "/pre fs",
        "/prefs, //evil.example",
    ],
)
def test_a_prefix_that_is_not_a_plain_path_is_ignored(app_config, courier, mint, prefix):
    app = proxied(app_config, courier)
    client = app.test_client()  # from 127.0.0.1: a trusted proxy by default
    headers = {"X-Forwarded-Prefix": prefix}
    signed_in = client.get(f"/l/{mint()}", headers=headers)
    assert signed_in.headers["Location"] == "/"
    html = client.get("/", headers=headers).get_data(as_text=True)
    urls = re.findall(r'(?:href|src|action)="([^"]*)"', html)
    assert urls and all(not url.startswith(("//", "/\\")) for url in urls)
    assert "evil" not in html
    assert re.search(r'href="/assets/style\.[0-9a-f]{12}\.css"', html)


def test_a_scheme_other_than_http_or_https_is_ignored(app_config, courier, mint):
    app = proxied(app_config, courier)
    response = app.test_client().get(
        f"/e/{mint(purpose=Purpose.EMBED)}", headers={"X-Forwarded-Proto": "javascript"}
    )
    assert response.status_code == 308 and response.headers["Location"].startswith("/e/")


# ---- Embedded pages and the readiness probe are limited too -------------------------------


def test_embedded_pages_share_one_generous_limit_per_address(app_config, courier, mint):
    app = create_app(
        {**app_config, "RATE_LIMIT_EMBED": "3 per minute"}, courier=courier, environ={}
    )
    frame = app.test_client(use_cookies=False)
    signer = app.extensions["prefcenter"].links
    urls = [f"/e/{signer.make(LinkClaims(f'u{i}', Purpose.EMBED))}/" for i in range(4)]
    assert [frame.get(url).status_code for url in urls] == [200, 200, 200, 429]
    elsewhere = frame.get(urls[0], environ_base={"REMOTE_ADDR": "10.9.8.7"})
    assert elsewhere.status_code == 200
    # The signed-in page runs the same views, and keeps no such limit.
    client = app.test_client()
    client.get(f"/l/{signer.make(LinkClaims('u1', Purpose.MANAGE))}")
    assert {client.get("/").status_code for _ in range(5)} == {200}


def test_the_default_embed_limit_is_generous():
    from prefcenter.platform.config import DEFAULTS

    assert DEFAULTS["RATE_LIMIT_EMBED"] == "300 per minute"


def test_rate_limits_fall_back_to_per_process_counting_when_the_store_is_down(
    app_config, courier, mint, unused_port
):
    app = create_app(
        {**app_config, "RATELIMIT_STORAGE_URI": f"redis://127.0.0.1:{unused_port}"},
        courier=courier,
        environ={},
    )
    client = app.test_client()
    statuses = [client.get(f"/l/{mint()}").status_code for _ in range(4)]
    assert statuses == [302, 302, 302, 429]


@pytest.fixture
def unused_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
