"""Who is signed in: set only from a verified link, read only from the session."""

from __future__ import annotations

import time
from dataclasses import dataclass
from enum import StrEnum

from flask import session

from ..platform.i18n import SESSION_KEY, remember_locale
from .links import LinkClaims

# Session keys: whom the session is for, how it began, and when it ends (if it does).
USER_KEY = "user_id"
TENANT_KEY = "tenant_id"
VIA_KEY = "via"
ENDS_KEY = "ends"


class SignedInBy(StrEnum):
    """How a session began; kept in it."""

    MANAGE_LINK = "manage_link"
    # "Manage all preferences" on an unsubscribe page: a short session, as unsubscribe links
    # travel in mail headers that providers, scanners and forwards see.
    UNSUBSCRIBE_LINK = "unsubscribe_link"


@dataclass(frozen=True)
class Person:
    """The one user whose preferences this request may read and write."""

    user_id: str
    tenant_id: str | None = None


def sign_in(
    claims: LinkClaims,
    *,
    by: SignedInBy = SignedInBy.MANAGE_LINK,
    lifetime: int | None = None,
) -> Person:
    """Start a session for the person a verified link names, replacing any other.

    The link's language (its `locale` claim) is kept; without one, a language picked before.
    With a `lifetime` (seconds), the session ends that long from now whatever is done in it.
    """
    picked_before = session.get(SESSION_KEY)
    session.clear()
    remember_locale(claims.locale, picked_before)
    session[USER_KEY] = claims.user_id
    if claims.tenant_id:
        session[TENANT_KEY] = claims.tenant_id
    session[VIA_KEY] = by.value
    if lifetime is not None:
        session[ENDS_KEY] = int(time.time()) + lifetime
    return Person(claims.user_id, claims.tenant_id)


def sign_out() -> None:
    """End the session, keeping only the language picked in it."""
    locale = session.get(SESSION_KEY)
    session.clear()
    remember_locale(locale)


def current_person() -> Person | None:
    """Return the signed-in person, or None (also once a session with an end has ended)."""
    user_id = session.get(USER_KEY)
    if not isinstance(user_id, str) or not user_id:
        return None
    ends = session.get(ENDS_KEY)
    if ends is not None and (not isinstance(ends, int) or time.time() >= ends):
        sign_out()
        return None
    tenant_id = session.get(TENANT_KEY)
    return Person(user_id, tenant_id if isinstance(tenant_id, str) and tenant_id else None)


def masked(user_id: str) -> str:
    """A user id as a page may show it: enough to recognise, never the whole of it.

    At most half the characters are shown (at most two at the start and three at the end),
    so an id that is an email address never appears whole: "alice@example.com" is "al…com",
    "user-1" is "u…-1".
    """
    shown = len(user_id) // 2
    head = min(2, shown // 2)
    tail = min(3, shown - head)
    return f"{user_id[:head]}…{user_id[len(user_id) - tail :] if tail else ''}"
