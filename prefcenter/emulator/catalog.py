"""The workspace catalog in the store: sections, their topics, uncatalogued topics, digests."""

from __future__ import annotations

import json
import sqlite3
from typing import Any

from .database import Database
from .digests import stored_digest
from .errors import Conflict, InvalidRequest, NotFound
from .ids import new_section_id, new_topic_id, now_iso
from .models import PREFERENCE_STATUSES, SectionInput, TopicInput

# Active topics with the name users' lists group them under: their section's, or for an
# uncatalogued topic (no section) its own label.
ACTIVE_TOPICS = """
SELECT t.*, COALESCE(s.name, t.section_label) AS section_name
FROM topics t LEFT JOIN sections s ON s.id = t.section_id
WHERE t.archived = 0 AND (t.section_id IS NULL OR s.archived = 0)
"""
# Page order: sections in creation order, uncatalogued topics after them.
PAGE_ORDER = " ORDER BY s.seq IS NULL, s.seq, t.seq"


def active_topic(conn: sqlite3.Connection, topic_id: str) -> sqlite3.Row | None:
    """An active topic (with its section name) by id, or None."""
    return conn.execute(ACTIVE_TOPICS + " AND t.id = ?", (topic_id,)).fetchone()


def active_topics(conn: sqlite3.Connection) -> list[sqlite3.Row]:
    """Every active topic, catalogued or not, in page order."""
    return conn.execute(ACTIVE_TOPICS + PAGE_ORDER).fetchall()


def _active_section(conn: sqlite3.Connection, section_id: str) -> sqlite3.Row:
    """The active section row, or NotFound."""
    row = conn.execute(
        "SELECT * FROM sections WHERE id = ? AND archived = 0", (section_id,)
    ).fetchone()
    if row is None:
        raise NotFound(f"Section {section_id} not found")
    return row


def _section_topics(conn: sqlite3.Connection, section_id: str) -> list[sqlite3.Row]:
    """Active topic rows of one section, in creation order."""
    return conn.execute(
        "SELECT * FROM topics WHERE section_id = ? AND archived = 0 ORDER BY seq",
        (section_id,),
    ).fetchall()


def _topic_in_section(conn: sqlite3.Connection, section_id: str, topic_id: str) -> sqlite3.Row:
    """An active topic of an active section, or NotFound naming what is missing."""
    _active_section(conn, section_id)
    row = conn.execute(
        "SELECT * FROM topics WHERE id = ? AND section_id = ? AND archived = 0",
        (topic_id, section_id),
    ).fetchone()
    if row is None:
        raise NotFound(f"Topic {topic_id} not found in section {section_id}")
    return row


def _topic_values(data: TopicInput) -> tuple[Any, ...]:
    """Column values of a topic's writable fields (digest apart), in schema order."""
    return (
        data.name,
        data.description,
        data.default_status,
        json.dumps(list(data.allowed_preferences)),
        int(data.include_unsubscribe_header),
        json.dumps(list(data.routing_options)),
        json.dumps(data.topic_data),
    )


def _digest_json(
    data: TopicInput, current: sqlite3.Row | None, *, creating: bool, stamp: str
) -> str | None:
    """The digest column after a create or replace: None (no digest) or validated JSON."""
    if data.digest is None:
        return None
    stored = json.loads(current["digest"]) if current is not None and current["digest"] else None
    return json.dumps(stored_digest(data.digest, stored, creating=creating, stamp=stamp))


