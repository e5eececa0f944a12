"""Flask blueprint for the workspace catalog: sections, topics, digests and the change log."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, request

from .api import emulator_state, idempotent, json_body
from .errors import InvalidRequest
from .validation import parse_log_query, parse_section, parse_topic, require_object

bp = Blueprint("courier_emulator_catalog", __name__)

# [UNCERTAIN] Courier does not document the create status; 201 is the REST convention and the
# SDK accepts any 2xx.


@bp.get("/preferences/sections")
def list_sections() -> Any:
    """GET: every active section with its topics, in creation order."""
    return {"results": emulator_state().store.list_sections()}


@bp.post("/preferences/sections")
@idempotent
def create_section() -> Any:
    """POST: create a section with a generated id."""
    store = emulator_state().store
    return store.create_section(parse_section(json_body(), store.behaviours.channels)), 201


@bp.get("/preferences/sections/<section_id>")
def get_section(section_id: str) -> Any:
    """GET: one section with its topics."""
    return emulator_state().store.get_section(section_id)


@bp.put("/preferences/sections/<section_id>")
def replace_section(section_id: str) -> Any:
    """PUT: full replacement of the section's fields; its topics are unaffected."""
    store = emulator_state().store
    return store.replace_section(section_id, parse_section(json_body(), store.behaviours.channels))


@bp.delete("/preferences/sections/<section_id>")
def archive_section(section_id: str) -> Any:
    """DELETE: archive an empty section (409 while it has topics)."""
    emulator_state().store.archive_section(section_id)
    return "", 204


@bp.get("/preferences/sections/<section_id>/topics")
def list_topics(section_id: str) -> Any:
    """GET: the section's active topics."""
    return {"results": emulator_state().store.list_topics(section_id)}


@bp.post("/preferences/sections/<section_id>/topics")
@idempotent
def create_topic(section_id: str) -> Any:
    """POST: create a topic in the section with a generated ``pt_`` id."""
    store = emulator_state().store
    topic = parse_topic(json_body(), store.behaviours.channels)
    return store.create_topic(section_id, topic), 201


@bp.get("/preferences/sections/<section_id>/topics/<topic_id>")
def get_topic(section_id: str, topic_id: str) -> Any:
    """GET: one topic of the section."""
    return emulator_state().store.get_topic(section_id, topic_id)


@bp.put("/preferences/sections/<section_id>/topics/<topic_id>")
def replace_topic(section_id: str, topic_id: str) -> Any:
    """PUT: full replacement of the topic's fields."""
    store = emulator_state().store
    topic = parse_topic(json_body(), store.behaviours.channels)
    return store.replace_topic(section_id, topic_id, topic)


@bp.delete("/preferences/sections/<section_id>/topics/<topic_id>")
def archive_topic(section_id: str, topic_id: str) -> Any:
    """DELETE: archive the topic; it leaves the catalog and users' preference lists."""
    emulator_state().store.archive_topic(section_id, topic_id)
    return "", 204


@bp.delete("/preferences/sections/<section_id>/topics/<topic_id>/digest")
def delete_topic_digest(section_id: str, topic_id: str) -> Any:
    """DELETE: turn the topic's digest off, like ``digest: null`` on a replace."""
    emulator_state().store.delete_topic_digest(section_id, topic_id)
    return "", 204


@bp.post("/preferences/sections/<section_id>/topics/<topic_id>/digest/release")
def release_topic_digest(section_id: str, topic_id: str) -> Any:
    """POST: send one recipient's held digest now; the emulator holds none, so nothing goes."""
    body = require_object(json_body(), "request body")
    user_id = body.get("user_id")
    if not isinstance(user_id, str) or not user_id:
        raise InvalidRequest("`user_id` is required: there is no release for everyone")
    tenant_id = body.get("tenant_id")
    if tenant_id is not None and not isinstance(tenant_id, str):
        raise InvalidRequest("`tenant_id` must be a string")
    emulator_state().store.check_digest_release(section_id, topic_id)
    return "", 204


@bp.get("/preferences/logs")
def list_preference_logs() -> Any:
    """GET: preference changes, newest first, a page at a time."""
    return emulator_state().store.change_log(**parse_log_query(request.args))
