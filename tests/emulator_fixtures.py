"""Fixtures for testing the emulator below the SDK: an app, its state, store, switches, HTTP."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from flask import Flask

from prefcenter.emulator import Behaviours, EmulatorState, Store, create_emulator_app
from prefcenter.emulator.testing import http_client


@pytest.fixture
def emu_app() -> Iterator[Flask]:
    """A seeded in-memory emulator with default behaviours (a module may override it)."""
    app = create_emulator_app()
    yield app
    app.extensions["courier_emulator"].store.close()


@pytest.fixture
def emu_state(emu_app: Flask) -> EmulatorState:
    """The emulator's state."""
    return emu_app.extensions["courier_emulator"]


@pytest.fixture
def store(emu_state: EmulatorState) -> Store:
    """The emulator's store, for setting up state directly."""
    return emu_state.store


@pytest.fixture
def behaviours(emu_state: EmulatorState) -> Behaviours:
    """The switches of the running app, to flip in a test."""
    return emu_state.behaviours


@pytest.fixture
def http(emu_app: Flask) -> Iterator[httpx.Client]:
    """A raw HTTP client with the right API key."""
    with http_client(emu_app) as client:
        yield client
