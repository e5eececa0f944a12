"""Retries: passing Courier failures are tried again, in a bounded wait, honouring Retry-After."""

from __future__ import annotations

import socket
import threading

import httpx
import pytest
from werkzeug.serving import make_server

from prefcenter.courier import (
    CourierClient,
    CourierNotFound,
    CourierRejected,
    CourierUnavailable,
    PreferenceStatus,
    PreferenceUpdate,
    RetryPolicy,
)
from prefcenter.courier.retries import retry_after_seconds
from prefcenter.emulator import seed
from prefcenter.emulator.inprocess import wsgi_transport

from conftest import EMULATOR_KEY
from faults import Fault, FaultyCourier

OPT_IN = PreferenceUpdate(PreferenceStatus.OPTED_IN, False, ())


class Waits:
    """A sleep that records its waits and advances a fake clock, so no test really waits."""

    def __init__(self) -> None:
        self.now = 0.0
        self.waits: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.waits.append(seconds)
        self.now += seconds

    def clock(self) -> float:
        return self.now


def client_with(
    emulator, *faults, waits=None, **policy
) -> tuple[CourierClient, FaultyCourier, Waits]:
    waits = waits or Waits()
    faulty = FaultyCourier(emulator, *faults)
    retry = RetryPolicy(sleep=waits.sleep, clock=waits.clock, jitter=lambda: 1.0, **policy)
    client = CourierClient(
        EMULATOR_KEY, "http://courier.test", transport=wsgi_transport(faulty), retry=retry
    )
    return client, faulty, waits


@pytest.mark.parametrize("status", [500, 502, 503, 504, 429, 408])
def test_a_passing_failure_is_retried_until_it_succeeds(emulator, courier_state, status):
    client, _, waits = client_with(emulator, Fault("GET", r"/users/.*", status=status, times=2))
    topic = client.get_preference("u1", seed.TOPIC_DIGEST)
    client.close()
    assert topic.topic_id == seed.TOPIC_DIGEST
    assert (
        courier_state.count("GET", r"/users/.*") == 1
    )  # the emulator saw only the one that passed
    assert waits.waits == [0.2, 0.4]  # exponential backoff


def test_a_put_is_retried_and_lands_once(emulator, courier_state):
    client, faulty, _ = client_with(emulator, Fault("PUT", r".*", status=503, times=1))
    client.put_preference("u1", seed.TOPIC_DIGEST, OPT_IN)
    client.close()
    assert courier_state.count("PUT", r".*") == 1
    assert courier_state.store.user_preference("u1", seed.TOPIC_DIGEST)["status"] == "OPTED_IN"


def test_retries_stop_after_the_configured_attempts(emulator):
    client, faulty, waits = client_with(emulator, Fault("GET", r".*", status=500), attempts=4)
    with pytest.raises(CourierUnavailable):
        client.list_sections()
    client.close()
    assert len(waits.waits) == 3
    assert waits.waits == [0.2, 0.4, 0.8]


def test_backoff_is_capped(emulator):
    client, _, waits = client_with(
        emulator, Fault("GET", r".*", status=500), attempts=6, max_delay=0.5, budget=100
    )
    with pytest.raises(CourierUnavailable):
        client.list_sections()
    client.close()
    assert waits.waits == [0.2, 0.4, 0.5, 0.5, 0.5]


def test_retry_after_is_honoured(emulator):
    fault = Fault("GET", r".*", status=429, headers=(("Retry-After", "3"),), times=1)
    client, _, waits = client_with(emulator, fault)
    client.list_sections()
    client.close()
    assert waits.waits == [3.0]


@pytest.mark.parametrize(
    "headers, wait",
    [
        ((("retry-after-ms", "250"),), 0.25),
        ((("retry-after-ms", "1500"), ("Retry-After", "9")), 1.5),  # the finer one wins
        ((("Retry-After", "0.5"),), 0.5),  # fractional seconds, as Courier's SDK reads them
    ],
    ids=["ms", "ms-over-seconds", "fractional"],
)
def test_retry_after_ms_and_fractional_retry_after_are_honoured(emulator, headers, wait):
    client, _, waits = client_with(
        emulator, Fault("GET", r".*", status=429, headers=headers, times=1)
    )
    client.list_sections()
    client.close()
    assert waits.waits == [wait]


