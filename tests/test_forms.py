"""Field names: short for plain topic ids, reversible for every id."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from prefcenter.page.forms import field_key, topic_id_of

HTML_SAFE = re.compile(r"[A-Za-z0-9_-]+")


@pytest.mark.parametrize(
    "topic_id, key",
    [
        ("pt_weekly_digest", "t_pt_weekly_digest"),
        ("74Q4QGFBEX481DP6JRPMV751H4XT", "t_74Q4QGFBEX481DP6JRPMV751H4XT"),
    ],
)
def test_plain_ids_are_used_as_they_are(topic_id, key):
    assert field_key(topic_id) == key


@given(st.text(min_size=1, max_size=100))
def test_every_id_gives_a_safe_name_that_leads_back_to_it(topic_id):
    key = field_key(topic_id)
    assert HTML_SAFE.fullmatch(key)
    assert topic_id_of(key) == topic_id


def test_ids_that_only_look_alike_get_different_names():
    assert field_key("a-b") != field_key("a_b")
    assert field_key("t_x") != field_key("x")


@pytest.mark.parametrize("locale", ["en", "de", "es", "fr", "ar"])
def test_the_reason_a_topic_is_required_does_not_repeat_its_badge(app, locale):
    """The "Required" badge is followed by the reason, which does not say "Required" again."""
    from prefcenter.page.forms import topic_texts

    with app.test_request_context(f"/?lang={locale}"):
        texts = topic_texts()
    assert not texts["required_why"].casefold().startswith(texts["required"].casefold())
