"""Flask blueprint for sending: POST /send into the outbox, and the profiles it sends to."""

from __future__ import annotations

from typing import Any

from flask import Blueprint

from .api import emulator_state, idempotent, json_body
from .errors import NotFound
from .ids import new_request_id
from .send_validation import parse_send
from .validation import require_object

bp = Blueprint("courier_emulator_send", __name__)


@bp.post("/send")
@idempotent
def send_message() -> Any:
    """POST: accept a message (202) and put it in the outbox, routed to each person's email.

    A single-recipient send's requestId is its message id (Courier: "the requestId is the
    derived message_id"); several recipients get a message id each.
    """
    send = parse_send(json_body())
    request_id = new_request_id()
    if len(send.recipients) == 1:
        message_ids = [request_id]
    else:
        message_ids = [new_request_id() for _ in send.recipients]
    emulator_state().store.record_send(
        request_id,
        message_ids,
        send.recipients,
        template=send.template,
        content=send.content,
        data=send.data,
    )
    return {"requestId": request_id}, 202


# user_id uses the path converter so ids containing an encoded "/" still route.


@bp.get("/profiles/<path:user_id>")
def get_profile(user_id: str) -> Any:
    """GET: the person's profile."""
    profile = emulator_state().store.profile(user_id)
    if profile is None:
        raise NotFound(f"Profile {user_id} not found")
    return {"profile": profile}


@bp.post("/profiles/<path:user_id>")
@idempotent
def merge_profile(user_id: str) -> Any:
    """POST: merge the given keys into the profile, creating it if absent."""
    profile = _profile_of(json_body())
    emulator_state().store.merge_profile(user_id, profile)
    return {"status": "SUCCESS"}


@bp.put("/profiles/<path:user_id>")
def replace_profile(user_id: str) -> Any:
    """PUT: replace the profile whole; keys not given are removed."""
    profile = _profile_of(json_body())
    emulator_state().store.replace_profile(user_id, profile)
    return {"status": "SUCCESS"}


@bp.delete("/profiles/<path:user_id>")
def delete_profile(user_id: str) -> Any:
    """DELETE: remove the profile and the addresses it held."""
    emulator_state().store.delete_profile(user_id)
    return "", 204


def _profile_of(body: object) -> dict[str, Any]:
    return require_object(require_object(body, "request body").get("profile"), "profile")
