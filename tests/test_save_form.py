"""The submitted form: WTForms fields only for the topics posted otherwise than the page posts
them as shown, and nothing a save decides changes for it."""

from __future__ import annotations

from typing import Any
from unittest import mock

import pytest
from flask import Flask, get_template_attribute
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from werkzeug.datastructures import MultiDict

from prefcenter.courier import ChannelClassification, DigestSchedule
from prefcenter.page import forms
from prefcenter.page.forms import (
    build_preferences_form,
    field_key,
    posted_as_shown,
    topic_field_names,
    topic_texts,
)
from prefcenter.page.preferences import SectionState, TopicState

EMAIL, PUSH, SMS = (
    ChannelClassification.EMAIL,
    ChannelClassification.PUSH,
    ChannelClassification.SMS,
)
SCHEDULES = (
    DigestSchedule("daily", "daily", time="09:00", timezone="UTC", is_default=True),
    DigestSchedule("weekly", "weekly", time="09:00", timezone="UTC", day_of_week="monday"),
)


@st.composite
def topics(draw: Any, topic_id: str) -> TopicState:
    """A topic in any state the page can show: required or not, on or off, routing held or
    not (channels the page no longer offers included), schedules and a held choice (one no
    longer offered included)."""
    options = draw(st.sampled_from([(), (EMAIL,), (EMAIL, PUSH), (EMAIL, PUSH, SMS)]))
    required = draw(st.booleans())
    held = draw(st.lists(st.sampled_from([EMAIL, PUSH, SMS, "whatsapp"]), unique=True))
    schedules = draw(st.sampled_from([(), SCHEDULES]))
    return TopicState(
        topic_id=topic_id,
        name=f"Topic {topic_id}",
        description="",
        required=required,
        opted_in=required or draw(st.booleans()),
        has_custom_routing=draw(st.booleans()),
        custom_routing=tuple(held),
        channel_options=options,
        digest_schedules=schedules,
        digest_schedule_id=draw(st.sampled_from([None, "daily", "weekly", "retired"]))
        if schedules
        else None,
    )


STATUS_POSTS = [[], ["OPTED_IN"], ["OPTED_OUT"], ["REQUIRED"], ["maybe"], ["OPTED_IN", "OPTED_OUT"]]
CHANNEL_VALUES = ["email", "push", "sms", "whatsapp", "pigeon"]
DIGEST_POSTS = [[], ["daily"], ["weekly"], ["retired"], ["daily", "weekly"]]


@st.composite
def posts(draw: Any, topic: TopicState) -> list[tuple[str, str]]:
    """What a browser (or anyone) may post for a topic: mostly the page's own values, else
    anything, valid or not."""
    if draw(st.booleans()):
        values = posted_as_shown(topic)
    else:
        values = (
            draw(st.sampled_from(STATUS_POSTS)),
            draw(st.lists(st.sampled_from(CHANNEL_VALUES), max_size=4)),
            draw(st.sampled_from(DIGEST_POSTS)),
        )
    return _post(topic, values)


def _post(topic: TopicState, values: Any) -> list[tuple[str, str]]:
    """The (name, value) pairs of a topic's status, channels and digest values."""
    names = topic_field_names(field_key(topic.topic_id))
    return [(name, value) for name, posted in zip(names, values, strict=True) for value in posted]


@st.composite
def saves(draw: Any) -> tuple[tuple[SectionState, ...], list[tuple[str, str]]]:
    shown = [draw(topics(f"pt_{i}")) for i in range(draw(st.integers(1, 6)))]
    page = (SectionState("sec", "Section", "", (EMAIL, PUSH, SMS), tuple(shown)),)
    body = [("rendered", "record")]
    for topic in shown:
        body += draw(posts(topic))
    return page, body


def _every_topic_through_wtforms(topic: TopicState) -> None:
    return None  # matches no post: every topic gets WTForms fields, as before this split


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture], max_examples=300)
@given(saves())
def test_a_save_decides_the_same_whichever_topics_wtforms_parses(
    app: Flask, save: tuple[tuple[SectionState, ...], list[tuple[str, str]]]
) -> None:
    page, body = save
    with app.test_request_context("/", method="POST", data=MultiDict(body)):
        split = build_preferences_form(page, "record", submitted=True)
        with mock.patch.object(forms, "posted_as_shown", _every_topic_through_wtforms):
            whole = build_preferences_form(page, "record", submitted=True)
        assert len(whole.asked) == len(page[0].topics)

        assert split.validate() == whole.validate()
        assert split.error_summary() == whole.error_summary()
        assert split.choices() == whole.choices()
        # A refused save shows the page again: every topic's row reads the same either way.
        row = get_template_attribute("_macros.html", "topic_controls")
        texts = topic_texts()
        for topic in page[0].topics:
            assert row(split, topic, texts, "why") == row(whole, topic, texts, "why")


def test_a_save_of_one_topic_makes_fields_for_that_topic_alone(app: Flask) -> None:
    shown = tuple(
        TopicState(f"pt_{i}", f"Topic {i}", "", False, True, False, (), (EMAIL, PUSH))
        for i in range(40)
    )
    page = (SectionState("sec", "Section", "", (EMAIL, PUSH), shown),)
    body = [("rendered", "record")]
    for topic in shown:
        values = posted_as_shown(topic)
        if topic.topic_id == "pt_7":
            values = ([], values[1], values[2])  # switched off
        body += _post(topic, values)
    with app.test_request_context("/", method="POST", data=MultiDict(body)):
        form = build_preferences_form(page, "record", submitted=True)

        assert form.asked == {"pt_7"}
        assert sorted(form._fields) == [
            "rendered",
            "t_pt_7-channels",
            "t_pt_7-digest",
            "t_pt_7-status",
        ]
        assert form.validate()
        changed = {t: c for t, c in form.choices().items() if c.differs_from(shown[int(t[3:])])}
        assert list(changed) == ["pt_7"] and not changed["pt_7"].opted_in


@pytest.mark.parametrize(
    "tampered",
    [
        ("t_pt_1-status", "REQUIRED"),  # a status the page never posts for an optional topic
        ("t_pt_1-channels", "pigeon"),  # a channel not on offer
        ("t_pt_1-status", "OPTED_IN"),  # the same value twice: not the page's own post
    ],
)
def test_any_value_the_page_would_not_post_goes_through_wtforms(
    app: Flask, tampered: tuple[str, str]
) -> None:
    topic = TopicState("pt_1", "Topic 1", "", False, True, False, (), (EMAIL,))
    page = (SectionState("sec", "Section", "", (EMAIL,), (topic,)),)
    body = [("rendered", "record"), ("t_pt_1-status", "OPTED_IN"), ("t_pt_1-channels", "email")]
    with app.test_request_context("/", method="POST", data=MultiDict([*body, tampered])):
        form = build_preferences_form(page, "record", submitted=True)

        assert form.asked == {"pt_1"}
        if tampered[1] == "OPTED_IN":
            assert form.validate()  # twice the same "on" is still "on"
        else:
            assert not form.validate()
            assert [field for field, _ in form.error_summary()] == [tampered[0]]
