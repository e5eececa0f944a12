"""The Courier client against the emulator: reads, writes, escaping, concurrency, failures."""

from __future__ import annotations

import socket
import threading
from concurrent.futures import ThreadPoolExecutor

import gevent
import httpx
import pytest
from gevent.pywsgi import WSGIServer

from prefcenter.courier import (
    ChannelClassification,
    CourierClient,
    CourierMalformedResponse,
    CourierNotFound,
    CourierRejected,
    CourierUnavailable,
    InvalidIdentifier,
    PreferenceStatus,
    PreferenceUpdate,
)
from prefcenter.emulator import create_emulator_app, seed
from prefcenter.emulator.inprocess import wsgi_transport

from conftest import EMULATOR_KEY, FAST_RETRIES
from faults import Fault, FaultyCourier

OPT_IN = PreferenceUpdate(PreferenceStatus.OPTED_IN, False, ())


def client_for(app, key: str = EMULATOR_KEY) -> CourierClient:
    return CourierClient(
        key, "http://courier.test", transport=wsgi_transport(app), retry=FAST_RETRIES
    )


def test_catalog_is_parsed_into_sections_and_topics(courier):
    sections = courier.list_sections()
    assert [s.id for s in sections] == [
        seed.SECTION_ACCOUNT,
        seed.SECTION_ACTIVITY,
        seed.SECTION_NEWS,
    ]
    account = sections[0]
    assert account.name == "Account and security" and account.offers_channel_choice
    assert account.routing_options == (
        ChannelClassification.EMAIL,
        ChannelClassification.SMS,
        ChannelClassification.PUSH,
    )
    security = account.topics[0]
    assert (security.id, security.default_status) == (
        seed.TOPIC_SECURITY,
        PreferenceStatus.REQUIRED,
    )
    assert security.description.startswith("New sign-ins")
    assert not sections[2].offers_channel_choice


def test_a_write_is_read_back_with_its_routing(courier):
    update = PreferenceUpdate(PreferenceStatus.OPTED_IN, True, (ChannelClassification.PUSH,))
    courier.put_preference("u1", seed.TOPIC_COMMENTS, update)
    topic = courier.get_preference("u1", seed.TOPIC_COMMENTS)
    assert topic.status is PreferenceStatus.OPTED_IN
    assert topic.has_custom_routing and topic.custom_routing == (ChannelClassification.PUSH,)
    listed = {p.topic_id: p for p in courier.list_preferences("u1")}
    assert listed[seed.TOPIC_COMMENTS] == topic


def test_the_write_body_is_exactly_courier_s(courier, courier_state):
    update = PreferenceUpdate(
        PreferenceStatus.OPTED_IN, True, (ChannelClassification.INBOX, ChannelClassification.EMAIL)
    )
    courier.put_preference("u1", seed.TOPIC_COMMENTS, update, tenant_id="acme")
    request = courier_state.requests[-1]
    assert request.method == "PUT"
    assert request.query == {"tenant_id": "acme"}
    assert request.body == {
        "topic": {
            "status": "OPTED_IN",
            "has_custom_routing": True,
            "custom_routing": ["inbox", "email"],
        }
    }


@pytest.mark.parametrize("user_id", ["user with spaces", "ü-ñ-ß", "a?b#c&d=e", "100%"])
def test_ids_are_escaped_as_one_path_segment(courier, courier_state, user_id):
    courier.put_preference(user_id, seed.TOPIC_DIGEST, OPT_IN)
    assert courier_state.requests[-1].path == f"/users/{user_id}/preferences/{seed.TOPIC_DIGEST}"
    assert courier.get_preference(user_id, seed.TOPIC_DIGEST).status is PreferenceStatus.OPTED_IN


def test_a_slash_in_an_id_never_escapes_its_segment():
    seen: list[bytes] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request.url.raw_path)
        return httpx.Response(200, json={"items": [], "paging": {"more": False}})

    client = CourierClient("k", "http://courier.test", transport=httpx.MockTransport(answer))
    client.list_preferences("../admin/x")
    client.close()
    assert seen == [b"/users/..%2Fadmin%2Fx/preferences"]


def test_a_cookie_courier_sets_for_one_person_is_never_sent_for_another():
    # One client serves everyone: a cookie set on one person's call would ride on the next.
    cookies: list[str | None] = []

    def answer(request: httpx.Request) -> httpx.Response:
        cookies.append(request.headers.get("cookie"))
        return httpx.Response(
            200,
            json={"items": [], "paging": {"more": False}},
            headers={"Set-Cookie": "session=for-alice; Path=/"},
        )

    client = CourierClient("k", "http://courier.test", transport=httpx.MockTransport(answer))
    client.list_preferences("alice")
    client.list_preferences("bob")
    client.close()
    assert cookies == [None, None]


