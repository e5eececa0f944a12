"""The preferences form, built per request from the topics on the page."""

from __future__ import annotations

import base64
import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from functools import cached_property
from typing import Any

from flask import request
from flask_babel import gettext
from flask_wtf import FlaskForm
from markupsafe import Markup
from wtforms import Field, Form, HiddenField, SelectMultipleField
from wtforms.validators import ValidationError

from ..courier import ChannelClassification, PreferenceStatus
from .digests import default_schedule, schedule_label
from .labels import channel_label
from .preferences import SectionState, TopicState, topics_of

PLAIN_ID = re.compile(r"[A-Za-z0-9_]{1,64}")


def field_key(topic_id: str) -> str:
    """Return the form field name for a topic: reversible, and safe in HTML ids and CSS.

    Ids made of letters, digits and "_" (Courier's usual) are used as they are, as every
    topic repeats its key several times in the page; any other id is base64-encoded.
    """
    if PLAIN_ID.fullmatch(topic_id):
        return f"t_{topic_id}"
    encoded = base64.urlsafe_b64encode(topic_id.encode()).decode().rstrip("=")
    return f"b_{encoded}"


def topic_id_of(key: str) -> str:
    """Return the topic id a field name was made from."""
    if key.startswith("t_"):
        return key.removeprefix("t_")
    encoded = key.removeprefix("b_")
    return base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4)).decode()


class StatusToggle(Field):
    """An opt-in toggle: a checkbox posting OPTED_IN when on, and nothing when off."""

    def process_formdata(self, valuelist: list[Any]) -> None:
        self.data: PreferenceStatus | None = None
        if not valuelist:
            return
        if len(set(valuelist)) > 1:
            raise ValueError(gettext("Choose on or off, not both."))
        try:
            self.data = PreferenceStatus(valuelist[0])
        except ValueError:
            raise ValueError(
                gettext(
                    "“%(value)s” is not a subscription status. Turn the topic on or off.",
                    value=str(valuelist[0])[:40],
                )
            ) from None


class ChannelChoice(SelectMultipleField):
    """The channels ticked for a topic; only the section's channels are valid choices."""

    def pre_validate(self, form: Form) -> None:
        offered = {value for value, _label in self.choices or []}
        if not offered:
            return  # no channel choice at all: PreferencesForm.validate says so, by name
        for value in self.data or []:
            if value not in offered:
                raise ValidationError(
                    gettext("“%(value)s” is not a channel offered here.", value=str(value)[:40])
                )


class DigestChoice(Field):
    """A topic's "How often": one of its digest schedule ids, or nothing (left as shown).

    Only the topic's active schedules are valid: anything else is refused here, so it is
    never sent to Courier (which would answer 400 for an inactive schedule).
    """

    offered: tuple[str, ...] = ()

    def process_formdata(self, valuelist: list[Any]) -> None:
        self.data: str | None = None
        if not valuelist:
            return
        if len(set(valuelist)) > 1:
            raise ValueError(gettext("Choose one schedule."))
        self.data = str(valuelist[0])

    def pre_validate(self, form: Form) -> None:
        if self.data is not None and self.data not in self.offered:
            raise ValidationError(
                gettext("“%(value)s” is not a schedule offered here.", value=self.data[:40])
            )


FIELD_LABEL = ""  # the page writes its own labels; WTForms would translate one per field


class TopicControls:
    """One topic's three fields in a submitted form, as `form.topic_fields(topic).form` gives
    them (the page as first shown gives ShownTopic, with the same attributes)."""

    __slots__ = ("status", "channels", "digest")

    def __init__(self, status: StatusToggle, channels: ChannelChoice, digest: DigestChoice):
        self.status, self.channels, self.digest = status, channels, digest

    @property
    def form(self) -> TopicControls:
        return self

    def fields(self) -> tuple[tuple[str, Field], ...]:
        return (("status", self.status), ("channels", self.channels), ("digest", self.digest))


def topic_field_names(key: str) -> tuple[str, str, str]:
    """The names of a topic's status, channels and digest fields: `t_x-status`, ... ."""
    return f"{key}-status", f"{key}-channels", f"{key}-digest"


