"""Response headers every page gets: framing rules, CSP, and no referrer leaks."""

from __future__ import annotations

from flask import Flask, Response, request
from werkzeug.middleware.proxy_fix import ProxyFix

from .access import is_embedded

# No inline script or style anywhere, so the policy needs no 'unsafe-inline'.
BASE_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:{logos}; "
    "connect-src 'self'; form-action 'self'; base-uri 'none'"
)


def register_security_headers(app: Flask) -> None:
    """Add the headers after each request; trust proxy headers only when configured."""
    hops = app.config["PROXY_FIX_HOPS"]
    if hops:
        # Behind a reverse proxy: take scheme, host and path prefix (SCRIPT_NAME) from it.
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops, x_prefix=hops
        )
    frame_origins = " ".join(app.config["EMBED_ALLOWED_ORIGINS"]) or "'none'"
    logos = "".join(f" {origin}" for origin in app.config["BRANDS"].image_origins())
    base_policy = BASE_POLICY.format(logos=logos)

    @app.after_request
    def add_headers(response: Response) -> Response:
        if is_embedded():
            ancestors = frame_origins
        else:
            ancestors = "'none'"
            response.headers["X-Frame-Options"] = "DENY"
        response.headers["Content-Security-Policy"] = f"{base_policy}; frame-ancestors {ancestors}"
        response.headers["X-Content-Type-Options"] = "nosniff"
        # Pages are reached by links carrying tokens: never pass the URL on to anyone.
        response.headers["Referrer-Policy"] = "no-referrer"
        if request.is_secure:
            response.headers["Strict-Transport-Security"] = "max-age=31536000; includeSubDomains"
        return response
