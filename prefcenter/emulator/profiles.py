"""People's profiles in the store: the addresses Courier reaches them on (email, phone, ...).

A profile is a free-form JSON object (Courier: "any key-value pairs required by your chosen
Integrations"); POST merges into it, PUT replaces it, GET returns it under ``profile``.
"""

from __future__ import annotations

import json
from typing import Any

from .database import Database
from .ids import now_iso


class ProfileStore(Database):
    """Profiles by user id."""

    def profile(self, user_id: str) -> dict[str, Any] | None:
        """The person's profile, or None when Courier holds none."""
        with self._read() as conn:
            row = conn.execute(
                "SELECT profile FROM profiles WHERE user_id = ?", (user_id,)
            ).fetchone()
        return None if row is None else json.loads(row["profile"])

    def merge_profile(self, user_id: str, values: dict[str, Any]) -> None:
        """Merge top-level keys into the profile, creating it if absent (POST)."""
        with self._write() as conn:
            row = conn.execute(
                "SELECT profile FROM profiles WHERE user_id = ?", (user_id,)
            ).fetchone()
            merged = {**(json.loads(row["profile"]) if row else {}), **values}
            self._put(conn, user_id, merged)

    def replace_profile(self, user_id: str, values: dict[str, Any]) -> None:
        """Replace the whole profile, dropping keys not given (PUT)."""
        with self._write() as conn:
            self._put(conn, user_id, values)

    def delete_profile(self, user_id: str) -> None:
        """Forget the profile (nothing happens for one Courier never held)."""
        with self._write() as conn:
            conn.execute("DELETE FROM profiles WHERE user_id = ?", (user_id,))

    @staticmethod
    def _put(conn: Any, user_id: str, values: dict[str, Any]) -> None:
        conn.execute(
            "INSERT INTO profiles (user_id, profile, updated) VALUES (?, ?, ?)"
            " ON CONFLICT (user_id) DO UPDATE SET profile = excluded.profile,"
            " updated = excluded.updated",
            (user_id, json.dumps(values), now_iso()),
        )
