"""The whole page made once, then filled in for each person: a stencil.

The preferences page is mostly the same for everyone who shares a catalog, a language, a brand
and an embedding: only the topics' rows (their switches and channels), the form's signed record,
the CSRF value, an embedded page's token and who is signed in differ. So the first view of each
such page records it once, with those parts left as holes, and later views join the stencil's
text with this person's parts: the rows come from the row cache (page/rendering.py), the rest
are a few strings. The output is byte for byte what the template makes (tests/test_render_once.py).

How the holes are made, so that nothing of the person who happened to be first can stay in it:

- A topic's row: while recording, the memoised row macro answers a marker instead of the row,
  and the page's topics are stand-ins (`_ShapeTopic`) that know only their id and whether they
  are required, the two things the template reads of a topic outside its row (a section's
  "required" note). Reading anything else of a topic outside its row raises, and that page is
  rendered plainly from then on.
- Who is signed in: a marker in place of the masked id. Every marker must come back whole, and
  nothing else of one (a NUL) may be left in the text, else the page is rendered plainly.
- The per-request values (signed record, CSRF value, embed tokens): the page is recorded with
  this request's values, which are long and random, and the stencil is cut wherever they occur.
  Before a stencil is kept, no long piece of any of them may remain in its text (a value written
  some other way, percent-encoded say, would leave one): else the page is rendered plainly.

These checks catch a template that writes a person's values some other way; one that computes
with them (their length, say) is caught by tests/test_render_once.py, which compares every page
it makes with the plain rendering.

A view's messages (saved, not saved, notices, errors) are a hole too, a part of the page made
for each view (`per_view_part`). Only the page with its form as first shown is stencilled: a
form as submitted (a refused save), a support preview and an embedded page saying what it
saved are rendered as before, rows still reused. Everything else the page reads is in the
stencil's key: the rendering's shared inputs (language, brand, embedding, read-only), the
request's method, endpoint and address arguments, the tenant (brand URLs carry it), the page's
shape (sections and their topics' ids and required flags), whether someone is signed in, the
plan's channel choice and which per-request values coincide.
"""

from __future__ import annotations

import dataclasses
import logging
import re
import secrets as random
from collections.abc import Callable
from contextvars import ContextVar
from typing import Any, Protocol

from flask import current_app, g, request
from jinja2 import Template, pass_context
from jinja2.runtime import Context, new_context
from markupsafe import Markup, escape

from ..access.guard import person, signed_in_as
from .preferences import SectionState, TopicState

log = logging.getLogger(__name__)

# The context a stencilled page may have; any other value (a preview's banner, read_only) is
# not. The messages are a per-view part; an embedded page's save event is not stencilled.
STENCILLED_CONTEXT = frozenset(
    ("form", "page", "channels_withdrawn", "save_event")
    + ("saved", "failed", "notices", "nothing_changed")  # the messages' own
)
# A per-request value left in a stencil in another form would keep runs this long of it.
LEAK_WINDOW = 12

Stencil = tuple["str | _Row | _Value | _SignedIn | _Part", ...]
# Kept for a key whose page cannot be stencilled, so it is not recorded again and again.
REFUSED: Stencil = ()

_recording: ContextVar[_Recorder | None] = ContextVar("prefcenter_stencil", default=None)


class _ReadOutsideRow(Exception):
    """The template read a topic's own state outside its row: this page cannot be stencilled.

    Not an AttributeError, which Jinja would quietly turn into an empty value.
    """


class _ShapeTopic:
    """A topic while its page is recorded: its id, whether it is required, and its place."""

    __slots__ = ("topic_id", "required", "place")

    def __init__(self, topic: TopicState, place: tuple[int, int]) -> None:
        self.topic_id, self.required, self.place = topic.topic_id, topic.required, place

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        raise _ReadOutsideRow(name)


# A row's maker, given a view's form and topic (page/rendering.py makes it from the
# recorded call's other arguments).
RowFill = Callable[[Any, TopicState], Markup]


@dataclasses.dataclass(frozen=True)
class _Row:
    """A topic's row: made for this person's topic at `place` (section, topic) and form."""

    fill: RowFill
    place: tuple[int, int]


@dataclasses.dataclass(frozen=True)
class _Value:
    """One of the request's own values: the signed record, CSRF value or an embed token."""

    role: int


@dataclasses.dataclass(frozen=True)
class _SignedIn:
    """Who is signed in, escaped as the template escapes it."""


