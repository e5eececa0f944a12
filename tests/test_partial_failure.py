"""Two things wrong at once: a slow Courier and other people's saves, a lost consent log, a
trickling or undecodable answer, logs from the threads a request starts."""

from __future__ import annotations

import io
import json
import logging
import socket
import threading
import time

import httpx
import pytest

from prefcenter import create_app
from prefcenter.access.links import Purpose
from prefcenter.courier import (
    CourierClient,
    CourierUnavailable,
    PreferenceStatus,
    PreferenceUpdate,
    RetryPolicy,
)
from prefcenter.emulator import seed
from prefcenter.emulator.inprocess import wsgi_transport
from prefcenter.page.forms import field_key
from prefcenter.platform.config import ConfigError
from prefcenter.platform.logs import JsonFormatter, RequestIdFilter

from conftest import EMULATOR_KEY, FAST_RETRIES
from faults import Fault, FaultyCourier
from htmlform import HtmlForm, text_of

USER = "user-1"
OPT_OUT = PreferenceUpdate(PreferenceStatus.OPTED_OUT)


def status_name(topic_id: str) -> str:
    return f"{field_key(topic_id)}-status"


@pytest.fixture
def json_log():
    """The app's log lines as they go out: JSON, with the request id filter applied."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(RequestIdFilter())
    logger = logging.getLogger("prefcenter")
    logger.addHandler(handler)
    yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    logger.removeHandler(handler)


# --- one save cannot starve the others -------------------------------------------------------


def test_a_large_save_on_a_slow_courier_leaves_room_for_other_saves(emulator):
    slow_for_one = FaultyCourier(emulator, Fault("PUT", r"/users/everything/.*", delay=1.0))
    client = CourierClient(
        EMULATOR_KEY,
        "http://courier.test",
        transport=wsgi_transport(slow_for_one),
        retry=FAST_RETRIES,
        max_concurrent_writes=16,
    )
    everything = {f"pt_topic_{n}": OPT_OUT for n in range(40)}
    large = threading.Thread(target=client.put_preferences, args=("everything", everything))
    large.start()
    time.sleep(0.2)  # the large save holds its writers

    started = time.monotonic()
    outcome = client.put_preferences("someone-else", {seed.TOPIC_DIGEST: OPT_OUT})
    took = time.monotonic() - started

    large.join()
    client.close()
    assert outcome == {seed.TOPIC_DIGEST: OPT_OUT}
    assert took < 0.5, f"an unrelated one-topic save waited {took:.2f}s"


def test_a_save_has_one_deadline_and_writes_not_started_by_then_are_not_sent(
    emulator, courier_state
):
    slow = FaultyCourier(emulator, Fault("PUT", r".*", delay=0.4))
    client = CourierClient(
        EMULATOR_KEY,
        "http://courier.test",
        transport=wsgi_transport(slow),
        retry=RetryPolicy(sleep=lambda s: None, budget=1.0),
        max_writes_per_save=2,
    )
    topics = [
        seed.TOPIC_BILLING,
        seed.TOPIC_COMMENTS,
        seed.TOPIC_REMINDERS,
        seed.TOPIC_PRODUCT_UPDATES,
        seed.TOPIC_DIGEST,
        seed.TOPIC_EVENTS,
        seed.TOPIC_SECURITY,
        "pt_one_more",
    ]
    started = time.monotonic()
    outcome = client.put_preferences("u1", {t: OPT_OUT for t in topics})
    took = time.monotonic() - started
    client.close()

    not_sent = [t for t, o in outcome.items() if isinstance(o, CourierUnavailable)]
    assert not_sent and all("not sent" in str(outcome[t]) for t in not_sent)
    assert courier_state.count("PUT", r".*") == len(topics) - len(not_sent)
    assert took < 1.0 + 0.4 + 0.3  # the budget, one write already under way, slack


# --- the consent record ----------------------------------------------------------------------


@pytest.fixture
def app_config(app_config, tmp_path):
    # A consent log that cannot be written: its directory does not exist.
    return {**app_config, "AUDIT_LOG_PATH": str(tmp_path / "gone" / "consent.jsonl")}


def test_a_change_courier_took_is_saved_even_if_its_record_cannot_be_written(
    signed_in, courier_state, json_log
):
    client = signed_in()
    form = HtmlForm.parse(client.get("/").get_data(as_text=True))
    form.set(status_name(seed.TOPIC_BILLING), "OPTED_IN", False)
    form.set(status_name(seed.TOPIC_DIGEST), "OPTED_IN", True)

    response = client.post("/", data=form.submission())

    assert response.status_code == 302
    page = text_of(client.get("/").get_data(as_text=True))
    assert "Billing and receipts: turned off." in page and "Weekly digest: turned on." in page
    store = courier_state.store
    assert store.user_preference(USER, seed.TOPIC_BILLING)["status"] == "OPTED_OUT"
    errors = [e for e in json_log() if e["message"].startswith("could not write a consent record")]
    # Both records are in the log, whole: neither was dropped because the other failed.
    assert sorted(e["consent_record"]["topic_id"] for e in errors) == sorted(
        [seed.TOPIC_BILLING, seed.TOPIC_DIGEST]
    )
    assert all(e["level"] == "error" for e in errors)


def test_one_click_is_answered_even_if_its_record_cannot_be_written(app, mint, courier_state):
    token = mint(USER, Purpose.UNSUBSCRIBE, topic_id=seed.TOPIC_BILLING)
    mail = app.test_client(use_cookies=False)
    response = mail.post(f"/u/{token}", data={"List-Unsubscribe": "One-Click"})
    assert response.status_code == 200
    assert courier_state.store.user_preference(USER, seed.TOPIC_BILLING)["status"] == "OPTED_OUT"


# --- answers Courier garbles or trickles -------------------------------------------------


def test_an_undecodable_answer_is_unavailable_not_a_crash(signed_in, courier_state, faulty):
    client = signed_in()
    form = HtmlForm.parse(client.get("/").get_data(as_text=True))
    form.set(status_name(seed.TOPIC_BILLING), "OPTED_IN", False)
    form.set(status_name(seed.TOPIC_DIGEST), "OPTED_IN", True)
    garbled = Fault(
        "PUT",
        rf".*/{seed.TOPIC_DIGEST}",
        status=200,
        body=b"\x00 not gzip at all",
        headers=(("Content-Encoding", "gzip"),),
    )
    faulty.faults.append(garbled)

    response = client.post("/", data=form.submission())

    assert response.status_code == 502
    text = text_of(response.get_data(as_text=True))
    assert "Weekly digest" in text and "Billing and receipts: turned off." in text
    assert courier_state.store.user_preference(USER, seed.TOPIC_BILLING)["status"] == "OPTED_OUT"


@pytest.fixture
def trickling_server():
    """A loopback server that sends headers, then one body byte every 0.2 s for 20 s."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    stop = threading.Event()

    def serve() -> None:
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            with conn:
                conn.recv(65536)
                conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n")
                for _ in range(100):
                    if stop.wait(0.2):
                        break
                    try:
                        conn.sendall(b" ")
                    except OSError:
                        break

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    stop.set()
    thread.join(5)
    listener.close()


