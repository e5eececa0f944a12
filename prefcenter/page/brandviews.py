"""The brand stylesheet (colours as CSS custom properties) and the brand for each page."""

from __future__ import annotations

from flask import Blueprint, Response, current_app, g, redirect, request, url_for

from ..platform.branding import Brand

bp = Blueprint("brand", __name__)

YEAR = 365 * 24 * 60 * 60


def current_brand() -> Brand:
    """The brand of the tenant this request is for, else the default one."""
    return current_app.config["BRANDS"].for_tenant(_tenant())


def brand_stylesheet_url() -> str:
    """The URL of the current brand's stylesheet; it changes whenever the brand does."""
    return url_for("brand.stylesheet", t=_tenant(), v=current_brand().css_version)


def favicon_url() -> str:
    """The current brand's icon: its own favicon_url, else the built-in one in its colour."""
    brand = current_brand()
    if brand.favicon_url:
        return brand.favicon_url
    return url_for("brand.favicon", t=_tenant(), v=brand.favicon_version)


def _tenant() -> str | None:
    """The tenant of the person this request is for, if any."""
    person = g.get("person")
    return (person.tenant_id or None) if person else None


@bp.get("/favicon.svg")
def favicon() -> Response:
    """Serve a brand's built-in icon; versioned URLs are cached like the brand stylesheet."""
    brand = _asked_brand()
    return _cached_when_versioned(
        Response(brand.favicon_svg(), mimetype="image/svg+xml"), brand.favicon_version
    )


@bp.get("/favicon.ico")
def default_favicon() -> Response:
    """Where browsers look when a response names no icon: the default brand's icon."""
    brand = current_app.config["BRANDS"].default
    return redirect(brand.favicon_url or url_for("brand.favicon", v=brand.favicon_version))


@bp.get("/brand.css")
def stylesheet() -> Response:
    """Serve a brand's custom properties, apart from the page: the CSP allows no inline style."""
    brand = _asked_brand()
    return _cached_when_versioned(Response(brand.css(), mimetype="text/css"), brand.css_version)


def _asked_brand() -> Brand:
    """The brand of the tenant the address names (`t`), else the default one."""
    return current_app.config["BRANDS"].for_tenant(request.args.get("t"))


def _cached_when_versioned(response: Response, version: str) -> Response:
    """Cache for a year an address naming the brand's current version (`v`): it changes
    whenever the brand does. Any other address is not cached."""
    if request.args.get("v") == version:
        response.cache_control.public = True
        response.cache_control.max_age = YEAR
        response.cache_control.immutable = True
    return response
