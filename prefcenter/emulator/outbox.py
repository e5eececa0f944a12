"""The outbox: every message POST /send accepted, with the address it would have gone to.

Courier accepts a send (202) before it routes it, so a message to a person with no email
address is accepted too and only then fails: its log shows it UNROUTABLE, "No Valid Delivery
Channel" (NO_CHANNELS). The outbox records it the same way, with no address.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from .database import Database
from .ids import now_iso

SENT = "SENT"
UNROUTABLE = "UNROUTABLE"
NO_CHANNELS = "NO_CHANNELS"


@dataclass(frozen=True)
class Recipient:
    """One person a send names: by user id (address from their profile) and/or by email."""

    user_id: str | None = None
    email: str | None = None
    locale: str | None = None
    tenant_id: str | None = None


@dataclass(frozen=True)
class OutboxMessage:
    """One message as the emulator would have delivered it."""

    id: str
    request_id: str
    user_id: str | None
    tenant_id: str | None
    address: str | None
    template: str | None
    content: dict[str, Any] | None
    data: dict[str, Any]
    locale: str | None
    status: str
    reason: str | None
    enqueued: str

    @property
    def delivered(self) -> bool:
        """Whether it reached an address (else it is undeliverable)."""
        return self.status == SENT


class OutboxStore(Database):
    """Messages sent, newest last; profiles (see ProfileStore) give their addresses."""

    def record_send(
        self,
        request_id: str,
        message_ids: list[str],
        recipients: list[Recipient],
        *,
        template: str | None,
        content: dict[str, Any] | None,
        data: dict[str, Any] | None,
    ) -> None:
        """Add one message per recipient, each routed to its email or its profile's."""
        with self._write() as conn:
            for message_id, recipient in zip(message_ids, recipients, strict=True):
                address = recipient.email or _profile_email(conn, recipient.user_id)
                conn.execute(
                    "INSERT INTO outbox (id, request_id, user_id, tenant_id, address, template,"
                    " content, data, locale, status, reason, enqueued)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        message_id,
                        request_id,
                        recipient.user_id,
                        recipient.tenant_id,
                        address,
                        template,
                        None if content is None else json.dumps(content),
                        json.dumps(data or {}),
                        recipient.locale,
                        SENT if address else UNROUTABLE,
                        None if address else NO_CHANNELS,
                        now_iso(),
                    ),
                )

    def outbox(self) -> list[OutboxMessage]:
        """Every message sent, newest first."""
        with self._read() as conn:
            rows = conn.execute("SELECT * FROM outbox ORDER BY seq DESC").fetchall()
        return [_message(row) for row in rows]

    def outbox_message(self, message_id: str) -> OutboxMessage | None:
        """One message by its id, or None."""
        with self._read() as conn:
            row = conn.execute("SELECT * FROM outbox WHERE id = ?", (message_id,)).fetchone()
        return None if row is None else _message(row)


def _profile_email(conn: Any, user_id: str | None) -> str | None:
    if not user_id:
        return None
    row = conn.execute("SELECT profile FROM profiles WHERE user_id = ?", (user_id,)).fetchone()
    if row is None:
        return None
    email = json.loads(row["profile"]).get("email")
    return email if isinstance(email, str) and email.strip() else None


def _message(row: Any) -> OutboxMessage:
    return OutboxMessage(
        id=row["id"],
        request_id=row["request_id"],
        user_id=row["user_id"],
        tenant_id=row["tenant_id"],
        address=row["address"],
        template=row["template"],
        content=None if row["content"] is None else json.loads(row["content"]),
        data=json.loads(row["data"]),
        locale=row["locale"],
        status=row["status"],
        reason=row["reason"],
        enqueued=row["enqueued"],
    )
