"""SQLite-backed state of the emulated Courier workspace: catalog, tenants, users, history,
profiles and the outbox of messages sent."""

from __future__ import annotations

import json
from typing import Any

from .catalog import CatalogStore
from .history import HistoryStore
from .ids import new_section_id, new_topic_id, now_iso
from .outbox import OutboxStore
from .preferences import PreferenceStore
from .profiles import ProfileStore
from .tenants import TenantStore

__all__ = ["Store", "new_section_id", "new_topic_id", "now_iso"]


class Store(CatalogStore, TenantStore, PreferenceStore, HistoryStore, ProfileStore, OutboxStore):
    """The emulator's state in one SQLite connection; ``behaviours`` shape what it answers."""

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
