"""prefcenter: a self-hosted notification preference center for Courier."""

from __future__ import annotations

import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import httpx
from flask import Flask
from flask_wtf import CSRFProtect

from .catalog import CatalogCache
from .cli import register_commands
from .config import load_config
from .courier import CourierClient
from .errors import register_error_handlers
from .links import LinkClaims, LinkSigner, Purpose
from .services import Services

ROOT = Path(__file__).resolve().parent.parent


def create_app(
    config: Mapping[str, Any] | None = None,
    *,
    courier: CourierClient | None = None,
    environ: Mapping[str, str] | None = None,
) -> Flask:
    """Build the app: settings, the Courier client, CSRF, routes, error pages."""
    app = Flask(
        __name__,
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
    )
    app.config.update(load_config(config, environ))
    courier = courier or _courier_for(app)
    app.extensions["courier"] = courier
    app.extensions["prefcenter"] = Services(
        courier=courier,
        catalog=CatalogCache(courier.list_sections, ttl=app.config["CATALOG_TTL"]),
        links=LinkSigner(
            app.config["LINK_SIGNING_KEYS"],
            {
                Purpose.MANAGE: app.config["MANAGE_LINK_MAX_AGE"],
                Purpose.UNSUBSCRIBE: app.config["UNSUBSCRIBE_LINK_MAX_AGE"],
                Purpose.EMBED: app.config["EMBED_LINK_MAX_AGE"],
            },
        ),
    )
    CSRFProtect(app)
    register_blueprints(app)
    register_error_handlers(app)
    register_commands(app)
    register_template_globals(app)
    if app.config["DEMO_MODE"] and not app.config.get("TESTING"):
        _announce_demo(app)
    return app


def register_blueprints(app: Flask) -> None:
    """Attach the routes."""
    from .views import bp

    app.register_blueprint(bp)


def register_template_globals(app: Flask) -> None:
    """Expose what every template may need."""
    from .forms import field_key
    from .labels import channel_label

    app.jinja_env.globals.update(field_key=field_key, channel_label=channel_label)

    @app.context_processor
    def demo_flag() -> dict[str, Any]:
        return {"demo_mode": app.config["DEMO_MODE"]}


def _courier_for(app: Flask) -> CourierClient:
    timeout = httpx.Timeout(app.config["COURIER_TIMEOUT"], connect=3.0)
    writes = app.config["COURIER_MAX_CONCURRENT_WRITES"]
    if app.config["DEMO_MODE"]:
        from .demo import demo_courier

        return demo_courier(timeout, writes)
    return CourierClient(
        app.config["COURIER_API_KEY"],
        app.config["COURIER_BASE_URL"],
        timeout=timeout,
        max_concurrent_writes=writes,
    )


def _announce_demo(app: Flask) -> None:
    from .emulator.seed import DEMO_USER_ID
    from .views import mint_link

    with app.test_request_context():
        link = mint_link(LinkClaims(user_id=DEMO_USER_ID, purpose=Purpose.MANAGE))
    print(
        "prefcenter is in demo mode (no COURIER_API_KEY): it talks to a built-in Courier"
        f" emulator.\nOpen the demo: {link}",
        file=sys.stderr,
        flush=True,
    )
