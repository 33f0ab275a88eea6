"""Repair the usual breakage of real feeds before XML parsing, so recovery never has to guess at links.

A parser in recovery mode drops what it cannot read: `?id=1&page=2` loses `&page`, `&nbsp;`
loses the rest of a title. Each repair here is exact instead: HTML named entities become
character references, a bare `&` becomes `&amp;`, control characters go, HTML void tags
(`<br>`) are closed, text before the XML declaration (a PHP notice) is cut. CDATA sections
are left untouched (inside them `&` is already literal). Declared entities are refused, not
repaired: feeds never need them and entity-expansion attacks do.
"""

from __future__ import annotations

import html.entities
import re

from schemas import Reason
from workers.errors import PermanentError
from workers.fetch.encoding import decode_text

_XML_NAMED = frozenset({"amp", "lt", "gt", "quot", "apos"})
_ENTITY_DECLARATION = re.compile(r"<!ENTITY", re.IGNORECASE)
_DOCTYPE = re.compile(r"<!DOCTYPE[^>\[]*(?:\[[^\]]*\])?\s*>", re.IGNORECASE)
_START = re.compile(r"<\?xml|<(?:rss|feed|rdf:rdf|urlset|sitemapindex|channel)\b", re.IGNORECASE)
_CDATA = re.compile(r"(<!\[CDATA\[.*?(?:\]\]>|\Z))", re.DOTALL)
# XML 1.0 forbids C0 controls other than tab, newline, carriage return (and U+FFFE/U+FFFF)
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_REFERENCE = re.compile(r"&(#[0-9]+|#[xX][0-9a-fA-F]+|[A-Za-z][A-Za-z0-9]*);?")
_VOID_TAG = re.compile(r"<(br|hr|img|wbr)\b([^<>]*?)(?<!/)>", re.IGNORECASE)
_HEAD = 64 * 1024  # how far in a leading notice or the root may start


def decode_feed(data: bytes, declared_charset: str | None = None) -> str:
    """Decode a feed's bytes (BOM, UTF-16/32 by its first bytes, labels, detection)."""
    return decode_text(data, declared_charset, is_html=True).text


def _reference(match: re.Match[str]) -> str:
    """One `&…` reference in XML form: XML's own kept, HTML names as numbers, invalid ones dropped or escaped."""
    name, closed = match.group(1), match.group(0).endswith(";")
    if name[0] == "#":
        try:
            code = int(name[2:], 16) if name[1] in "xX" else int(name[1:])
        except ValueError:
            return ""
        allowed = code in (9, 10, 13) or 0x20 <= code <= 0xD7FF or 0xE000 <= code <= 0xFFFD
        allowed = allowed or 0x10000 <= code <= 0x10FFFF
        return (match.group(0) if closed else f"&#{code};") if allowed else ""
    if name in _XML_NAMED and closed:
        return match.group(0)
    text = html.entities.html5.get(name + ";") if closed else None
    if text is not None:
        return "".join(f"&#{ord(char)};" for char in text)
    return "&amp;" + match.group(0)[1:]  # `?id=1&page=2`: a bare ampersand, not a reference


def _repair_markup(text: str) -> str:
    text = _CONTROL.sub("", text)
    if "&" in text:
        text = _REFERENCE.sub(_reference, text)
        # an `&` followed by no name at all (`a & b`, `&&`, `&#;`)
        text = re.sub(r"&(?![A-Za-z#])", "&amp;", text)
    if "<" in text:
        text = _VOID_TAG.sub(r"<\1\2/>", text)
    return text


def refuse_entities(text: str) -> None:
    """Raise PermanentError(malformed) for a document declaring entities (billion laughs, XXE)."""
    if _ENTITY_DECLARATION.search(text):
        raise PermanentError(
            "feed declares XML entities (refused: entity expansion attack)", Reason.malformed
        )


def cut_leading_junk(text: str) -> str:
    """Drop what comes before the XML declaration or root element (a BOM, blank lines, a PHP notice)."""
    return text[document_start(text) :]


def document_start(text: str) -> int:
    """Where the XML declaration or root element starts (after a BOM, blank lines, a PHP notice)."""
    start = len(text) - len(text[:_HEAD].lstrip("\ufeff \t\r\n")) if text[:1] in "\ufeff \t\r\n" else 0
    if _START.match(text, start) or text.startswith(("<!--", "<!", "<?"), start):
        return start
    match = _START.search(text, start, start + _HEAD)
    return match.start() if match else start


def repair(text: str) -> str:
    """A feed's text with the usual breakage repaired exactly (see the module doc); CDATA untouched."""
    return repair_fragment(_DOCTYPE.sub("", cut_leading_junk(text), count=1))


def repair_fragment(text: str) -> str:
    """`repair` for a piece of a document that starts and ends between tags (no junk, no DOCTYPE)."""
    if "<![CDATA[" not in text:
        return _repair_markup(text)
    parts = _CDATA.split(text)
    # odd parts are CDATA sections: controls still go (XML forbids them there too)
    return "".join(_CONTROL.sub("", part) if n % 2 else _repair_markup(part) for n, part in enumerate(parts))
