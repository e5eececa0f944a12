"""The catalog cache: one fetch per TTL, shared by every view, kind to a failing Courier."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from prefcenter.access.links import Purpose
from prefcenter.courier import CourierUnavailable
from prefcenter.courier.catalog import RETRY_PAUSE, CatalogCache

from faults import Fault


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def wait_for(condition, seconds: float = 2.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


def test_the_catalog_is_fetched_once_per_ttl_and_refreshed_ahead_of_expiry():
    fetches = []
    clock = Clock()
    cache = CatalogCache(lambda: fetches.append(1) or [], ttl=60, clock=clock)
    cache.sections()
    clock.now += 47
    cache.sections()
    assert len(fetches) == 1
    # Close to expiry: still served at once, and refreshed in the background.
    clock.now += 2
    assert cache.sections() == ()
    wait_for(lambda: len(fetches) == 2)
    clock.now += 20  # 69 s after the first fetch, 20 s after the refresh: still fresh
    cache.sections()
    assert len(fetches) == 2


def test_a_failure_is_retried_only_after_a_pause():
    calls = []

    def fetch():
        calls.append(1)
        if len(calls) == 1:
            raise CourierUnavailable("down")
        return []

    clock = Clock()
    cache = CatalogCache(fetch, ttl=60, clock=clock)
    with pytest.raises(CourierUnavailable):
        cache.sections()
    with pytest.raises(CourierUnavailable):  # within the pause: fails fast, no new call
        cache.sections()
    assert len(calls) == 1
    clock.now += RETRY_PAUSE
    assert cache.sections() == ()
    assert len(calls) == 2


def test_a_stale_catalog_stands_in_when_courier_fails():
    state = {"fail": False, "calls": 0}

    def fetch():
        state["calls"] += 1
        if state["fail"]:
            raise CourierUnavailable("down")
        return [state["calls"]]

    clock = Clock()
    cache = CatalogCache(fetch, ttl=60, clock=clock)
    assert cache.sections() == (1,)
    state["fail"] = True
    clock.now += 120
    assert cache.sections() == (1,)  # stale-if-error
    assert cache.sections() == (1,)  # and no new call during the pause
    assert state["calls"] == 2


def test_concurrent_views_share_one_fetch_and_its_failure():
    started = threading.Event()
    release = threading.Event()
    calls = []

    def fetch():
        calls.append(1)
        started.set()
        release.wait(5)
        raise CourierUnavailable("down")

    cache = CatalogCache(fetch, ttl=60)
    with ThreadPoolExecutor(8) as pool:
        futures = [pool.submit(cache.sections) for _ in range(8)]
        started.wait(5)
        time.sleep(0.1)
        release.set()
        errors = [f.exception(5) for f in futures]
    assert len(calls) == 1
    assert all(isinstance(e, CourierUnavailable) for e in errors)


# --- the page under a hanging catalog ---------------------------------------------------------

HANG = 1.5  # seconds the catalog endpoint takes to answer


@pytest.fixture
def app_config(app_config):
    return {**app_config, "CATALOG_TTL": 0.3}


def view_pages(app, mint, count: int) -> list[tuple[int, float]]:
    """Open the page in `count` browsers at once; each result is (status, seconds)."""
    clients = []
    for index in range(count):
        client = app.test_client()
        assert client.get(f"/l/{mint(f'user-{index}', Purpose.MANAGE)}").status_code == 302
        clients.append(client)

    def view(client):
        started = time.monotonic()
        status = client.get("/").status_code
        return status, time.monotonic() - started

    with ThreadPoolExecutor(count) as pool:
        return list(pool.map(view, clients))


def test_a_hanging_catalog_with_a_stale_copy_holds_no_view(app, client, mint, faulty):
    assert view_pages(app, mint, 1)[0][0] == 200  # the catalog is read once
    time.sleep(0.4)  # and has expired
    faulty.faults.append(Fault("GET", r"/preferences/sections", delay=HANG))
    results = view_pages(app, mint, 8)
    assert [status for status, _ in results] == [200] * 8
    assert max(seconds for _, seconds in results) < HANG / 2
    started = time.monotonic()
    assert client.get("/healthz").status_code == 200
    assert time.monotonic() - started < 0.1


def test_a_hanging_catalog_without_a_copy_costs_every_view_one_wait(app, client, mint, faulty):
    faulty.faults.append(Fault("GET", r"/preferences/sections", delay=HANG))
    health: list[float] = []

    def probe_health():
        time.sleep(0.3)
        started = time.monotonic()
        client.get("/healthz")
        health.append(time.monotonic() - started)

    prober = threading.Thread(target=probe_health)
    prober.start()
    results = view_pages(app, mint, 8)
    prober.join()
    assert [status for status, _ in results] == [200] * 8
    # One shared read: every view waits about one slow answer, not eight in a row.
    assert max(seconds for _, seconds in results) < 2 * HANG
    assert health and health[0] < 0.1
