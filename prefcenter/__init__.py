"""prefcenter: a self-hosted notification preference center for Courier."""

from __future__ import annotations

import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import httpx
from flask import Flask
from flask_wtf import CSRFProtect

from .access import api
from .access.cli import register_commands
from .access.guard import csrf_field, register_access
from .access.links import LinkClaims, Purpose
from .access.minting import LinkMinter
from .courier import CourierClient, RetryPolicy
from .courier.catalog import CatalogCache, TenantDefaultsCache
from .page import brandviews, preview, unsubscribe, views
from .page.brandviews import brand_stylesheet_url, current_brand, favicon_url
from .page.consent import ConsentLog
from .page.errors import http_error_text, register_error_handlers
from .page.forms import field_key, topic_texts
from .page.fresh_link import register_fresh_link
from .page.history import register_history
from .page.labels import channel_label
from .page.stencils import per_view_part
from .platform import health
from .platform.assets import register_assets
from .platform.compression import register_compression
from .platform.config import load_config
from .platform.embedding import EMBEDDED, home_url, is_embedded
from .platform.i18n import register_i18n
from .platform.logs import configure_logging
from .platform.ratelimits import register_rate_limits
from .platform.security import register_security_headers
from .services import Services

PACKAGE = Path(__file__).resolve().parent
ROOT = PACKAGE.parent


def resource_dir(name: str) -> Path:
    """templates/ or static/: inside the installed package, else at the checkout's top level."""
    packaged = PACKAGE / name  # a wheel puts them here (pyproject.toml, package-dir)
    return packaged if packaged.is_dir() else ROOT / name


def create_app(
    config: Mapping[str, Any] | None = None,
    *,
    courier: CourierClient | None = None,
    environ: Mapping[str, str] | None = None,
    instance_path: str | Path | None = None,
) -> Flask:
    """Build the app: settings, the Courier client, CSRF, routes, error pages."""
    app = Flask(
        __name__,
        instance_path=str(instance_path) if instance_path else None,
        template_folder=str(resource_dir("templates")),
        static_folder=str(resource_dir("static")),
    )
    app.config.update(load_config(config, environ, instance_path=app.instance_path))
    courier = courier or _courier_for(app)
    app.extensions["courier"] = courier
    minter = LinkMinter.from_config(app.config)
    app.extensions["prefcenter"] = Services(
        courier=courier,
        catalog=CatalogCache(courier.list_sections, ttl=app.config["CATALOG_TTL"]),
        tenant_defaults=TenantDefaultsCache(courier.tenant_defaults, ttl=app.config["CATALOG_TTL"]),
        links=minter.signer,
        minter=minter,
        consent=ConsentLog(app.config["AUDIT_LOG_PATH"]),
    )
    configure_logging(app)
    register_i18n(app)
    register_access(app, CSRFProtect(app))
    register_blueprints(app)
    register_security_headers(app)
    register_compression(app)
    register_rate_limits(app)
    register_error_handlers(app)
    register_commands(app)
    register_template_globals(app)
    if app.config["DEMO_MODE"] and not app.config.get("TESTING"):
        _announce_demo(app)
    return app


def register_blueprints(app: Flask) -> None:
    """Attach the routes."""
    app.register_blueprint(views.bp)
    app.register_blueprint(views.bp, url_prefix="/e/<embed_token>", name=EMBEDDED)
    app.register_blueprint(views.links_bp)
    app.register_blueprint(unsubscribe.bp)
    app.register_blueprint(preview.bp)
    app.register_blueprint(api.bp)
    app.register_blueprint(health.bp)
    app.register_blueprint(brandviews.bp)
    register_fresh_link(app)  # before the rate limits, which wrap its endpoint
    register_history(app)  # beside the page and the embedded page, after both
    register_assets(app)


def register_template_globals(app: Flask) -> None:
    """Expose what every template may need."""
    # Drop the blank lines and indentation template tags leave behind: bytes on every view.
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True
    app.jinja_env.globals.update(
        field_key=field_key,
        topic_texts=topic_texts,
        channel_label=channel_label,
        http_error_text=http_error_text,
        csrf_field=csrf_field,
        home_url=home_url,
        is_embedded=is_embedded,
        current_brand=current_brand,
        brand_stylesheet_url=brand_stylesheet_url,
        favicon_url=favicon_url,
        per_view_part=per_view_part,
    )

    @app.context_processor
    def settings() -> dict[str, Any]:
        return {
            "demo_mode": app.config["DEMO_MODE"],
            "embed_parent_origins": app.config["EMBED_ALLOWED_ORIGINS"],
        }


def _courier_for(app: Flask) -> CourierClient:
    timeout = httpx.Timeout(
        app.config["COURIER_TIMEOUT"], connect=min(2.0, app.config["COURIER_TIMEOUT"])
    )
    writes = app.config["COURIER_MAX_CONCURRENT_WRITES"]
    retry = RetryPolicy(
        attempts=app.config["COURIER_RETRY_ATTEMPTS"], budget=app.config["COURIER_RETRY_BUDGET"]
    )
    if app.config["DEMO_MODE"]:
        from .emulator.demo import demo_courier

        return demo_courier(timeout, writes, outbox_on=app)  # what it emails, at /demo/outbox
    return CourierClient(
        app.config["COURIER_API_KEY"],
        app.config["COURIER_BASE_URL"],
        timeout=timeout,
        max_concurrent_writes=writes,
        retry=retry,
    )


def _announce_demo(app: Flask) -> None:
    from .emulator.seed import DEMO_USER_ID

    link = app.extensions["prefcenter"].minter.url(LinkClaims(DEMO_USER_ID, Purpose.MANAGE))
    print(
        "prefcenter is in demo mode (no COURIER_API_KEY): it talks to a built-in Courier"
        f" emulator.\nOpen the demo: {link}",
        file=sys.stderr,
        flush=True,
    )
