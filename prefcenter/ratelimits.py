"""Rate limits on the endpoints that take tokens, per client address (flask-limiter)."""

from __future__ import annotations

from flask import Flask
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address

# Endpoint -> the setting holding its limit. Embedded pages are left out: their tokens come
# from the product's own backend, and one office behind one address may open many.
LIMITS = {
    "links.open_link": "RATE_LIMIT_LINKS",
    "unsubscribe.confirm": "RATE_LIMIT_LINKS",
    "unsubscribe.one_click": "RATE_LIMIT_ONE_CLICK",
    "unsubscribe.resubscribe": "RATE_LIMIT_ONE_CLICK",
    "api.mint_link": "RATE_LIMIT_API",
}


def register_rate_limits(app: Flask) -> None:
    """Attach a limiter to this app (its own counters) and limit the token endpoints."""
    limiter = Limiter(
        get_remote_address,
        app=app,
        storage_uri=app.config["RATELIMIT_STORAGE_URI"],
        strategy="moving-window",
        headers_enabled=True,
    )
    # The limiter holds the app weakly; the app must hold the limiter.
    app.extensions["prefcenter_limiter"] = limiter
    for endpoint, setting in LIMITS.items():
        view = app.view_functions[endpoint]
        app.view_functions[endpoint] = limiter.limit(app.config[setting], scope=endpoint)(view)
