"""Settings: defaults, then the environment, then what the caller passes; checked once."""

from __future__ import annotations

import ipaddress
import os
import re
import secrets
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any, NoReturn
from urllib.parse import urlsplit

from ..courier import DEFAULT_BASE_URL
from .branding import BrandError, load_brands
from .catalog_translations import CatalogTranslationsError, load_catalog_translations

DAY = 24 * 60 * 60

DEFAULTS: dict[str, Any] = {
    "COURIER_API_KEY": None,  # None: demo mode, talking to the embedded emulator
    "COURIER_BASE_URL": DEFAULT_BASE_URL,
    "COURIER_TIMEOUT": 5.0,  # seconds for one Courier call
    "COURIER_RETRY_ATTEMPTS": 3,  # tries per call, the first included (GET and PUT only)
    "COURIER_RETRY_BUDGET": 8.0,  # seconds after which no retry starts: pages answer promptly
    # Writes one save may run at once: a save of up to this many topics costs one round trip.
    "COURIER_MAX_CONCURRENT_WRITES": 16,
    "SECRET_KEY": None,
    "SECRET_KEY_FALLBACKS": [],
    # Keys that sign links; the first signs, the others are still accepted (rotation).
    # Default: SECRET_KEY and its fallbacks.
    "LINK_SIGNING_KEYS": [],
    "PUBLIC_BASE_URL": "http://127.0.0.1:5000",
    "CATALOG_TTL": 60.0,  # seconds the workspace catalog is cached per process
    "MANAGE_LINK_MAX_AGE": 30 * DAY,
    "UNSUBSCRIBE_LINK_MAX_AGE": 90 * DAY,  # CAN-SPAM: must work 30 days after sending
    "EMBED_LINK_MAX_AGE": 15 * 60,
    # A support preview of someone's page (read-only) is for the conversation at hand.
    "PREVIEW_LINK_MAX_AGE": 60 * 60,
    # An embedded page renews its token on every view; its session ends this long after the
    # host page's token was minted, whatever the renewals.
    "EMBED_SESSION_MAX_AGE": 12 * 60 * 60,
    # "Manage all preferences" from an unsubscribe page signs in for this long only.
    "UNSUBSCRIBE_SESSION_MAX_AGE": 15 * 60,
    "UNDO_MAX_AGE": 60 * 60,  # how long Undo works after unsubscribing (a topic, or everything)
    "FORM_RECORD_MAX_AGE": DAY,  # a page's signed record of what it showed (autosave renews it)
    "LINK_API_KEY": None,  # enables POST /api/links for senders not written in Python
    # Origins allowed to frame the embedded page (CSP frame-ancestors); none by default.
    "EMBED_ALLOWED_ORIGINS": [],
    "PROXY_FIX_HOPS": 0,  # reverse proxies in front whose X-Forwarded-* headers to trust
    # Peers (IPs or CIDRs) whose X-Forwarded-* headers count; anyone else's are dropped.
    "TRUSTED_PROXIES": ["127.0.0.1", "::1"],
    # Host names served besides PUBLIC_BASE_URL's; a request for any other Host gets a 400.
    "TRUSTED_HOSTS": [],
    "MAX_CONTENT_LENGTH": 64 * 1024,
    # Per client address; "memory://" is per process, use e.g. redis://host:6379 when several
    # instances run behind a load balancer.
    "RATELIMIT_STORAGE_URI": "memory://",
    "RATE_LIMIT_LINKS": "60 per minute",  # opening manage, unsubscribe and embed links
    "RATE_LIMIT_ONE_CLICK": "600 per minute",  # mail providers POST from few addresses
    "RATE_LIMIT_API": "600 per minute",  # the link-minting endpoint
    # Embedded pages are opened from a product's settings page: many people, few addresses.
    "RATE_LIMIT_EMBED": "300 per minute",
    "RATE_LIMIT_READY": "60 per minute",  # the readiness probe
    # "Email me a new link" on an expired link's page: per client address, and per person
    # (user and tenant of the link, counted in the same store, whatever the address).
    "RATE_LIMIT_FRESH_LINK": "20 per hour",
    "FRESH_LINK_LIMIT": "3 per hour",
    # A link this long past its expiry can no longer ask for a new one.
    "FRESH_LINK_MAX_PAST_EXPIRY": 90 * DAY,
    # Courier template for the new link's email (data: url, expires_at, locale); unset: a
    # built-in title and text in the page's language.
    "FRESH_LINK_TEMPLATE": None,
    "READY_CACHE_TTL": 5.0,  # seconds one readiness answer (one Courier call) is reused
    "AUDIT_LOG_PATH": None,  # None: consent records go to the log stream (stderr)
    "LOG_LEVEL": "INFO",
    # The default brand; per-tenant brands come from BRANDS_FILE (see README, "Brands").
    "BRAND_PRODUCT_NAME": "",
    "BRAND_LOGO_URL": "",
    "BRAND_PRIMARY_COLOUR": "",
    "BRAND_PRIMARY_COLOUR_DARK": "",
    "BRAND_SUPPORT_URL": "",
    "BRAND_FAVICON_URL": "",
    "BRANDS_FILE": None,
    # JSON file of section and topic names in other languages (platform/catalog_translations.py).
    "CATALOG_TRANSLATIONS_PATH": None,
    "SESSION_COOKIE_HTTPONLY": True,
    "SESSION_COOKIE_SAMESITE": "Lax",
    "SESSION_COOKIE_SECURE": None,  # None: secure whenever PUBLIC_BASE_URL is https
}

