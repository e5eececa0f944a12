"""The preference change log: one entry per change to a user's topic, read newest first."""

from __future__ import annotations

import base64
import binascii
import json
import sqlite3
from collections.abc import Mapping
from typing import Any

from .database import Database
from .errors import InvalidRequest
from .ids import new_change_id, now_iso

DEFAULT_LOG_LIMIT = 25
# [UNCERTAIN] Courier documents the default (25) but no maximum; 100 matches its other lists.
MAX_LOG_LIMIT = 100


def _value(status: str, has_custom_routing: bool, custom_routing: list[str]) -> dict[str, Any]:
    """A PreferenceChangeLogValue: channels are "present only when has_custom_routing is true"."""
    return {
        "status": status,
        "has_custom_routing": has_custom_routing,
        "custom_routing": custom_routing if has_custom_routing else [],
    }


def record_change(
    conn: sqlite3.Connection,
    user_id: str,
    tenant_id: str | None,
    topic: sqlite3.Row,
    after: Mapping[str, Any],
    before: sqlite3.Row | None,
) -> None:
    """Append one change: ``after`` is what it set, ``before`` the override it replaced."""
    previous = None
    if before is not None:
        previous = _value(
            before["status"],
            bool(before["has_custom_routing"]),
            json.loads(before["custom_routing"]),
        )
    now = _value(after["status"], bool(after["has_custom_routing"]), list(after["custom_routing"]))
    conn.execute(
        "INSERT INTO preference_changes (id, user_id, tenant_id, topic_id, topic_name, status,"
        " has_custom_routing, custom_routing, timestamp, previous)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            new_change_id(),
            user_id,
            tenant_id,
            topic["id"],
            topic["name"],
            now["status"],
            int(now["has_custom_routing"]),
            json.dumps(now["custom_routing"]),
            now_iso(),
            None if previous is None else json.dumps(previous),
        ),
    )


def _cursor(seq: int) -> str:
    """An opaque cursor that continues after the entry numbered ``seq``."""
    return base64.urlsafe_b64encode(json.dumps({"before": seq}).encode()).decode().rstrip("=")


def _before(cursor: str) -> int:
    """The entry number a cursor continues after; InvalidRequest if it is not ours."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        before = json.loads(base64.urlsafe_b64decode(padded.encode()))["before"]
    except (binascii.Error, ValueError, TypeError, KeyError):
        before = None
    if isinstance(before, bool) or not isinstance(before, int):
        raise InvalidRequest("`cursor` is not a cursor from a previous page of this log")
    return before


def _entry(row: sqlite3.Row) -> dict[str, Any]:
    """A change row as Courier's PreferenceChangeLogEntry."""
    entry: dict[str, Any] = {
        "id": row["id"],
        "user_id": row["user_id"],
        "topic_id": row["topic_id"],
        "topic_name": row["topic_name"],
        "status": row["status"],
        "has_custom_routing": bool(row["has_custom_routing"]),
        "custom_routing": json.loads(row["custom_routing"]),
        "timestamp": row["timestamp"],
    }
    if row["tenant_id"] is not None:
        entry["tenant_id"] = row["tenant_id"]
    if row["previous"] is not None:
        entry["previous"] = json.loads(row["previous"])
    return entry


class HistoryStore(Database):
    """The change log behind GET /preferences/logs."""

    def change_log(
        self,
        user_id: str | None = None,
        tenant_id: str | None = None,
        since: str | None = None,
        limit: int = DEFAULT_LOG_LIMIT,
        cursor: str | None = None,
    ) -> dict[str, Any]:
        """One page of changes, newest first, as Courier's PreferenceLogsListResponse.

        ``since`` is a timestamp in the log's own format (UTC, milliseconds, ``Z``). Raises
        InvalidRequest for a tenant without a user, a limit out of range or a foreign cursor.
        """
        if tenant_id is not None and user_id is None:
            raise InvalidRequest("`tenant_id` is only valid together with `user_id`")
        if not 1 <= limit <= MAX_LOG_LIMIT:
            raise InvalidRequest(f"`limit` must be between 1 and {MAX_LOG_LIMIT}")
        clauses: list[str] = []
        params: list[Any] = []
        for column, value in (("user_id", user_id), ("tenant_id", tenant_id)):
            if value is not None:
                clauses.append(f"{column} = ?")
                params.append(value)
        if since is not None:
            clauses.append("timestamp >= ?")
            params.append(since)
        if cursor is not None:
            clauses.append("seq < ?")
            params.append(_before(cursor))
        where = f" WHERE {' AND '.join(clauses)}" if clauses else ""
        with self._read() as conn:
            rows = conn.execute(
                f"SELECT * FROM preference_changes{where} ORDER BY seq DESC LIMIT ?",
                (*params, limit + 1),
            ).fetchall()
        page = rows[:limit]
        paging: dict[str, Any] = {"more": len(rows) > limit}
        if paging["more"]:
            paging["cursor"] = _cursor(page[-1]["seq"])
        return {"items": [_entry(row) for row in page], "paging": paging}

    def change_count(self) -> int:
        """Number of logged preference changes across all users."""
        with self._read() as conn:
            return conn.execute("SELECT COUNT(*) FROM preference_changes").fetchone()[0]
