"""Minting the public URLs people open: manage, one-click unsubscribe, embed and preview links."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from ..courier import CourierClient, CourierNotFound, Section
from ..platform.config import DEFAULTS, load_config
from .links import LinkClaims, LinkSigner, Purpose

# Where each purpose's token is opened.
PATHS = {
    Purpose.MANAGE: "/l/{token}",
    Purpose.UNSUBSCRIBE: "/u/{token}",
    Purpose.EMBED: "/e/{token}/",
    Purpose.PREVIEW: "/preview/{token}",
}


class UnknownTopic(ValueError):
    """An unsubscribe link would name a topic Courier does not have: it could never work."""


def check_topic(
    claims: LinkClaims, catalog: Callable[[], Iterable[Section]], courier: CourierClient
) -> None:
    """Refuse an unsubscribe link for a topic Courier does not have.

    The catalog answers for most topics; a topic it does not list (a legacy one) is asked of
    Courier. Raises UnknownTopic, or CourierUnavailable when Courier cannot say.
    """
    if claims.purpose is not Purpose.UNSUBSCRIBE or not claims.topic_id:
        return
    if any(topic.id == claims.topic_id for section in catalog() for topic in section.topics):
        return
    try:
        courier.get_preference(claims.user_id, claims.topic_id)
    except CourierNotFound as exc:
        raise UnknownTopic(f"Courier has no topic {claims.topic_id!r}") from exc


@dataclass(frozen=True)
class MintedLink:
    """A signed link and, for unsubscribe links, the email headers that go with it."""

    url: str
    token: str
    purpose: Purpose
    expires_at: int

    @property
    def email_headers(self) -> dict[str, str]:
        """RFC 8058 headers for an unsubscribe link; empty for other purposes."""
        if self.purpose is not Purpose.UNSUBSCRIBE:
            return {}
        return {
            "List-Unsubscribe": f"<{self.url}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        }

    def to_json(self) -> dict[str, Any]:
        """The link as the minting endpoint returns it."""
        body: dict[str, Any] = {
            "url": self.url,
            "token": self.token,
            "purpose": self.purpose.value,
            "expires_at": self.expires_at,
        }
        if self.email_headers:
            body["headers"] = self.email_headers
        return body


MAX_AGE_SETTINGS = {
    Purpose.MANAGE: "MANAGE_LINK_MAX_AGE",
    Purpose.UNSUBSCRIBE: "UNSUBSCRIBE_LINK_MAX_AGE",
    Purpose.EMBED: "EMBED_LINK_MAX_AGE",
    Purpose.PREVIEW: "PREVIEW_LINK_MAX_AGE",
}


def max_ages(config: Mapping[str, Any]) -> dict[Purpose, int]:
    """Each purpose's link lifetime, in seconds, from the settings.

    A purpose the mapping leaves out gets its default lifetime, so code that builds a minter
    from its own settings keeps working when a release adds a purpose.
    """
    return {purpose: config.get(key, DEFAULTS[key]) for purpose, key in MAX_AGE_SETTINGS.items()}


class LinkMinter:
    """Sign claims and turn them into the URL a person opens."""

    def __init__(self, signer: LinkSigner, public_base_url: str, ages: Mapping[Purpose, int]):
        self.signer = signer
        self._base = public_base_url.rstrip("/")
        self._ages = dict(ages)

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> LinkMinter:
        """Build a minter from checked settings (see prefcenter.platform.config)."""
        ages = max_ages(config)
        return cls(LinkSigner(config["LINK_SIGNING_KEYS"], ages), config["PUBLIC_BASE_URL"], ages)

    @classmethod
    def from_environment(cls, **overrides: Any) -> LinkMinter:
        """Build a minter from the same environment variables the app reads."""
        return cls.from_config(load_config(overrides))

    def mint(self, claims: LinkClaims, *, now: float | None = None) -> MintedLink:
        """Return a signed link for `claims`; unsubscribe links must name a topic."""
        if claims.purpose is Purpose.UNSUBSCRIBE and not claims.topic_id:
            raise ValueError("an unsubscribe link needs a topic")
        issued = time.time() if now is None else now
        token = self.signer.make(claims, now=issued)
        return MintedLink(
            url=self._base + PATHS[claims.purpose].format(token=token),
            token=token,
            purpose=claims.purpose,
            expires_at=int(issued) + self._ages[claims.purpose],
        )

    def url(self, claims: LinkClaims) -> str:
        """Return just the URL of a new link for `claims`."""
        return self.mint(claims).url