class PreferencesForm(FlaskForm):
    """The submitted form: WTForms fields (three a topic) for the topics whose posted values
    are not exactly what the page posts for them as shown, plus the signed record of how
    they were shown.

    A save usually changes one topic of many; the rest come back as the page posted them,
    values the page made from the topic itself, so parsing them through WTForms learns
    nothing and was most of a save's cost. Any other value, however small the difference,
    goes through WTForms and its validation.
    """

    rendered = HiddenField(label=FIELD_LABEL)
    page: tuple[SectionState, ...] = ()
    # The topics with WTForms fields: those whose posted values differ from the page's own.
    asked: frozenset[str] = frozenset()

    def topic_fields(self, topic: TopicState) -> TopicControls | ShownTopic:
        """Return the controls of one topic: its fields, or as shown when posted as shown."""
        if topic.topic_id not in self.asked:
            return self._as_shown.topic_fields(topic)
        status, channels, digest = topic_field_names(field_key(topic.topic_id))
        return TopicControls(self[status], self[channels], self[digest])

    @cached_property
    def _as_shown(self) -> ShownForm:
        return ShownForm(self.page, "")

    def _asked_topics(self) -> list[TopicState]:
        return [t for t in topics_of(self.page).values() if t.topic_id in self.asked]

    def validate(self, extra_validators: Mapping[str, Any] | None = None) -> bool:
        """Check every field, then each topic against what its section allows.

        A topic the person left as shown is never refused for the state Courier holds (a
        stored routing with no usable channel, say): only what they changed is checked.
        """
        valid = super().validate(extra_validators)
        for topic in self._asked_topics():
            fields = self.topic_fields(topic).form
            if fields.status.errors or fields.channels.errors or fields.digest.errors:
                continue
            changed = self._choice(topic, fields).differs_from(topic)
            for field, message in _refusals(topic, fields, changed=changed):
                field.errors.append(message)
                valid = False
        return valid

    def error_summary(self) -> list[tuple[str, str]]:
        """Return (field id, message) for every error, in page order, for the summary box."""
        summary = [(self.rendered.id, message) for message in self.rendered.errors]
        for topic in self._asked_topics():
            fields = self.topic_fields(topic).form
            for field in (fields.status, fields.channels, fields.digest):
                summary += [(field.id, message) for message in field.errors]
        return summary

    def choices(self) -> dict[str, TopicState]:
        """Return each topic as the person left it; call after validate()."""
        return {
            topic.topic_id: self._choice(topic, self.topic_fields(topic).form)
            if topic.topic_id in self.asked or (topic.opted_in and topic.digest_schedules)
            # Posted as shown, a topic comes back as it is, unless it is on with schedules to
            # choose from: the schedule ticked then may be the default standing in for a
            # choice no longer offered, which _choice turns into going back to the default
            # (its controls as shown carry the same values as WTForms would parse).
            else topic
            for topic in topics_of(self.page).values()
        }

    @staticmethod
    def _choice(topic: TopicState, fields: TopicControls | ShownTopic) -> TopicState:
        opted_in = topic.required or fields.status.data is PreferenceStatus.OPTED_IN
        offered = {channel.value for channel in topic.channel_options}
        channels = [ChannelClassification(v) for v in fields.channels.data or [] if v in offered]
        chosen = topic.with_choice(opted_in, channels)
        if not opted_in:
            return chosen  # "How often" applies while the topic is on: off, it is ignored
        digest = digest_choice(topic, fields.digest.data)
        if digest == chosen.digest_schedule_id:
            return chosen  # most topics of a save are left as they were
        return replace(chosen, digest_schedule_id=digest)


def posted_as_shown(topic: TopicState) -> tuple[list[str], list[str], list[str]]:
    """The values the page's form posts for a topic left as shown: its switch (none when off,
    or when required: that switch is disabled), its ticked channels in the page's order, and
    its ticked schedule (the `topic_controls` and `digest_choice` macros)."""
    status = ["OPTED_IN"] if topic.opted_in and not topic.required else []
    channels = [channel.value for channel in topic.channels]
    digest = shown_digest(topic) if topic.digest_schedules else None
    return status, channels, [] if digest is None else [digest]


def digest_choice(topic: TopicState, value: str | None) -> str | None:
    """The digest choice to hold after the person picked `value` (None: picked nothing).

    Picking what is held, or nothing, keeps the choice; picking the default schedule when
    another is held goes back to the default (None, written as null), so the person follows
    the topic's default from then on, as they did before choosing.
    """
    if value is None or value == topic.digest_schedule_id:
        return topic.digest_schedule_id
    default = default_schedule(topic.digest_schedules)
    if default is not None and value == default.schedule_id:
        return None
    return value


