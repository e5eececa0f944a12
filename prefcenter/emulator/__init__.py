"""A Courier-compatible emulator: Courier's preference REST API over SQLite, as a Flask app."""

from __future__ import annotations

from flask import Flask

from . import seed
from .api import EXTENSION_KEY, bp
from .seed import seed_demo_workspace
from .state import LIST_MODES, EmulatorState, LoggedRequest
from .store import Store

DEFAULT_API_KEY = "emulator-key"

__all__ = [
    "DEFAULT_API_KEY",
    "LIST_MODES",
    "EmulatorState",
    "LoggedRequest",
    "Store",
    "create_emulator_app",
    "seed",
]


def create_emulator_app(
    db_path: str = ":memory:",
    api_key: str = DEFAULT_API_KEY,
    seed: bool = True,
    list_mode: str = "all",
) -> Flask:
    """Build an emulator app; its state is at ``app.extensions["courier_emulator"]``."""
    store = Store(db_path)
    try:
        state = EmulatorState(store, api_key=api_key, list_mode=list_mode)
        if seed:
            seed_demo_workspace(store)
    except BaseException:
        store.close()
        raise
    app = Flask(__name__)
    app.json.sort_keys = False  # type: ignore[attr-defined]  # keep Courier's field order
    app.config["MAX_CONTENT_LENGTH"] = 1024 * 1024
    app.extensions[EXTENSION_KEY] = state
    app.register_blueprint(bp)
    return app
