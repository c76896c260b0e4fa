"""Parses Telegram's HTML formatting subset like the Bot API does: plain text and entities, or an error."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

# tag -> MessageEntity type; Telegram rejects every other tag, which is how unescaped "<" in
# user-supplied text breaks a bot's messages.
_ENTITY_TYPES = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "span": "spoiler",
    "tg-spoiler": "spoiler",
    "a": "text_link",
    "code": "code",
    "pre": "pre",
    "blockquote": "blockquote",
    "tg-emoji": "custom_emoji",
}
_NAMED_ENTITIES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_ENTITY_RE = re.compile(r"&(?:#(\d{1,7})|#[xX]([0-9a-fA-F]{1,6})|([a-zA-Z]+));")


class HtmlParseError(ValueError):
    """The text is not valid Telegram HTML; the message follows "can't parse entities: "."""


@dataclass(frozen=True)
class ParsedText:
    text: str
    entities: list[dict[str, Any]]


@dataclass
class _OpenTag:
    name: str
    attributes: dict[str, str]
    offset: int  # in UTF-16 code units of the plain text, like MessageEntity offsets


@dataclass
class _Parser:
    source: str
    pos: int = 0
    pieces: list[str] = field(default_factory=list)
    length: int = 0
    stack: list[_OpenTag] = field(default_factory=list)
    entities: list[dict[str, Any]] = field(default_factory=list)

    def error(self, message: str, at: int, detail: str = "") -> HtmlParseError:
        byte_offset = len(self.source[:at].encode("utf-8"))
        return HtmlParseError(f"{message} at byte offset {byte_offset}{detail}")

    def emit(self, text: str) -> None:
        self.pieces.append(text)
        self.length += utf16_len(text)

    def at_end(self) -> bool:
        return self.pos >= len(self.source)

    def peek(self) -> str:
        return self.source[self.pos] if self.pos < len(self.source) else ""

    def skip_spaces(self) -> None:
        while self.peek().isspace():
            self.pos += 1

    def read_until(self, stops: str) -> str:
        start = self.pos
        while not self.at_end() and not self.peek().isspace() and self.peek() not in stops:
            self.pos += 1
        return self.source[start : self.pos]


def utf16_len(text: str) -> int:
    """Length in UTF-16 code units, the unit of Telegram's limits and entity offsets."""
    return len(text.encode("utf-16-le")) // 2


def parse_html(source: str) -> ParsedText:
    """Plain text and entities of ``source``; raises :class:`HtmlParseError` like the Bot API."""
    parser = _Parser(source)
    while not parser.at_end():
        char = parser.peek()
        if char == "&":
            _entity(parser)
        elif char == "<" and parser.source.startswith("</", parser.pos):
            _end_tag(parser)
        elif char == "<":
            _start_tag(parser)
        else:
            parser.emit(char)
            parser.pos += 1
    if parser.stack:
        raise HtmlParseError(f'Can\'t find end tag corresponding to start tag "{parser.stack[-1].name}"')
    return stripped("".join(parser.pieces), parser.entities)


def _entity(parser: _Parser) -> None:
    match = _ENTITY_RE.match(parser.source, parser.pos)
    decoded = _decode_entity(match) if match else None
    if decoded is None:  # Telegram keeps an unrecognised "&" literally
        parser.emit("&")
        parser.pos += 1
        return
    parser.emit(decoded)
    parser.pos = match.end()  # type: ignore[union-attr]


def _decode_entity(match: re.Match[str]) -> str | None:
    decimal, hexadecimal, name = match.groups()
    if name is not None:
        return _NAMED_ENTITIES.get(name)
    code = int(decimal) if decimal is not None else int(hexadecimal, 16)
    if 0 < code <= 0x10FFFF and not 0xD800 <= code <= 0xDFFF:
        return chr(code)
    return None


