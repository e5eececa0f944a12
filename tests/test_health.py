"""Probes: /healthz says the process is alive, /readyz that Courier answers."""

from __future__ import annotations

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
