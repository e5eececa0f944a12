"""Signed links: round trip per purpose, expiry, tampering, wrong purpose, key rotation."""

from __future__ import annotations

import time

import jwt
import pytest

from prefcenter.access.links import LinkClaims, LinkExpired, LinkInvalid, LinkSigner, Purpose

KEY = "k" * 40
OLD_KEY = "o" * 40
AGES = {
    Purpose.MANAGE: 3600,
    Purpose.UNSUBSCRIBE: 90 * 86400,
    Purpose.EMBED: 600,
    Purpose.PREVIEW: 3600,
}


@pytest.mark.parametrize("purpose", list(Purpose))
def test_a_link_round_trips_for_its_purpose(purpose):
    signer = LinkSigner([KEY], AGES)
    claims = LinkClaims("user-1", purpose, tenant_id="acme", topic_id="pt_x", locale="de")
    assert signer.load(signer.make(claims), purpose) == claims


@pytest.mark.parametrize("purpose", list(Purpose))
def test_a_link_is_refused_for_any_other_purpose(purpose):
    signer = LinkSigner([KEY], AGES)
    token = signer.make(LinkClaims("user-1", purpose))
    for other in set(Purpose) - {purpose}:
        with pytest.raises(LinkInvalid):
            signer.load(token, other)


def test_an_expired_link_says_so():
    signer = LinkSigner([KEY], AGES)
    token = signer.make(LinkClaims("user-1", Purpose.MANAGE), now=time.time() - 3600 - 120)
    with pytest.raises(LinkExpired):
        signer.load(token, Purpose.MANAGE)


def test_an_unsubscribe_link_works_for_more_than_30_days():
    signer = LinkSigner([KEY], AGES)
    token = signer.make(LinkClaims("user-1", Purpose.UNSUBSCRIBE), now=time.time() - 31 * 86400)
    assert signer.load(token, Purpose.UNSUBSCRIBE).user_id == "user-1"


@pytest.mark.parametrize(
    "mangle",
    [
        lambda t: t[:-2] + ("AA" if not t.endswith("AA") else "BB"),
        lambda t: t.replace(".", "", 1),
        lambda t: "not-a-token",
        lambda t: "",
    ],
    ids=["bad signature", "malformed", "garbage", "empty"],
)
def test_a_tampered_link_is_invalid(mangle):
    signer = LinkSigner([KEY], AGES)
    token = signer.make(LinkClaims("user-1", Purpose.MANAGE))
    with pytest.raises(LinkInvalid):
        signer.load(mangle(token), Purpose.MANAGE)


def test_a_link_with_another_user_forged_in_is_invalid():
    signer = LinkSigner([KEY], AGES)
    payload = jwt.decode(
        signer.make(LinkClaims("user-1", Purpose.MANAGE)), options={"verify_signature": False}
    )
    forged = jwt.encode({**payload, "sub": "user-2"}, "x" * 40, algorithm="HS256")
    with pytest.raises(LinkInvalid):
        signer.load(forged, Purpose.MANAGE)


def test_an_unsigned_link_is_invalid():
    forged = jwt.encode(
        {"sub": "u", "aud": "prefcenter:manage", "iss": "prefcenter", "iat": 1, "exp": 2**40},
        None,
        algorithm="none",
    )
    with pytest.raises(LinkInvalid):
        LinkSigner([KEY], AGES).load(forged, Purpose.MANAGE)


def test_a_link_signed_with_a_previous_key_works_while_it_is_listed():
    old = LinkSigner([OLD_KEY], AGES).make(LinkClaims("user-1", Purpose.MANAGE))
    assert LinkSigner([KEY, OLD_KEY], AGES).load(old, Purpose.MANAGE).user_id == "user-1"
    with pytest.raises(LinkInvalid):
        LinkSigner([KEY], AGES).load(old, Purpose.MANAGE)


def test_new_links_are_signed_with_the_first_key():
    token = LinkSigner([KEY, OLD_KEY], AGES).make(LinkClaims("user-1", Purpose.MANAGE))
    assert LinkSigner([KEY], AGES).load(token, Purpose.MANAGE).user_id == "user-1"