def shown_digest(topic: TopicState) -> str | None:
    """The schedule ticked on the page: the person's choice while active, else the default."""
    ids = {s.schedule_id for s in topic.digest_schedules}
    if topic.digest_schedule_id in ids:
        return topic.digest_schedule_id
    default = default_schedule(topic.digest_schedules)
    return default.schedule_id if default else None


def _refusals(
    topic: TopicState, fields: TopicControls, *, changed: bool
) -> list[tuple[Field, str]]:
    """Return what is wrong with one topic's submitted values, per field."""
    refusals: list[tuple[Field, str]] = []
    status = fields.status.data
    if topic.required and status is PreferenceStatus.OPTED_OUT:
        refusals.append(
            (
                fields.status,
                gettext("“%(topic)s” is required and cannot be turned off.", topic=topic.name),
            )
        )
    elif not topic.required and status is PreferenceStatus.REQUIRED:
        refusals.append(
            (
                fields.status,
                gettext("“%(topic)s” can only be turned on or off.", topic=topic.name),
            )
        )
    channels = fields.channels.data or []
    if not topic.channel_options:
        if channels:
            refusals.append(
                (
                    fields.channels,
                    gettext("“%(topic)s” does not offer a choice of channels.", topic=topic.name),
                )
            )
    elif not channels and changed:
        if topic.required:
            refusals.append(
                (
                    fields.channels,
                    gettext(
                        "“%(topic)s” is required: keep at least one channel.", topic=topic.name
                    ),
                )
            )
        elif status is PreferenceStatus.OPTED_IN:
            refusals.append(
                (
                    fields.channels,
                    gettext(
                        "Choose at least one channel for %(topic)s, or turn it off.",
                        topic=topic.name,
                    ),
                )
            )
    return refusals


@dataclass(frozen=True)
class ShownField:
    """A control as first shown, with the attributes the templates read from a WTForms field."""

    id: str
    name: str
    data: Any
    # Tuples, so a topic's controls are hashable: page/rendering.py keys its row by them.
    choices: tuple[tuple[str, str], ...] = ()
    errors: tuple[str, ...] = ()


@dataclass(frozen=True)
class ShownTopic:
    """One topic's controls as first shown."""

    status: ShownField
    channels: ShownField
    digest: ShownField

    @property
    def form(self) -> ShownTopic:
        return self  # templates reach a topic's fields as `form.topic_fields(topic).form`


class ShownForm:
    """The form as first shown, straight from the page's values.

    Building WTForms fields for every topic was a third of a page view's time (profiled), and
    a page shown fresh needs none of their parsing or validation: that is what a submitted
    form is for (build_preferences_form with submitted=True).
    """

    def __init__(self, page: tuple[SectionState, ...], rendered: str) -> None:
        self.page = page
        self.record = rendered  # the signed record itself, a per-request value
        self.rendered = Markup(
            '<input id="rendered" name="rendered" type="hidden" value="{}">'
        ).format(rendered)
        self._page_topics = topics_of(page)
        # Made when first asked for: a topic whose row is already rendered needs none
        # (page/rendering.py).
        self._topics: dict[str, ShownTopic] = {}
        self._labels: dict[ChannelClassification, str] = {}  # each channel's label, once
        self._schedules: dict[Any, str] = {}  # and each schedule's

    def follows_topic(self, topic: TopicState) -> bool:
        """Whether this topic's controls are made from `topic` alone (and the language).

        True for the page's own topics: a key that holds the topic then holds its controls.
        """
        return self._page_topics.get(topic.topic_id) is topic

    def topic_fields(self, topic: TopicState) -> ShownTopic:
        """Return the controls of one topic."""
        shown = self._topics.get(topic.topic_id)
        if shown is None:
            shown = self._topics[topic.topic_id] = self._controls(self._page_topics[topic.topic_id])
        return shown

    def _controls(self, topic: TopicState) -> ShownTopic:
        key = field_key(topic.topic_id)
        labels = self._labels
        for channel in topic.channel_options:
            if channel not in labels:
                labels[channel] = str(channel_label(channel))
        choices = tuple((channel.value, labels[channel]) for channel in topic.channel_options)
        status = PreferenceStatus.OPTED_IN if topic.opted_in else PreferenceStatus.OPTED_OUT
        return ShownTopic(
            status=ShownField(f"{key}-status", f"{key}-status", status),
            channels=ShownField(
                f"{key}-channels",
                f"{key}-channels",
                tuple(channel.value for channel in topic.channels),
                choices,
            ),
            digest=ShownField(
                f"{key}-digest",
                f"{key}-digest",
                shown_digest(topic),
                tuple(_digest_choices(topic, self._schedules)),
            ),
        )

    def error_summary(self) -> list[tuple[str, str]]:
        """A form as first shown has no errors."""
        return []