@pytest.mark.parametrize(
    ("base_url", "tenant_id", "expected"),
    [
        ("http://courier.test", None, "http://courier.test/users/u%201/preferences"),
        (
            "http://gateway.test/courier/",
            "acme & co/eu",
            "http://gateway.test/courier/users/u%201/preferences?tenant_id=acme+%26+co%2Feu",
        ),
    ],
)
def test_calls_go_to_the_base_url_with_the_query_encoded(base_url, tenant_id, expected):
    seen: list[str] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url))
        return httpx.Response(200, json={"items": [], "paging": {"more": False}})

    client = CourierClient("k", base_url, transport=httpx.MockTransport(answer))
    client.list_preferences("u 1", tenant_id)
    client.close()
    assert seen == [expected]


def test_a_busy_worker_keeps_its_connections_to_courier(emulator):
    # Rounds of calls more numerous than httpx keeps by default (20), all in flight at once,
    # over real sockets to a server that keeps connections alive as Courier does: every round
    # after the first must reuse the first round's connections, not close some after each
    # answer and open them again.
    people, rounds = 40, 3
    in_flight, peak = 0, 0

    def slow(environ, start_response):
        nonlocal in_flight, peak
        in_flight += 1  # one gevent hub runs the server: no lock needed
        peak = max(peak, in_flight)
        gevent.sleep(0.1)  # hold every call of a round until all have arrived
        in_flight -= 1
        return emulator(environ, start_response)

    class CountingServer(WSGIServer):
        accepted = 0

        def handle(self, sock, address):
            CountingServer.accepted += 1
            super().handle(sock, address)

    ready, listening = threading.Event(), []

    def serve():  # in a thread of its own, with its own gevent hub
        server = CountingServer(("127.0.0.1", 0), slow, log=None)
        server.start()
        listening.append((server, gevent.get_hub()))
        ready.set()
        server.serve_forever()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    assert ready.wait(5)
    server, hub = listening[0]
    client = CourierClient(
        EMULATOR_KEY, f"http://127.0.0.1:{server.server_port}", retry=FAST_RETRIES
    )
    try:
        with ThreadPoolExecutor(max_workers=people) as pool:
            for _ in range(rounds):
                listed = list(pool.map(client.list_preferences, [f"u{i}" for i in range(people)]))
                assert listed == [[]] * people
    finally:
        client.close()
        hub.loop.run_callback_threadsafe(server.stop)  # only its own hub may stop it
        thread.join(5)
    assert not thread.is_alive()
    assert peak == people  # the calls of a round did overlap
    assert CountingServer.accepted == people


def test_both_readings_of_the_list_give_the_same_preferences():
    everything = create_emulator_app(api_key=EMULATOR_KEY, list_mode="all")
    overrides = create_emulator_app(api_key=EMULATOR_KEY, list_mode="overrides")
    for app in (everything, overrides):
        client = client_for(app)
        client.put_preference("u1", seed.TOPIC_DIGEST, OPT_IN)
        listed = client.list_preferences("u1")
        assert {p.topic_id: p.status for p in listed}[
            seed.TOPIC_DIGEST
        ] is PreferenceStatus.OPTED_IN
        client.close()
    assert len(client_for(overrides).list_preferences("u1")) == 1


def test_writes_for_one_save_run_concurrently(emulator, courier_state):
    slow = FaultyCourier(emulator, Fault("PUT", r".*", delay=0.2))
    client = CourierClient(
        EMULATOR_KEY, "http://courier.test", transport=wsgi_transport(slow), retry=FAST_RETRIES
    )
    topics = [seed.TOPIC_BILLING, seed.TOPIC_COMMENTS, seed.TOPIC_REMINDERS, seed.TOPIC_DIGEST]
    outcome = client.put_preferences("u1", {t: OPT_IN for t in topics})
    client.close()
    assert outcome == {t: OPT_IN for t in topics}  # each write taken as sent
    assert slow.peak_in_flight == len(topics)
    assert courier_state.count("PUT", r".*") == len(topics)


def test_concurrent_writes_are_bounded(emulator):
    slow = FaultyCourier(emulator, Fault("PUT", r".*", delay=0.05))
    client = CourierClient(
        EMULATOR_KEY,
        "http://courier.test",
        transport=wsgi_transport(slow),
        retry=FAST_RETRIES,
        max_concurrent_writes=2,
    )
    topics = [
        seed.TOPIC_BILLING,
        seed.TOPIC_COMMENTS,
        seed.TOPIC_REMINDERS,
        seed.TOPIC_DIGEST,
        seed.TOPIC_EVENTS,
    ]
    client.put_preferences("u1", {t: OPT_IN for t in topics})
    client.close()
    assert slow.peak_in_flight == 2


