"""Flask blueprint for tenants and their default preferences."""

from __future__ import annotations

from typing import Any

from flask import Blueprint

from .api import emulator_state, json_body
from .errors import NotFound
from .validation import parse_tenant, parse_tenant_default

bp = Blueprint("courier_emulator_tenants", __name__)


@bp.get("/tenants/<tenant_id>")
def get_tenant(tenant_id: str) -> Any:
    """GET: the tenant with its default preferences."""
    tenant = emulator_state().store.tenant(tenant_id)
    if tenant is None:
        raise NotFound(f"Tenant {tenant_id} not found")
    return tenant


@bp.put("/tenants/<tenant_id>")
def put_tenant(tenant_id: str) -> Any:
    """PUT: create or replace the tenant (omitted fields and defaults are cleared)."""
    store = emulator_state().store
    data = parse_tenant(json_body(), store.behaviours.channels)
    return store.upsert_tenant(
        tenant_id,
        data.name,
        data.parent_tenant_id,
        brand_id=data.brand_id,
        properties=data.properties,
        user_profile=data.user_profile,
        default_preferences=data.default_preferences,
    )


@bp.delete("/tenants/<tenant_id>")
def delete_tenant(tenant_id: str) -> Any:
    """DELETE: remove the tenant and its defaults."""
    emulator_state().store.delete_tenant(tenant_id)
    return "", 204


@bp.put("/tenants/<tenant_id>/default_preferences/items/<topic_id>")
def put_tenant_default(tenant_id: str, topic_id: str) -> Any:
    """PUT: set the tenant's default for one topic; the body is not wrapped in ``topic``."""
    store = emulator_state().store
    default = parse_tenant_default(json_body(), "request body", topic_id, store.behaviours.channels)
    store.set_tenant_default(
        tenant_id, topic_id, default.status, default.has_custom_routing, default.custom_routing
    )
    return "", 204


@bp.delete("/tenants/<tenant_id>/default_preferences/items/<topic_id>")
def delete_tenant_default(tenant_id: str, topic_id: str) -> Any:
    """DELETE: remove the tenant's default for one topic."""
    emulator_state().store.delete_tenant_default(tenant_id, topic_id)
    return "", 204
