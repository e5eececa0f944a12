"""Response headers every page gets (framing rules, CSP, no referrer leaks, no caching of
personal pages), which Host names are served, and which proxies' X-Forwarded-* count."""

from __future__ import annotations

import ipaddress
import logging
import re
from collections.abc import Callable, Iterable
from typing import Any

from flask import Flask, Response, request
from werkzeug.exceptions import SecurityError
from werkzeug.middleware.proxy_fix import ProxyFix

from .embedding import may_be_framed

log = logging.getLogger(__name__)

# No inline script or style anywhere, so the policy needs no 'unsafe-inline'.
BASE_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:{logos}; "
    "connect-src 'self'; form-action 'self'; base-uri 'none'"
)

# Load balancers and orchestrators probe instances by address (Host: 10.0.0.5:8000); these
# answers hold no URL, so they are given whatever Host the probe sends.
PROBE_PATHS = frozenset({"/healthz", "/readyz"})

FORWARDED_HEADERS = (
    "HTTP_FORWARDED",
    "HTTP_X_FORWARDED_FOR",
    "HTTP_X_FORWARDED_PROTO",
    "HTTP_X_FORWARDED_HOST",
    "HTTP_X_FORWARDED_PORT",
    "HTTP_X_FORWARDED_PREFIX",
)
# A path prefix as a proxy may give it: "/prefs" or "/a/b"; never "//host", a backslash, a
# scheme or a dot segment, which browsers would read as another site or another path.
PLAIN_PREFIX = re.compile(r"(/[A-Za-z0-9_~%!$&'()*+,;=:@.-]+)*/?")
SCHEMES = frozenset({"http", "https"})

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


class TrustedProxyFix:
    """ProxyFix for requests from the trusted proxies; anyone else's X-Forwarded-* are dropped.

    Gunicorn is often reachable directly (a port left open, another pod): without this, anyone
    could claim any client address (and so any rate-limit allowance), scheme, host or prefix.
    """

    def __init__(self, app: WSGIApp, hops: int, proxies: Iterable[str]) -> None:
        self.app = app
        self.proxied = ProxyFix(app, x_for=hops, x_proto=hops, x_host=hops, x_prefix=hops)
        self.proxies = tuple(ipaddress.ip_network(proxy) for proxy in proxies)

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        if not self.trusts(environ.get("REMOTE_ADDR", "")):
            for header in FORWARDED_HEADERS:
                environ.pop(header, None)
            return self.app(environ, start_response)
        prefix = environ.get("HTTP_X_FORWARDED_PREFIX")
        if prefix is not None and not all(
            _is_plain_prefix(part.strip()) for part in prefix.split(",")
        ):
            log.warning("ignored an X-Forwarded-Prefix that is not a plain path")
            del environ["HTTP_X_FORWARDED_PREFIX"]
        proto = environ.get("HTTP_X_FORWARDED_PROTO")
        if proto is not None and not all(
            part.strip().lower() in SCHEMES for part in proto.split(",")
        ):
            log.warning("ignored an X-Forwarded-Proto that is not http or https")
            del environ["HTTP_X_FORWARDED_PROTO"]
        return self.proxied(environ, start_response)

    def trusts(self, peer: str) -> bool:
        """Whether `peer` (REMOTE_ADDR) is one of the trusted proxies."""
        try:
            address = ipaddress.ip_address(peer)
        except ValueError:
            return False
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
            address = address.ipv4_mapped
        return any(address in network for network in self.proxies)


def _is_plain_prefix(prefix: str) -> bool:
    if not PLAIN_PREFIX.fullmatch(prefix):
        return False
    return not any(segment in {".", ".."} for segment in prefix.split("/"))


def _probes_on_any_host(app: WSGIApp, host: str) -> WSGIApp:
    def wsgi(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if environ.get("PATH_INFO") in PROBE_PATHS:
            environ["HTTP_HOST"] = host
        return app(environ, start_response)

    return wsgi


def register_security_headers(app: Flask) -> None:
    """Add the headers after each request; refuse other hosts; trust only configured proxies."""
    # Flask refuses a Host outside TRUSTED_HOSTS (see config.py) with a 400.
    app.wsgi_app = _probes_on_any_host(  # type: ignore[method-assign]
        app.wsgi_app, app.config["TRUSTED_HOSTS"][0]
    )
    hops = app.config["PROXY_FIX_HOPS"]
    if hops:
        # Behind a reverse proxy: take scheme, host and path prefix (SCRIPT_NAME) from it.
        app.wsgi_app = TrustedProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, hops, app.config["TRUSTED_PROXIES"]
        )
    frame_origins = " ".join(app.config["EMBED_ALLOWED_ORIGINS"]) or "'none'"
    logos = "".join(f" {origin}" for origin in app.config["BRANDS"].image_origins())
    base_policy = BASE_POLICY.format(logos=logos)

    def refuse_untrusted_host() -> None:
        # Flask found the Host untrusted before routing; refuse before any other hook runs,
        # as no URL can be built for this request (CSRF and error pages would need them).
        if isinstance(request.routing_exception, SecurityError):
            raise request.routing_exception

    app.before_request_funcs.setdefault(None, []).insert(0, refuse_untrusted_host)

    @app.after_request
    def add_headers(response: Response) -> Response:
        if may_be_framed():
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
        # Pages hold a person's choices and a CSRF value: keep them out of every cache. Only
        # what says it is public (hashed assets, a versioned brand stylesheet) may be kept.
        if not response.cache_control.public:
            response.headers["Cache-Control"] = "no-store"
            response.headers["Pragma"] = "no-cache"
        _make_location_relative(response)
        return response


def _make_location_relative(response: Response) -> None:
    """Drop this request's scheme and host from a redirect's Location (routing's trailing-slash
    redirects are absolute): the browser stays on the host it asked for."""
    location = response.headers.get("Location")
    if not location or not location.startswith(request.host_url):
        return
    path = location[len(request.host_url) :]
    if not path.startswith(("/", "\\")):  # "//x" would name another host: keep it absolute
        response.headers["Location"] = "/" + path
