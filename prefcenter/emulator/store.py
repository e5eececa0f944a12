"""SQLite-backed state of the emulated Courier workspace: catalog, user overrides, idempotency."""

from __future__ import annotations

import json
import secrets
import sqlite3
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from .errors import Conflict, InvalidRequest, NotFound
from .models import BulkEntry, PreferenceWrite, SectionInput, TopicInput

_SCHEMA = """
CREATE TABLE IF NOT EXISTS sections (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    description TEXT,
    has_custom_routing INTEGER NOT NULL,
    routing_options TEXT NOT NULL,
    created TEXT NOT NULL,
    updated TEXT NOT NULL,
    archived INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS topics (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    section_id TEXT NOT NULL REFERENCES sections(id),
    name TEXT NOT NULL,
    description TEXT,
    default_status TEXT NOT NULL,
    allowed_preferences TEXT NOT NULL,
    include_unsubscribe_header INTEGER NOT NULL,
    routing_options TEXT NOT NULL,
    topic_data TEXT NOT NULL,
    created TEXT NOT NULL,
    updated TEXT NOT NULL,
    archived INTEGER NOT NULL DEFAULT 0
);
-- tenant_id '' is the user's own (tenant-less) scope; NULL would defeat the primary key.
CREATE TABLE IF NOT EXISTS overrides (
    user_id TEXT NOT NULL,
    tenant_id TEXT NOT NULL,
    topic_id TEXT NOT NULL,
    status TEXT NOT NULL,
    has_custom_routing INTEGER NOT NULL,
    custom_routing TEXT NOT NULL,
    updated TEXT NOT NULL,
    PRIMARY KEY (user_id, tenant_id, topic_id)
);
CREATE TABLE IF NOT EXISTS idempotency (
    key TEXT NOT NULL,
    method TEXT NOT NULL,
    path TEXT NOT NULL,
    status INTEGER NOT NULL,
    body TEXT NOT NULL,
    PRIMARY KEY (key, method, path)
);
"""

_ACTIVE_TOPICS = """
SELECT t.*, s.name AS section_name
FROM topics t JOIN sections s ON s.id = t.section_id
WHERE t.archived = 0 AND s.archived = 0
"""

_NANOID_ALPHABET = "_-0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
_CROCKFORD = "0123456789abcdefghjkmnpqrstvwxyz"


def now_iso() -> str:
    """Current UTC time as ISO-8601 with milliseconds and a ``Z`` suffix."""
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def new_section_id() -> str:
    """A 21-character nanoid, the shape of Courier's section ids (``pHdYzLqMu12XNxih5EoDJ``)."""
    return "".join(secrets.choice(_NANOID_ALPHABET) for _ in range(21))


def new_topic_id() -> str:
    """A ``pt_`` + lowercase ULID, the shape of API-created topic ids (``pt_01kx4h2j...``)."""
    value = (int(time.time() * 1000) << 80) | secrets.randbits(80)
    chars = [_CROCKFORD[(value >> shift) & 31] for shift in range(125, -1, -5)]
    return "pt_" + "".join(chars)


def _scope(tenant_id: str | None) -> str:
    """Storage key of an override scope: the tenant id, or '' for the user's own scope."""
    return tenant_id or ""


def _write_rejection(topic_id: str, default_status: str, status: str) -> str | None:
    """Why a user may not write ``status`` on a topic with ``default_status``, or None."""
    if default_status == "REQUIRED" and status == "OPTED_OUT":
        return f"Topic {topic_id} is REQUIRED; a user cannot opt out of it"
    if status == "REQUIRED" and default_status != "REQUIRED":
        return (
            f"REQUIRED is a topic default, not a user choice; topic {topic_id} "
            f"defaults to {default_status}"
        )
    return None


def _effective(topic: sqlite3.Row, override: sqlite3.Row | None) -> dict[str, Any]:
    """The TopicPreference a read returns for one topic, given the winning override (if any)."""
    default_status = topic["default_status"]
    if default_status == "REQUIRED":
        # No user status overrides a REQUIRED topic, but the user's channel choice still applies.
        status = "REQUIRED"
    elif override is None or override["status"] == "REQUIRED":
        # A stored REQUIRED only came from a topic that was REQUIRED when written; once the topic
        # stops being REQUIRED that override carries no user choice, so the default applies.
        status = default_status
    else:
        status = override["status"]
    return {
        "topic_id": topic["id"],
        "topic_name": topic["name"],
        "status": status,
        "default_status": default_status,
        # Always present (Courier's iOS SDK decodes them as non-optional). A routing choice made
        # with has_custom_routing false is still echoed: Courier remembers it (docs PR #278).
        "has_custom_routing": bool(override["has_custom_routing"]) if override else False,
        "custom_routing": json.loads(override["custom_routing"]) if override else [],
        "section_id": topic["section_id"],
        "section_name": topic["section_name"],
    }


