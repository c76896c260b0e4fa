"""A message as Telegram shows it, for the console's previews: the plain text with its formatting
entities turned into the page's own HTML (bold as bold, a link as a link), everything else escaped."""

from __future__ import annotations

import html
from typing import Any

from markupsafe import Markup

from texts.telegram_html import HtmlParseError, parse_html

# Entity type -> the page's element (and its class); what Telegram shows as plain text is left out.
_ELEMENTS: dict[str, tuple[str, str]] = {
    "bold": ("b", ""),
    "italic": ("i", ""),
    "underline": ("u", ""),
    "strikethrough": ("s", ""),
    "spoiler": ("span", "spoiler"),
    "code": ("code", ""),
    "pre": ("pre", ""),
    "blockquote": ("blockquote", ""),
    "expandable_blockquote": ("blockquote", ""),
    "text_link": ("a", ""),
}
LINK_SCHEMES = ("https://", "http://", "tg://")


def _element(entity: dict[str, Any]) -> tuple[str, str]:
    """The page's element for an entity; a link to anything but a web or Telegram address is shown
    as its text alone (Telegram itself would not open a javascript: link either)."""
    if entity["type"] == "text_link" and not entity["url"].lower().startswith(LINK_SCHEMES):
        return "span", ""
    return _ELEMENTS[entity["type"]]


def _open(entity: dict[str, Any]) -> str:
    element, css = _element(entity)
    if element == "a":
        return f'<a href="{html.escape(entity["url"], quote=True)}" rel="noopener noreferrer">'
    return f'<{element} class="{css}">' if css else f"<{element}>"


def as_shown(source: str) -> Markup | None:
    """`source` (Telegram HTML) as the reader's app would show it; None when Telegram would refuse it."""
    try:
        parsed = parse_html(source)
    except HtmlParseError:
        return None
    entities = sorted(
        (entity for entity in parsed.entities if entity["type"] in _ELEMENTS),
        key=lambda entity: (entity["offset"], -entity["length"]),
    )
    out: list[str] = []
    closing: list[tuple[int, str]] = []  # (UTF-16 end, closing tag), innermost last
    position = 0  # in UTF-16 code units, the unit of entity offsets
    pending = iter(entities)
    upcoming = next(pending, None)
    for char in parsed.text:
        while closing and closing[-1][0] <= position:
            out.append(closing.pop()[1])
        while upcoming is not None and upcoming["offset"] <= position:
            out.append(_open(upcoming))
            closing.append((upcoming["offset"] + upcoming["length"], f"</{_element(upcoming)[0]}>"))
            upcoming = next(pending, None)
        out.append(html.escape(char))
        position += len(char.encode("utf-16-le")) // 2
    out.extend(tag for _, tag in reversed(closing))
    return Markup("".join(out))  # noqa: S704 - every character of the text is escaped above