@dataclasses.dataclass(frozen=True)
class _Part:
    """A part of the page made for each view (`per_view_part`): this template."""

    template: str


@pass_context
def per_view_part(context: Context, template: str) -> Markup:
    """A part of a page that says something of this view alone (its messages): `template`,
    rendered with the page's variables as `{% include %}` would. A hole in a stencil."""
    recorder = _recording.get()
    if recorder is not None:
        return recorder.marker(_Part(template))
    return Markup(render_with(context.environment.get_template(template), context.get_all()))


def render_with(template: Template, variables: dict[str, Any]) -> str:
    """`template` rendered with these variables alone, the globals among them.

    As `{% include %}` renders, but with no separate globals: Template.render would merge them
    in again key by key, and each macro import would compare them with its own, costing more
    than rendering a part that has nothing to say.
    """
    env = template.environment
    context = new_context(env, template.name, template.blocks, variables, shared=True)
    return env.concat(template.root_render_func(context))  # type: ignore[attr-defined]


class _Recorder:
    """Collects the holes of one recording, each behind a marker no page can contain."""

    def __init__(self, form: Any) -> None:
        self.nonce = random.token_hex(8)
        self.form = form
        self.holes: list[_Row | _SignedIn | _Part] = []

    def marker(self, hole: _Row | _SignedIn | _Part) -> Markup:
        self.holes.append(hole)
        return Markup(f"\x00{self.nonce}:{len(self.holes) - 1}\x00")

    def row(self, filler: Callable[..., RowFill], args: tuple[Any, ...], kwargs: dict) -> Markup:
        """The marker of a row, from the memoised row macro (page/rendering.py)."""
        shapes = [i for i, a in enumerate(args) if type(a) is _ShapeTopic]
        if len(shapes) != 1 or any(type(v) is _ShapeTopic for v in kwargs.values()):
            raise _ReadOutsideRow("a row without exactly one topic")
        at = shapes[0]
        form_at = tuple(i for i, a in enumerate(args) if a is self.form)
        kept = tuple(None if i == at or i in form_at else a for i, a in enumerate(args))
        return self.marker(_Row(filler(kept, kwargs, form_at, at), args[at].place))

    def signed_in_as(self) -> Markup | None:
        return self.marker(_SignedIn()) if signed_in_as() else None


def recording_row(
    filler: Callable[..., RowFill], args: tuple[Any, ...], kwargs: dict
) -> Markup | None:
    """While a page is recorded, the marker standing for a row; else None."""
    recorder = _recording.get()
    return None if recorder is None else recorder.row(filler, args, kwargs)


class Cache(Protocol):
    """Where stencils are kept: a bounded map (page/rendering.py's FragmentCache)."""

    def get(self, key: Any) -> Any: ...

    def put(self, key: Any, value: Any) -> None: ...


def render_stencilled(
    template: str,
    context: dict[str, Any],
    *,
    shared: tuple[Any, ...],
    per_request: tuple[str, ...],
    cache: Cache,
    render_plainly: Callable[[dict[str, Any]], str],
    render_part: Callable[[str], str],
) -> str | None:
    """The page from its stencil (recorded first if need be); None where it is not stencilled.

    `shared` is what every row of the page shares (page/rendering.py); `per_request` the
    request's signed record and CSRF value; `render_part` renders a per-view part's template
    with this page's variables.
    """
    if not _stencillable(context, per_request):
        return None
    values = (*per_request, g.get("embed_token"), g.get("embed_token_in"))
    page: tuple[SectionState, ...] = context["page"]
    key = _key(template, context, shared, values, page)
    stencil = cache.get(key)
    if stencil is None:
        stencil = _record(template, context, values, page, render_plainly) or REFUSED
        cache.put(key, stencil)
    if not stencil:
        return None  # REFUSED
    return _fill(stencil, context["form"], page, values, render_part)


def _stencillable(context: dict[str, Any], per_request: tuple[str, ...]) -> bool:
    """A page a stencil can make: the form as first shown, and nothing else per request."""
    if current_app.jinja_env.auto_reload:
        return False  # templates may change under a stencil
    if len(per_request) != 2 or not context.keys() <= STENCILLED_CONTEXT:
        return False
    if context.get("save_event"):
        return False
    return getattr(context["form"], "follows_topic", None) is not None