def _bulk_item(topic_id: str, write: PreferenceWrite) -> dict[str, Any]:
    """A BulkPreferenceTopic echo of one applied write."""
    return {
        "topic_id": topic_id,
        "status": write.status,
        "has_custom_routing": write.has_custom_routing,
        "custom_routing": list(write.custom_routing),
    }


class Store:
    """The emulator's state in one SQLite connection, serialised by a lock for thread safety."""

    def __init__(self, db_path: str = ":memory:") -> None:
        # One connection shared by every thread: ':memory:' must be a single database for the
        # whole app, and a lock around each use makes sharing it safe (check_same_thread=False).
        self._lock = threading.RLock()
        self._conn = sqlite3.connect(db_path, check_same_thread=False, isolation_level=None)
        self._conn.row_factory = sqlite3.Row
        with self._lock:
            self._conn.execute("PRAGMA foreign_keys = ON")
            self._conn.executescript(_SCHEMA)

    def close(self) -> None:
        """Close the database connection."""
        with self._lock:
            self._conn.close()

    @contextmanager
    def _read(self) -> Iterator[sqlite3.Connection]:
        """Hold the lock for a consistent multi-statement read."""
        with self._lock:
            yield self._conn

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """Run a block as one transaction: committed on success, rolled back on any error."""
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield self._conn
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")

    # ---- workspace catalog: sections -------------------------------------------------------

    def catalog_is_empty(self) -> bool:
        """True when no section was ever created (archived ones count, their ids stay taken)."""
        with self._read() as conn:
            return conn.execute("SELECT COUNT(*) FROM sections").fetchone()[0] == 0

    def list_sections(self) -> list[dict[str, Any]]:
        """All active sections in creation order, each embedding its active topics."""
        with self._read() as conn:
            rows = conn.execute("SELECT * FROM sections WHERE archived = 0 ORDER BY seq").fetchall()
            return [self._section_dict(conn, row) for row in rows]

    def get_section(self, section_id: str) -> dict[str, Any]:
        """One active section with its topics; NotFound otherwise."""
        with self._read() as conn:
            return self._section_dict(conn, self._active_section(conn, section_id))

    def create_section(self, data: SectionInput, section_id: str | None = None) -> dict[str, Any]:
        """Create a section (id generated unless given) and return it."""
        section_id = section_id or new_section_id()
        stamp = now_iso()
        with self._write() as conn:
            try:
                conn.execute(
                    "INSERT INTO sections (id, name, description, has_custom_routing,"
                    " routing_options, created, updated) VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (
                        section_id,
                        data.name,
                        data.description,
                        int(data.has_custom_routing),
                        json.dumps(list(data.routing_options)),
                        stamp,
                        stamp,
                    ),
                )
            except sqlite3.IntegrityError:
                raise Conflict(f"Section {section_id} already exists") from None
            return self._section_dict(conn, self._active_section(conn, section_id))

    def replace_section(self, section_id: str, data: SectionInput) -> dict[str, Any]:
        """Replace a section's own fields (its topics are unaffected) and return it."""
        with self._write() as conn:
            self._active_section(conn, section_id)
            conn.execute(
                "UPDATE sections SET name = ?, description = ?, has_custom_routing = ?,"
                " routing_options = ?, updated = ? WHERE id = ?",
                (
                    data.name,
                    data.description,
                    int(data.has_custom_routing),
                    json.dumps(list(data.routing_options)),
                    now_iso(),
                    section_id,
                ),
            )
            return self._section_dict(conn, self._active_section(conn, section_id))

    def archive_section(self, section_id: str) -> None:
        """Archive an empty section; Conflict while it still has active topics."""
        with self._write() as conn:
            self._active_section(conn, section_id)
            remaining = conn.execute(
                "SELECT COUNT(*) FROM topics WHERE section_id = ? AND archived = 0", (section_id,)
            ).fetchone()[0]
            if remaining:
                raise Conflict(
                    f"Section {section_id} still has {remaining} topic(s); "
                    "archive its topics before archiving the section"
                )
            conn.execute(
                "UPDATE sections SET archived = 1, updated = ? WHERE id = ?",
                (now_iso(), section_id),
            )

    # ---- workspace catalog: topics ---------------------------------------------------------

    def list_topics(self, section_id: str) -> list[dict[str, Any]]:
        """The active topics of an active section, in creation order."""
        with self._read() as conn:
            self._active_section(conn, section_id)
            return [self._topic_dict(row) for row in self._section_topics(conn, section_id)]

    def get_topic(self, section_id: str, topic_id: str) -> dict[str, Any]:
        """One active topic addressed through its section; NotFound otherwise."""
        with self._read() as conn:
            return self._topic_dict(self._topic_in_section(conn, section_id, topic_id))

    def create_topic(
        self, section_id: str, data: TopicInput, topic_id: str | None = None
    ) -> dict[str, Any]:
        """Create a topic in an active section (id generated unless given) and return it."""
        topic_id = topic_id or new_topic_id()
        stamp = now_iso()
        with self._write() as conn:
            self._active_section(conn, section_id)
            try:
                conn.execute(
                    "INSERT INTO topics (id, section_id, name, description, default_status,"
                    " allowed_preferences, include_unsubscribe_header, routing_options, topic_data,"
                    " created, updated) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (topic_id, section_id, *self._topic_values(data), stamp, stamp),
                )
            except sqlite3.IntegrityError:
                raise Conflict(f"Topic {topic_id} already exists") from None
            return self._topic_dict(self._topic_in_section(conn, section_id, topic_id))

    def replace_topic(self, section_id: str, topic_id: str, data: TopicInput) -> dict[str, Any]:
        """Replace a topic's fields and return it."""
        with self._write() as conn:
            self._topic_in_section(conn, section_id, topic_id)
            conn.execute(
                "UPDATE topics SET name = ?, description = ?, default_status = ?,"
                " allowed_preferences = ?, include_unsubscribe_header = ?, routing_options = ?,"
                " topic_data = ?, updated = ? WHERE id = ?",
                (*self._topic_values(data), now_iso(), topic_id),
            )
            return self._topic_dict(self._topic_in_section(conn, section_id, topic_id))

    def archive_topic(self, section_id: str, topic_id: str) -> None:
        """Archive a topic: it disappears from the catalog and from users' preferences."""
        with self._write() as conn:
            self._topic_in_section(conn, section_id, topic_id)
            # Users' overrides are kept (archiving is soft) but become unreachable with the topic.
            conn.execute(
                "UPDATE topics SET archived = 1, updated = ? WHERE id = ?", (now_iso(), topic_id)
            )

    # ---- users' preferences ----------------------------------------------------------------

    def user_preferences(
        self, user_id: str, tenant_id: str | None = None, overrides_only: bool = False
    ) -> list[dict[str, Any]]:
        """The user's effective preferences for every active topic (or only overridden ones)."""
        # In overrides-only mode a tenant read lists topics overridden in either scope, since
        # the user's own override is part of what that tenant context resolves to.
        with self._read() as conn:
            overrides = self._winning_overrides(conn, user_id, tenant_id)
            topics = conn.execute(_ACTIVE_TOPICS + " ORDER BY s.seq, t.seq").fetchall()
            return [
                _effective(topic, overrides.get(topic["id"]))
                for topic in topics
                if not overrides_only or topic["id"] in overrides
            ]

    def user_preference(
        self, user_id: str, topic_id: str, tenant_id: str | None = None
    ) -> dict[str, Any] | None:
        """The effective TopicPreference for one topic, or None for an unknown topic."""
        with self._read() as conn:
            topic = self._active_topic(conn, topic_id)
            if topic is None:
                return None
            overrides = self._winning_overrides(conn, user_id, tenant_id, topic_id)
            return _effective(topic, overrides.get(topic_id))

    def raw_override(
        self, user_id: str, topic_id: str, tenant_id: str | None = None
    ) -> dict[str, Any] | None:
        """The override stored in exactly this scope (no fallback), for tests and debugging."""
        with self._read() as conn:
            row = conn.execute(
                "SELECT * FROM overrides WHERE user_id = ? AND tenant_id = ? AND topic_id = ?",
                (user_id, _scope(tenant_id), topic_id),
            ).fetchone()
        if row is None:
            return None
        return {
            "status": row["status"],
            "has_custom_routing": bool(row["has_custom_routing"]),
            "custom_routing": json.loads(row["custom_routing"]),
        }

    def override_count(self) -> int:
        """Number of stored overrides across all users and scopes."""
        with self._read() as conn:
            return conn.execute("SELECT COUNT(*) FROM overrides").fetchone()[0]

    def set_user_preference(
        self, user_id: str, topic_id: str, write: PreferenceWrite, tenant_id: str | None = None
    ) -> None:
        """Write (replace) the user's override for one topic in the given scope."""
        with self._write() as conn:
            topic = self._active_topic(conn, topic_id)
            if topic is None:
                raise NotFound(f"Topic {topic_id} not found")
            reason = _write_rejection(topic_id, topic["default_status"], write.status)
            if reason:
                raise InvalidRequest(reason)
            self._upsert(conn, user_id, tenant_id, topic_id, write)

    def delete_user_preference(
        self, user_id: str, topic_id: str, tenant_id: str | None = None
    ) -> None:
        """Remove the user's override in the given scope, resetting the topic to its default."""
        with self._write() as conn:
            if self._active_topic(conn, topic_id) is None:
                raise NotFound(f"Topic {topic_id} not found")
            conn.execute(
                "DELETE FROM overrides WHERE user_id = ? AND tenant_id = ? AND topic_id = ?",
                (user_id, _scope(tenant_id), topic_id),
            )

    def bulk_update(
        self, user_id: str, entries: Sequence[BulkEntry], tenant_id: str | None = None
    ) -> tuple[list[dict[str, Any]], list[dict[str, str]]]:
        """Apply the valid entries, report the rest; returns (items, errors) in request order."""
        items: list[dict[str, Any]] = []
        errors: list[dict[str, str]] = []
        with self._write() as conn:
            for entry, write, reason in self._check_entries(conn, entries):
                if write is None:
                    errors.append({"topic_id": entry.topic_id, "reason": reason or "invalid"})
                else:
                    self._upsert(conn, user_id, tenant_id, entry.topic_id, write)
                    items.append(_bulk_item(entry.topic_id, write))
        return items, errors

    def bulk_replace(
        self, user_id: str, entries: Sequence[BulkEntry], tenant_id: str | None = None
    ) -> tuple[list[dict[str, Any]], list[str]]:
        """Atomically make ``entries`` the scope's whole override set; returns (items, deleted)."""
        with self._write() as conn:
            checked = self._check_entries(conn, entries)
            failures = [f"{entry.topic_id}: {why}" for entry, write, why in checked if not write]
            if failures:
                raise InvalidRequest("No preferences were changed. " + "; ".join(failures))
            listed = {entry.topic_id for entry in entries}
            # Only overrides of active topics form the user's visible set; overrides left on
            # archived topics are not part of it, so they are neither reset nor reported.
            existing = conn.execute(
                "SELECT o.topic_id FROM overrides o JOIN topics t ON t.id = o.topic_id"
                " JOIN sections s ON s.id = t.section_id"
                " WHERE o.user_id = ? AND o.tenant_id = ? AND t.archived = 0 AND s.archived = 0"
                " ORDER BY s.seq, t.seq",
                (user_id, _scope(tenant_id)),
            ).fetchall()
            deleted = [row["topic_id"] for row in existing if row["topic_id"] not in listed]
            conn.executemany(
                "DELETE FROM overrides WHERE user_id = ? AND tenant_id = ? AND topic_id = ?",
                [(user_id, _scope(tenant_id), topic_id) for topic_id in deleted],
            )
            items = []
            for entry, write, _ in checked:
                if write is not None:  # always, since failures were rejected above
                    self._upsert(conn, user_id, tenant_id, entry.topic_id, write)
                    items.append(_bulk_item(entry.topic_id, write))
        return items, deleted

    # ---- idempotency -----------------------------------------------------------------------

    def idempotent_response(self, key: str, method: str, path: str) -> tuple[int, Any] | None:
        """The (status, body) recorded for an Idempotency-Key on this route, if any."""
        with self._read() as conn:
            row = conn.execute(
                "SELECT status, body FROM idempotency WHERE key = ? AND method = ? AND path = ?",
                (key, method, path),
            ).fetchone()
        return None if row is None else (row["status"], json.loads(row["body"]))

    def remember_response(self, key: str, method: str, path: str, status: int, body: Any) -> None:
        """Record the first response given for an Idempotency-Key on this route."""
        with self._write() as conn:
            conn.execute(
                "INSERT OR IGNORE INTO idempotency (key, method, path, status, body)"
                " VALUES (?, ?, ?, ?, ?)",
                (key, method, path, status, json.dumps(body)),
            )

    # ---- helpers ---------------------------------------------------------------------------

    @staticmethod
    def _active_section(conn: sqlite3.Connection, section_id: str) -> sqlite3.Row:
        """The active section row, or NotFound."""
        row = conn.execute(
            "SELECT * FROM sections WHERE id = ? AND archived = 0", (section_id,)
        ).fetchone()
        if row is None:
            raise NotFound(f"Section {section_id} not found")
        return row

    @staticmethod
    def _section_topics(conn: sqlite3.Connection, section_id: str) -> list[sqlite3.Row]:
        """Active topic rows of one section, in creation order."""
        return conn.execute(
            "SELECT * FROM topics WHERE section_id = ? AND archived = 0 ORDER BY seq",
            (section_id,),
        ).fetchall()

    def _topic_in_section(
        self, conn: sqlite3.Connection, section_id: str, topic_id: str
    ) -> sqlite3.Row:
        """An active topic of an active section, or NotFound naming what is missing."""
        self._active_section(conn, section_id)
        row = conn.execute(
            "SELECT * FROM topics WHERE id = ? AND section_id = ? AND archived = 0",
            (topic_id, section_id),
        ).fetchone()
        if row is None:
            raise NotFound(f"Topic {topic_id} not found in section {section_id}")
        return row

    @staticmethod
    def _active_topic(conn: sqlite3.Connection, topic_id: str) -> sqlite3.Row | None:
        """An active topic (with its section name) by id, or None."""
        return conn.execute(_ACTIVE_TOPICS + " AND t.id = ?", (topic_id,)).fetchone()

    @staticmethod
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

    def _check_entries(
        self, conn: sqlite3.Connection, entries: Sequence[BulkEntry]
    ) -> list[tuple[BulkEntry, PreferenceWrite | None, str | None]]:
        """Resolve each bulk entry to a write, or to the reason it cannot be applied."""
        seen: set[str] = set()
        checked: list[tuple[BulkEntry, PreferenceWrite | None, str | None]] = []
        for entry in entries:
            reason = entry.error
            if reason is None and entry.topic_id in seen:
                reason = "topic_id appears more than once in this request"
            seen.add(entry.topic_id)
            if reason is None and entry.write is None:
                reason = "invalid topic entry"
            if reason is None and entry.write is not None:
                topic = self._active_topic(conn, entry.topic_id)
                if topic is None:
                    reason = f"Topic {entry.topic_id} not found"
                else:
                    reason = _write_rejection(
                        entry.topic_id, topic["default_status"], entry.write.status
                    )
            checked.append((entry, None if reason else entry.write, reason))
        return checked

    @staticmethod
    def _upsert(
        conn: sqlite3.Connection,
        user_id: str,
        tenant_id: str | None,
        topic_id: str,
        write: PreferenceWrite,
    ) -> None:
        """Insert or replace one override row."""
        conn.execute(
            "INSERT OR REPLACE INTO overrides (user_id, tenant_id, topic_id, status,"
            " has_custom_routing, custom_routing, updated) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (
                user_id,
                _scope(tenant_id),
                topic_id,
                write.status,
                int(write.has_custom_routing),
                json.dumps(list(write.custom_routing)),
                now_iso(),
            ),
        )

    @staticmethod
    def _topic_values(data: TopicInput) -> tuple[Any, ...]:
        """Column values of a topic's writable fields, in schema order."""
        return (
            data.name,
            data.description,
            data.default_status,
            json.dumps(list(data.allowed_preferences)),
            int(data.include_unsubscribe_header),
            json.dumps(list(data.routing_options)),
            json.dumps(data.topic_data),
        )

    @staticmethod
    def _topic_dict(row: sqlite3.Row) -> dict[str, Any]:
        """A topic row as Courier's WorkspacePreferenceTopicGetResponse."""
        topic: dict[str, Any] = {
            "id": row["id"],
            "name": row["name"],
            "default_status": row["default_status"],
            "allowed_preferences": json.loads(row["allowed_preferences"]),
            "include_unsubscribe_header": bool(row["include_unsubscribe_header"]),
            "routing_options": json.loads(row["routing_options"]),
            "topic_data": json.loads(row["topic_data"]),
            "created": row["created"],
            "updated": row["updated"],
        }
        if row["description"] is not None:
            topic["description"] = row["description"]
        return topic

    def _section_dict(self, conn: sqlite3.Connection, row: sqlite3.Row) -> dict[str, Any]:
        """A section row as Courier's WorkspacePreferenceGetResponse, topics embedded."""
        section: dict[str, Any] = {
            "id": row["id"],
            "name": row["name"],
            "has_custom_routing": bool(row["has_custom_routing"]),
            "routing_options": json.loads(row["routing_options"]),
            "topics": [self._topic_dict(t) for t in self._section_topics(conn, row["id"])],
            "created": row["created"],
            "updated": row["updated"],
        }
        if row["description"] is not None:
            section["description"] = row["description"]
        return section
