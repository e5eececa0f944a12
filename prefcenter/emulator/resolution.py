"""How Courier resolves a person's topic: workspace, parent tenant, tenant, user, user in tenant."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Mapping
from typing import Any

from .behaviours import Behaviours
from .digests import active_schedule_ids


def context_default(topic: sqlite3.Row, tenant_default: Mapping[str, Any] | None) -> str:
    """The topic's default in a context: the nearest tenant default, else the workspace's."""
    return tenant_default["status"] if tenant_default is not None else topic["default_status"]


def write_rejection(
    topic_id: str, default_status: str, status: str, *, refuse_required: bool = False
) -> str | None:
    """Why a user may not write ``status`` where the topic defaults to ``default_status``."""
    if status == "REQUIRED" and refuse_required:
        return (
            f"REQUIRED is a topic default, not a user choice; write OPTED_IN or OPTED_OUT "
            f"for topic {topic_id}"
        )
    if default_status == "REQUIRED" and status == "OPTED_OUT":
        return f"Topic {topic_id} is REQUIRED; a user cannot opt out of it"
    if status == "REQUIRED" and default_status != "REQUIRED":
        return (
            f"REQUIRED is a topic default, not a user choice; topic {topic_id} "
            f"defaults to {default_status}"
        )
    return None


def resolved(
    topic: sqlite3.Row,
    tenant_default: Mapping[str, Any] | None,
    override: Mapping[str, Any] | None,
) -> dict[str, Any]:
    """The status and routing one topic resolves to in one context."""
    default_status = context_default(topic, tenant_default)
    if default_status == "REQUIRED":
        # No user status beats REQUIRED, but the user's channel choice still applies.
        status = "REQUIRED"
    elif override is None or override["status"] == "REQUIRED":
        # A stored REQUIRED only came from a topic that was REQUIRED when written; once the topic
        # stops being REQUIRED that override carries no user choice, so the default applies.
        status = default_status
    else:
        status = override["status"]
    # The user's routing wins; without an override the tenant's default routing applies.
    routing = override if override is not None else tenant_default
    return {
        "status": status,
        # A routing choice made with has_custom_routing false is still echoed: Courier
        # remembers it (docs PR #278).
        "has_custom_routing": bool(routing["has_custom_routing"]) if routing else False,
        "custom_routing": json.loads(routing["custom_routing"]) if routing else [],
    }


def effective(
    topic: sqlite3.Row,
    tenant_default: Mapping[str, Any] | None,
    override: Mapping[str, Any] | None,
    behaviours: Behaviours,
    *,
    listing: bool,
) -> dict[str, Any]:
    """The TopicPreference a read (``listing``: the list, else the single read) returns."""
    value = resolved(topic, tenant_default, override)
    reported = context_default(topic, tenant_default)
    if behaviours.tenant_default_status == "workspace":
        reported = topic["default_status"]
    # Routing fields always present: Courier's iOS SDK decodes them as non-optional.
    item: dict[str, Any] = {
        "topic_id": topic["id"],
        "topic_name": topic["name"],
        "status": value["status"],
        "default_status": reported,
        "has_custom_routing": value["has_custom_routing"],
        "custom_routing": value["custom_routing"],
    }
    schedule_id = override["digest_schedule_id"] if override is not None else None
    digest = json.loads(topic["digest"]) if topic["digest"] else None
    # A choice of a schedule since deleted or disabled is omitted: the default applies then.
    if schedule_id is not None and schedule_id in active_schedule_ids(digest):
        item["digest_schedule_id"] = schedule_id
    if topic["section_id"] is not None:
        item["section_id"] = topic["section_id"]
        item["section_name"] = topic["section_name"]
    elif listing and topic["section_name"] is not None:
        # An uncatalogued topic has no section to resolve; the list still shows its group name
        # (Courier's iOS SDK groups the page by section_name), the single read leaves it out.
        item["section_name"] = topic["section_name"]
    return item
