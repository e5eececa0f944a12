"""The per-process services views use, kept on the app rather than at module level."""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app

from .audit import ConsentLog
from .catalog import CatalogCache, TenantDefaultsCache
from .courier import CourierClient
from .links import LinkSigner
from .minting import LinkMinter


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
