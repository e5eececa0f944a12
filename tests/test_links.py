"""Signed links: round trip per purpose, expiry, tampering, wrong purpose, key rotation."""

from __future__ import annotations

import time

import jwt
import pytest

from prefcenter.links import LinkClaims, LinkExpired, LinkInvalid, LinkSigner, Purpose

KEY = "k" * 40
OLD_KEY = "o" * 40
AGES = {Purpose.MANAGE: 3600, Purpose.UNSUBSCRIBE: 90 * 86400, Purpose.EMBED: 600}


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
