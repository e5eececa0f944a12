"""Translated section and topic names from a file (PREFCENTER_CATALOG_TRANSLATIONS_PATH).

Courier keeps one name and description per section and topic. The file gives them in other
languages, keyed by language and then by Courier's ids:

    {"de": {"sections": {"sec_news": {"name": "Neuigkeiten"}},
            "topics": {"pt_weekly_digest": {"name": "Wochenüberblick",
                                            "description": "Das Wichtigste der Woche."}}}}

It is read and checked once, when the app starts: a file that cannot be used stops start-up
with a message naming what is wrong, as any other setting would. Which name a page shows is
page/names.py's to decide.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

VARIABLE = "PREFCENTER_CATALOG_TRANSLATIONS_PATH"
# A language tag as pages and links name them: "de", "de-AT", "pt_BR", "zh-Hant-TW".
LANGUAGE_TAG = re.compile(r"[A-Za-z]{2,3}([-_][A-Za-z0-9]{1,8})*")
KINDS = ("sections", "topics")
FIELDS = ("name", "description")


class CatalogTranslationsError(ValueError):
    """A translations file that cannot be used; the message says where and why."""


@dataclass(frozen=True)
class Text:
    """A section's or topic's name and description in one language; empty: not translated."""

    name: str = ""
    description: str = ""


@dataclass(frozen=True)
class LanguageNames:
    """The translated sections and topics of one language, by Courier's ids."""

    sections: Mapping[str, Text] = field(default_factory=dict)
    topics: Mapping[str, Text] = field(default_factory=dict)


def language_key(tag: str) -> str:
    """A language tag as translations are keyed: lower case, "-" between its parts."""
    return tag.strip().replace("_", "-").lower()


def load_catalog_translations(path: str | None) -> dict[str, LanguageNames]:
    """Read and check the translations file; no path, no translations.

    Raises CatalogTranslationsError naming the file, and the entry when one is wrong.
    """
    if not path:
        return {}
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise CatalogTranslationsError(
            f"{VARIABLE} {path!r} cannot be read: {exc.strerror}"
        ) from exc
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CatalogTranslationsError(f"{VARIABLE} {path!r} is not UTF-8 JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise CatalogTranslationsError(f"{VARIABLE} {path!r} must hold a JSON object")
    languages: dict[str, LanguageNames] = {}
    for tag, entries in data.items():
        where = f"{VARIABLE} {path!r}, {tag!r}"
        if not LANGUAGE_TAG.fullmatch(tag):
            raise CatalogTranslationsError(f"{where}: not a language tag (like de or de-AT)")
        key = language_key(tag)
        if key in languages:
            raise CatalogTranslationsError(f"{where}: this language is given twice")
        languages[key] = _language(entries, where)
    return languages


def _language(entries: Any, where: str) -> LanguageNames:
    if not isinstance(entries, dict):
        raise CatalogTranslationsError(f"{where}: must be an object of sections and topics")
    unknown = set(entries) - set(KINDS)
    if unknown:
        raise CatalogTranslationsError(
            f"{where}: unknown {', '.join(sorted(unknown))} (give sections and topics)"
        )
    kinds = {}
    for kind in KINDS:
        items = entries.get(kind, {})
        if not isinstance(items, dict):
            raise CatalogTranslationsError(f"{where}, {kind}: must be an object by {kind[:-1]} id")
        kinds[kind] = {
            item_id: _text(text, f"{where}, {kind}, {item_id!r}") for item_id, text in items.items()
        }
    return LanguageNames(**kinds)


def _text(value: Any, where: str) -> Text:
    if not isinstance(value, dict):
        raise CatalogTranslationsError(f"{where}: must be an object with a name, a description")
    unknown = set(value) - set(FIELDS)
    if unknown:
        raise CatalogTranslationsError(
            f"{where}: unknown {', '.join(sorted(unknown))} (give name and description)"
        )
    for name in FIELDS:
        text = value.get(name, "")
        if not isinstance(text, str) or (name in value and not text.strip()):
            raise CatalogTranslationsError(f"{where}: {name} must be non-empty text")
    if not value:
        raise CatalogTranslationsError(f"{where}: give a name, a description or both")
    return Text(
        name=value.get("name", "").strip(), description=value.get("description", "").strip()
    )