# Environment variables read, by setting name; lists are comma separated.
ENVIRONMENT = {
    "COURIER_API_KEY": "COURIER_API_KEY",
    "COURIER_BASE_URL": "COURIER_BASE_URL",
    "COURIER_TIMEOUT": "PREFCENTER_COURIER_TIMEOUT",
    "COURIER_MAX_CONCURRENT_WRITES": "PREFCENTER_MAX_CONCURRENT_WRITES",
    "SECRET_KEY": "SECRET_KEY",
    "SECRET_KEY_FALLBACKS": "SECRET_KEY_FALLBACKS",
    "LINK_SIGNING_KEYS": "LINK_SIGNING_KEYS",
    "PUBLIC_BASE_URL": "PUBLIC_BASE_URL",
    "CATALOG_TTL": "PREFCENTER_CATALOG_TTL",
    "MANAGE_LINK_MAX_AGE": "PREFCENTER_MANAGE_LINK_MAX_AGE",
    "UNSUBSCRIBE_LINK_MAX_AGE": "PREFCENTER_UNSUBSCRIBE_LINK_MAX_AGE",
    "EMBED_LINK_MAX_AGE": "PREFCENTER_EMBED_LINK_MAX_AGE",
    "PREVIEW_LINK_MAX_AGE": "PREFCENTER_PREVIEW_LINK_MAX_AGE",
    "EMBED_SESSION_MAX_AGE": "PREFCENTER_EMBED_SESSION_MAX_AGE",
    "UNSUBSCRIBE_SESSION_MAX_AGE": "PREFCENTER_UNSUBSCRIBE_SESSION_MAX_AGE",
    "UNDO_MAX_AGE": "PREFCENTER_UNDO_MAX_AGE",
    "FORM_RECORD_MAX_AGE": "PREFCENTER_FORM_RECORD_MAX_AGE",
    "LINK_API_KEY": "LINK_API_KEY",
    "EMBED_ALLOWED_ORIGINS": "EMBED_ALLOWED_ORIGINS",
    "PROXY_FIX_HOPS": "PREFCENTER_PROXY_FIX_HOPS",
    "TRUSTED_PROXIES": "PREFCENTER_TRUSTED_PROXIES",
    "TRUSTED_HOSTS": "PREFCENTER_TRUSTED_HOSTS",
    "COURIER_RETRY_ATTEMPTS": "PREFCENTER_COURIER_RETRY_ATTEMPTS",
    "COURIER_RETRY_BUDGET": "PREFCENTER_COURIER_RETRY_BUDGET",
    "RATELIMIT_STORAGE_URI": "PREFCENTER_RATE_LIMIT_STORAGE_URI",
    "RATE_LIMIT_LINKS": "PREFCENTER_RATE_LIMIT_LINKS",
    "RATE_LIMIT_ONE_CLICK": "PREFCENTER_RATE_LIMIT_ONE_CLICK",
    "RATE_LIMIT_API": "PREFCENTER_RATE_LIMIT_API",
    "RATE_LIMIT_EMBED": "PREFCENTER_RATE_LIMIT_EMBED",
    "RATE_LIMIT_READY": "PREFCENTER_RATE_LIMIT_READY",
    "RATE_LIMIT_FRESH_LINK": "PREFCENTER_RATE_LIMIT_FRESH_LINK",
    "FRESH_LINK_LIMIT": "PREFCENTER_FRESH_LINK_LIMIT",
    "FRESH_LINK_MAX_PAST_EXPIRY": "PREFCENTER_FRESH_LINK_MAX_PAST_EXPIRY",
    "FRESH_LINK_TEMPLATE": "PREFCENTER_FRESH_LINK_TEMPLATE",
    "READY_CACHE_TTL": "PREFCENTER_READY_CACHE_TTL",
    "AUDIT_LOG_PATH": "PREFCENTER_AUDIT_LOG_PATH",
    "LOG_LEVEL": "PREFCENTER_LOG_LEVEL",
    "BRAND_PRODUCT_NAME": "PREFCENTER_BRAND_PRODUCT_NAME",
    "BRAND_LOGO_URL": "PREFCENTER_BRAND_LOGO_URL",
    "BRAND_PRIMARY_COLOUR": "PREFCENTER_BRAND_PRIMARY_COLOUR",
    "BRAND_PRIMARY_COLOUR_DARK": "PREFCENTER_BRAND_PRIMARY_COLOUR_DARK",
    "BRAND_SUPPORT_URL": "PREFCENTER_BRAND_SUPPORT_URL",
    "BRAND_FAVICON_URL": "PREFCENTER_BRAND_FAVICON_URL",
    "BRANDS_FILE": "PREFCENTER_BRANDS_FILE",
    "CATALOG_TRANSLATIONS_PATH": "PREFCENTER_CATALOG_TRANSLATIONS_PATH",
}

