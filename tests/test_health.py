"""Probes: /healthz says the process is alive, /readyz that Courier answers."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from prefcenter import create_app
from prefcenter.platform.health import READINESS

from faults import Fault


def test_healthz_answers_without_courier(client, courier_state):
    courier_state.clear_requests()
    response = client.get("/healthz")
    assert response.status_code == 200 and response.get_json() == {"status": "ok"}
    assert courier_state.requests == []


def test_readyz_reads_the_catalog_from_courier(client, courier_state):
    courier_state.clear_requests()
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ready", "sections": 3}
    assert courier_state.count("GET", r"/preferences/sections") == 1


def test_readyz_fails_when_courier_does_not_answer(client, faulty):
    faulty.faults.append(Fault("GET", r".*", status=503))
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.get_json()["status"] == "unavailable"


def test_readyz_reuses_one_answer_for_a_few_seconds(client, courier_state):
    courier_state.clear_requests()
    answers = [client.get("/readyz") for _ in range(20)]
    assert {response.status_code for response in answers} == {200}
    assert courier_state.count("GET", r"/preferences/sections") == 1


def test_readyz_asks_again_once_its_answer_is_old(app, client, courier_state, faulty):
    readiness = app.extensions[READINESS]
    now = [1000.0]
    readiness.clock = lambda: now[0]
    assert client.get("/readyz").status_code == 200
    faulty.faults.append(Fault("GET", r".*", status=503))
    now[0] += 4.9
    assert client.get("/readyz").status_code == 200  # still the answer of 4.9 s ago
    now[0] += 0.1
    assert client.get("/readyz").status_code == 503
    faulty.faults.clear()
    now[0] += 1
    assert client.get("/readyz").status_code == 503  # a failure is reused as well
    now[0] += 5
    assert client.get("/readyz").status_code == 200


def test_probes_arriving_together_share_one_courier_call(app, courier_state, faulty):
    courier_state.clear_requests()
    faulty.faults.append(Fault("GET", r"/preferences/sections", delay=0.3))
    with ThreadPoolExecutor(max_workers=8) as pool:
        statuses = list(pool.map(lambda _: app.test_client().get("/readyz").status_code, range(8)))
    assert statuses == [200] * 8
    assert courier_state.count("GET", r"/preferences/sections") == 1


def test_readyz_is_rate_limited_per_address(app_config, courier):
    app = create_app(
        {**app_config, "RATE_LIMIT_READY": "3 per minute"}, courier=courier, environ={}
    )
    client = app.test_client()
    assert [client.get("/readyz").status_code for _ in range(4)] == [200, 200, 200, 429]
    assert client.get("/readyz", environ_base={"REMOTE_ADDR": "10.0.0.9"}).status_code == 200
    # The liveness probe costs nothing and stays unlimited.
    assert {client.get("/healthz").status_code for _ in range(10)} == {200}