def _key(
    template: str,
    context: dict[str, Any],
    shared: tuple[Any, ...],
    values: tuple[str | None, ...],
    page: tuple[SectionState, ...],
) -> tuple[Any, ...]:
    who = person()
    return (
        template,
        shared,
        request.method,
        request.endpoint,
        tuple(sorted((k, _role_or(v, values)) for k, v in (request.view_args or {}).items())),
        who.tenant_id if who else None,
        bool(signed_in_as()),
        context["channels_withdrawn"],
        type(context["form"]),
        # Which values are there, and which coincide (an embed token not yet renewed).
        tuple(values.index(v) if v else -1 for v in values),
        tuple(_section_shape(section) for section in page),
    )


def _role_or(value: Any, values: tuple[str | None, ...]) -> Any:
    return ("value", values.index(value)) if value in values else value


# Every field of a section but its topics, of which the template reads two outside rows.
_SECTION_FIELDS = tuple(f.name for f in dataclasses.fields(SectionState) if f.name != "topics")


def _section_shape(section: SectionState) -> tuple[Any, ...]:
    """All of a section the template may read outside its rows."""
    return (
        *[getattr(section, name) for name in _SECTION_FIELDS],
        tuple([(topic.topic_id, topic.required) for topic in section.topics]),
    )


def _record(
    template: str,
    context: dict[str, Any],
    values: tuple[str | None, ...],
    page: tuple[SectionState, ...],
    render_plainly: Callable[[dict[str, Any]], str],
) -> Stencil | None:
    """Render the page once with holes, and cut it into a stencil; None if it cannot be."""
    if any(v and escape(v) != v for v in values):
        return None  # a value the page would escape: it could not be found to cut
    recorder = _Recorder(context["form"])
    shapes = tuple(
        dataclasses.replace(
            section,
            topics=tuple(_ShapeTopic(t, (s, i)) for i, t in enumerate(section.topics)),
        )
        for s, section in enumerate(page)
    )
    token = _recording.set(recorder)
    try:
        text = render_plainly({**context, "page": shapes, "signed_in_as": recorder.signed_in_as})
    except _ReadOutsideRow as read:
        log.warning(
            "page not stencilled: the template reads %r of a topic outside its row", str(read)
        )
        return None
    finally:
        _recording.reset(token)
    stencil = _cut(text, recorder, values)
    if stencil is None:
        log.warning("page not stencilled: a per-request value is in it in another form")
    return stencil


def _cut(text: str, recorder: _Recorder, values: tuple[str | None, ...]) -> Stencil | None:
    marker = re.compile(f"\x00{recorder.nonce}:(\\d+)\x00")
    pieces = marker.split(text)
    found = [int(n) for n in pieces[1::2]]
    if sorted(found) != list(range(len(recorder.holes))):
        return None  # a marker lost or repeated: its value went through something
    present = sorted({v for v in values if v}, key=len, reverse=True)
    cutter = re.compile("|".join(re.escape(v) for v in present)) if present else None
    stencil: list[str | _Row | _Value | _SignedIn] = []
    for i, piece in enumerate(pieces):
        if i % 2:
            stencil.append(recorder.holes[int(piece)])
            continue
        if "\x00" in piece:
            return None  # a marker changed on its way (or a catalog name with a NUL in it)
        if cutter is None:
            stencil.append(piece)
            continue
        start = 0
        for match in cutter.finditer(piece):
            stencil += [piece[start : match.start()], _Value(values.index(match.group()))]
            start = match.end()
        stencil.append(piece[start:])
    static = "".join(p for p in stencil if type(p) is str)
    if any(_leaves_a_trace(v, static) for v in present):
        return None
    return tuple(p for p in stencil if p != "")


def _leaves_a_trace(value: str, static: str) -> bool:
    """Whether some run of `value`'s letters and digits is still in the stencil's text."""
    runs = [run for run in re.findall(r"[A-Za-z0-9]+", value) if len(run) >= LEAK_WINDOW]
    return any(
        run[i : i + LEAK_WINDOW] in static
        for run in runs
        for i in range(0, len(run) - LEAK_WINDOW + 1, LEAK_WINDOW // 2)
    )


def _fill(
    stencil: Stencil,
    form: Any,
    page: tuple[SectionState, ...],
    values: tuple[str | None, ...],
    render_part: Callable[[str], str],
) -> str:
    out = []
    for part in stencil:
        kind = type(part)
        if kind is str:
            out.append(part)
        elif kind is _Row:
            section, topic = part.place
            out.append(part.fill(form, page[section].topics[topic]))
        elif kind is _Value:
            out.append(values[part.role])
        elif kind is _Part:
            out.append(render_part(part.template))
        else:
            out.append(str(escape(signed_in_as())))
    return "".join(out)