ORIGIN = re.compile(r"https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?")

# A host name or address as Host carries it (no port, no scheme); a leading dot: subdomains.
HOST_NAME = re.compile(r"\.?[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*")
LOOPBACK_HOSTS = ("127.0.0.1", "localhost")
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")

DEMO_SECRET_FILE = "demo-secret"  # in the instance folder (ignored by git)
MIN_KEY_LENGTH = 32  # HS256 keys shorter than the hash are guessable; PyJWT warns on them too


class ConfigError(RuntimeError):
    """The settings cannot run the app; the message names the variable to fix."""


def exit_with(error: ConfigError) -> NoReturn:
    """Stop a server that cannot start: one line on stderr naming the variable, status 2."""
    print(f"prefcenter: {error}", file=sys.stderr, flush=True)
    raise SystemExit(2)


def check_environment() -> None:
    """Exit as exit_with does when the environment's settings cannot run the app."""
    try:
        load_config()
    except ConfigError as exc:
        exit_with(exc)


def _from_environment(environ: Mapping[str, str]) -> dict[str, Any]:
    loaded: dict[str, Any] = {}
    for setting, variable in ENVIRONMENT.items():
        raw = environ.get(variable)
        if raw is None or raw == "":
            continue
        default = DEFAULTS[setting]
        try:
            if isinstance(default, list):
                loaded[setting] = [part.strip() for part in raw.split(",") if part.strip()]
            elif isinstance(default, bool):
                loaded[setting] = raw.lower() in {"1", "true", "yes", "on"}
            elif isinstance(default, int):
                loaded[setting] = int(raw)
            elif isinstance(default, float):
                loaded[setting] = float(raw)
            else:
                loaded[setting] = raw
        except ValueError as exc:
            raise ConfigError(f"{variable} must be a number, not {raw!r}") from exc
    return loaded


