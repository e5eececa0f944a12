"""Render once, fill per person: each topic's markup is made once and reused.

A topic's row on the page (the template's `topic_controls` macro) depends only on its
arguments and the request's language: the topic (its catalog data, translated name and the
person's state of it: status, channels, digest choice), the topic's controls in the form (their
ids, values and errors) and the words every row repeats. Many people share a catalog, a
language and most topics' states, so the rows are memoised per worker, keyed by all of that.
The rest of the page is made once too where it can be, as a stencil filled in per view
(page/stencils.py, which `render_page` asks first); where it cannot, a view renders it through
the plain template, rows still reused. The page's own translated strings are remembered the
same way, per language, words and variables.

Nothing here knows the markup: whatever the macro writes is what is cached, byte for byte, and
the template stays the reference (`PAGE_RENDER_ONCE = False` renders the plain way). A call
with an argument this module cannot key (any type not listed in `_key_of`) is rendered plainly,
and so is a row holding a per-request value (the CSRF value, the signed record, an embed
token), so a template change can make a row slower, never wrong.
"""

from __future__ import annotations

import dataclasses
import enum
import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping
from contextvars import ContextVar
from typing import Any

from flask import current_app, g, render_template, request
from jinja2 import Environment, pass_context
from jinja2.runtime import Context
from markupsafe import Markup

from ..platform.i18n import current_locale
from ..services import per_worker
from .brandviews import current_brand
from .forms import TopicControls
from .preferences import TopicState
from .stencils import recording_row, render_stencilled, render_with

# The macros memoised, by the template that defines them. Each takes the topic among its
# arguments; a form argument counts only for that topic's controls.
MEMOISED_MACROS: tuple[tuple[str, str], ...] = (("_macros.html", "topic_controls"),)
DEFAULT_SIZE = 4096  # rows per worker: about 1.2 KB each, so a few MB at most
STENCILS_SIZE = 256  # whole pages per worker, each about 10 KB of text between its holes
ROWS_PER_HOLE = 16  # a stencil's rows kept per topic, by state (shared with the row cache)

_scope: ContextVar[_Scope | None] = ContextVar("prefcenter_render_scope", default=None)


class _Unkeyable(Exception):
    """An argument whose every influence on the markup a key cannot be sure to capture."""


@dataclasses.dataclass
class _Scope:
    """One page render: what every row's key shares, and the values no row may hold."""

    shared: tuple[Any, ...]
    secrets: tuple[str, ...]
    cache: FragmentCache | None = None


class FragmentCache:
    """A bounded, least-recently-used map of rendered rows, emptied when the catalog changes."""

    def __init__(self, size: int = DEFAULT_SIZE) -> None:
        self.size = size
        self._rows: OrderedDict[Any, Markup] = OrderedDict()
        self._lock = threading.Lock()
        self._catalog: Any = None
        self.hits = self.misses = 0

    def __len__(self) -> int:
        return len(self._rows)

    def follow_catalog(self, sections: Any) -> None:
        """Drop every row when the catalog is no longer the one they were made from."""
        if sections is self._catalog:
            return
        with self._lock:
            if sections is not self._catalog and sections != self._catalog:
                self._rows.clear()
            self._catalog = sections

    def get(self, key: Any) -> Markup | None:
        # Without the lock: a page asks for forty rows, and dict reads are atomic. A row
        # evicted between the two steps is simply not moved.
        row = self._rows.get(key)
        if row is None:
            self.misses += 1
            return None
        self.hits += 1
        try:
            self._rows.move_to_end(key)
        except KeyError:
            pass
        return row

    def put(self, key: Any, row: Markup) -> None:
        with self._lock:
            self._rows[key] = row
            self._rows.move_to_end(key)
            while len(self._rows) > self.size:
                self._rows.popitem(last=False)


def fragment_cache() -> FragmentCache:
    """This app's row cache (one per worker process)."""
    size = current_app.config.get("PAGE_RENDER_ONCE_SIZE", DEFAULT_SIZE)
    return per_worker("prefcenter_fragments", lambda: FragmentCache(size))


