"""A Courier-compatible emulator: Courier's preference REST API over SQLite, as a Flask app."""

from __future__ import annotations

from flask import Flask

from . import seed
from .api import EXTENSION_KEY, bp
from .behaviours import Behaviours
from .catalog_api import bp as catalog_bp
from .outbox_view import bp as outbox_bp
from .seed import seed_demo_workspace, seed_digest_schedules, seed_legacy_topics
from .send_api import bp as send_bp
from .state import LIST_MODES, EmulatorState, LoggedRequest
from .store import Store
from .tenant_api import bp as tenant_bp

DEFAULT_API_KEY = "emulator-key"

__all__ = [
    "DEFAULT_API_KEY",
    "LIST_MODES",
    "Behaviours",
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
    list_mode: str | None = None,
    behaviours: Behaviours | None = None,
    legacy_topics: bool = False,
    digest_schedules: bool = False,
) -> Flask:
    """Build an emulator app; its state is at ``app.extensions["courier_emulator"]``.

    ``behaviours`` (the object itself, kept) picks which real Courier it acts like; a
    ``list_mode``, when given, overrides its list_mode. ``legacy_topics`` and
    ``digest_schedules`` add the seed's extras (the latter needs ``seed``). Raises ValueError
    for a bad setting.
    """
    if digest_schedules and not seed:
        raise ValueError("digest_schedules gives a demo topic a digest, so it needs seed=True")
    if behaviours is None:
        behaviours = Behaviours()
    store = Store(db_path)
    try:
        state = EmulatorState(
            store,
            api_key=api_key,
            list_mode=list_mode,
            behaviours=behaviours,
        )
        if seed:
            seed_demo_workspace(store)
        if legacy_topics:
            seed_legacy_topics(store)
        if digest_schedules:
            seed_digest_schedules(store)
    except BaseException:
        store.close()
        raise
    app = Flask(__name__)
    app.json.sort_keys = False  # type: ignore[attr-defined]  # keep Courier's field order
    app.config["MAX_CONTENT_LENGTH"] = 1024 * 1024
    app.extensions[EXTENSION_KEY] = state
    app.register_blueprint(bp)
    app.register_blueprint(catalog_bp)
    app.register_blueprint(tenant_bp)
    app.register_blueprint(send_bp)
    app.register_blueprint(outbox_bp)
    return app
