"""Switches that make the emulator act like one real Courier or another, flippable at run time."""

from __future__ import annotations

import re
from dataclasses import dataclass, fields
from typing import Any

from .models import CHANNELS

LIST_MODES: tuple[str, ...] = ("all", "overrides")
UNKNOWN_USER_ANSWERS: tuple[str, ...] = ("empty", "404")
ROUTING_402_TRIGGERS: tuple[str, ...] = ("routing", "field")
TENANT_DEFAULT_STATUSES: tuple[str, ...] = ("tenant", "workspace")

_CHOICES: dict[str, tuple[str, ...]] = {
    "list_mode": LIST_MODES,
    "unknown_user": UNKNOWN_USER_ANSWERS,
    "routing_402_trigger": ROUTING_402_TRIGGERS,
    "tenant_default_status": TENANT_DEFAULT_STATUSES,
}
_CHANNEL_NAME = re.compile(r"[a-z][a-z0-9_]*")


@dataclass
class Behaviours:
    """Which of Courier's documented or observed behaviours the emulator shows.

    The defaults are the strictest documented reading wherever the demo stays whole under it;
    channel customization stays on so the demo can show channel choice. Every field is read
    on each request, so a test may flip one on a running app
    (``app.extensions["courier_emulator"].behaviours.list_mode = "overrides"``). Assignments
    are checked as they happen, so a typo fails where it is made rather than as an odd answer.
    """

    # "all": the list holds every active topic; "overrides": only topics the user (or the user
    # in the tenant) has an override for. SDK docstring and older docs disagree.
    list_mode: str = "overrides"
    # What the list answers for a user with no stored override in any scope: "empty" (200, per
    # list_mode) or "404" (invalid_request_error "User {id} not found"). Undocumented.
    unknown_user: str = "404"
    # False: a plan without channel delivery customization, where routing writes get 402.
    channel_customization: bool = True
    # With channel_customization off, which writes get 402: "routing" = has_custom_routing true
    # or a non-empty custom_routing; "field" = any write carrying the custom_routing key at all
    # (even []) or has_custom_routing true.
    routing_402_trigger: str = "routing"
    # True: the API refuses a single-topic PUT of status REQUIRED whatever the topic's default
    # (the SDK documents only OPTED_IN/OPTED_OUT for writes). False: REQUIRED is accepted on a
    # topic whose effective default is REQUIRED. Store calls that seed state are not affected.
    refuse_required_writes: bool = True
    # In a tenant-scoped read, what `default_status` reports: "tenant" = the default after
    # tenant resolution; "workspace" = the catalog topic's own default.
    tenant_default_status: str = "tenant"
    # False: catalog topic objects omit `default_status` (it is required in the SDK's model).
    catalog_default_status: bool = True
    # Channel values beyond today's enum that this "future Courier" accepts and stores (the
    # enum grew before: inbox, 2023).
    extra_channels: tuple[str, ...] = ()

    def __setattr__(self, name: str, value: Any) -> None:
        super().__setattr__(name, _checked(name, value))

    @property
    def channels(self) -> tuple[str, ...]:
        """Every channel value writes may carry: today's enum, then the extra ones."""
        return CHANNELS + tuple(c for c in self.extra_channels if c not in CHANNELS)


_BOOLEANS = {f.name for f in fields(Behaviours) if f.type == "bool"}


def _checked(name: str, value: Any) -> Any:
    """Return ``value`` fit for the field ``name``, or raise ValueError."""
    if name in _CHOICES and value not in _CHOICES[name]:
        raise ValueError(f"{name} must be one of {_CHOICES[name]}, got {value!r}")
    if name in _BOOLEANS and not isinstance(value, bool):
        raise ValueError(f"{name} must be a bool, got {value!r}")
    if name == "extra_channels":
        if isinstance(value, str):  # a bare string would become one channel per letter
            raise ValueError("extra_channels must be a sequence of channel names, not a string")
        value = tuple(value)
        for channel in value:
            if not isinstance(channel, str) or not _CHANNEL_NAME.fullmatch(channel):
                raise ValueError(f"extra channel names are lowercase identifiers, got {channel!r}")
    return value