def stencil_cache() -> FragmentCache:
    """This app's whole-page stencils (page/stencils.py), one cache per worker process."""
    size = current_app.config.get("PAGE_STENCILS_SIZE", STENCILS_SIZE)
    return per_worker("prefcenter_stencils", lambda: FragmentCache(size))


def render_page(template: str, *, sections: Any, secrets: tuple[str, ...], **context: Any) -> str:
    """Render `template` as render_template would, reusing rows already made.

    `sections` is the catalog the page was built from (a new one empties the cache);
    `secrets` are this request's per-request values (CSRF value, signed record), which no
    cached row may contain.
    """
    if not current_app.config.get("PAGE_RENDER_ONCE", True):
        return render_template(template, **context)
    cache = fragment_cache()
    cache.follow_catalog(sections)
    stencils = stencil_cache()
    stencils.follow_catalog(sections)
    _install(current_app.jinja_env)
    try:
        scope = _scope_of(cache, secrets, context)
    except _Unkeyable:
        return render_template(template, **context)  # a brand it cannot key: plainly
    texts = _remembered_texts(current_app.jinja_env)

    def plainly(values: dict[str, Any]) -> str:
        return render_template(template, **{**texts, **values})

    def part(name: str) -> str:
        """A per-view part of the page, with the variables the page has."""
        env = current_app.jinja_env
        values = {**env.globals, **texts, **context}
        current_app.update_template_context(values)
        return render_with(env.get_template(name), values)

    token = _scope.set(scope)
    try:
        page = render_stencilled(
            template,
            context,
            shared=scope.shared,
            per_request=secrets,
            cache=stencils,
            render_plainly=plainly,
            render_part=part,
        )
        return plainly(context) if page is None else page
    finally:
        _scope.reset(token)


def _scope_of(cache: FragmentCache, secrets: tuple[str, ...], context: dict[str, Any]) -> _Scope:
    """What every row of this page shares: language, brand, embedding and its hidden parts,
    read-only or not; and the values of this request alone."""
    return _Scope(
        cache=cache,
        shared=(
            current_locale(),
            _flat(current_brand()),
            request.blueprint,
            request.script_root,
            tuple(sorted(g.get("embed_hide", ()))),
            bool(context.get("read_only")),
        ),
        # An embedded page's tokens, as it came in and as renewed for its links.
        secrets=tuple(s for s in (*secrets, g.get("embed_token"), g.get("embed_token_in")) if s),
    )


_GETTEXT_NAMES = ("gettext", "ngettext", "pgettext", "npgettext")
TEXTS_SIZE = 2048  # translated strings kept per worker, with their variables


def _remembered_texts(env: Environment) -> dict[str, Any]:
    """The template's gettext functions, remembering what they answered.

    Each of the page's forty or so translated strings costs Flask-Babel's lookups per call;
    the answer depends only on the language, the words, the variables and escaping, all of
    which key it. Given to the render as context, so the page and base.html use them; a call
    with a variable that cannot be keyed goes to the original.
    """
    made = current_app.extensions.get("prefcenter_texts")
    originals = tuple(env.globals.get(name) for name in _GETTEXT_NAMES)
    if made is None or made[0] != originals:
        texts = FragmentCache(TEXTS_SIZE)
        remembered = {
            name: _remembering(name, original, texts)
            for name, original in zip(_GETTEXT_NAMES, originals, strict=True)
            if original is not None
        }
        made = current_app.extensions["prefcenter_texts"] = (originals, remembered)
    return made[1]


def _remembering(name: str, original: Any, texts: FragmentCache) -> Any:
    @pass_context
    def remembered(__context: Context, *args: Any, **kwargs: Any) -> Any:
        scope = _scope.get()
        if scope is None:
            return __context.call(original, *args, **kwargs)
        try:
            key = (
                name,
                scope.shared[0],  # the page's language
                __context.eval_ctx.autoescape,
                tuple([_key_of(a) for a in args]),
                tuple(sorted((k, _key_of(v)) for k, v in kwargs.items())),
            )
            said = texts.get(key)
        except (_Unkeyable, TypeError):
            return __context.call(original, *args, **kwargs)
        if said is None:
            said = __context.call(original, *args, **kwargs)
            if not any(secret in said for secret in scope.secrets):
                texts.put(key, said)
        return said

    return remembered


