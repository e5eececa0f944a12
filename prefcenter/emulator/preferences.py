"""Users' topic preferences in the store: overrides per scope, resolved reads, logged writes."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from typing import Any

from .catalog import active_topic, active_topics
from .database import Database
from .digests import active_schedule_ids
from .errors import InvalidRequest, NotFound
from .history import record_change
from .ids import now_iso
from .models import KEEP, BulkEntry, PreferenceWrite
from .resolution import context_default, effective, resolved, write_rejection
from .tenants import context_defaults

Checked = tuple[BulkEntry, PreferenceWrite | None, str | None]


def _scope(tenant_id: str | None) -> str:
    """Storage key of an override scope: the tenant id, or '' for the user's own scope."""
    return tenant_id or ""


def _stored(
    conn: sqlite3.Connection, user_id: str, tenant_id: str | None, topic_id: str
) -> sqlite3.Row | None:
    """The override stored in exactly this scope, or None."""
    return conn.execute(
        "SELECT * FROM overrides WHERE user_id = ? AND tenant_id = ? AND topic_id = ?",
        (user_id, _scope(tenant_id), topic_id),
    ).fetchone()


def _winning_overrides(
    conn: sqlite3.Connection, user_id: str, tenant_id: str | None, topic_id: str | None = None
) -> dict[str, sqlite3.Row]:
    """Per topic, the user+tenant override if any, else the user's own override."""
    sql = "SELECT * FROM overrides WHERE user_id = ? AND tenant_id IN ('', ?)"
    params: list[str] = [user_id, _scope(tenant_id)]
    if topic_id is not None:
        sql += " AND topic_id = ?"
        params.append(topic_id)
    rows = conn.execute(sql, params).fetchall()
    own = {row["topic_id"]: row for row in rows if row["tenant_id"] == ""}
    scoped = {row["topic_id"]: row for row in rows if row["tenant_id"] != ""}
    return {**own, **scoped}


def _bulk_item(topic_id: str, write: PreferenceWrite) -> dict[str, Any]:
    """A BulkPreferenceTopic echo of one applied write."""
    return {
        "topic_id": topic_id,
        "status": write.status,
        "has_custom_routing": write.has_custom_routing,
        "custom_routing": list(write.custom_routing),
    }


def _apply(
    conn: sqlite3.Connection,
    user_id: str,
    tenant_id: str | None,
    topic: sqlite3.Row,
    write: PreferenceWrite,
) -> None:
    """Insert or replace one override row and log the change."""
    before = _stored(conn, user_id, tenant_id, topic["id"])
    schedule = write.digest_schedule_id
    if schedule is KEEP:
        schedule = before["digest_schedule_id"] if before is not None else None
    conn.execute(
        "INSERT OR REPLACE INTO overrides (user_id, tenant_id, topic_id, status,"
        " has_custom_routing, custom_routing, updated, digest_schedule_id)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (
            user_id,
            _scope(tenant_id),
            topic["id"],
            write.status,
            int(write.has_custom_routing),
            json.dumps(list(write.custom_routing)),
            now_iso(),
            schedule,
        ),
    )
    after = {
        "status": write.status,
        "has_custom_routing": write.has_custom_routing,
        "custom_routing": list(write.custom_routing),
    }
    record_change(conn, user_id, tenant_id, topic, after, before)


def _reset(
    conn: sqlite3.Connection, user_id: str, tenant_id: str | None, topic: sqlite3.Row
) -> bool:
    """Drop the scope's override of one topic and log what the topic resolves to now."""
    before = _stored(conn, user_id, tenant_id, topic["id"])
    if before is None:
        return False  # nothing to reset, so nothing changed
    conn.execute(
        "DELETE FROM overrides WHERE user_id = ? AND tenant_id = ? AND topic_id = ?",
        (user_id, _scope(tenant_id), topic["id"]),
    )
    tenant_default = context_defaults(conn, tenant_id, topic["id"]).get(topic["id"])
    override = _winning_overrides(conn, user_id, tenant_id, topic["id"]).get(topic["id"])
    after = resolved(topic, tenant_default, override)
    record_change(conn, user_id, tenant_id, topic, after, before)
    return True


