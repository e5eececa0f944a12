"""Requests before any view: bodies over the size limit however they are sent, and forms that
still post after the secret key is rotated."""

from __future__ import annotations

import http.client
import io
import re
import socket
from urllib.parse import urlencode, urlsplit

import pytest
from werkzeug.datastructures import MultiDict

from prefcenter import create_app
from prefcenter.access.links import Purpose
from prefcenter.emulator import seed
from prefcenter.page.forms import field_key

from browser_fixtures import serve
from conftest import SECRET_KEY
from htmlform import HtmlForm, text_of

USER = "user-1"
DIGEST = f"{field_key(seed.TOPIC_DIGEST)}-status"
CHUNKED = {"Transfer-Encoding": "chunked", "Content-Type": "application/x-www-form-urlencoded"}
# What a server that de-chunks request bodies tells the app (Werkzeug's own, gunicorn).
DECHUNKED = {"wsgi.input_terminated": True}


def one_click_body(pad: int) -> bytes:
    return urlencode([("List-Unsubscribe", "One-Click"), ("pad", "x" * pad)]).encode()


def over_limit(app) -> int:
    return app.config["MAX_CONTENT_LENGTH"] + 1024


def post_chunked(client, url: str, body: bytes, *, terminated: bool = True):
    return client.post(
        url,
        input_stream=io.BytesIO(body),
        headers=CHUNKED,
        environ_overrides=DECHUNKED if terminated else {},
    )


def test_a_chunked_one_click_over_the_limit_is_refused_with_413(app, mint, courier_state):
    link = f"/u/{mint(USER, Purpose.UNSUBSCRIBE, topic_id=seed.TOPIC_COMMENTS)}"
    body = one_click_body(over_limit(app))
    courier_state.clear_requests()

    response = post_chunked(app.test_client(use_cookies=False), link, body)

    assert response.status_code == 413
    assert "Too much data" in text_of(response.get_data(as_text=True))
    assert courier_state.count("PUT", r".*") == 0
    assert courier_state.store.user_preference(USER, seed.TOPIC_COMMENTS)["status"] == "OPTED_IN"


def test_a_chunked_save_over_the_limit_is_refused_with_413(signed_in, courier_state):
    client = signed_in()
    form = HtmlForm.parse(client.get("/").get_data(as_text=True)).set(DIGEST, "OPTED_IN", True)
    body = urlencode([*form.pairs(), ("pad", "x" * over_limit(client.application))]).encode()
    courier_state.clear_requests()

    response = post_chunked(client, "/", body)

    assert response.status_code == 413
    assert courier_state.count("PUT", r".*") == 0


def test_a_chunked_embedded_save_over_the_limit_is_refused_with_413(app, mint, courier_state):
    frame = app.test_client(use_cookies=False)
    form = HtmlForm.parse(frame.get(f"/e/{mint(USER, Purpose.EMBED)}/").get_data(as_text=True))
    form.set(DIGEST, "OPTED_IN", True)
    body = urlencode([*form.pairs(), ("pad", "x" * over_limit(app))]).encode()
    courier_state.clear_requests()

    assert post_chunked(frame, form.action, body).status_code == 413
    assert courier_state.count("PUT", r".*") == 0


def test_a_chunked_body_within_the_limit_is_read_whole(app, mint, courier_state):
    link = f"/u/{mint(USER, Purpose.UNSUBSCRIBE, topic_id=seed.TOPIC_COMMENTS)}"
    # The field that matters comes last, after most of the allowance.
    pad = app.config["MAX_CONTENT_LENGTH"] - 200
    body = urlencode([("pad", "x" * pad), ("List-Unsubscribe", "One-Click")]).encode()
    assert len(body) <= app.config["MAX_CONTENT_LENGTH"]

    response = post_chunked(app.test_client(use_cookies=False), link, body)

    assert response.status_code == 200
    assert courier_state.store.user_preference(USER, seed.TOPIC_COMMENTS)["status"] == "OPTED_OUT"


def test_a_chunked_body_the_server_does_not_terminate_is_not_read(app, mint, courier_state):
    # Without wsgi.input_terminated nothing can tell where the body ends: Werkzeug reads none
    # of it, so the one-click request has no body and is refused.
    link = f"/u/{mint(USER, Purpose.UNSUBSCRIBE, topic_id=seed.TOPIC_COMMENTS)}"
    body = one_click_body(over_limit(app))
    courier_state.clear_requests()
    response = post_chunked(app.test_client(use_cookies=False), link, body, terminated=False)
    assert response.status_code in (400, 413)
    assert courier_state.count("PUT", r".*") == 0


def send_chunked(url: str, path: str, body: bytes) -> tuple[int, bytes]:
    """POST `body` chunked to a real server, as a client streaming it would."""
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    try:
        chunks = (body[i : i + 8192] for i in range(0, len(body), 8192))
        # The host name the test client uses too: one the app serves.
        headers = {**CHUNKED, "Host": "localhost"}
        connection.request("POST", path, body=chunks, headers=headers, encode_chunked=True)
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


