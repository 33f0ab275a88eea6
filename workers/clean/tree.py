"""Repairs to a parsed page before trafilatura reads it.

Indonesian news templates often write the first paragraph as loose text straight inside the
article container, after the dateline in bold, with the later paragraphs in <p> elements:
``<div class="read"><b>Kapanlagi.com</b> - Brandon Salim, putra …<p>"Di sini …"</p></div>``.
trafilatura reads the <p> children and drops the loose text, so the lead paragraph (the one
that says what happened) goes missing. Wrapping such loose runs in <p> gives them back.
"""

from __future__ import annotations

from lxml.html import HtmlElement

# Elements that flow inside a paragraph; any other child ends a run of loose text.
_INLINE = frozenset({
    "a", "abbr", "b", "bdi", "bdo", "big", "br", "cite", "code", "data", "dfn", "em", "font", "i", "kbd",
    "mark", "q", "s", "samp", "small", "span", "strike", "strong", "sub", "sup", "time", "tt", "u", "var",
})  # fmt: skip
# Containers whose loose text can be a paragraph (a <span itemprop="articleBody"> holds <div>s on viva).
_CONTAINERS = ("div", "span", "td", "article", "section", "main", "font", "center")
# A run of loose text becomes a paragraph from this many words outside links: enough for a
# sentence, more than the "|" separators and "Home >" crumbs left loose in navigation bars.
# Measured with ops/evaluate_extraction.py: the same F1 (0.971 benchmark, 0.974 Indonesian
# pages) from 5 to 20 words; at 40 some of those leads stay lost (0.970), and without the
# repair the Indonesian pages score 0.960.
LOOSE_MIN_WORDS = 10


def wrap_loose_text(tree: HtmlElement) -> int:
    """Wrap runs of loose text beside block children into <p> elements; return how many were wrapped."""
    wrapped = 0
    for parent in list(tree.iter(_CONTAINERS)):
        children = list(parent)
        if not children or all(_is_inline(child) for child in children):
            continue  # no block child: trafilatura reads the container as one paragraph
        if _loose_words(parent, children) < LOOSE_MIN_WORDS:
            continue
        for before, run in _runs(parent, children):
            leading = parent.text if before is None else before.tail
            if _run_words(leading or "", run) >= LOOSE_MIN_WORDS:
                _wrap(parent, before, run)
                wrapped += 1
    return wrapped


def _is_inline(element: HtmlElement) -> bool:
    """True for an element that flows inside a paragraph (comments and processing instructions too)."""
    return not isinstance(element.tag, str) or element.tag in _INLINE


def _loose_words(parent: HtmlElement, children: list[HtmlElement]) -> int:
    """Words of text directly in a container (its text and its children's tails), a cheap first test."""
    return len((parent.text or "").split()) + sum(len(_tail(child).split()) for child in children)


def _runs(
    parent: HtmlElement, children: list[HtmlElement]
) -> list[tuple[HtmlElement | None, list[HtmlElement]]]:
    """Runs of inline children between block children, each with the block child before it.

    The loose text opening a run is the tail of that block child, or the container's own text
    for the first run (block child None).
    """
    runs: list[tuple[HtmlElement | None, list[HtmlElement]]] = []
    before: HtmlElement | None = None
    current: list[HtmlElement] = []
    for child in children:
        if _is_inline(child):
            current.append(child)
            continue
        runs.append((before, current))
        before, current = child, []
    runs.append((before, current))
    return runs


def _run_words(leading: str, run: list[HtmlElement]) -> int:
    """Words of a run outside links: link-only runs are navigation, not prose."""
    words = len(leading.split())
    for child in run:
        if isinstance(child.tag, str) and child.tag != "a":
            words += len(child.text_content().split())
        words += len(_tail(child).split())
    return words


def _wrap(parent: HtmlElement, before: HtmlElement | None, run: list[HtmlElement]) -> None:
    """Move a run and the loose text opening it into a new <p> right after the block child before it."""
    paragraph = parent.makeelement("p")
    if before is None:
        paragraph.text, parent.text = parent.text, None
        parent.insert(0, paragraph)
    else:
        paragraph.text, before.tail = before.tail, None
        before.addnext(paragraph)
    for child in run:
        paragraph.append(child)  # moves the child with its tail


def _tail(element: HtmlElement) -> str:
    """The tail text of an element, empty when it has none."""
    return element.tail or ""
