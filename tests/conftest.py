"""Fixtures: the Courier emulator, a client wired to it, the app, and signing in by link."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from prefcenter import create_app
from prefcenter.access.links import LinkClaims, Purpose
from prefcenter.courier import CourierClient, RetryPolicy
from prefcenter.emulator import create_emulator_app
from prefcenter.emulator.inprocess import wsgi_transport

from faults import FaultyCourier

EMULATOR_KEY = "test-emulator-key"
SECRET_KEY = "test-secret-key-0123456789-abcdefghijklmnop"
USER = "user-1"
# Real retries, without real waiting: tests check what is retried, not how long it sleeps.
FAST_RETRIES = RetryPolicy(sleep=lambda seconds: None)

# Real-browser fixtures (Chromium, live servers) live in their own module.
pytest_plugins = ["browser_fixtures", "emulator_fixtures"]


@pytest.fixture
def emulator() -> Flask:
    """The Courier emulator holding the demo workspace, in memory."""
    return create_emulator_app(db_path=":memory:", api_key=EMULATOR_KEY, seed=True)


@pytest.fixture
def courier_state(emulator: Flask):
    """The emulator's state: its store and the log of requests it received."""
    return emulator.extensions["courier_emulator"]


@pytest.fixture
def faulty(emulator: Flask) -> FaultyCourier:
    """The fault switch in front of the emulator: passes everything through until a test
    appends a Fault to its `faults`."""
    return FaultyCourier(emulator)


@pytest.fixture
def courier(faulty: FaultyCourier) -> Iterator[CourierClient]:
    """Our Courier client, talking to the emulator in-process (through the fault switch)."""
    client = CourierClient(
        EMULATOR_KEY, "http://courier.test", transport=wsgi_transport(faulty), retry=FAST_RETRIES
    )
    yield client
    client.close()


@pytest.fixture
def app_config(request: pytest.FixtureRequest) -> dict[str, object]:
    """Settings for the app under test; a test may change them before `app` is built.

    A module marked `consent_file` has the consent record written to `audit_path`.
    """
    config: dict[str, object] = {
        "TESTING": True,
        "SECRET_KEY": SECRET_KEY,
        "COURIER_API_KEY": "set-but-unused: the client is injected",
        "PUBLIC_BASE_URL": "https://prefs.example.com",
    }
    if request.node.get_closest_marker("consent_file"):
        config["AUDIT_LOG_PATH"] = str(request.getfixturevalue("audit_path"))
    return config


@pytest.fixture
def audit_path(tmp_path: Path) -> Path:
    """The consent record's file, for tests marked `consent_file`."""
    return tmp_path / "consent.jsonl"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "consent_file: write the consent record to the `audit_path` file"
    )


@pytest.fixture
def app(app_config: dict[str, object], courier: CourierClient) -> Flask:
    """The preference center, wired to the emulator, CSRF on."""
    return create_app(app_config, courier=courier, environ={})


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    """A browser-like test client for the app."""
    return app.test_client()


@pytest.fixture
def mint(app: Flask) -> Callable[..., str]:
    """Mint a signed link token the way the app does."""

    def mint_token(
        user_id: str = USER, purpose: Purpose = Purpose.MANAGE, **claims: str | None
    ) -> str:
        return app.extensions["prefcenter"].links.make(
            LinkClaims(user_id=user_id, purpose=purpose, **claims)
        )

    return mint_token


@pytest.fixture
def signed_in(client: FlaskClient, mint: Callable[..., str]) -> Callable[..., FlaskClient]:
    """Sign the test client in through a manage link, as a person from an email would be."""

    def sign_in(user_id: str = USER, tenant_id: str | None = None) -> FlaskClient:
        response = client.get(f"/l/{mint(user_id, tenant_id=tenant_id)}")
        assert response.status_code == 302
        return client

    return sign_in


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Callable[[float], None]:
    """Move `time.time()` forward: `clock(seconds)` jumps that far ahead (signed values made by
    itsdangerous, and session ends, read this clock; link expiry is PyJWT's own)."""
    real = time.time
    offset = [0.0]
    monkeypatch.setattr(time, "time", lambda: real() + offset[0])

    def advance(seconds: float) -> None:
        offset[0] += seconds

    return advance
