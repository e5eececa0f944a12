"""Signed, expiring links that sign a person in: JWTs (HS256), one audience per purpose."""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import jwt

ISSUER = "prefcenter"
ALGORITHM = "HS256"
# Tolerate small clock differences between the sender that minted a link and this server.
LEEWAY_SECONDS = 60
# Parts of the embedded page the host page may hide, having its own: the page's heading, its
# language picker and the demo banner.
HIDEABLE = frozenset({"heading", "language", "banner"})


class Purpose(StrEnum):
    """What a link may be used for; a link for one purpose is refused for every other."""

    MANAGE = "manage"
    UNSUBSCRIBE = "unsubscribe"
    EMBED = "embed"
    # Support staff see a person's page read-only: never signs in, never saves.
    PREVIEW = "preview"

    @property
    def audience(self) -> str:
        """The JWT `aud` claim for this purpose."""
        return f"{ISSUER}:{self.value}"


class LinkError(Exception):
    """A link that cannot sign anyone in."""


class LinkExpired(LinkError):
    """A genuine link whose time is up: the person may ask for a new one.

    `locale` is the link's language, so the page saying so can speak it.
    """

    def __init__(self, message: str = "this link has expired", locale: str | None = None) -> None:
        super().__init__(message)
        self.locale = locale


class LinkInvalid(LinkError):
    """A tampered, unknown, malformed or wrong-purpose link; no detail is shown to anyone."""


@dataclass(frozen=True)
class LinkClaims:
    """Whom a link signs in, in which context, and for what."""

    user_id: str
    purpose: Purpose
    tenant_id: str | None = None
    topic_id: str | None = None
    locale: str | None = None
    # When the session this link belongs to began: an embedded page renews its token on every
    # view and carries this across, so the session as a whole can end. A loaded link without
    # the `ses` claim began when it was issued. Not part of whom the link names, so not compared.
    session_started: int | None = field(default=None, compare=False)
    # Parts of an embedded page its host hides (see HIDEABLE); kept as the token is renewed.
    hide: frozenset[str] = frozenset()
    # Preview only: who asked for it (a support agent's id), for the log of previews.
    by: str | None = None

    def __post_init__(self) -> None:
        # Accept any collection of names (a list from JSON, a tuple from the command line).
        if isinstance(self.hide, str):
            raise ValueError("'hide' is a collection of names, not one string")
        object.__setattr__(self, "hide", frozenset(self.hide))
        unknown = ", ".join(sorted(self.hide - HIDEABLE))
        if unknown:
            raise ValueError(f"cannot hide {unknown}: choose from {', '.join(sorted(HIDEABLE))}")
        if self.hide and self.purpose is not Purpose.EMBED:
            raise ValueError("only an embed link can hide parts of the page")
        if self.by is not None and self.purpose is not Purpose.PREVIEW:
            raise ValueError("only a preview link names who asked for it ('by')")
        # "." and ".." cannot name anything in a Courier path (Courier's SDK refuses them), so
        # a link naming one could never be served: refuse it when minted and when read.
        for name, value in (
            ("user_id", self.user_id),
            ("tenant_id", self.tenant_id),
            ("topic_id", self.topic_id),
        ):
            if value in (".", ".."):
                raise ValueError(f"'{name}' cannot be '.' or '..'")


