"""The emulator's SQLite database: schema, upgrades of older files, locking and transactions."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from .behaviours import Behaviours

# topics.section_id is NULL for an uncatalogued ("legacy") topic, which no section lists;
# section_label is then the group name users' lists show for it, if any.
_TOPICS_TABLE = """
CREATE TABLE IF NOT EXISTS topics (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    section_id TEXT REFERENCES sections(id),
    name TEXT NOT NULL,
    description TEXT,
    default_status TEXT NOT NULL,
    allowed_preferences TEXT NOT NULL,
    include_unsubscribe_header INTEGER NOT NULL,
    routing_options TEXT NOT NULL,
    topic_data TEXT NOT NULL,
    created TEXT NOT NULL,
    updated TEXT NOT NULL,
    archived INTEGER NOT NULL DEFAULT 0,
    section_label TEXT,
    digest TEXT
);
"""

_SCHEMA = (
    """
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
"""
    + _TOPICS_TABLE
    + """
-- tenant_id '' is the user's own (tenant-less) scope; NULL would defeat the primary key.
CREATE TABLE IF NOT EXISTS overrides (
    user_id TEXT NOT NULL,
    tenant_id TEXT NOT NULL,
    topic_id TEXT NOT NULL,
    status TEXT NOT NULL,
    has_custom_routing INTEGER NOT NULL,
    custom_routing TEXT NOT NULL,
    updated TEXT NOT NULL,
    digest_schedule_id TEXT,
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
CREATE TABLE IF NOT EXISTS tenants (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    parent_tenant_id TEXT,
    brand_id TEXT,
    properties TEXT,
    user_profile TEXT,
    created TEXT NOT NULL,
    updated TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS tenant_defaults (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    topic_id TEXT NOT NULL,
    status TEXT NOT NULL,
    has_custom_routing INTEGER NOT NULL,
    custom_routing TEXT NOT NULL,
    UNIQUE (tenant_id, topic_id)
);
-- tenant_id NULL: the change was made outside any tenant.
CREATE TABLE IF NOT EXISTS preference_changes (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    user_id TEXT NOT NULL,
    tenant_id TEXT,
    topic_id TEXT NOT NULL,
    topic_name TEXT NOT NULL,
    status TEXT NOT NULL,
    has_custom_routing INTEGER NOT NULL,
    custom_routing TEXT NOT NULL,
    timestamp TEXT NOT NULL,
    previous TEXT
);
CREATE INDEX IF NOT EXISTS preference_changes_by_user
    ON preference_changes (user_id, tenant_id, seq);
-- Profiles: what Courier knows of a person (email, phone_number, ...), one JSON object each.
CREATE TABLE IF NOT EXISTS profiles (
    user_id TEXT PRIMARY KEY,
    profile TEXT NOT NULL,
    updated TEXT NOT NULL
);
-- The outbox: every message POST /send accepted, as it would have been delivered. address is
-- NULL when the person had no email to send to (status UNROUTABLE).
CREATE TABLE IF NOT EXISTS outbox (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    request_id TEXT NOT NULL,
    user_id TEXT,
    tenant_id TEXT,
    address TEXT,
    template TEXT,
    content TEXT,
    data TEXT,
    locale TEXT,
    status TEXT NOT NULL,
    reason TEXT,
    enqueued TEXT NOT NULL
);
"""
)


def _columns(conn: sqlite3.Connection, table: str) -> dict[str, sqlite3.Row]:
    """The table's columns by name, as PRAGMA table_info rows."""
    return {row["name"]: row for row in conn.execute(f"PRAGMA table_info({table})")}


def _upgrade(conn: sqlite3.Connection) -> None:
    """Bring a database file written by an older emulator up to the current schema."""
    topic_columns = _columns(conn, "topics")
    if "section_label" not in topic_columns:
        # SQLite cannot drop NOT NULL from section_id in place: rebuild the table, keeping seq
        # (page order) and every row. Nothing references topics, so the rename is safe.
        kept = ", ".join(topic_columns)
        conn.execute("ALTER TABLE topics RENAME TO topics_before_upgrade")
        conn.execute(_TOPICS_TABLE)
        conn.execute(f"INSERT INTO topics ({kept}) SELECT {kept} FROM topics_before_upgrade")
        conn.execute("DROP TABLE topics_before_upgrade")
    if "digest_schedule_id" not in _columns(conn, "overrides"):
        conn.execute("ALTER TABLE overrides ADD COLUMN digest_schedule_id TEXT")


class Database:
    """One SQLite connection shared by every thread, serialised by a lock."""

    def __init__(self, db_path: str = ":memory:", behaviours: Behaviours | None = None) -> None:
        # ':memory:' must be a single database for the whole app, and a lock around each use
        # makes sharing one connection safe (check_same_thread=False).
        self.behaviours = behaviours if behaviours is not None else Behaviours()
        self._lock = threading.RLock()
        self._conn = sqlite3.connect(db_path, check_same_thread=False, isolation_level=None)
        self._conn.row_factory = sqlite3.Row
        with self._lock:
            self._conn.execute("PRAGMA foreign_keys = ON")
            self._conn.executescript(_SCHEMA)
            with self._write() as conn:
                _upgrade(conn)

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
        """Run a block as one transaction: committed on success, rolled back on any error.

        A COMMIT that fails (a file locked by another process, a disk I/O error) leaves SQLite's
        transaction open, so it is rolled back too: otherwise every later BEGIN would fail.
        """
        with self._lock:
            conn = self._conn
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
                conn.execute("COMMIT")
            except BaseException:
                if conn.in_transaction:  # SQLite may already have rolled back on its own
                    conn.execute("ROLLBACK")
                raise
