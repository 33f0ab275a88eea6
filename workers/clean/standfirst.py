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

from lxml.html import HtmlElement

from workers.clean.body import is_prose, text_key

# Elements whose text is furniture, not the article's lead: menus, teasers, link lists, captions.
_FURNITURE = frozenset(
    {"nav", "aside", "footer", "li", "a", "figure", "figcaption", "button", "form", "label"}
)
_INVISIBLE = frozenset({"script", "style", "noscript", "template", "head", "title", "meta"})
_CUT = re.compile(r"(?:…|\.\.\.|\[\W*\])\s*$")
# A description shorter than this is a tagline; this many characters of a text identify it.
STANDFIRST_MIN_WORDS = 6
PROBE_CHARS = 24
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
    probe, first_probe = description[:PROBE_CHARS], first[:PROBE_CHARS]
    body = tree.find("body")
    body = body if body is not None else tree
    seen_headline = body.find(".//h1") is None  # a page without <h1>: no headline to be after
    shown: HtmlElement | None = None
    for element in body.iter():
        if element.tag == "h1":
            seen_headline = True
        if not isinstance(element.tag, str) or element.tag in _INVISIBLE or not element.text:
            continue
        text = " ".join(element.text.split())
        if shown is None and text.startswith(probe):
            if not seen_headline or text_key(element.text_content()) != key or _in_furniture(element):
                return None  # shown before the headline, as part of a longer text, or as a teaser
            shown = element
        elif first.startswith(text) and " ".join(element.text_content().split()).startswith(first_probe):
            return description if shown is not None else None  # the body's first paragraph ("Mehr als <a>…")
    return None


def _said(key: str, lines: list[str]) -> bool:
    """True when the body's opening already holds most of the description's word pairs (or all of it)."""
    opening = text_key(" ".join(lines[:OPENING_LINES]))
    if key in opening or key in text_key(" ".join(lines)):
        return True
    words, held = key.split(), opening.split()
    pairs = set(zip(words, words[1:], strict=False))
    held_pairs = set(zip(held, held[1:], strict=False))
    return len(pairs & held_pairs) >= SAID_SHARE * len(pairs)


def _in_furniture(element: HtmlElement) -> bool:
    """True for an element inside navigation, a list, a link, a figure or a form."""
    return element.tag in _FURNITURE or any(parent.tag in _FURNITURE for parent in element.iterancestors())
