"""The outbox as pages for people: what the emulator "sent", at /outbox and /outbox/<id>.

Not part of Courier's API (Courier shows sent messages in its own app): a local mailbox, so a
demo or a test can open the message a flow sent and follow its link. It needs no API key, so
it shows no more than a caller with the emulator's key could read; serve the emulator on
loopback only, as its command does by default.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from flask import Blueprint, Response, render_template

from .api import emulator_state, inspection_page
from .outbox import OutboxMessage

TEMPLATES = Path(__file__).resolve().parent / "templates"
bp = Blueprint("courier_emulator_outbox", __name__, template_folder=str(TEMPLATES))

URL = re.compile(r"https?://[^\s<>\"']+")


@bp.get("/outbox")
@inspection_page
def outbox() -> str:
    """Every message sent, newest first."""
    return render_template("outbox/list.html", messages=emulator_state().store.outbox())


@bp.get("/outbox/<message_id>")
@inspection_page
def message(message_id: str) -> str | tuple[str, int]:
    """One message: to whom, and what it said, its links ready to follow."""
    found = emulator_state().store.outbox_message(message_id)
    if found is None:
        return render_template("outbox/missing.html"), 404
    return render_template("outbox/message.html", message=found, shown=shown(found))


@bp.get("/outbox/outbox.css")
@inspection_page
def stylesheet() -> Response:
    """The outbox pages' few styles (a stylesheet of their own: the policy allows no inline)."""
    css = (TEMPLATES / "outbox" / "outbox.css").read_text(encoding="utf-8")
    return Response(css, mimetype="text/css")


@bp.after_request
def private_page(response: Response) -> Response:
    # Messages hold sign-in links: kept out of caches, frames and other sites' referrers.
    response.headers["Content-Security-Policy"] = (
        "default-src 'none'; style-src 'self'; form-action 'none'; base-uri 'none';"
        " frame-ancestors 'none'"
    )
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "no-store"
    return response


def shown(message: OutboxMessage) -> dict[str, Any]:
    """A message as its reader sees it: subject, paragraphs of text and links, data."""
    content = message.content or {}
    if "title" in content:
        subject, texts = content.get("title", ""), [content.get("body", "")]
    else:  # Elemental content: the text of its elements
        subject = ""
        texts = [str(e.get("content", "")) for e in content.get("elements", []) if "content" in e]
    paragraphs = [_linked(part) for text in texts for part in str(text).split("\n\n") if part]
    return {"subject": subject, "paragraphs": paragraphs, "data": _data_rows(message.data)}


def _linked(text: str) -> list[tuple[str, str]]:
    """Text cut into ("text", ...) and ("link", url) pieces, as a mail reader links URLs."""
    pieces: list[tuple[str, str]] = []
    end = 0
    for found in URL.finditer(text):
        pieces.append(("text", text[end : found.start()]))
        pieces.append(("link", found.group()))
        end = found.end()
    pieces.append(("text", text[end:]))
    return [piece for piece in pieces if piece[1]]


def _data_rows(data: dict[str, Any]) -> list[tuple[str, list[tuple[str, str]]]]:
    return [(str(key), _linked(str(value))) for key, value in data.items()]
