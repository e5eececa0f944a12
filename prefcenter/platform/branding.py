"""Brands: product name, logo, colours and support link, per tenant, as CSS custom properties."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

HEX_COLOUR = re.compile(r"#[0-9a-fA-F]{6}")
WHITE, BLACK = "#ffffff", "#000000"
LIGHT_BACKGROUND, DARK_BACKGROUND = "#ffffff", "#12151a"


class BrandError(ValueError):
    """A brand setting that cannot be used; the message names it."""


@dataclass(frozen=True)
class Brand:
    """How the pages look and name themselves for one tenant (or for everyone)."""

    product_name: str = ""
    logo_url: str = ""
    primary_colour: str = "#2251cc"
    primary_colour_dark: str = "#8fb0ff"
    support_url: str = ""
    favicon_url: str = ""  # empty: the built-in icon, drawn in primary_colour

    def css(self) -> str:
        """The brand's custom properties; text colours are chosen to keep WCAG AA contrast."""
        light, dark = self.primary_colour, self.primary_colour_dark
        return (
            f":root{{--brand:{light};--brand-contrast:{_readable_on(light)};"
            f"--link:{_link_colour(light, LIGHT_BACKGROUND, '#1d4ed8')}}}\n"
            "@media (prefers-color-scheme: dark){"
            f":root{{--brand:{dark};--brand-contrast:{_readable_on(dark)};"
            f"--link:{_link_colour(dark, DARK_BACKGROUND, '#9ab8ff')}}}}}\n"
        )

    @property
    def css_version(self) -> str:
        """A short hash of the CSS, to cache it forever under a changing URL."""
        return hashlib.sha256(self.css().encode()).hexdigest()[:12]

    def favicon_svg(self) -> str:
        """The built-in icon: a bell on a rounded square of the brand's colour."""
        colour, mark = self.primary_colour, _readable_on(self.primary_colour)
        return (
            '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32">'
            f'<rect width="32" height="32" rx="7" fill="{colour}"/>'
            f'<path fill="{mark}" d="M16 6a2 2 0 0 0-2 2v.6A7 7 0 0 0 9 15.3V20l-2 2.5V24h18v-1.5'
            'L23 20v-4.7a7 7 0 0 0-5-6.7V8a2 2 0 0 0-2-2Zm-3 19a3 3 0 0 0 6 0Z"/></svg>\n'
        )

    @property
    def favicon_version(self) -> str:
        """A short hash of the built-in icon, to cache it forever under a changing URL."""
        return hashlib.sha256(self.favicon_svg().encode()).hexdigest()[:12]


class Brands:
    """The default brand and per-tenant overrides of it."""

    def __init__(self, default: Brand, tenants: Mapping[str, Brand] | None = None) -> None:
        self.default = default
        self._tenants = dict(tenants or {})

    def for_tenant(self, tenant_id: str | None) -> Brand:
        """The brand to show for a tenant; the default when it has none."""
        return self._tenants.get(tenant_id or "", self.default)

    def image_origins(self) -> list[str]:
        """Origins of logos hosted elsewhere, which the CSP must allow."""
        origins = set()
        for brand in (self.default, *self._tenants.values()):
            for url in (brand.logo_url, brand.favicon_url):
                parts = urlsplit(url)
                if parts.scheme == "https" and parts.netloc:
                    origins.add(f"https://{parts.netloc}")
        return sorted(origins)


def load_brands(settings: Mapping[str, Any]) -> Brands:
    """Build the brands from settings (BRAND_*) and the optional per-tenant JSON file."""
    default = _brand(
        Brand(),
        {
            "product_name": settings.get("BRAND_PRODUCT_NAME") or "",
            "logo_url": settings.get("BRAND_LOGO_URL") or "",
            "primary_colour": settings.get("BRAND_PRIMARY_COLOUR") or Brand.primary_colour,
            "primary_colour_dark": settings.get("BRAND_PRIMARY_COLOUR_DARK")
            or Brand.primary_colour_dark,
            "support_url": settings.get("BRAND_SUPPORT_URL") or "",
            "favicon_url": settings.get("BRAND_FAVICON_URL") or "",
        },
        "BRAND_*",
    )
    path = settings.get("BRANDS_FILE")
    if not path:
        return Brands(default)
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise BrandError(f"PREFCENTER_BRANDS_FILE {path!r} is not a readable JSON file") from exc
    if not isinstance(data, dict):
        raise BrandError("PREFCENTER_BRANDS_FILE must hold an object")
    default = _brand(default, data.get("default", {}), "default")
    tenants = data.get("tenants", {})
    if not isinstance(tenants, dict):
        raise BrandError("'tenants' in PREFCENTER_BRANDS_FILE must be an object")
    return Brands(
        default, {tenant: _brand(default, values, tenant) for tenant, values in tenants.items()}
    )


def _brand(base: Brand, values: Any, where: str) -> Brand:
    if not isinstance(values, dict):
        raise BrandError(f"brand {where!r} must be an object")
    known = {field.name for field in fields(Brand)}
    unknown = set(values) - known
    if unknown:
        raise BrandError(f"brand {where!r} has unknown settings: {', '.join(sorted(unknown))}")
    brand = replace(base, **{key: str(value) for key, value in values.items()})
    for name in ("primary_colour", "primary_colour_dark"):
        if not HEX_COLOUR.fullmatch(getattr(brand, name)):
            raise BrandError(f"brand {where!r}: {name} must be a colour like #2251cc")
    for name in ("logo_url", "support_url", "favicon_url"):
        url = getattr(brand, name)
        # Checked first: browsers drop tabs and newlines from URLs and read "\\" as "/", so
        # "/\\host" and "/\t/host" lead to another site as surely as "//host".
        if any(char in url for char in "\"'<>\\`") or any(ord(char) <= 32 for char in url):
            raise BrandError(f"brand {where!r}: {name} holds characters a URL cannot")
        if url and not (
            _is_https_url(url)
            or _is_local_path(url)
            or (name == "support_url" and url.startswith("mailto:"))
        ):
            raise BrandError(f"brand {where!r}: {name} must be https://…, a /path or mailto:")
    return brand


def _is_https_url(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme == "https" and bool(parts.hostname) and url.startswith("https://")


def _is_local_path(url: str) -> bool:
    """A path on this site: "/logo.svg", never "//host/x" (another site, scheme-relative)."""
    return url.startswith("/") and not url.startswith("//")


def _luminance(colour: str) -> float:
    def channel(value: int) -> float:
        c = value / 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (int(colour[i : i + 2], 16) for i in (1, 3, 5))
    return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b)


def contrast(a: str, b: str) -> float:
    """WCAG contrast ratio between two colours."""
    high, low = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def _readable_on(background: str) -> str:
    return WHITE if contrast(WHITE, background) >= contrast(BLACK, background) else BLACK


def _link_colour(brand: str, background: str, fallback: str) -> str:
    # A pale brand colour would make unreadable links; keep the brand only when it reads.
    return brand if contrast(brand, background) >= 4.5 else fallback
