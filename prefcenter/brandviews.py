"""The brand stylesheet (colours as CSS custom properties) and the brand for each page."""

from __future__ import annotations

from flask import Blueprint, Response, current_app, g, request, url_for

from .branding import Brand

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