def _start_tag(parser: _Parser) -> None:
    start = parser.pos
    parser.pos += 1
    name = parser.read_until(">").lower()
    if parser.at_end():
        raise parser.error("Unclosed start tag", start)
    if name not in _ENTITY_TYPES:
        raise parser.error(f'Unsupported start tag "{name}"', start)
    attributes = _attributes(parser, name, start)
    if name == "span" and attributes.get("class") != "tg-spoiler":
        raise parser.error('Tag "span" must have class "tg-spoiler"', start)
    parser.stack.append(_OpenTag(name, attributes, parser.length))


def _attributes(parser: _Parser, tag: str, start: int) -> dict[str, str]:
    attributes: dict[str, str] = {}
    while True:
        parser.skip_spaces()
        if parser.at_end():
            raise parser.error("Unclosed start tag", start)
        if parser.peek() == ">":
            parser.pos += 1
            return attributes
        name = parser.read_until("=>").lower()
        if not name:
            raise parser.error(f'Empty attribute name in the tag "{tag}"', start)
        parser.skip_spaces()
        if parser.peek() != "=":  # a bare attribute such as <blockquote expandable>
            attributes[name] = ""
            continue
        parser.pos += 1
        parser.skip_spaces()
        attributes[name] = _attribute_value(parser, start)


def _attribute_value(parser: _Parser, start: int) -> str:
    quote = parser.peek()
    if quote not in ('"', "'"):
        return parser.read_until(">")
    end = parser.source.find(quote, parser.pos + 1)
    if end < 0:
        raise parser.error("Unclosed start tag", start)
    raw = parser.source[parser.pos + 1 : end]
    parser.pos = end + 1
    return _ENTITY_RE.sub(lambda m: _decode_entity(m) or m.group(0), raw)


def _end_tag(parser: _Parser) -> None:
    start = parser.pos
    parser.pos += 2
    name = parser.read_until(">").lower()
    parser.skip_spaces()
    if parser.peek() != ">":
        raise parser.error("Unclosed end tag", start)
    parser.pos += 1
    if not parser.stack:
        raise parser.error("Unexpected end tag", start)
    opened = parser.stack.pop()
    if name and name != opened.name:
        raise parser.error("Unmatched end tag", start, f', expected "</{opened.name}>", found "</{name}>"')
    _close(parser, opened)


def _close(parser: _Parser, opened: _OpenTag) -> None:
    length = parser.length - opened.offset
    if length == 0:
        return
    entity: dict[str, Any] = {
        "type": _ENTITY_TYPES[opened.name],
        "offset": opened.offset,
        "length": length,
    }
    if opened.name == "a":
        if not opened.attributes.get("href"):
            return
        entity["url"] = opened.attributes["href"]
    elif opened.name == "tg-emoji":
        entity["custom_emoji_id"] = opened.attributes.get("emoji-id", "")
    elif opened.name == "blockquote" and "expandable" in opened.attributes:
        entity["type"] = "expandable_blockquote"
    elif opened.name == "code" and parser.stack and parser.stack[-1].name == "pre":
        # <pre><code class="language-x"> is one pre entity with a language, as in Telegram.
        language = opened.attributes.get("class", "").removeprefix("language-")
        if language:
            parser.stack[-1].attributes["language"] = language
            return
    elif opened.name == "pre" and opened.attributes.get("language"):
        entity["language"] = opened.attributes["language"]
    parser.entities.append(entity)


def stripped(text: str, entities: list[dict[str, Any]]) -> ParsedText:
    """Telegram trims surrounding whitespace and shifts the entities with the text."""
    lead = utf16_len(text) - utf16_len(text.lstrip())
    stripped = text.strip()
    limit = utf16_len(stripped)
    kept: list[dict[str, Any]] = []
    for entity in entities:
        begin = max(entity["offset"] - lead, 0)
        end = min(entity["offset"] + entity["length"] - lead, limit)
        if end > begin:
            kept.append({**entity, "offset": begin, "length": end - begin})
    kept.sort(key=lambda entity: (entity["offset"], -entity["length"]))
    return ParsedText(stripped, kept)