def test_x_should_retry_has_the_last_word(emulator, courier_state):
    told_not_to = Fault("GET", r".*", status=503, headers=(("x-should-retry", "false"),))
    client, _, waits = client_with(emulator, told_not_to)
    with pytest.raises(CourierUnavailable):
        client.list_sections()
    client.close()
    assert waits.waits == []

    told_to = Fault("GET", r".*", status=409, headers=(("x-should-retry", "true"),), times=1)
    client, _, waits = client_with(emulator, told_to)
    assert client.list_sections()
    client.close()
    assert waits.waits == [0.2]


def test_a_retry_after_beyond_the_budget_gives_up_at_once(emulator):
    fault = Fault("GET", r".*", status=503, headers=(("Retry-After", "120"),))
    client, _, waits = client_with(emulator, fault, budget=8)
    with pytest.raises(CourierUnavailable) as unavailable:
        client.list_sections()
    client.close()
    assert waits.waits == []
    assert unavailable.value.retry_after == 120


def test_the_total_wait_stays_within_the_budget(emulator):
    client, _, waits = client_with(
        emulator, Fault("GET", r".*", status=500), attempts=10, budget=1.0
    )
    with pytest.raises(CourierUnavailable):
        client.list_sections()
    client.close()
    assert sum(waits.waits) < 1.0
    assert waits.waits == [0.2, 0.4]


@pytest.mark.parametrize(
    "fault, error",
    [
        (
            Fault(
                "PUT", r".*", status=400, body=b'{"type":"invalid_request_error","message":"no"}'
            ),
            CourierRejected,
        ),
        (
            Fault("PUT", r".*", status=404, body=b'{"type":"invalid_request_error","message":"?"}'),
            CourierNotFound,
        ),
        (
            Fault(
                "PUT", r".*", status=401, body=b'{"type":"authentication_error","message":"key"}'
            ),
            CourierRejected,
        ),
    ],
)
def test_refusals_are_not_retried(emulator, fault, error):
    client, faulty, waits = client_with(emulator, fault)
    with pytest.raises(error):
        client.put_preference("u1", seed.TOPIC_DIGEST, OPT_IN)
    client.close()
    assert waits.waits == []


def test_a_timeout_is_retried_with_no_more_than_the_budget_left(emulator):
    slow = Fault("GET", r".*", delay=0.3, times=1)
    faulty = FaultyCourier(emulator, slow)
    # A real server, so the client's read timeout really fires.

    server = make_server("127.0.0.1", 0, faulty, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        client = CourierClient(
            EMULATOR_KEY,
            f"http://127.0.0.1:{server.server_port}",
            timeout=httpx.Timeout(0.1),
            retry=RetryPolicy(sleep=lambda s: None),
        )
        assert len(client.list_sections()) == 3  # the first try timed out, the retry answered
        client.close()
    finally:
        server.shutdown()
        server.server_close()


def test_a_refused_connection_is_retried_then_reported():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    waits = Waits()
    client = CourierClient(
        "k", f"http://127.0.0.1:{port}", retry=RetryPolicy(sleep=waits.sleep, clock=waits.clock)
    )
    with pytest.raises(CourierUnavailable):
        client.list_sections()
    client.close()
    assert len(waits.waits) == 2


@pytest.mark.parametrize(
    "header, seconds",
    [("3", 3.0), ("0", 0.0), (None, None), ("soon", None), ("Wed, 21 Oct 2015 07:28:00 GMT", 0.0)],
)
def test_retry_after_values_are_read(header, seconds):
    assert retry_after_seconds(header) == seconds


def test_retry_after_as_an_http_date_in_the_future():
    assert retry_after_seconds("Wed, 21 Oct 2015 07:28:10 GMT", now=1445412480.0) == 10.0