@pytest.mark.parametrize("purpose", list(Purpose))
def test_a_link_minted_to_live_longer_than_its_purpose_allows_is_invalid(purpose):
    ten_years = LinkSigner([KEY], {p: 10 * 365 * 86400 for p in Purpose})
    token = ten_years.make(LinkClaims("user-1", purpose))
    with pytest.raises(LinkInvalid):
        LinkSigner([KEY], AGES).load(token, purpose)


def test_a_lifetime_is_measured_from_issue_to_expiry_with_the_leeway():
    now = int(time.time())

    def token(lifetime: int) -> str:
        payload = {
            "iss": "prefcenter",
            "aud": Purpose.MANAGE.audience,
            "sub": "user-1",
            "iat": now,
            "exp": now + lifetime,
        }
        return jwt.encode(payload, KEY, algorithm="HS256")

    signer = LinkSigner([KEY], AGES)
    assert signer.load(token(AGES[Purpose.MANAGE] + 60), Purpose.MANAGE).user_id == "user-1"
    with pytest.raises(LinkInvalid):
        signer.load(token(AGES[Purpose.MANAGE] + 61), Purpose.MANAGE)


def test_a_signer_without_a_lifetime_for_a_purpose_accepts_none_of_its_links():
    token = LinkSigner([KEY], AGES).make(LinkClaims("user-1", Purpose.EMBED))
    with pytest.raises(LinkInvalid):
        LinkSigner([KEY], {Purpose.MANAGE: 3600}).load(token, Purpose.EMBED)


def test_the_start_of_a_session_travels_in_renewed_links():
    signer = LinkSigner([KEY], AGES)
    first = signer.make(LinkClaims("user-1", Purpose.EMBED), now=time.time() - 300)
    loaded = signer.load(first, Purpose.EMBED)
    issued = jwt.decode(first, options={"verify_signature": False})["iat"]
    assert loaded.session_started == issued  # a link without `ses` began when issued
    again = signer.load(signer.make(loaded), Purpose.EMBED)
    assert again.session_started == issued
    assert again == loaded  # whom it names, not when the session began, makes it equal


def embed_token_with(**claims: object) -> str:
    """A genuine, current embed token with `claims` added as given, unchecked."""
    now = int(time.time())
    payload = {
        "iss": "prefcenter",
        "aud": Purpose.EMBED.audience,
        "sub": "user-1",
        "iat": now,
        "exp": now + 60,
        **claims,
    }
    return jwt.encode(payload, KEY, algorithm="HS256")


@pytest.mark.parametrize("ses", ["yesterday", 1.5, True, None])
def test_a_session_start_that_is_not_a_whole_number_is_invalid(ses):
    with pytest.raises(LinkInvalid):
        LinkSigner([KEY], AGES).load(embed_token_with(ses=ses), Purpose.EMBED)


# ---- What an embedded page's host hides ------------------------------------------------------


def test_an_embed_link_carries_the_parts_its_host_hides():
    signer = LinkSigner([KEY], AGES)
    claims = LinkClaims("user-1", Purpose.EMBED, hide=frozenset({"heading", "banner"}))
    token = signer.make(claims)
    assert jwt.decode(token, options={"verify_signature": False})["hide"] == ["banner", "heading"]
    assert signer.load(token, Purpose.EMBED).hide == {"heading", "banner"}
    plain = signer.make(LinkClaims("user-1", Purpose.EMBED))
    assert "hide" not in jwt.decode(plain, options={"verify_signature": False})
    assert signer.load(plain, Purpose.EMBED).hide == frozenset()


def test_parts_to_hide_may_be_given_as_a_list():
    assert LinkClaims("user-1", Purpose.EMBED, hide=["language"]).hide == {"language"}  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("purpose", "hide"),
    [
        (Purpose.EMBED, {"footer"}),
        (Purpose.EMBED, "heading"),
        (Purpose.MANAGE, {"heading"}),
        (Purpose.UNSUBSCRIBE, {"banner"}),
    ],
)
def test_only_known_parts_of_an_embedded_page_can_be_hidden(purpose, hide):
    with pytest.raises(ValueError):
        LinkClaims("user-1", purpose, topic_id="pt_x", hide=hide)


@pytest.mark.parametrize("hide", ["heading", ["footer"], [1], {"heading": True}, None])
def test_a_link_hiding_what_cannot_be_hidden_is_invalid(hide):
    with pytest.raises(LinkInvalid):
        LinkSigner([KEY], AGES).load(embed_token_with(hide=hide), Purpose.EMBED)
