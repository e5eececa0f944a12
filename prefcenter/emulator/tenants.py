"""Tenants in the store: their fields and their default preferences per topic."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from typing import Any

from .catalog import active_topic
from .database import Database
from .errors import InvalidRequest, NotFound
from .ids import now_iso
from .models import PREFERENCE_STATUSES, TenantDefault


def tenant_chain(conn: sqlite3.Connection, tenant_id: str | None) -> list[str]:
    """The known tenants from the root ancestor down to ``tenant_id`` (empty if unknown)."""
    chain: list[str] = []
    current = tenant_id
    while current and current not in chain:  # the membership test stops a parent cycle
        row = conn.execute(
            "SELECT parent_tenant_id FROM tenants WHERE id = ?", (current,)
        ).fetchone()
        if row is None:
            break
        chain.append(current)
        current = row["parent_tenant_id"]
    return chain[::-1]


def context_defaults(
    conn: sqlite3.Connection, tenant_id: str | None, topic_id: str | None = None
) -> dict[str, sqlite3.Row]:
    """Per topic, the tenant default that applies in ``tenant_id``'s context (nearest wins)."""
    defaults: dict[str, sqlite3.Row] = {}
    for tenant in tenant_chain(conn, tenant_id):  # root first, so nearer tenants overwrite
        sql = "SELECT * FROM tenant_defaults WHERE tenant_id = ?"
        params = [tenant]
        if topic_id is not None:
            sql += " AND topic_id = ?"
            params.append(topic_id)
        for row in conn.execute(sql, params):
            defaults[row["topic_id"]] = row
    return defaults


def _json_or_none(text: str | None) -> Any:
    """Decode a nullable JSON column."""
    return None if text is None else json.loads(text)


def _known_tenant(conn: sqlite3.Connection, tenant_id: str) -> sqlite3.Row:
    """The tenant row, or NotFound."""
    row = conn.execute("SELECT * FROM tenants WHERE id = ?", (tenant_id,)).fetchone()
    if row is None:
        raise NotFound(f"Tenant {tenant_id} not found")
    return row


def _check_default(default: TenantDefault, where: str) -> None:
    """Raise InvalidRequest unless the default names a known status."""
    if default.status not in PREFERENCE_STATUSES:
        raise InvalidRequest(f"`{where}.status` must be one of {', '.join(PREFERENCE_STATUSES)}")


def _insert_default(conn: sqlite3.Connection, tenant_id: str, default: TenantDefault) -> None:
    """Insert or replace one default, keeping its place in the tenant's list when replaced."""
    conn.execute(
        "INSERT INTO tenant_defaults (tenant_id, topic_id, status, has_custom_routing,"
        " custom_routing) VALUES (?, ?, ?, ?, ?) ON CONFLICT (tenant_id, topic_id) DO UPDATE"
        " SET status = excluded.status, has_custom_routing = excluded.has_custom_routing,"
        " custom_routing = excluded.custom_routing",
        (
            tenant_id,
            default.topic_id,
            default.status,
            int(default.has_custom_routing),
            json.dumps(list(default.custom_routing)),
        ),
    )