def test_a_trickling_answer_is_cut_at_the_total_timeout(trickling_server):
    client = CourierClient(
        "k",
        trickling_server,
        timeout=httpx.Timeout(1.0, connect=1.0),
        retry=RetryPolicy(attempts=1),
    )
    started = time.monotonic()
    with pytest.raises(CourierUnavailable):
        client.list_sections()
    client.close()
    assert time.monotonic() - started < 2.0  # not the 20 s the trickle would take


# --- logs ----------------------------------------------------------------------------------------


def test_retry_warnings_from_write_threads_carry_the_request_id(signed_in, faulty, json_log):
    client = signed_in()
    form = HtmlForm.parse(client.get("/").get_data(as_text=True))
    form.set(status_name(seed.TOPIC_BILLING), "OPTED_IN", False)
    faulty.faults.append(Fault("PUT", r".*", status=503, times=1))

    response = client.post("/", data=form.submission(), headers={"X-Request-ID": "save-42"})

    assert response.status_code == 302
    retries = [line for line in json_log() if line["message"].startswith("retrying PUT")]
    assert retries and all(line.get("request_id") == "save-42" for line in retries)


def test_an_unhandled_error_is_logged_without_the_path(app, json_log):
    @app.get("/boom/<token>")
    def boom(token: str) -> str:
        raise RuntimeError("boom")

    app.config["PROPAGATE_EXCEPTIONS"] = False
    response = app.test_client().get("/boom/secret-token-value")
    assert response.status_code == 500
    logged = json.dumps(json_log())
    assert "secret-token-value" not in logged
    assert "Exception on GET /boom/<token>" in logged


@pytest.mark.parametrize("level", ["debug", "Warning", "ERROR"])
def test_the_log_level_is_read_in_any_case(app_config, courier, level):
    create_app({**app_config, "LOG_LEVEL": level}, courier=courier, environ={})


def test_an_unknown_log_level_is_a_settings_error(app_config, courier):
    with pytest.raises(ConfigError, match="PREFCENTER_LOG_LEVEL"):
        create_app({**app_config, "LOG_LEVEL": "loud"}, courier=courier, environ={})
