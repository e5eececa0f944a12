"""The per-process services views use, kept on the app rather than at module level."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from flask import current_app

from .access.links import LinkSigner
from .access.minting import LinkMinter
from .courier import CourierClient
from .courier.catalog import CatalogCache, TenantDefaultsCache
from .page.consent import ConsentLog

T = TypeVar("T")


@dataclass(frozen=True)
class Services:
    """Everything a request needs besides Flask itself."""

    courier: CourierClient
    catalog: CatalogCache
    tenant_defaults: TenantDefaultsCache
    links: LinkSigner
    minter: LinkMinter
    consent: ConsentLog


def services() -> Services:
    """Return the current app's services."""
    return current_app.extensions["prefcenter"]


def per_worker(name: str, make: Callable[[], T]) -> T:
    """The current app's one `name`, made by `make` on first use: one per worker process."""
    made = current_app.extensions.get(name)
    if made is None:
        made = current_app.extensions[name] = make()
    return made