def _install(env: Environment) -> None:
    """Wrap the memoised macros of the templates' loaded modules (again after a reload)."""
    for template_name, macro_name in MEMOISED_MACROS:
        module = env.get_template(template_name).module
        macro = getattr(module, macro_name, None)
        if macro is None or getattr(macro, "memoised", False):
            continue
        setattr(module, macro_name, _memoised(macro, f"{template_name}:{macro_name}"))


def _memoised(macro: Callable[..., Markup], name: str) -> Callable[..., Markup]:
    def rendered(key: tuple[Any, ...], args: Any, kwargs: Any, scope: _Scope) -> Markup:
        """The row kept under `key`, else made now and kept (unless it holds a request's value)."""
        cache = scope.cache or fragment_cache()
        try:
            row = cache.get(key)
        except TypeError:  # something unhashable in an argument
            return macro(*args, **kwargs)
        if row is None:
            row = macro(*args, **kwargs)
            if not any(secret in row for secret in scope.secrets):
                cache.put(key, row)
        return row

    def call(*args: Any, **kwargs: Any) -> Markup:
        scope = _scope.get()
        if scope is None:
            return macro(*args, **kwargs)  # the plain path: no render_page around it
        hole = recording_row(filler, args, kwargs)
        if hole is not None:
            return hole  # the page is being made into a stencil: this row is filled per view
        try:
            key = _call_key(name, scope, args, kwargs)
        except (_Unkeyable, TypeError):
            return macro(*args, **kwargs)
        return rendered(key, args, kwargs, scope)

    def filler(
        args: tuple[Any, ...], kwargs: dict[str, Any], form_at: tuple[int, ...], topic_at: int
    ) -> Callable[[Any, TopicState], Markup]:
        """A stencil's row (page/stencils.py): these arguments, with a view's form at
        `form_at` and its topic at `topic_at`.

        The stencil's key fixes every argument but the form and the topic, and where the form
        follows the topic (the page as first shown) the row depends on the topic alone: those
        rows are kept right here, by topic, one dictionary read per row and view. Others go
        through the row cache, keyed as `call` keys them.
        """
        try:
            fixed = [
                None if i == topic_at or i in form_at else _key_of(a) for i, a in enumerate(args)
            ]
            named = tuple(sorted((k, _key_of(v)) for k, v in kwargs.items()))
            hash((tuple(fixed), named))
        except (_Unkeyable, TypeError):
            fixed = None
        by_topic: dict[TopicState, Markup] = {}

        def fill(form: Any, topic: TopicState) -> Markup:
            follows = getattr(form, "follows_topic", None)
            alone = fixed is not None and follows is not None and follows(topic)
            if alone:
                row = by_topic.get(topic)
                if row is not None:
                    return row
            full = list(args)
            full[topic_at] = topic
            for i in form_at:
                full[i] = form
            scope = _scope.get()
            if fixed is None or scope is None or type(topic) is not TopicState:
                return call(*full, **kwargs)
            try:
                form_key = _key_of(form, topic)
                key = [name, scope.shared, len(full)]
                key += [
                    form_key if i in form_at else topic if i == topic_at else k
                    for i, k in enumerate(fixed)
                ]
                if kwargs:
                    key.append(named)
            except (_Unkeyable, TypeError):
                return macro(*full, **kwargs)
            row = rendered(tuple(key), full, kwargs, scope)
            if alone and not any(secret in row for secret in scope.secrets):
                if len(by_topic) >= ROWS_PER_HOLE:
                    by_topic.clear()  # a topic seen in more states than people tend to hold
                by_topic[topic] = row
            return row

        return fill

    call.memoised = True  # type: ignore[attr-defined]
    call.filler = filler  # type: ignore[attr-defined]
    call.__name__ = getattr(macro, "__name__", name)
    return call


def _call_key(
    name: str, scope: _Scope, args: tuple[Any, ...], kwargs: Mapping[str, Any]
) -> tuple[Any, ...]:
    """Everything the row can depend on: the page's shared inputs and each argument."""
    topic = next((a for a in (*args, *kwargs.values()) if type(a) is TopicState), None)
    key = [name, scope.shared, len(args)]
    key += [_key_of(a, topic) for a in args]
    if kwargs:
        key.append(tuple(sorted((k, _key_of(v, topic)) for k, v in kwargs.items())))
    return tuple(key)