def test_one_failed_write_does_not_hide_the_others(emulator, courier_state):
    faulty = FaultyCourier(emulator, Fault("PUT", rf".*/{seed.TOPIC_DIGEST}", status=503))
    client = CourierClient(
        EMULATOR_KEY, "http://courier.test", transport=wsgi_transport(faulty), retry=FAST_RETRIES
    )
    outcome = client.put_preferences("u1", {seed.TOPIC_DIGEST: OPT_IN, seed.TOPIC_EVENTS: OPT_IN})
    client.close()
    assert isinstance(outcome[seed.TOPIC_DIGEST], CourierUnavailable)
    assert outcome[seed.TOPIC_EVENTS] == OPT_IN
    assert courier_state.store.user_preference("u1", seed.TOPIC_EVENTS)["status"] == "OPTED_IN"


def test_courier_s_refusals_map_onto_the_error_tree(courier, emulator):
    with pytest.raises(CourierNotFound):
        courier.put_preference("u1", "pt_no_such_topic", OPT_IN)
    with pytest.raises(CourierRejected) as refused:
        courier.put_preference(
            "u1", seed.TOPIC_SECURITY, PreferenceUpdate(PreferenceStatus.OPTED_OUT, False, ())
        )
    assert refused.value.status_code == 400 and refused.value.message
    wrong_key = client_for(emulator, key="wrong")
    with pytest.raises(CourierRejected) as unauthorised:
        wrong_key.list_sections()
    wrong_key.close()
    assert unauthorised.value.status_code == 401


@pytest.mark.parametrize(
    "fault",
    [
        Fault("GET", r".*", status=500),
        Fault("GET", r".*", status=502, body=b"<html>Bad gateway</html>"),
        Fault("GET", r".*", status=429, headers=(("Retry-After", "1"),)),
    ],
    ids=["500", "502 html", "429"],
)
def test_courier_failures_are_unavailable(emulator, fault):
    client = client_for(FaultyCourier(emulator, fault))
    with pytest.raises(CourierUnavailable):
        client.list_preferences("u1")
    client.close()


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        b'{"items": "nope"}',
        b'{"items": [{"status": "OPTED_IN"}]}',
        b"[]",
        b'{"items": [42]}',
    ],
)
def test_malformed_answers_are_upstream_errors(emulator, body):
    fault = Fault("GET", r".*", status=200, body=body)
    client = client_for(FaultyCourier(emulator, fault))
    with pytest.raises(CourierMalformedResponse):
        client.list_preferences("u1")
    client.close()


def test_unknown_status_and_channel_values_are_tolerated(emulator):
    body = (
        b'{"paging": {"more": false}, "items": [{"topic_id": "t", "topic_name": "T",'
        b' "status": "OPT_IN", "default_status": "OPTED_OUT",'
        b' "custom_routing": ["email", "carrier_pigeon"],'
        b' "has_custom_routing": true}]}'
    )
    fault = Fault("GET", r".*", status=200, body=body)
    client = client_for(FaultyCourier(emulator, fault))
    [topic] = client.list_preferences("u1")
    client.close()
    assert topic.status is None and topic.default_status is PreferenceStatus.OPTED_OUT
    # A channel new to us is kept as Courier stores it, so a later write does not erase it.
    assert topic.custom_routing == (ChannelClassification.EMAIL, "carrier_pigeon")
    assert PreferenceUpdate(PreferenceStatus.OPTED_OUT, True, topic.custom_routing).to_api() == {
        "topic": {
            "status": "OPTED_OUT",
            "has_custom_routing": True,
            "custom_routing": ["email", "carrier_pigeon"],
        }
    }


@pytest.mark.parametrize("bad_id", [".", "..", ""])
def test_dot_ids_are_refused_before_anything_is_sent(bad_id):
    """Courier's SDK refuses "." and ".." as path segments, even encoded; so do we."""
    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"message": "success"})

    client = CourierClient("k", "http://courier.test", transport=httpx.MockTransport(answer))
    with pytest.raises(InvalidIdentifier):
        client.list_preferences(bad_id)
    with pytest.raises(InvalidIdentifier):
        client.put_preference("u1", bad_id, OPT_IN)
    with pytest.raises(InvalidIdentifier):
        client.get_preference(bad_id, "t")
    client.close()
    assert seen == []


def test_a_write_never_carries_required():
    with pytest.raises(ValueError):
        PreferenceUpdate(PreferenceStatus.REQUIRED, False, ())


def test_an_unreachable_courier_is_unavailable():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    client = CourierClient("k", f"http://127.0.0.1:{port}", timeout=httpx.Timeout(2.0))
    with pytest.raises(CourierUnavailable):
        client.list_sections()
    client.close()
