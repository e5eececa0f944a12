"""Rate limits per client address (flask-limiter): token endpoints, embedded pages, probes."""

from __future__ import annotations

from flask import Flask
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address

from .embedding import EMBEDDED

# Endpoint -> the setting holding its limit.
LIMITS = {
    "links.open_link": "RATE_LIMIT_LINKS",
    "links.continue_link": "RATE_LIMIT_LINKS",
    "unsubscribe.manage": "RATE_LIMIT_LINKS",
    "unsubscribe.confirm": "RATE_LIMIT_LINKS",
    "preview.show": "RATE_LIMIT_LINKS",
    "unsubscribe.one_click": "RATE_LIMIT_ONE_CLICK",
    "unsubscribe.resubscribe": "RATE_LIMIT_ONE_CLICK",
    "api.mint_link": "RATE_LIMIT_API",
    "health.ready": "RATE_LIMIT_READY",
    "fresh_link.ask": "RATE_LIMIT_FRESH_LINK",
}
# Every embedded page (/e/<token>/...) shares one allowance per address, a generous one: the
# tokens come from the product's own backend, and one office behind one address opens many.
EMBED_SCOPE = "embedded"


def register_rate_limits(app: Flask) -> None:
    """Attach a limiter to this app and limit the token endpoints, the embedded pages and the
    readiness probe. Counters live in RATELIMIT_STORAGE_URI: per process with memory://,
    shared by every worker and instance with redis://."""
    limiter = Limiter(
        get_remote_address,
        app=app,
        storage_uri=app.config["RATELIMIT_STORAGE_URI"],
        strategy="moving-window",
        headers_enabled=True,
        # If the shared store is down, count per process rather than fail every request.
        in_memory_fallback_enabled=True,
    )
    # The limiter holds the app weakly; the app must hold the limiter.
    app.extensions["prefcenter_limiter"] = limiter
    for endpoint, setting in LIMITS.items():
        view = app.view_functions[endpoint]
        app.view_functions[endpoint] = limiter.limit(app.config[setting], scope=endpoint)(view)
    # The embedded endpoints run the same view functions as the signed-in page; only their
    # registrations under EMBEDDED are wrapped, so the signed-in page stays unlimited.
    embed_limit = limiter.shared_limit(app.config["RATE_LIMIT_EMBED"], scope=EMBED_SCOPE)
    for endpoint, view in list(app.view_functions.items()):
        if endpoint.startswith(f"{EMBEDDED}."):
            app.view_functions[endpoint] = embed_limit(view)
