"""Languages: which one each request speaks, and the picker that changes it.

The language of a page is, in this order:

1. the one the person just picked with the language picker (`?lang=xx` on this request);
2. the `locale` claim of the link this request came by: unsubscribe and embed links carry it
   on every request (an embed token is re-minted with the language in use, so it carries a
   picked language on too), and an expired link still names its language;
3. the language kept in the session: the `locale` claim of the manage link that signed the
   person in (it replaces an earlier choice), or later the picker's choice;
4. the browser's `Accept-Language`, best match;
5. English.

Only supported locales are ever used: anything else in a link, a `lang` value or a header is
ignored. Pages reached by a token (unsubscribe links) keep no session, so there a picked
language is carried in the links and forms the page builds instead.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

from flask import (
    Flask,
    Response,
    current_app,
    g,
    has_request_context,
    request,
    session,
    url_for,
)
from flask_babel import Babel, get_locale, gettext, pgettext, refresh
from markupsafe import Markup, escape
from werkzeug.exceptions import HTTPException
from werkzeug.routing import BuildError

from .embedding import home_url, is_embedded

DEFAULT_LOCALE = "en"
# Each language by its own name, as the picker shows it.
LANGUAGES: dict[str, str] = {
    "en": "English",
    "de": "Deutsch",
    "es": "Español",
    "fr": "Français",
    "ar": "العربية",
}
SUPPORTED_LOCALES: tuple[str, ...] = tuple(LANGUAGES)
RIGHT_TO_LEFT = frozenset({"ar"})
LANG_PARAM = "lang"
SESSION_KEY = "locale"
TRANSLATIONS = Path(__file__).resolve().parent.parent / "translations"  # prefcenter/translations
SAFE_METHODS = frozenset({"GET", "HEAD"})


def supported_locale(value: object) -> str | None:
    """The supported locale a language tag names ("de", "de-AT", "fr_CA"), else None."""
    if not isinstance(value, str) or len(value) > 35:
        return None
    tag = value.strip().replace("_", "-").lower()
    if tag in LANGUAGES:
        return tag
    primary = tag.split("-", 1)[0]
    return primary if primary in LANGUAGES else None


def requested_locale() -> str | None:
    """The language the person picked on this request (`?lang=xx`), if supported."""
    return supported_locale(request.args.get(LANG_PARAM))


def use_link_locale(locale: str | None) -> None:
    """Speak the language of the link this request came by (its `locale` claim)."""
    g.link_locale = supported_locale(locale)
    refresh()  # in case anything was translated before the link was read


def chosen_locale() -> str | None:
    """The language the person or their link chose (not merely their browser's), if any."""
    return requested_locale() or g.get("link_locale") or _remembered_locale()


def select_locale() -> str:
    """Flask-Babel's locale selector: see the module docstring for the order."""
    return (
        chosen_locale() or request.accept_languages.best_match(SUPPORTED_LOCALES) or DEFAULT_LOCALE
    )


def current_locale() -> str:
    """The language this page speaks, for `<html lang>`."""
    return str(get_locale() or DEFAULT_LOCALE)


def text_direction() -> str:
    """`rtl` for right-to-left languages, else `ltr`, for `<html dir>`."""
    return "rtl" if current_locale() in RIGHT_TO_LEFT else "ltr"


def list_separator() -> str:
    """What separates the items of a list in the page's language: ", " (Arabic: "، ")."""
    # Translators: separates the items of a list, as in "Email, Push notification".
    return pgettext("list separator", ", ")


def join_names(names: Iterable[str]) -> Markup:
    """Names as a list in the page's language, for a page: "Email, Push notification".

    Each name is escaped and isolated in `<bdi>`, so that in a right-to-left page a list of
    Latin names (topic names come from the Courier workspace as they are) keeps each name
    separate and reads right to left, rather than running together with the separators.
    """
    return Markup(escape(list_separator())).join(
        Markup("<bdi>{}</bdi>").format(name) for name in names
    )


def and_list(names: list[str]) -> str:
    """Names as a phrase in the page's language: "Email, Push notification and In-app inbox".

    Plain text: its sentences are also sent to the page's script, which shows them as text.
    """
    if len(names) <= 1:
        return "".join(names)
    # Translators: the end of a list, as in "Email, Push notification and In-app inbox".
    return gettext(
        "%(items)s and %(last)s", items=list_separator().join(names[:-1]), last=names[-1]
    )


def languages() -> list[dict[str, Any]]:
    """The picker's entries: each language with the link that shows this page in it."""
    current = current_locale()
    return [
        {"code": code, "name": name, "url": language_url(code), "current": code == current}
        for code, name in LANGUAGES.items()
    ]


def language_url(code: str) -> str:
    """This page in another language.

    A page shown by a GET links to itself; one shown after a POST links to the page at the
    same address (the preferences page after a save), else the one a level up (an
    unsubscribe link's page after its Undo), else the preferences page.
    """
    this_address = f"{request.script_root}{same_site_path()}?{urlencode({LANG_PARAM: code})}"
    if request.method in SAFE_METHODS:
        if request.endpoint and request.endpoint != "static":
            try:
                return url_for(request.endpoint, **{**(request.view_args or {}), LANG_PARAM: code})
            except BuildError:  # an embedded page whose token was refused
                pass
        return this_address  # an error page for this address
    for path in (request.path, request.path.rstrip("/").rsplit("/", 1)[0]):
        endpoint, view_args = _page_at(path)
        if endpoint:
            try:
                return url_for(endpoint, **{**view_args, LANG_PARAM: code})
            except BuildError:
                return this_address
    return f"{home_url()}?{urlencode({LANG_PARAM: code})}"


def same_site_path() -> str:
    """This request's path as a link that stays on this site.

    An error page's path is whatever was asked for: `//evil.example/x`, or one with a
    backslash, put in a link as it is takes the browser to evil.example. One leading slash,
    and a backslash, "?", "#" or space percent-encoded, keep it here.
    """
    return "/" + quote(request.path.lstrip("/"), safe="/:@!$&'()*+,;=~")


def register_i18n(app: Flask) -> None:
    """Set up Flask-Babel, the language picker's memory and the template helpers."""
    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES", str(TRANSLATIONS))
    app.config.setdefault("BABEL_DEFAULT_LOCALE", DEFAULT_LOCALE)
    Babel(app, locale_selector=select_locale)
    app.jinja_env.policies["ext.i18n.trimmed"] = True  # as babel.cfg extracts them
    app.jinja_env.filters["join_names"] = join_names
    app.jinja_env.globals.update(
        current_locale=current_locale,
        text_direction=text_direction,
        languages=languages,
        list_separator=list_separator,
    )

    @app.before_request
    def remember_picked_language() -> None:
        picked = requested_locale()
        if picked is None or is_embedded():
            return  # an embed token is re-minted with the picked language (access.py)
        if _uses_session():
            if session.get(SESSION_KEY) != picked:
                session[SESSION_KEY] = picked
        else:
            g.lang_in_urls = picked

    @app.after_request
    def say_which_language(response: Response) -> Response:
        babel = g.get("_flask_babel")  # Flask-Babel's per-request state
        if getattr(babel, "babel_locale", None) is not None:  # this response was translated
            response.headers["Content-Language"] = current_locale()
            response.vary.add("Accept-Language")
        return response

    @app.url_defaults
    def keep_picked_language(endpoint: str, values: dict[str, Any]) -> None:
        # Pages without a session (unsubscribe links) carry the picked language in their URLs.
        if not has_request_context() or not g.get("lang_in_urls"):
            return
        if request.blueprint and endpoint.startswith(f"{request.blueprint}."):
            values.setdefault(LANG_PARAM, g.lang_in_urls)


def remember_locale(*candidates: object) -> None:
    """Keep the first supported language of `candidates` in the session (at sign-in: the
    link's `locale` claim, else the one picked before)."""
    for candidate in candidates:
        locale = supported_locale(candidate)
        if locale:
            session[SESSION_KEY] = locale
            return


def _remembered_locale() -> str | None:
    return supported_locale(session.get(SESSION_KEY)) if _uses_session() else None


def _uses_session() -> bool:
    """Whether this request may read and write the session: not embedded, not by token."""
    if is_embedded():
        return False
    view = current_app.view_functions.get(request.endpoint or "")
    return not getattr(view, "authenticated_by_token", False)


def _page_at(path: str) -> tuple[str | None, dict[str, Any]]:
    """The page a GET of `path` shows: its endpoint and arguments, or None."""
    if not path:
        return None, {}
    adapter = current_app.url_map.bind_to_environ(request.environ)
    try:
        endpoint, view_args = adapter.match(path, method="GET")
    except HTTPException:  # no page there, another method only, or a redirect
        return None, {}
    view_args = dict(view_args)
    view_args.pop("embed_token", None)  # url_defaults puts this request's fresh one back
    return endpoint, view_args