def load_config(
    overrides: Mapping[str, Any] | None = None,
    environ: Mapping[str, str] | None = None,
    *,
    instance_path: str | Path | None = None,
) -> dict[str, Any]:
    """Return checked settings; raise ConfigError naming what is missing or wrong.

    In demo mode without SECRET_KEY, the key is kept in `instance_path` (when given), so every
    process of one checkout (the demo server, `flask link`) signs with the same one.
    """
    config = dict(DEFAULTS)
    config.update(_from_environment(os.environ if environ is None else environ))
    config.update(overrides or {})

    config["DEMO_MODE"] = not config["COURIER_API_KEY"]
    level = str(config["LOG_LEVEL"]).upper()  # "debug" works as well as "DEBUG"
    if level not in LOG_LEVELS:
        raise ConfigError(f"PREFCENTER_LOG_LEVEL must be one of {', '.join(LOG_LEVELS)}")
    config["LOG_LEVEL"] = level
    if not config["SECRET_KEY"]:
        if not config["DEMO_MODE"]:
            raise ConfigError(
                "SECRET_KEY is not set. Set it to a long random value (for example the output"
                " of `python -c 'import secrets; print(secrets.token_urlsafe(48))'`)."
            )
        # Demo mode only: one key per checkout, or else per process.
        config["SECRET_KEY"] = (
            demo_secret(Path(instance_path)) if instance_path else secrets.token_urlsafe(48)
        )
    # Sessions and forms are signed with SECRET_KEY and its fallbacks whatever signs links:
    # a short one lets anyone holding one cookie search for the key offline.
    _check_key_lengths("SECRET_KEY", [config["SECRET_KEY"]])
    _check_key_lengths("SECRET_KEY_FALLBACKS", config["SECRET_KEY_FALLBACKS"])
    if config["LINK_SIGNING_KEYS"]:
        _check_key_lengths("LINK_SIGNING_KEYS", config["LINK_SIGNING_KEYS"])
    else:
        config["LINK_SIGNING_KEYS"] = [config["SECRET_KEY"], *config["SECRET_KEY_FALLBACKS"]]
    public_url = str(config["PUBLIC_BASE_URL"]).rstrip("/")
    if not public_url.startswith(("http://", "https://")) or not urlsplit(public_url).hostname:
        raise ConfigError("PUBLIC_BASE_URL must start with http:// or https:// and name a host")
    config["PUBLIC_BASE_URL"] = public_url
    config["TRUSTED_HOSTS"] = _trusted_hosts(public_url, config)
    config["TRUSTED_PROXIES"] = _trusted_proxies(config["TRUSTED_PROXIES"])
    for origin in config["EMBED_ALLOWED_ORIGINS"]:
        if not ORIGIN.fullmatch(origin):
            raise ConfigError(
                f"EMBED_ALLOWED_ORIGINS holds {origin!r}: give origins like https://app.example.com"
            )
    try:
        config["BRANDS"] = load_brands(config)
    except BrandError as exc:
        raise ConfigError(str(exc)) from exc
    try:
        config["CATALOG_TRANSLATIONS"] = load_catalog_translations(
            config["CATALOG_TRANSLATIONS_PATH"]
        )
    except CatalogTranslationsError as exc:
        raise ConfigError(str(exc)) from exc
    if config["SESSION_COOKIE_SECURE"] is None:
        config["SESSION_COOKIE_SECURE"] = public_url.startswith("https://")
    return config


def demo_secret(instance: Path) -> str:
    """The demo's key in `instance`/demo-secret, created (owner-only) on first use."""
    path = instance / DEMO_SECRET_FILE
    if not path.exists():
        try:
            instance.mkdir(parents=True, exist_ok=True)
            # Written whole under a private name, then linked into place: a process starting at
            # the same moment reads either no file or the complete one, never half of it.
            draft = instance / f".{DEMO_SECRET_FILE}.{os.getpid()}"
            fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w") as out:
                out.write(secrets.token_urlsafe(48) + "\n")
            try:
                os.link(draft, path)
            except FileExistsError:
                pass  # another process won the race; its key is the one to use
            finally:
                draft.unlink()
        except OSError as exc:
            raise ConfigError(f"SECRET_KEY is not set and {path} cannot be written: {exc}") from exc
    try:
        key = path.read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise ConfigError(f"SECRET_KEY is not set and {path} cannot be read: {exc}") from exc
    if len(key) < MIN_KEY_LENGTH:
        raise ConfigError(f"SECRET_KEY is not set and {path} holds no usable key: delete it")
    return key


def _check_key_lengths(variable: str, keys: list[str]) -> None:
    for key in keys:
        if len(key) < MIN_KEY_LENGTH:
            raise ConfigError(
                f"{variable} must be at least {MIN_KEY_LENGTH} characters long (each key, when"
                " it lists several)."
            )


def _trusted_hosts(public_url: str, config: Mapping[str, Any]) -> list[str]:
    """The Host names requests may carry: PUBLIC_BASE_URL's, then PREFCENTER_TRUSTED_HOSTS."""
    public_host = urlsplit(public_url).hostname or ""
    hosts = [public_host]
    for host in config["TRUSTED_HOSTS"]:
        if not HOST_NAME.fullmatch(host):
            raise ConfigError(
                f"PREFCENTER_TRUSTED_HOSTS holds {host!r}: give host names like"
                " prefs.example.com (a leading dot takes every subdomain)"
            )
        hosts.append(host.lower())
    if public_host in LOOPBACK_HOSTS:
        hosts.extend(LOOPBACK_HOSTS)  # local use: whichever loopback name the browser was given
    if config.get("TESTING"):
        hosts.append("localhost")  # the Flask test client's default host
    return list(dict.fromkeys(hosts))


def _trusted_proxies(entries: list[str]) -> list[str]:
    """The peers, as networks, whose X-Forwarded-* headers are honoured."""
    networks = []
    for entry in entries:
        try:
            networks.append(str(ipaddress.ip_network(entry, strict=False)))
        except ValueError as exc:
            raise ConfigError(
                f"PREFCENTER_TRUSTED_PROXIES holds {entry!r}: give IP addresses or networks"
                " like 10.0.0.0/8"
            ) from exc
    return networks
