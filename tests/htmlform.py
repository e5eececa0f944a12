"""Read a page's form the way a browser would, so tests submit exactly what a person would."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from html.parser import HTMLParser

from werkzeug.datastructures import MultiDict


@dataclass
class Control:
    """One input of the form."""

    type: str
    name: str
    value: str
    checked: bool = False
    disabled: bool = False
    id: str = ""


@dataclass
class HtmlForm(HTMLParser):
    """The first <form method=post> of a page, with its inputs."""

    controls: list[Control] = field(default_factory=list)
    action: str | None = None
    _in_form: bool = False

    def __post_init__(self) -> None:
        super().__init__()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = {key: value or "" for key, value in attrs}
        if tag == "form" and self.action is None and attributes.get("method") == "post":
            self._in_form = True
            self.action = attributes.get("action", "")
        elif tag == "input" and self._in_form and "name" in attributes:
            self.controls.append(
                Control(
                    type=attributes.get("type", "text"),
                    name=attributes["name"],
                    value=attributes.get("value", "on"),
                    checked="checked" in attributes,
                    disabled="disabled" in attributes,
                    id=attributes.get("id", ""),
                )
            )

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._in_form = False

    @classmethod
    def parse(cls, html: str) -> HtmlForm:
        """Parse the page's first POST form."""
        form = cls()
        form.feed(html)
        assert form.action is not None, "the page has no POST form"
        return form

    def pairs(self) -> list[tuple[str, str]]:
        """Return the (name, value) pairs a browser would post, in page order."""
        return [
            (c.name, c.value)
            for c in self.controls
            if not c.disabled and (c.type not in ("checkbox", "radio") or c.checked)
        ]

    def submission(self, *extra: tuple[str, str]) -> MultiDict:
        """Return what a browser would post, plus any extra (name, value) pairs."""
        return MultiDict(self.pairs() + list(extra))

    def value(self, name: str) -> str:
        """Return the value of a hidden or text input."""
        return next(c.value for c in self.controls if c.name == name)

    def checkbox(self, name: str, value: str = "OPTED_IN") -> Control:
        """Return the checkbox with this name and value."""
        return next(c for c in self.controls if c.name == name and c.value == value)

    def set(self, name: str, value: str, checked: bool) -> HtmlForm:
        """Tick or untick a checkbox, as a person would."""
        control = self.checkbox(name, value)
        assert not control.disabled, f"{name}={value} is locked"
        control.checked = checked
        return self

    def choose(self, name: str, value: str) -> HtmlForm:
        """Tick one radio button of a group (the others of the group untick), as a person would."""
        group = [c for c in self.controls if c.name == name and c.type == "radio"]
        assert any(c.value == value for c in group), f"no {name}={value} radio"
        for control in group:
            control.checked = control.value == value
        return self

    def chosen(self, name: str) -> str | None:
        """The value of the ticked radio button of a group, if any is."""
        return next((c.value for c in self.controls if c.name == name and c.checked), None)


def text_of(html: str) -> str:
    """Return a page's visible text with tags stripped and whitespace folded."""
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    text = re.sub(r"<[^>]+>", " ", html)
    for entity, char in (
        ("&amp;", "&"),
        ("&lt;", "<"),
        ("&gt;", ">"),
        ("&#34;", '"'),
        ("&#39;", "'"),
        ("&quot;", '"'),
    ):
        text = text.replace(entity, char)
    return re.sub(r"\s+", " ", text).strip()
