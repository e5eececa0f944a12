"""Check a POST /send body as Courier does, or raise a Courier-style 400.

Courier: "You are required to specify a `to` with at least one recipient. You must also
specify either `template` or `content`" (docs, "Send a message"). The shapes follow the SDK's
`SendMessageParams` (9.13): content is Elemental sugar (`title` and `body`) or Elemental
content (`version` and `elements`). The emulator delivers to people only (`user_id` and/or
`email`); a list, audience or channel recipient is refused plainly rather than dropped.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .errors import InvalidRequest
from .outbox import Recipient
from .validation import require_object

# Recipient kinds Courier accepts that the emulator does not deliver to.
OTHER_RECIPIENTS = ("list_id", "list_pattern", "audience_id", "slack", "ms_teams", "pagerduty")
ROUTING_METHODS = ("all", "single")


@dataclass(frozen=True)
class SendRequest:
    """A send the emulator accepted: who, and what (a template or inline content)."""

    recipients: list[Recipient]
    template: str | None
    content: dict[str, Any] | None
    data: dict[str, Any] | None


def parse_send(body: object) -> SendRequest:
    """The send a POST /send body asks for; InvalidRequest (400) for anything Courier refuses."""
    message = require_object(require_object(body, "request body").get("message"), "message")
    tenant_id = _context_tenant(message)
    recipients = [_recipient(entry, tenant_id) for entry in _to(message)]
    template = message.get("template")
    content = message.get("content")
    if template is None and content is None:
        raise InvalidRequest("`message` must specify either `template` or `content`")
    if template is not None and content is not None:
        raise InvalidRequest("`message` must specify either `template` or `content`, not both")
    if template is not None and (not isinstance(template, str) or not template.strip()):
        raise InvalidRequest("`message.template` must be a non-empty string")
    if content is not None:
        _check_content(content)
    data = message.get("data")
    if data is not None and not isinstance(data, dict):
        raise InvalidRequest("`message.data` must be a JSON object")
    _check_routing(message.get("routing"))
    return SendRequest(recipients, template, content, data)


def _to(message: dict[str, Any]) -> list[Any]:
    to = message.get("to")
    if to is None:
        raise InvalidRequest("`message.to` is required: specify at least one recipient")
    entries = to if isinstance(to, list) else [to]
    if not entries:
        raise InvalidRequest("`message.to` must name at least one recipient")
    return entries


def _recipient(entry: object, tenant_id: str | None) -> Recipient:
    if not isinstance(entry, dict):
        raise InvalidRequest("each recipient in `message.to` must be a JSON object")
    values = {}
    for key in ("user_id", "email", "locale", "tenant_id"):
        value = entry.get(key)
        if value is not None and not isinstance(value, str):
            raise InvalidRequest(f"`message.to.{key}` must be a string")
        values[key] = value or None
    if not values["user_id"] and not values["email"]:
        if any(key in entry for key in OTHER_RECIPIENTS):
            raise InvalidRequest(
                "the emulator sends to people only: give `to.user_id` or `to.email`"
            )
        raise InvalidRequest("`message.to` must name a recipient (`user_id` or `email`)")
    return Recipient(
        user_id=values["user_id"],
        email=values["email"],
        locale=values["locale"],
        tenant_id=values["tenant_id"] or tenant_id,
    )


def _context_tenant(message: dict[str, Any]) -> str | None:
    context = message.get("context")
    if context is None:
        return None
    tenant_id = require_object(context, "message.context").get("tenant_id")
    if tenant_id is not None and not isinstance(tenant_id, str):
        raise InvalidRequest("`message.context.tenant_id` must be a string")
    return tenant_id or None


def _check_content(content: object) -> None:
    content = require_object(content, "message.content")
    if "elements" in content or "version" in content:
        if not isinstance(content.get("version"), str):
            raise InvalidRequest("`message.content.version` is required and must be a string")
        if not isinstance(content.get("elements"), list):
            raise InvalidRequest("`message.content.elements` is required and must be a list")
        return
    for key in ("title", "body"):
        if not isinstance(content.get(key), str):
            raise InvalidRequest(
                f"`message.content.{key}` is required and must be a string"
                " (or give Elemental `version` and `elements`)"
            )


def _check_routing(routing: object) -> None:
    if routing is None:
        return
    routing = require_object(routing, "message.routing")
    if routing.get("method") not in ROUTING_METHODS:
        raise InvalidRequest("`message.routing.method` must be one of all, single")
    if not isinstance(routing.get("channels"), list):
        raise InvalidRequest("`message.routing.channels` is required and must be a list")