@pytest.mark.parametrize("over", [True, False], ids=["over the limit", "within it"])
def test_chunked_one_click_through_a_real_server(app, mint, courier_state, over):
    server = serve(app)
    try:
        path = f"/u/{mint(USER, Purpose.UNSUBSCRIBE, topic_id=seed.TOPIC_COMMENTS)}"
        size = over_limit(app) if over else 1000
        body = one_click_body(size)
        courier_state.clear_requests()

        status, answer = send_chunked(server.url, path, body)
    finally:
        server.stop()

    stored = courier_state.store.user_preference(USER, seed.TOPIC_COMMENTS)["status"]
    if over:
        assert status == 413 and b"Too much data" in answer
        assert courier_state.count("PUT", r".*") == 0 and stored == "OPTED_IN"
    else:
        assert status == 200 and stored == "OPTED_OUT"


def test_a_malformed_chunked_body_is_refused_with_400_not_500(app, mint, courier_state, capfd):
    """A chunk size that is not hexadecimal, sent to a real server: 400, nothing written."""
    server = serve(app)
    path = f"/u/{mint(USER, Purpose.UNSUBSCRIBE, topic_id=seed.TOPIC_COMMENTS)}"
    request = (
        f"POST {path} HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n"
        "Content-Type: application/x-www-form-urlencoded\r\nConnection: close\r\n\r\n"
        "zz\r\nList-Unsubscribe=One-Click\r\n0\r\n\r\n"
    ).encode()
    courier_state.clear_requests()
    try:
        parts = urlsplit(server.url)
        with socket.create_connection((parts.hostname, parts.port), timeout=10) as raw:
            raw.sendall(request)
            answer = b""
            while chunk := raw.recv(65536):
                answer += chunk
    finally:
        server.stop()
    assert answer.startswith(b"HTTP/1.1 400"), answer[:80]
    assert courier_state.count("PUT", r".*") == 0
    assert "Traceback" not in capfd.readouterr().err


# ---- Rotating the secret key ----------------------------------------------------------------

NEW_KEY = "new-secret-key-0123456789-abcdefghijklmnopq"


@pytest.fixture
def rotated(app_config, courier):
    """The app after the key rotation: a new SECRET_KEY, the old one kept as a fallback."""
    config = {**app_config, "SECRET_KEY": NEW_KEY, "SECRET_KEY_FALLBACKS": [SECRET_KEY]}
    return create_app(config, courier=courier, environ={})


def moved_to(rotated, client):
    """The same browser, now talking to the rotated app: its session cookie comes along."""
    browser = rotated.test_client()
    cookie = client.get_cookie("session")
    browser.set_cookie("session", cookie.value)
    return browser


def test_a_page_rendered_before_a_key_rotation_still_saves(signed_in, rotated, courier_state):
    client = signed_in()
    form = HtmlForm.parse(client.get("/").get_data(as_text=True)).set(DIGEST, "OPTED_IN", True)
    browser = moved_to(rotated, client)
    courier_state.clear_requests()

    response = browser.post("/", data=form.submission())

    assert response.status_code == 302, text_of(response.get_data(as_text=True))
    assert courier_state.store.user_preference(USER, seed.TOPIC_DIGEST)["status"] == "OPTED_IN"
    # New forms are signed with the new key alone.
    html = browser.get("/").get_data(as_text=True)
    fresh = HtmlForm.parse(html).set(DIGEST, "OPTED_IN", False)
    without_old_key = create_app(
        {**rotated.config, "SECRET_KEY_FALLBACKS": [], "LINK_SIGNING_KEYS": [NEW_KEY]},
        courier=rotated.extensions["courier"],
        environ={},
    )
    assert moved_to(without_old_key, browser).post("/", data=fresh.submission()).status_code == 302


def test_unsubscribe_from_everything_and_its_undo_survive_a_key_rotation(
    signed_in, rotated, courier_state
):
    client = signed_in()
    html = client.get("/").get_data(as_text=True)
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', html)[1]
    done = client.post("/unsubscribe-all", data={"csrf_token": csrf}, follow_redirects=True)
    undo = HtmlForm.parse(done.get_data(as_text=True))
    browser = moved_to(rotated, client)

    response = browser.post(undo.action, data=undo.submission(), follow_redirects=True)

    assert response.status_code == 200
    assert courier_state.store.user_preference(USER, seed.TOPIC_BILLING)["status"] == "OPTED_IN"


def test_a_forged_csrf_value_is_still_refused_after_a_rotation(signed_in, rotated, courier_state):
    client = signed_in()
    form = HtmlForm.parse(client.get("/").get_data(as_text=True)).set(DIGEST, "OPTED_IN", True)
    browser = moved_to(rotated, client)
    data = MultiDict(form.pairs())
    data["csrf_token"] = data["csrf_token"][:-2] + "xx"
    assert browser.post("/", data=data).status_code == 400
    assert courier_state.count("PUT", r".*") == 0
