"""The consent record: one line per preference change, with who, what, how and when.

GDPR Art. 7(1) asks that consent can be demonstrated; the ICO lists who, when, what they
were told, how, and withdrawals. Lines are JSON, appended to a file or logged.
"""

from __future__ import annotations

import json
import logging
import threading
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from ..access.identity import Person
from ..courier import PreferenceUpdate
from ..platform.logs import current_request_id

log = logging.getLogger("prefcenter.audit")


class Via(StrEnum):
    """How a change was made."""

    MANAGE_PAGE = "manage_page"
    EMBEDDED_PAGE = "embedded_page"
    ONE_CLICK = "one_click"  # a mail provider's RFC 8058 POST
    UNSUBSCRIBE_PAGE = "unsubscribe_page"  # the button on the unsubscribe page
    UNSUBSCRIBE_UNDO = "unsubscribe_undo"
    # On an unsubscribe page, "Get it weekly instead": the person stayed, on a rarer digest.
    LESS_OFTEN = "less_often"
    UNSUBSCRIBE_ALL = "unsubscribe_all"
    UNSUBSCRIBE_ALL_UNDO = "unsubscribe_all_undo"


def consent_state(update: PreferenceUpdate) -> dict[str, Any]:
    """A topic's state as the record keeps it: exactly what Courier holds.

    The digest choice is kept when the change wrote one (null: the topic's default).
    """
    state: dict[str, Any] = {
        "status": update.status.value,
        "has_custom_routing": update.has_custom_routing,
        "channels": [str(channel) for channel in update.custom_routing],
    }
    if update.writes_digest:
        state["digest_schedule_id"] = update.digest_schedule_id
    return state


class ConsentLog:
    """Append consent records to a file (JSON lines), or to the log when no file is set."""

    def __init__(self, path: str | None) -> None:
        self._path = path
        self._lock = threading.Lock()

    def record(
        self,
        via: Via,
        person: Person,
        topic_id: str,
        topic_name: str,
        old: PreferenceUpdate,
        new: PreferenceUpdate,
    ) -> None:
        """Record one change Courier accepted; never raises.

        The change has happened in Courier whatever becomes of its record, so a failure to
        write the record (a full disk, a removed directory) must not turn the person's saved
        change into an error, nor stop the records of the save's other changes: it is logged
        as an error carrying the whole record, from which it can be restored.
        """
        entry = {
            "event": "preference_changed",
            "at": datetime.now(UTC).isoformat(timespec="milliseconds"),
            "user_id": person.user_id,
            "tenant_id": person.tenant_id,
            "topic_id": topic_id,
            "topic_name": topic_name,
            "old": consent_state(old),
            "new": consent_state(new),
            "via": via.value,
            "request_id": current_request_id(),
        }
        if self._path is None:
            log.info("preference changed", extra={"fields": entry})
            return
        line = json.dumps(entry, ensure_ascii=False) + "\n"
        try:
            with self._lock, open(self._path, "a", encoding="utf-8") as file:
                file.write(line)
        except OSError as exc:
            log.error(
                "could not write a consent record: %s",
                exc,
                extra={"fields": {"consent_record": entry}},
            )
