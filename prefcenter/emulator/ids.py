"""Timestamps and generated ids shaped like Courier's."""

from __future__ import annotations

import secrets
import time
from datetime import UTC, datetime

_NANOID_ALPHABET = "_-0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
_CROCKFORD = "0123456789abcdefghjkmnpqrstvwxyz"


def now_iso() -> str:
    """Current UTC time as ISO-8601 with milliseconds and a ``Z`` suffix."""
    return iso(datetime.now(UTC))


def iso(moment: datetime) -> str:
    """An aware datetime as UTC ISO-8601 with milliseconds and a ``Z`` suffix."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _ulid() -> str:
    """A lowercase Crockford ULID: 48 bits of milliseconds then 80 random bits."""
    value = (int(time.time() * 1000) << 80) | secrets.randbits(80)
    return "".join(_CROCKFORD[(value >> shift) & 31] for shift in range(125, -1, -5))


def new_section_id() -> str:
    """A 21-character nanoid, the shape of Courier's section ids (``pHdYzLqMu12XNxih5EoDJ``)."""
    return "".join(secrets.choice(_NANOID_ALPHABET) for _ in range(21))


def new_topic_id() -> str:
    """A ``pt_`` + lowercase ULID, the shape of API-created topic ids (``pt_01kx4h2j...``)."""
    return "pt_" + _ulid()


def new_schedule_id() -> str:
    """A ``sch_`` + lowercase ULID, the shape of API-created digest schedule ids."""
    return "sch_" + _ulid()


def new_change_id() -> str:
    """An id for one preference change-log entry (Courier does not document their shape)."""
    return "pcl_" + _ulid()


def new_request_id() -> str:
    """A send's ``requestId`` in Courier's shape: ``1-`` + seconds in hex + ``-`` + 24 hex."""
    return f"1-{int(time.time()):08x}-{secrets.token_hex(12)}"