_PLAIN = frozenset({int, float, bool, bytes, type(None)})
# What kind of argument each type is, decided once per type (a page's rows pass the same
# few types thousands of times). Bounded: a submitted form's class is made per list of topics.
_KINDS: dict[type, str] = {}
_MAX_KINDS = 256


def _key_of(value: Any, topic: TopicState | None = None) -> Any:
    """A hashable value equal only for arguments the macro cannot tell apart.

    The type goes into the key wherever equal values could render differently: Markup equals
    the str of the same text but is not escaped, and True equals 1. A frozen dataclass keys
    as itself (its equality covers every field: a topic's catalog data, translated name and
    the person's state of it alike); one holding something unhashable fails at the lookup,
    and its row is rendered plainly.
    """
    kind = type(value)
    if kind is str or kind is TopicState:
        return value
    what = _KINDS.get(kind) or _kind_of(kind, value)
    if what == "plain":
        return (kind, value)
    if what == "mapping":
        items = tuple(value.items())
        kinds = tuple([type(v) for _, v in items])
        if all(k is str or k is Markup for k in kinds):
            return (kind, items, kinds)  # the words every row repeats: text, escaped or not
        return (kind, tuple([(k, _key_of(v, topic)) for k, v in items]))
    if what == "sequence":
        return (kind, tuple([_key_of(v, topic) for v in value]))
    if what == "set":
        return (kind, frozenset(_key_of(v, topic) for v in value))
    if what == "form":
        # The page's form: the row reads the controls of its own topic, nothing else.
        if topic is None:
            raise _Unkeyable(value)
        follows = getattr(value, "follows_topic", None)
        if follows is not None and follows(topic):
            return kind  # its controls are made from the topic alone, which is keyed
        fields = value.topic_fields(topic)
        # A submitted form's class is made per list of topics (forms._form_class): its
        # name, not the class, so rows of refused saves of other pages can be found too.
        return (kind.__qualname__, _controls_key(getattr(fields, "form", fields)))
    if what == "frozen":
        return (kind, value)
    raise _Unkeyable(value)


def _kind_of(kind: type, value: Any) -> str:
    if kind in _PLAIN or isinstance(value, (str, enum.Enum)):
        what = "plain"
    elif isinstance(value, Mapping):
        what = "mapping"
    elif kind is tuple or kind is list:
        what = "sequence"
    elif isinstance(value, (set, frozenset)):
        what = "set"
    elif hasattr(value, "topic_fields"):
        what = "form"
    elif _is_frozen_dataclass(value):
        what = "frozen"
    else:
        what = "unkeyable"
    if len(_KINDS) < _MAX_KINDS:
        _KINDS[kind] = what
    return what


def _flat(value: Any) -> tuple[Any, ...]:
    """A frozen dataclass of plain fields (the brand) as a tuple: hashed without Python code
    for each of the page's rows."""
    if not dataclasses.is_dataclass(value):
        return (_key_of(value),)
    return (type(value), *(_key_of(getattr(value, f.name)) for f in dataclasses.fields(value)))


def _is_frozen_dataclass(value: Any) -> bool:
    params = getattr(type(value), "__dataclass_params__", None)
    return params is not None and params.frozen


_FIELD_ATTRIBUTES = ("id", "name", "data", "object_data", "raw_data", "choices", "errors")


def _controls_key(controls: Any) -> tuple[Any, ...]:
    """One topic's controls: every attribute a template reads from a field, field by field."""
    if _is_frozen_dataclass(controls):
        return _key_of(controls)  # the page as first shown (forms.ShownTopic)
    if not isinstance(controls, TopicControls):
        raise _Unkeyable(controls)
    fields = controls.fields()  # a submitted form's, for one topic
    return (
        type(controls),
        tuple(
            (
                name,
                type(field),
                tuple(_key_of(getattr(field, a, None)) for a in _FIELD_ATTRIBUTES),
                _key_of(getattr(field, "offered", None)),
            )
            for name, field in fields
        ),
    )