class CatalogStore(Database):
    """Sections and topics of the workspace, as Courier's catalog endpoints show them."""

    # ---- sections --------------------------------------------------------------------------

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
            return self._section_dict(conn, _active_section(conn, section_id))

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
            return self._section_dict(conn, _active_section(conn, section_id))

    def replace_section(self, section_id: str, data: SectionInput) -> dict[str, Any]:
        """Replace a section's own fields (its topics are unaffected) and return it."""
        with self._write() as conn:
            _active_section(conn, section_id)
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
            return self._section_dict(conn, _active_section(conn, section_id))

    def archive_section(self, section_id: str) -> None:
        """Archive an empty section; Conflict while it still has active topics."""
        with self._write() as conn:
            _active_section(conn, section_id)
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

    # ---- topics ----------------------------------------------------------------------------

    def list_topics(self, section_id: str) -> list[dict[str, Any]]:
        """The active topics of an active section, in creation order."""
        with self._read() as conn:
            _active_section(conn, section_id)
            return [self._topic_dict(row) for row in _section_topics(conn, section_id)]

    def get_topic(self, section_id: str, topic_id: str) -> dict[str, Any]:
        """One active topic addressed through its section; NotFound otherwise."""
        with self._read() as conn:
            return self._topic_dict(_topic_in_section(conn, section_id, topic_id))

    def create_topic(
        self, section_id: str, data: TopicInput, topic_id: str | None = None
    ) -> dict[str, Any]:
        """Create a topic in an active section (id generated unless given) and return it."""
        topic_id = topic_id or new_topic_id()
        stamp = now_iso()
        with self._write() as conn:
            _active_section(conn, section_id)
            digest = _digest_json(data, None, creating=True, stamp=stamp)
            try:
                conn.execute(
                    "INSERT INTO topics (id, section_id, name, description, default_status,"
                    " allowed_preferences, include_unsubscribe_header, routing_options, topic_data,"
                    " created, updated, digest) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (topic_id, section_id, *_topic_values(data), stamp, stamp, digest),
                )
            except sqlite3.IntegrityError:
                raise Conflict(f"Topic {topic_id} already exists") from None
            return self._topic_dict(_topic_in_section(conn, section_id, topic_id))

    def replace_topic(self, section_id: str, topic_id: str, data: TopicInput) -> dict[str, Any]:
        """Replace a topic's fields (a digest left out is turned off) and return it."""
        stamp = now_iso()
        with self._write() as conn:
            current = _topic_in_section(conn, section_id, topic_id)
            digest = _digest_json(data, current, creating=False, stamp=stamp)
            conn.execute(
                "UPDATE topics SET name = ?, description = ?, default_status = ?,"
                " allowed_preferences = ?, include_unsubscribe_header = ?, routing_options = ?,"
                " topic_data = ?, updated = ?, digest = ? WHERE id = ?",
                (*_topic_values(data), stamp, digest, topic_id),
            )
            return self._topic_dict(_topic_in_section(conn, section_id, topic_id))

    def archive_topic(self, section_id: str, topic_id: str) -> None:
        """Archive a topic: it disappears from the catalog and from users' preferences."""
        with self._write() as conn:
            _topic_in_section(conn, section_id, topic_id)
            # Users' overrides are kept (archiving is soft) but become unreachable with the topic.
            conn.execute(
                "UPDATE topics SET archived = 1, updated = ? WHERE id = ?", (now_iso(), topic_id)
            )

    def set_topic_digest(
        self, section_id: str, topic_id: str, digest: dict[str, Any] | None
    ) -> dict[str, Any]:
        """Write only the topic's digest (None turns it off) and return the topic."""
        stamp = now_iso()
        with self._write() as conn:
            current = _topic_in_section(conn, section_id, topic_id)
            stored = None
            if digest is not None:
                before = json.loads(current["digest"]) if current["digest"] else None
                stored = json.dumps(stored_digest(digest, before, creating=False, stamp=stamp))
            conn.execute(
                "UPDATE topics SET digest = ?, updated = ? WHERE id = ?", (stored, stamp, topic_id)
            )
            return self._topic_dict(_topic_in_section(conn, section_id, topic_id))

    def delete_topic_digest(self, section_id: str, topic_id: str) -> None:
        """Turn the topic's digest off (template unlinked, schedules removed)."""
        self.set_topic_digest(section_id, topic_id, None)

    def check_digest_release(self, section_id: str, topic_id: str) -> None:
        """Raise unless the topic has a digest whose held messages could be released."""
        with self._read() as conn:
            if _topic_in_section(conn, section_id, topic_id)["digest"] is None:
                raise InvalidRequest(f"Topic {topic_id} has no digest to release")

    def create_legacy_topic(
        self,
        topic_id: str,
        name: str,
        default_status: str = "OPTED_IN",
        section_name: str | None = None,
    ) -> None:
        """Create an uncatalogued topic: users hold it, but no catalog section lists it."""
        # Real workspaces carry these from notification-template topics of the old preferences
        # model; they show up in users' preferences and nowhere in /preferences/sections.
        if default_status not in PREFERENCE_STATUSES:
            raise InvalidRequest(f"default_status must be one of {PREFERENCE_STATUSES}")
        stamp = now_iso()
        with self._write() as conn:
            try:
                conn.execute(
                    "INSERT INTO topics (id, section_id, name, description, default_status,"
                    " allowed_preferences, include_unsubscribe_header, routing_options, topic_data,"
                    " created, updated, section_label) VALUES"
                    " (?, NULL, ?, NULL, ?, '[]', 0, '[]', '{}', ?, ?, ?)",
                    (topic_id, name, default_status, stamp, stamp, section_name),
                )
            except sqlite3.IntegrityError:
                raise Conflict(f"Topic {topic_id} already exists") from None

    def topic_exists(self, topic_id: str) -> bool:
        """True when a topic with this id was ever created (archived ones included)."""
        with self._read() as conn:
            row = conn.execute("SELECT 1 FROM topics WHERE id = ?", (topic_id,)).fetchone()
            return row is not None

    # ---- shapes ----------------------------------------------------------------------------

    def _topic_dict(self, row: sqlite3.Row) -> dict[str, Any]:
        """A topic row as Courier's WorkspacePreferenceTopicGetResponse."""
        topic: dict[str, Any] = {"id": row["id"], "name": row["name"]}
        if self.behaviours.catalog_default_status:
            topic["default_status"] = row["default_status"]
        topic.update(
            {
                "allowed_preferences": json.loads(row["allowed_preferences"]),
                "include_unsubscribe_header": bool(row["include_unsubscribe_header"]),
                "routing_options": json.loads(row["routing_options"]),
                "topic_data": json.loads(row["topic_data"]),
                "created": row["created"],
                "updated": row["updated"],
            }
        )
        if row["description"] is not None:
            topic["description"] = row["description"]
        if row["digest"] is not None:
            topic["digest"] = json.loads(row["digest"])
        return topic

    def _section_dict(self, conn: sqlite3.Connection, row: sqlite3.Row) -> dict[str, Any]:
        """A section row as Courier's WorkspacePreferenceGetResponse, topics embedded."""
        section: dict[str, Any] = {
            "id": row["id"],
            "name": row["name"],
            "has_custom_routing": bool(row["has_custom_routing"]),
            "routing_options": json.loads(row["routing_options"]),
            "topics": [self._topic_dict(t) for t in _section_topics(conn, row["id"])],
            "created": row["created"],
            "updated": row["updated"],
        }
        if row["description"] is not None:
            section["description"] = row["description"]
        return section
