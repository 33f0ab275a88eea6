"""The standfirst: the summary a page shows between its headline and its article, kept as the body's lead.

trafilatura in precision mode often leaves it out (a <p class="lead"> or <div class="summary">
outside the article's main container). The page's description (og:description, description)
says what it is; the page shows it as the standfirst when an element holding exactly that text
sits after the headline and before the body's first paragraph, outside navigation, lists, links and
figures, and the body does not already say it (Indonesian pages open with the description as
their first sentence, and a teaser repeats the first paragraph's beginning).
"""

from __future__ import annotations

import re
from collections.abc import Callable

from lxml import etree
from lxml.html import HtmlElement

from workers.clean.body import is_prose, text_key

# Elements whose text is furniture, not the article's lead: menus, teasers, link lists, captions.
_FURNITURE = frozenset(
    {"nav", "aside", "footer", "li", "a", "figure", "figcaption", "button", "form", "label"}
)
_INVISIBLE = frozenset({"script", "style", "noscript", "template", "head", "title", "meta"})
_HOLDING = etree.XPath(".//text()[contains(., $word)]/..")  # text nodes first: 3 times faster
_AFTER_HEADLINE = etree.XPath("boolean(preceding::h1)")
_POSITION = etree.XPath("count(preceding::*) + count(ancestor::*)")  # document order
_CUT = re.compile(r"(?:…|\.\.\.|\[\W*\])\s*$")
# A description shorter than this is a tagline; this many characters of a text identify it.
STANDFIRST_MIN_WORDS = 6
PROBE_CHARS = 24
# Measured with ops/evaluate_extraction.py (body F1): fundus-dev 0.956 -> 0.963, whose truth counts the
# standfirst as body; idnews 0.974 kept (all its descriptions are cut with "…" or repeat the first
# sentence, 9 of 26 said with words changed); aeb 0.974 -> 0.971, whose truth leaves deks out.
# Share of the description's word pairs the body's opening may already hold before the
# standfirst counts as said (a first sentence repeating the description with a few words changed).
SAID_SHARE = 0.5
OPENING_LINES = 3


def standfirst(tree: HtmlElement, description: str | None, lines: list[str], headline: str) -> str | None:
    """The page's description when the page shows it as the article's standfirst, else None."""
    if not description or not lines or _CUT.search(description):
        return None
    description = " ".join(description.split())
    key = text_key(description)
    if len(key.split()) < STANDFIRST_MIN_WORDS or key == text_key(headline) or _said(key, lines):
        return None
    first = next((line for line in lines if is_prose(line)), lines[0])  # not a kicker or byline above it
    body = tree.find("body")
    body = body if body is not None else tree
    shown = _first(body, description, lambda element: text_key(element.text_content()) == key)
    if shown is None or _in_furniture(shown):
        return None  # not shown on its own, or shown as a teaser
    if body.find(".//h1") is not None and not _AFTER_HEADLINE(shown):
        return None  # above the headline: a page-wide tagline
    first_probe = first[:PROBE_CHARS]
    opening = _first(body, first, lambda element: _opening(element).startswith(first_probe))
    if opening is None or _POSITION(opening) <= _POSITION(shown):
        return None  # the body starts before it: a quote or teaser further down
    return description


def _first(body: HtmlElement, text: str, check: Callable[[HtmlElement], bool]) -> HtmlElement | None:
    """The first element whose own text starts `text` (inline markup may follow) and passes `check`.

    An XPath search for its first word (lxml's XPath normalises ASCII spaces only) narrows the
    page down to a few elements before Python compares their text.
    """
    for element in _HOLDING(body, word=text.split()[0]):
        if element.tag in _INVISIBLE:
            continue
        own = " ".join((element.text or "").split())
        if own and text.startswith(own) and check(element):
            return element
    return None


def _opening(element: HtmlElement) -> str:
    """The first PROBE_CHARS or more characters of an element's text, spaces normalised."""
    parts: list[str] = []
    size = 0
    for part in element.itertext():
        parts.append(part)
        size += len(part)
        if size > 2 * PROBE_CHARS:
            break
    return " ".join("".join(parts).split())


def _said(key: str, lines: list[str]) -> bool:
    """True when the body's opening already holds most of the description's word pairs (or all of it)."""
    opening = text_key(" ".join(lines[:OPENING_LINES]))
    words = key.split()
    if key in opening:
        return True
    body = " ".join(lines[OPENING_LINES:])
    if max(words, key=len) in body.lower() and key in text_key(body):  # its longest word first: cheap
        return True
    held = opening.split()
    pairs = set(zip(words, words[1:], strict=False))
    held_pairs = set(zip(held, held[1:], strict=False))
    return len(pairs & held_pairs) >= SAID_SHARE * len(pairs)


def _in_furniture(element: HtmlElement) -> bool:
    """True for an element inside navigation, a list, a link, a figure or a form."""
    return element.tag in _FURNITURE or any(parent.tag in _FURNITURE for parent in element.iterancestors())
