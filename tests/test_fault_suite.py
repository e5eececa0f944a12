"""Courier failing in every way we know, over real loopback HTTP: on a page view and on a save,
the person sees what happened, never a traceback, and no choice they made is lost."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest
from werkzeug.serving import make_server

from prefcenter import create_app
from prefcenter.access.links import LinkClaims, Purpose
from prefcenter.courier import CourierClient, RetryPolicy
from prefcenter.emulator import create_emulator_app, seed
from prefcenter.page.forms import field_key

from conftest import EMULATOR_KEY, SECRET_KEY
from faults import Fault, FaultyCourier
from htmlform import HtmlForm, text_of

USER = "user-1"
DIGEST = f"{field_key(seed.TOPIC_DIGEST)}-status"
EVENTS = f"{field_key(seed.TOPIC_EVENTS)}-status"
SERVER_ERROR = b'{"type": "api_error", "message": "injected"}'


@dataclass
class Courier:
    """The emulator behind a fault switch, served on a loopback port."""

    faulty: FaultyCourier
    state: object
    url: str
    server: object

    def refuse_connections(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def courier_server() -> Iterator[Courier]:
    emulator = create_emulator_app(api_key=EMULATOR_KEY)
    faulty = FaultyCourier(emulator)
    server = make_server("127.0.0.1", 0, faulty, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    courier = Courier(
        faulty,
        emulator.extensions["courier_emulator"],
        f"http://127.0.0.1:{server.server_port}",
        server,
    )
    yield courier
    try:
        server.shutdown()
        server.server_close()
    except OSError:
        pass


@pytest.fixture
def person(courier_server):
    """A signed-in browser on an app that talks to Courier over HTTP with short timeouts."""
    client = CourierClient(
        EMULATOR_KEY,
        courier_server.url,
        timeout=httpx.Timeout(0.3),
        retry=RetryPolicy(attempts=2, base_delay=0.01, budget=1.5),
    )
    app = create_app(
        {"TESTING": True, "SECRET_KEY": SECRET_KEY, "COURIER_API_KEY": "x"},
        courier=client,
        environ={},
    )
    browser = app.test_client()
    token = app.extensions["prefcenter"].links.make(LinkClaims(USER, Purpose.MANAGE))
    assert browser.get(f"/l/{token}").status_code == 302
    yield browser
    client.close()


FAULTS = {
    "timeout": lambda method: Fault(method, r".*", delay=0.6),
    "500": lambda method: Fault(method, r".*", status=500, body=SERVER_ERROR),
    "502 html": lambda method: Fault(method, r".*", status=502, body=b"<html>Bad Gateway</html>"),
    "503": lambda method: Fault(method, r".*", status=503, body=SERVER_ERROR),
    "429 Retry-After": lambda method: Fault(
        method,
        r".*",
        status=429,
        headers=(("Retry-After", "30"),),
        body=b'{"type":"rate_limit_error"}',
    ),
    "malformed JSON": lambda method: Fault(method, r".*", status=200, body=b'{"items": [ oops'),
    "refused": None,
}


def inject(courier_server, kind, method):
    if kind == "refused":
        courier_server.refuse_connections()
    else:
        courier_server.faulty.faults.append(FAULTS[kind](method))


@pytest.mark.parametrize("kind", FAULTS)
def test_a_page_view_shows_a_retry_page(person, courier_server, kind):
    inject(courier_server, kind, "GET")
    response = person.get("/")
    assert response.status_code == 503
    assert int(response.headers["Retry-After"]) >= (30 if kind == "429 Retry-After" else 5)
    text = text_of(response.get_data(as_text=True))
    assert "can’t load your preferences right now" in text and "Try again" in text
    assert "Nothing has changed" in text
    assert "Traceback" not in text and "injected" not in text


@pytest.mark.parametrize("kind", FAULTS)
def test_a_save_keeps_the_person_s_choices(person, courier_server, kind):
    form = HtmlForm.parse(person.get("/").get_data(as_text=True))
    form.set(DIGEST, "OPTED_IN", True).set(EVENTS, "OPTED_IN", True)
    inject(courier_server, kind, "PUT")

    response = person.post("/", data=form.submission())

    assert response.status_code == 502
    text = text_of(response.get_data(as_text=True))
    assert "Some changes were not saved" in text
    assert "Weekly digest" in text and "Events and webinars" in text
    assert "press Save to try again" in text
    again = HtmlForm.parse(response.get_data(as_text=True))
    assert again.checkbox(DIGEST).checked and again.checkbox(EVENTS).checked
    if kind != "refused":
        # Courier is back: the same form, sent again, saves what the person chose.
        courier_server.faulty.faults.clear()
        saved = person.post("/", data=again.submission(), follow_redirects=True)
        assert saved.status_code == 200
        store = courier_server.state.store
        assert store.user_preference(USER, seed.TOPIC_DIGEST)["status"] == "OPTED_IN"
        assert store.user_preference(USER, seed.TOPIC_EVENTS)["status"] == "OPTED_IN"


def test_slow_answers_within_the_timeout_are_simply_slower(person, courier_server):
    courier_server.faulty.faults.append(Fault("GET", r".*", delay=0.1))
    courier_server.faulty.faults.append(Fault("PUT", r".*", delay=0.1))
    form = HtmlForm.parse(person.get("/").get_data(as_text=True)).set(DIGEST, "OPTED_IN", True)
    saved = person.post("/", data=form.submission(), follow_redirects=True)
    assert "Weekly digest: turned on." in text_of(saved.get_data(as_text=True))


def test_a_passing_failure_is_retried_and_the_person_never_notices(person, courier_server):
    courier_server.faulty.faults.append(Fault("GET", r"/users/.*", status=503, times=1))
    courier_server.faulty.faults.append(Fault("PUT", r".*", status=502, times=1))
    form = HtmlForm.parse(person.get("/").get_data(as_text=True)).set(DIGEST, "OPTED_IN", True)
    saved = person.post("/", data=form.submission(), follow_redirects=True)
    assert saved.status_code == 200
    assert "Weekly digest: turned on." in text_of(saved.get_data(as_text=True))