class TenantStore(Database):
    """Tenants as Courier's /tenants endpoints show them."""

    def upsert_tenant(
        self,
        tenant_id: str,
        name: str,
        parent_tenant_id: str | None = None,
        *,
        brand_id: str | None = None,
        properties: dict[str, Any] | None = None,
        user_profile: dict[str, Any] | None = None,
        default_preferences: Sequence[TenantDefault] | None = None,
    ) -> dict[str, Any]:
        """Create or replace a tenant and return it; None defaults keep the stored ones."""
        if not name.strip():
            raise InvalidRequest("`name` is required and must be a non-empty string")
        if parent_tenant_id == tenant_id:
            raise InvalidRequest(f"Tenant {tenant_id} cannot be its own parent")
        stamp = now_iso()
        with self._write() as conn:
            if tenant_id in tenant_chain(conn, parent_tenant_id):
                raise InvalidRequest(f"Tenant {parent_tenant_id} is a descendant of {tenant_id}")
            conn.execute(
                "INSERT INTO tenants (id, name, parent_tenant_id, brand_id, properties,"
                " user_profile, created, updated) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
                " ON CONFLICT (id) DO UPDATE SET name = excluded.name,"
                " parent_tenant_id = excluded.parent_tenant_id, brand_id = excluded.brand_id,"
                " properties = excluded.properties, user_profile = excluded.user_profile,"
                " updated = excluded.updated",
                (
                    tenant_id,
                    name,
                    parent_tenant_id,
                    brand_id,
                    None if properties is None else json.dumps(properties),
                    None if user_profile is None else json.dumps(user_profile),
                    stamp,
                    stamp,
                ),
            )
            if default_preferences is not None:
                seen: set[str] = set()
                conn.execute("DELETE FROM tenant_defaults WHERE tenant_id = ?", (tenant_id,))
                for index, default in enumerate(default_preferences):
                    where = f"default_preferences.items[{index}]"
                    _check_default(default, where)
                    if default.topic_id in seen:
                        raise InvalidRequest(f"`{where}.id` {default.topic_id} appears twice")
                    seen.add(default.topic_id)
                    if active_topic(conn, default.topic_id) is None:
                        raise InvalidRequest(f"`{where}.id`: topic {default.topic_id} not found")
                    _insert_default(conn, tenant_id, default)
            return self._tenant_dict(conn, _known_tenant(conn, tenant_id))

    def tenant(self, tenant_id: str) -> dict[str, Any] | None:
        """The tenant as Courier's Tenant model, or None when unknown."""
        with self._read() as conn:
            row = conn.execute("SELECT * FROM tenants WHERE id = ?", (tenant_id,)).fetchone()
            return None if row is None else self._tenant_dict(conn, row)

    def delete_tenant(self, tenant_id: str) -> None:
        """Delete a tenant and its defaults; users' overrides in its context stay stored."""
        with self._write() as conn:
            _known_tenant(conn, tenant_id)
            conn.execute("DELETE FROM tenants WHERE id = ?", (tenant_id,))

    def set_tenant_default(
        self,
        tenant_id: str,
        topic_id: str,
        status: str,
        has_custom_routing: bool = False,
        custom_routing: Sequence[str] = (),
    ) -> None:
        """Create or replace the tenant's default for one topic (NotFound: tenant or topic)."""
        default = TenantDefault(topic_id, status, has_custom_routing, tuple(custom_routing))
        _check_default(default, "body")
        with self._write() as conn:
            _known_tenant(conn, tenant_id)
            if active_topic(conn, topic_id) is None:
                raise NotFound(f"Topic {topic_id} not found")
            _insert_default(conn, tenant_id, default)

    def delete_tenant_default(self, tenant_id: str, topic_id: str) -> None:
        """Remove the tenant's default for one topic; harmless when there is none."""
        with self._write() as conn:
            _known_tenant(conn, tenant_id)
            conn.execute(
                "DELETE FROM tenant_defaults WHERE tenant_id = ? AND topic_id = ?",
                (tenant_id, topic_id),
            )

    @staticmethod
    def _tenant_dict(conn: sqlite3.Connection, row: sqlite3.Row) -> dict[str, Any]:
        """A tenant row and its defaults as Courier's Tenant."""
        items = [
            {
                "id": item["topic_id"],
                "status": item["status"],
                "has_custom_routing": bool(item["has_custom_routing"]),
                "custom_routing": json.loads(item["custom_routing"]),
            }
            for item in conn.execute(
                "SELECT * FROM tenant_defaults WHERE tenant_id = ? ORDER BY seq", (row["id"],)
            )
        ]
        # Unset optional fields come back as null, as Courier's own tenant examples show.
        return {
            "id": row["id"],
            "name": row["name"],
            "parent_tenant_id": row["parent_tenant_id"],
            "default_preferences": {"items": items},
            "properties": _json_or_none(row["properties"]),
            "user_profile": _json_or_none(row["user_profile"]),
            "brand_id": row["brand_id"],
        }
