"""The brand stylesheet (colours as CSS custom properties) and the brand for each page."""

from __future__ import annotations

from flask import Blueprint, Response, current_app, g, redirect, request, url_for

from ..platform.branding import Brand

bp = Blueprint("brand", __name__)

YEAR = 365 * 24 * 60 * 60


def current_brand() -> Brand:
    """The brand of the tenant this request is for, else the default one."""
    person = g.get("person")
    return current_app.config["BRANDS"].for_tenant(person.tenant_id if person else None)


def brand_stylesheet_url() -> str:
    """The URL of the current brand's stylesheet; it changes whenever the brand does."""
    person = g.get("person")
    brand = current_brand()
    tenant = person.tenant_id if person and person.tenant_id else ""
    return url_for("brand.stylesheet", t=tenant or None, v=brand.css_version)


def favicon_url() -> str:
    """The current brand's icon: its own favicon_url, else the built-in one in its colour."""
    brand = current_brand()
    if brand.favicon_url:
        return brand.favicon_url
    person = g.get("person")
    tenant = person.tenant_id if person and person.tenant_id else ""
    return url_for("brand.favicon", t=tenant or None, v=brand.favicon_version)


@bp.get("/favicon.svg")
def favicon() -> Response:
    """Serve a brand's built-in icon; versioned URLs are cached like the brand stylesheet."""
    brand = current_app.config["BRANDS"].for_tenant(request.args.get("t"))
    response = Response(brand.favicon_svg(), mimetype="image/svg+xml")
    if request.args.get("v") == brand.favicon_version:
        response.cache_control.public = True
        response.cache_control.max_age = YEAR
        response.cache_control.immutable = True
    return response


@bp.get("/favicon.ico")
def default_favicon() -> Response:
    """Where browsers look when a response names no icon: the default brand's icon."""
    brand = current_app.config["BRANDS"].default
    return redirect(brand.favicon_url or url_for("brand.favicon", v=brand.favicon_version))


@bp.get("/brand.css")
def stylesheet() -> Response:
    """Serve a brand's custom properties, apart from the page: the CSP allows no inline style."""
    brand = current_app.config["BRANDS"].for_tenant(request.args.get("t"))
    response = Response(brand.css(), mimetype="text/css")
    if request.args.get("v") == brand.css_version:
        response.cache_control.public = True
        response.cache_control.max_age = YEAR
        response.cache_control.immutable = True
    return response