def _digest_choices(topic: TopicState, labels: dict[Any, str]) -> list[tuple[str, str]]:
    """(schedule id, label) for each of the topic's schedules, labels made once per page."""
    choices = []
    for schedule in topic.digest_schedules:
        if schedule not in labels:
            labels[schedule] = schedule_label(schedule)
        choices.append((schedule.schedule_id, labels[schedule]))
    return choices


def topic_texts() -> dict[str, str]:
    """The words every topic repeats, translated once per page rather than once per topic."""
    return {
        "required": gettext("Required"),
        "required_why": gettext(
            "We send these to keep your account working and safe, so they cannot be turned off."
        ),
        "choose_how": gettext("You can choose how you get them."),
        "get_by": gettext("Get “%(topic)s” by"),
        "how_often": gettext("How often"),
        "default": gettext("Default"),
    }


def build_preferences_form(
    page: tuple[SectionState, ...], rendered: str, *, submitted: bool = False
) -> PreferencesForm | ShownForm:
    """Build the form for these topics: from the request's form data, or from the page."""
    if not submitted:
        return ShownForm(page, rendered)
    topics = topics_of(page)
    posted = request.form
    asked = [
        topic
        for topic in topics.values()
        if tuple(map(posted.getlist, topic_field_names(field_key(topic.topic_id))))
        != posted_as_shown(topic)
    ]
    form_class = _form_class(tuple(topic.topic_id for topic in asked))
    initial: dict[str, Any] = {}
    for topic in asked:
        status, channels, digest = topic_field_names(field_key(topic.topic_id))
        on = topic.opted_in
        initial[status] = PreferenceStatus.OPTED_IN if on else PreferenceStatus.OPTED_OUT
        initial[channels] = [channel.value for channel in topic.channels]
        initial[digest] = shown_digest(topic)
    # CSRF is checked once per request in access.py, for session and embedded pages alike.
    form = form_class(formdata=posted, data={**initial, "rendered": rendered}, meta={"csrf": False})
    form.page = page
    form.asked = frozenset(topic.topic_id for topic in asked)
    # Each channel's and schedule's label translated once per form, not once per topic.
    channel_labels = {
        channel: (channel.value, channel_label(channel))
        for channel in {c for topic in asked for c in topic.channel_options}
    }
    schedule_labels: dict[Any, str] = {}
    for topic in asked:
        fields = form.topic_fields(topic).form
        fields.channels.choices = [channel_labels[channel] for channel in topic.channel_options]
        fields.digest.offered = tuple(s.schedule_id for s in topic.digest_schedules)
        fields.digest.choices = _digest_choices(topic, schedule_labels)
    return form


FORM_CLASSES_KEPT = 64
_form_classes: dict[tuple[str, ...], type[PreferencesForm]] = {}


def _form_class(topic_ids: tuple[str, ...]) -> type[PreferencesForm]:
    """The form class for these topics' fields, in this order: made once, not per save.

    WTForms works out a class's fields on its first use; saves changing the same topics of
    a catalog share one.
    """
    form_class = _form_classes.get(topic_ids)
    if form_class is None:
        fields: dict[str, Field] = {}
        for topic_id in topic_ids:
            status, channels, digest = topic_field_names(field_key(topic_id))
            fields[status] = StatusToggle(label=FIELD_LABEL)
            fields[channels] = ChannelChoice(label=FIELD_LABEL, choices=[])
            fields[digest] = DigestChoice(label=FIELD_LABEL)
        form_class = type("PagePreferencesForm", (PreferencesForm,), fields)
        if len(_form_classes) >= FORM_CLASSES_KEPT:
            _form_classes.clear()  # many catalogs, or many people's own extra topics
        _form_classes[topic_ids] = form_class
    return form_class
