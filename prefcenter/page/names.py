"""Section and topic names in the page's language.

Courier keeps one name and description per section and topic. Translations come from two
places, both optional:

- the topic's own `topic_data` in Courier (a free-form object), in this shape:
  `{"translations": {"de": {"name": "Wochenüberblick", "description": "…"}}}`;
- the translations file (PREFCENTER_CATALOG_TRANSLATIONS_PATH, platform/catalog_translations.py),
  for sections as well as topics (Courier's sections carry no custom data).

The page's language is tried most specific first: a regional variant the browser asks for in
that language ("de-AT" on a German page), then the language ("de"). Within one language the
file comes before `topic_data`, so whoever runs the page can correct a name without editing
the workspace; with neither, Courier's own name stays. Name and description are looked up
apart, so a translation may give the name alone. A translated name is text like any other:
templates escape it.

The consent record keeps Courier's own name (TopicState.recorded_name), whatever language the
page spoke: it records what changed in Courier, in Courier's words.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import replace
from typing import Any

from flask import current_app, request

from ..courier import CourierError, Section
from ..platform.catalog_translations import LANGUAGE_TAG, LanguageNames, Text, language_key
from ..platform.i18n import current_locale
from ..services import services
from .preferences import SectionState, TopicState

TOPIC_DATA_KEY = "translations"


class Names:
    """Which name and description to show for each section and topic, in given languages."""

    def __init__(
        self,
        sections: Iterable[Section],
        files: Mapping[str, LanguageNames],
        languages: Iterable[str],
    ) -> None:
        self._languages = tuple(languages)
        self._files = {lang: files[lang] for lang in self._languages if lang in files}
        self._topic_data: dict[str, dict[str, Text]] = {}
        for section in sections:
            for topic in section.topics:
                texts = topic_data_texts(topic.topic_data)
                if any(lang in texts for lang in self._languages):
                    self._topic_data[topic.id] = texts

    @property
    def translates_anything(self) -> bool:
        """Whether any name could differ from Courier's (else a page is left as it is)."""
        return bool(self._files or self._topic_data)

    def topic(self, topic_id: str, name: str, description: str = "") -> Text:
        """A topic's name and description in the page's language, else Courier's."""
        candidates = []
        for lang in self._languages:  # most specific first; in each, the file first
            in_file = self._files.get(lang)
            if in_file is not None and topic_id in in_file.topics:
                candidates.append(in_file.topics[topic_id])
            in_data = self._topic_data.get(topic_id, {}).get(lang)
            if in_data is not None:
                candidates.append(in_data)
        return _first(candidates, name, description)

    def section(self, section_id: str, name: str, description: str = "") -> Text:
        """A section's name and description in the page's language, else Courier's."""
        candidates = [
            self._files[lang].sections[section_id]
            for lang in self._languages
            if lang in self._files and section_id in self._files[lang].sections
        ]
        return _first(candidates, name, description)


def topic_data_texts(topic_data: Mapping[str, Any]) -> dict[str, Text]:
    """The translations a topic's `topic_data` holds, by language; what is not text is skipped.

    `topic_data` is the workspace's free-form data, which other tools may write too: an
    entry in another shape is no reason to fail a page, so it is passed over (and the name
    falls back), where the translations file, ours alone, is refused at start instead.
    """
    translations = topic_data.get(TOPIC_DATA_KEY)
    if not isinstance(translations, Mapping):
        return {}
    texts = {}
    for tag, value in translations.items():
        if not isinstance(tag, str) or not LANGUAGE_TAG.fullmatch(tag):
            continue
        if not isinstance(value, Mapping):
            continue
        name, description = (_plain(value.get(key)) for key in ("name", "description"))
        if name or description:
            texts[language_key(tag)] = Text(name=name, description=description)
    return texts


def page_languages() -> tuple[str, ...]:
    """The languages names are looked up in, most specific first: ("de-at", "de")."""
    page = current_locale()
    for tag, _quality in request.accept_languages:
        key = language_key(tag)
        if key != page and key.split("-", 1)[0] == page and LANGUAGE_TAG.fullmatch(tag):
            return (key, page)
    return (page,)


NAMES_KEPT = 64  # language lists kept per catalog (a browser's Accept-Language chooses them)


def names_for(sections: Iterable[Section]) -> Names:
    """The names this request's page shows, from the catalog at hand and the file.

    Made once per catalog and list of languages, not per view: reading every topic's
    `topic_data` costs a page's worth of work. The catalog cache hands out the same object
    until it reads the catalog again, which starts the names afresh.
    """
    files = current_app.config.get("CATALOG_TRANSLATIONS", {})
    languages = page_languages()
    made = current_app.extensions.get("prefcenter_names")
    if made is None or made[0] is not sections or made[1] is not files:
        made = current_app.extensions["prefcenter_names"] = (sections, files, {})
    kept: dict[tuple[str, ...], Names] = made[2]
    names = kept.get(languages)
    if names is None:
        if len(kept) >= NAMES_KEPT:
            kept.clear()
        names = kept[languages] = Names(sections, files, languages)
    return names


def localized(
    page: tuple[SectionState, ...], sections: Iterable[Section]
) -> tuple[SectionState, ...]:
    """The page with its section and topic names in the page's language, where translated."""
    names = names_for(sections)
    if not names.translates_anything:
        return page
    return tuple(_section(section, names) for section in page)


def topic_name(topic_id: str, courier_name: str) -> str:
    """One topic's name in the page's language, for pages about one topic (unsubscribe)."""
    try:
        sections = services().catalog.sections()  # cached: no Courier read on most views
    except CourierError:
        # An unsubscribe must work while the catalog cannot be read: the name then comes
        # from the file, or is Courier's own.
        sections = ()
    return names_for(sections).topic(topic_id, courier_name).name


def _section(section: SectionState, names: Names) -> SectionState:
    text = Text(section.name, section.description)
    if section.section_id:  # topics grouped by Courier's section name alone have no id
        text = names.section(section.section_id, section.name, section.description)
    return replace(
        section,
        name=text.name,
        description=text.description,
        topics=tuple(_topic(topic, names) for topic in section.topics),
    )


def _topic(topic: TopicState, names: Names) -> TopicState:
    text = names.topic(topic.topic_id, topic.recorded_name, topic.description)
    return replace(
        topic, name=text.name, description=text.description, courier_name=topic.recorded_name
    )


def _plain(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""


def _first(candidates: list[Text], name: str, description: str) -> Text:
    return Text(
        name=next((text.name for text in candidates if text.name), name),
        description=next(
            (text.description for text in candidates if text.description), description
        ),
    )
