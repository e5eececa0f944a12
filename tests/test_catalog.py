"""The catalog cache: one fetch per TTL, shared by every page view of the process."""

from __future__ import annotations

import pytest

from prefcenter.catalog import CatalogCache
from prefcenter.courier import CourierUnavailable


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_the_catalog_is_fetched_once_per_ttl():
    fetches = []
    clock = Clock()
    cache = CatalogCache(lambda: fetches.append(1) or [], ttl=60, clock=clock)
    cache.sections()
    clock.now += 59
    cache.sections()
    assert len(fetches) == 1
    clock.now += 1
    cache.sections()
    assert len(fetches) == 2


def test_a_failed_fetch_is_not_cached():
    calls = []

    def fetch():
        calls.append(1)
        if len(calls) == 1:
            raise CourierUnavailable("down")
        return []

    cache = CatalogCache(fetch, ttl=60, clock=Clock())
    with pytest.raises(CourierUnavailable):
        cache.sections()
    assert cache.sections() == ()
    assert len(calls) == 2