class PreferenceStore(Database):
    """Users' preferences as Courier's /users/{id}/preferences endpoints read and write them."""

    # ---- reads -----------------------------------------------------------------------------

    def user_preferences(
        self, user_id: str, tenant_id: str | None = None, overrides_only: bool | None = None
    ) -> list[dict[str, Any]]:
        """The user's effective preferences for every active topic (or only overridden ones).

        ``overrides_only`` None follows the behaviours' list_mode. Raises NotFound for a user
        with no stored override when the behaviours say unknown users are a 404.
        """
        behaviours = self.behaviours
        if overrides_only is None:
            overrides_only = behaviours.list_mode == "overrides"
        # In overrides-only mode a tenant read lists topics overridden in either scope, since
        # the user's own override is part of what that tenant context resolves to. A tenant's
        # defaults alone make no entry: they are not the user's overrides.
        with self._read() as conn:
            if behaviours.unknown_user == "404" and not self._known(conn, user_id):
                raise NotFound(f"User {user_id} not found")
            overrides = _winning_overrides(conn, user_id, tenant_id)
            defaults = context_defaults(conn, tenant_id)
            return [
                effective(
                    topic,
                    defaults.get(topic["id"]),
                    overrides.get(topic["id"]),
                    behaviours,
                    listing=True,
                )
                for topic in active_topics(conn)
                if not overrides_only or topic["id"] in overrides
            ]

    def user_preference(
        self, user_id: str, topic_id: str, tenant_id: str | None = None
    ) -> dict[str, Any] | None:
        """The effective TopicPreference for one topic, or None for an unknown topic."""
        with self._read() as conn:
            topic = active_topic(conn, topic_id)
            if topic is None:
                return None
            overrides = _winning_overrides(conn, user_id, tenant_id, topic_id)
            defaults = context_defaults(conn, tenant_id, topic_id)
            return effective(
                topic,
                defaults.get(topic_id),
                overrides.get(topic_id),
                self.behaviours,
                listing=False,
            )

    def raw_override(
        self, user_id: str, topic_id: str, tenant_id: str | None = None
    ) -> dict[str, Any] | None:
        """The override stored in exactly this scope (no fallback), for tests and debugging."""
        with self._read() as conn:
            row = _stored(conn, user_id, tenant_id, topic_id)
        if row is None:
            return None
        raw: dict[str, Any] = {
            "status": row["status"],
            "has_custom_routing": bool(row["has_custom_routing"]),
            "custom_routing": json.loads(row["custom_routing"]),
        }
        if row["digest_schedule_id"] is not None:
            raw["digest_schedule_id"] = row["digest_schedule_id"]
        return raw

    def override_count(self) -> int:
        """Number of stored overrides across all users and scopes."""
        with self._read() as conn:
            return conn.execute("SELECT COUNT(*) FROM overrides").fetchone()[0]

    # ---- writes ----------------------------------------------------------------------------

    def set_user_preference(
        self,
        user_id: str,
        topic_id: str,
        write: PreferenceWrite,
        tenant_id: str | None = None,
        *,
        refuse_required: bool = False,
    ) -> None:
        """Write (replace) the user's override for one topic in the given scope.

        ``refuse_required`` refuses a REQUIRED status whatever the topic's default. Raises
        NotFound for an unknown topic and InvalidRequest for a status the context's default
        forbids or a digest schedule that is not active on the topic.
        """
        with self._write() as conn:
            topic = active_topic(conn, topic_id)
            if topic is None:
                raise NotFound(f"Topic {topic_id} not found")
            tenant_default = context_defaults(conn, tenant_id, topic_id).get(topic_id)
            reason = write_rejection(
                topic_id,
                context_default(topic, tenant_default),
                write.status,
                refuse_required=refuse_required,
            )
            if reason:
                raise InvalidRequest(reason)
            schedule = write.digest_schedule_id
            if isinstance(schedule, str):
                digest = json.loads(topic["digest"]) if topic["digest"] else None
                if schedule not in active_schedule_ids(digest):
                    raise InvalidRequest(
                        f"`topic.digest_schedule_id` {schedule!r} is not an active digest "
                        f"schedule on topic {topic_id}"
                    )
            _apply(conn, user_id, tenant_id, topic, write)

    def delete_user_preference(
        self, user_id: str, topic_id: str, tenant_id: str | None = None
    ) -> None:
        """Remove the user's override in the given scope, resetting the topic to its default."""
        with self._write() as conn:
            topic = active_topic(conn, topic_id)
            if topic is None:
                raise NotFound(f"Topic {topic_id} not found")
            _reset(conn, user_id, tenant_id, topic)

    def bulk_update(
        self, user_id: str, entries: Sequence[BulkEntry], tenant_id: str | None = None
    ) -> tuple[list[dict[str, Any]], list[dict[str, str]]]:
        """Apply the valid entries, report the rest; returns (items, errors) in request order."""
        items: list[dict[str, Any]] = []
        errors: list[dict[str, str]] = []
        with self._write() as conn:
            for entry, write, reason in self._check_entries(conn, entries, tenant_id):
                topic = active_topic(conn, entry.topic_id)
                if write is None or topic is None:
                    errors.append({"topic_id": entry.topic_id, "reason": reason or "invalid"})
                else:
                    _apply(conn, user_id, tenant_id, topic, write)
                    items.append(_bulk_item(entry.topic_id, write))
        return items, errors

    def bulk_replace(
        self, user_id: str, entries: Sequence[BulkEntry], tenant_id: str | None = None
    ) -> tuple[list[dict[str, Any]], list[str]]:
        """Atomically make ``entries`` the scope's whole override set; returns (items, deleted)."""
        with self._write() as conn:
            checked = self._check_entries(conn, entries, tenant_id)
            failures = [f"{entry.topic_id}: {why}" for entry, write, why in checked if not write]
            if failures:
                raise InvalidRequest("No preferences were changed. " + "; ".join(failures))
            listed = {entry.topic_id for entry in entries}
            # Only overrides of active topics form the user's visible set; overrides left on
            # archived topics are not part of it, so they are neither reset nor reported.
            to_reset = {
                row["topic_id"]
                for row in conn.execute(
                    "SELECT topic_id FROM overrides WHERE user_id = ? AND tenant_id = ?",
                    (user_id, _scope(tenant_id)),
                )
            } - listed
            deleted = []
            for topic in active_topics(conn):  # page order
                if topic["id"] in to_reset:
                    _reset(conn, user_id, tenant_id, topic)
                    deleted.append(topic["id"])
            items = []
            for entry, write, _ in checked:
                topic = active_topic(conn, entry.topic_id)
                if write is not None and topic is not None:  # always, failures were refused
                    _apply(conn, user_id, tenant_id, topic, write)
                    items.append(_bulk_item(entry.topic_id, write))
        return items, deleted

    # ---- helpers ---------------------------------------------------------------------------

    @staticmethod
    def _known(conn: sqlite3.Connection, user_id: str) -> bool:
        """True when the user has a stored override in any scope."""
        row = conn.execute("SELECT 1 FROM overrides WHERE user_id = ? LIMIT 1", (user_id,))
        return row.fetchone() is not None

    @staticmethod
    def _check_entries(
        conn: sqlite3.Connection, entries: Sequence[BulkEntry], tenant_id: str | None
    ) -> list[Checked]:
        """Resolve each bulk entry to a write, or to the reason it cannot be applied."""
        defaults = context_defaults(conn, tenant_id)
        seen: set[str] = set()
        checked: list[Checked] = []
        for entry in entries:
            reason = entry.error
            if reason is None and entry.topic_id in seen:
                reason = "topic_id appears more than once in this request"
            seen.add(entry.topic_id)
            if reason is None and entry.write is None:
                reason = "invalid topic entry"
            if reason is None and entry.write is not None:
                topic = active_topic(conn, entry.topic_id)
                if topic is None:
                    reason = f"Topic {entry.topic_id} not found"
                else:
                    default = context_default(topic, defaults.get(entry.topic_id))
                    reason = write_rejection(entry.topic_id, default, entry.write.status)
            checked.append((entry, None if reason else entry.write, reason))
        return checked