class LinkSigner:
    """Mint and check links; the first key signs, every listed key is accepted."""

    def __init__(self, keys: Sequence[str], max_ages: Mapping[Purpose, int]) -> None:
        if not keys:
            raise ValueError("at least one signing key is needed")
        self._keys = list(keys)
        self._max_ages = dict(max_ages)

    def make(self, claims: LinkClaims, *, now: float | None = None) -> str:
        """Return a signed token for `claims`, expiring after the purpose's maximum age."""
        issued = int(time.time() if now is None else now)
        payload: dict[str, object] = {
            "iss": ISSUER,
            "aud": claims.purpose.audience,
            "sub": claims.user_id,
            "iat": issued,
            "exp": issued + self._max_ages[claims.purpose],
        }
        optional = {
            "tid": claims.tenant_id,
            "topic": claims.topic_id,
            "locale": claims.locale,
            "by": claims.by,
        }
        payload.update({name: value for name, value in optional.items() if value})
        if claims.session_started is not None:
            payload["ses"] = min(claims.session_started, issued)
        if claims.hide:
            payload["hide"] = sorted(claims.hide)
        return jwt.encode(payload, self._keys[0], algorithm=ALGORITHM)

    def load(self, token: str, purpose: Purpose) -> LinkClaims:
        """Return the claims of a genuine, current link for `purpose`.

        Raises LinkExpired for a genuine link past its expiry and LinkInvalid for anything
        else (bad signature, wrong purpose, missing claims, not a JWT at all, a lifetime
        longer than this purpose allows).
        """
        payload = self._decoded(token, purpose, check_expiry=True)
        self._check_lifetime(payload, purpose)
        return _claims(payload, purpose)

    def recover(
        self, token: str, purpose: Purpose, *, max_past_expiry: int, now: float | None = None
    ) -> LinkClaims:
        """Return the claims of a genuine link for `purpose`, whether or not it has expired.

        For "email me a new link": everything `load` checks but the expiry, and a link more
        than `max_past_expiry` seconds past it is refused too, so a leaked old link cannot
        keep sending mail for ever. Raises LinkInvalid; never LinkExpired.
        """
        payload = self._decoded(token, purpose, check_expiry=False)
        expires = payload["exp"]
        if not isinstance(expires, int) or isinstance(expires, bool):
            raise LinkInvalid("this link is not valid")
        self._check_lifetime(payload, purpose)
        current = time.time() if now is None else now
        if current > expires + max_past_expiry + LEEWAY_SECONDS:
            raise LinkInvalid("this link expired too long ago")
        return _claims(payload, purpose)

    def _decoded(self, token: str, purpose: Purpose, *, check_expiry: bool) -> dict[str, Any]:
        """The payload of a link for `purpose` signed with one of the keys.

        Raises LinkExpired for a genuine link past its expiry (only when `check_expiry`) and
        LinkInvalid for anything else.
        """
        for key in self._keys:
            try:
                return jwt.decode(
                    token,
                    key,
                    algorithms=[ALGORITHM],
                    audience=purpose.audience,
                    issuer=ISSUER,
                    leeway=LEEWAY_SECONDS,
                    options={
                        "require": ["exp", "iat", "sub", "aud", "iss"],
                        "verify_exp": check_expiry,
                    },
                )
            except jwt.InvalidSignatureError:
                continue  # maybe signed with an older key still listed
            except jwt.ExpiredSignatureError as exc:
                raise LinkExpired(locale=_locale_of_expired(token, key)) from exc
            except jwt.PyJWTError as exc:
                raise LinkInvalid("this link is not valid") from exc
        raise LinkInvalid("this link is not valid")

    def _check_lifetime(self, payload: Mapping[str, object], purpose: Purpose) -> None:
        """Refuse a link minted to live longer than this purpose's maximum age allows.

        Such a link is refused as invalid, not expired: this server never mints one, so it is
        not a genuine link whose time ran out, and "ask for a new link" would be the wrong
        advice to whoever holds it (a sender minting with the key and a wrong lifetime sees
        its links refused at once rather than after a while).
        """
        max_age = self._max_ages.get(purpose)
        # PyJWT has checked both are integers (or integer strings) by now.
        lifetime = int(payload["exp"]) - int(payload["iat"])  # type: ignore[call-overload]
        if max_age is None or lifetime > max_age + LEEWAY_SECONDS:
            raise LinkInvalid("this link is not valid")


def _locale_of_expired(token: str, key: str) -> str | None:
    """The `locale` claim of a genuine link past its expiry (its signature is checked)."""
    try:
        payload = jwt.decode(
            token,
            key,
            algorithms=[ALGORITHM],
            options={"verify_exp": False, "verify_aud": False, "verify_iss": False},
        )
    except jwt.PyJWTError:
        return None
    locale = payload.get("locale")
    return locale if isinstance(locale, str) else None


def _claims(payload: Mapping[str, object], purpose: Purpose) -> LinkClaims:
    def optional_text(name: str) -> str | None:
        value = payload.get(name)
        if value is None:
            return None
        if not isinstance(value, str) or not value:
            raise LinkInvalid("this link is not valid")
        return value

    user_id = payload.get("sub")
    if not isinstance(user_id, str) or not user_id.strip():
        raise LinkInvalid("this link is not valid")
    issued = int(payload["iat"])  # type: ignore[call-overload]
    started = payload.get("ses", issued)
    if not isinstance(started, int) or isinstance(started, bool):
        raise LinkInvalid("this link is not valid")
    hide = payload.get("hide", [])
    if not isinstance(hide, list) or not all(isinstance(name, str) for name in hide):
        raise LinkInvalid("this link is not valid")
    try:
        return LinkClaims(
            user_id=user_id,
            purpose=purpose,
            tenant_id=optional_text("tid"),
            topic_id=optional_text("topic"),
            locale=optional_text("locale"),
            # A session cannot have begun after the link that carries it was issued.
            session_started=min(started, issued),
            hide=frozenset(hide),
            by=optional_text("by"),
        )
    except ValueError as exc:
        raise LinkInvalid("this link is not valid") from exc
