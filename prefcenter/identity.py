"""Who is signed in: set only from a verified link, read only from the session."""

from __future__ import annotations

from dataclasses import dataclass

from flask import session

from .i18n import SESSION_KEY, remember_locale
from .links import LinkClaims


@dataclass(frozen=True)
class Person:
    """The one user whose preferences this request may read and write."""

    user_id: str
    tenant_id: str | None = None


def sign_in(claims: LinkClaims) -> Person:
    """Start a session for the person a verified link names, replacing any other.

    The link's language (its `locale` claim) is kept; without one, a language picked before.
    """
    picked_before = session.get(SESSION_KEY)
    session.clear()
    remember_locale(claims.locale, picked_before)
    session["user_id"] = claims.user_id
    if claims.tenant_id:
        session["tenant_id"] = claims.tenant_id
    return Person(claims.user_id, claims.tenant_id)


def current_person() -> Person | None:
    """Return the signed-in person, or None."""
    user_id = session.get("user_id")
    if not isinstance(user_id, str) or not user_id:
        return None
    tenant_id = session.get("tenant_id")
    return Person(user_id, tenant_id if isinstance(tenant_id, str) and tenant_id else None)
