"""HTML pages: parse once, extract the body with trafilatura, read metadata from the same tree."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import lxml.html
import trafilatura
from lxml.etree import ElementDefaultClassLookup
from lxml.html import HtmlComment, HtmlElement, HtmlEntity, HtmlProcessingInstruction
from trafilatura.metadata import extract_title
from trafilatura.utils import is_dubious_html, load_html, repair_faulty_html

from schemas import RawDocument, Reason, SourceKind
from workers.clean.body import finish_body, is_prose, same_text, split_lines, strip_noise, word_count
from workers.clean.credits import Credits
from workers.clean.dateline import is_domain_like
from workers.clean.draft import Draft
from workers.clean.html_meta import bylines, date_candidates, organisations, people, section, site_names
from workers.clean.meta import PageMeta, read_meta, visible_dates
from workers.clean.photo import caption_lines, is_photo_page
from workers.clean.standfirst import standfirst
from workers.clean.tree import wrap_loose_text
from workers.errors import PermanentError, SkipInput

# favor_precision, measured with ops/evaluate_extraction.py (word 4-gram F1 of the whole clean
# stage, trafilatura 2.3): 0.974 against 0.899 in default mode and 0.887 with favor_recall on the
# 26 Indonesian pages (default mode keeps "latest" and "related" link lists as text and lets 5 of
# 10 front pages through as articles), 0.971 against 0.969 and 0.968 on the 181-page
# article-extraction benchmark. Comments are never the article.
TRAFILATURA_OPTIONS: dict[str, Any] = {
    "favor_precision": True,
    "include_comments": False,
    "include_tables": True,
}
# trafilatura's fast mode skips its comparison with readability and jusText, which costs a
# third of its time. Its body is not trusted when it looks like a fragment of the page's main
# text: under FRAGMENT_PAGE_SHARE of the page's visible text (characters outside scripts and
# styles), under FRAGMENT_PARAGRAPH_SHARE of its prose paragraphs (<p> of PARAGRAPH_MIN_CHARS
# or more outside navigation and lists, mostly not links, not teasers ending in "…"; an article
# split into several containers between ads keeps only the first in trafilatura's fast pass),
# or under FRAGMENT_STATED_SHARE of the words the page states for its article (JSON-LD
# articleBody or wordCount). A fragment gets the full cascade in precision mode, kept when it
# finds more; a body that still leaves out most of the paragraphs (or of the stated length) of
# a page that calls itself an article (og:type, JSON-LD) then gets the full cascade in balanced
# mode (readability, jusText, trafilatura's recall retry),
# kept when it has BALANCED_MIN_GROWTH times the words, at least half of them in prose
# paragraphs (not headline lists, not a one-line dump of the page).
# Measured with ops/evaluate_extraction.py on aeb / idnews / fundus-dev: a fixed 100-word floor
# scored 0.971 / 0.974 / 0.950 and lost Politico (115 of 879 words) and a Japanese page (one
# block of 688); these checks score 0.974 / 0.974 / 0.956, lose no page, and run the fallback
# on 9 of 181 / 14 of 36 / 5 of 116 pages. Article bodies fill 4-100 % of a page's visible text,
# fragments and failed fast passes 0-7 %; Politico's fragment held 14 % of its paragraph text, a
# blog page's post 36 % (the teasers of other posts fill the rest). A balanced body 2.7-3.9 times the precision one was a photo page's
# link lists; on front pages it is teasers (0-55 % prose, one 100 %, none calling itself an
# article); the fragments it restored grew 6-20 times and were 96-99 % prose.
FRAGMENT_PAGE_SHARE = 0.1
FRAGMENT_PARAGRAPH_SHARE = 0.25
PARAGRAPH_MIN_CHARS = 20
FRAGMENT_STATED_SHARE = 0.5
BALANCED_MIN_GROWTH = 4

# A front page or index: little body, links everywhere. Measured on 6 HTML front pages and 207
# articles: front pages give 0-23 words of body and 31+ words of link text per body word (the
# Kompas index, 159 words of teasers, is caught by its root URL); articles stay under 10. Photo
# pages reach 15-91 and are not judged by it: their captions are the story (photo.py).
FRONT_PAGE_MAX_WORDS = 150
FRONT_PAGE_LINK_RATIO = 15

# trafilatura's parser settings, with lxml's element classes chosen in C: lxml.html's default
# lookup is a Python method called for every element proxy (~2,000 a page), 0.5 ms of a 17 ms
# clean (same output on 235 pages: aeb, idnews, test fixtures). Every element is an HtmlElement, as trafilatura
# needs; only lxml's form-specific classes (FormElement, InputElement), which nothing here uses, go.
_PARSER = lxml.html.HTMLParser(
    collect_ids=False, default_doctype=False, encoding="utf-8", remove_comments=True, remove_pis=True
)
_PARSER.set_element_class_lookup(
    ElementDefaultClassLookup(
        element=HtmlElement, comment=HtmlComment, pi=HtmlProcessingInstruction, entity=HtmlEntity
    )
)

_FEED = re.compile(
    r"^\s*(?:<\?xml[^>]*>\s*|<!--.*?-->\s*)*<(?:rss|feed|rdf:rdf)\b", re.IGNORECASE | re.DOTALL
)
_TITLE_SEPARATOR = re.compile(
    r"(\s+[|\-–—»·:]\s+|:\s+|\s+::\s+|\s*[：｜]\s*)"
)  # full-width ones in CJK titles
_SPACES = re.compile(r"\s+")
_INVISIBLE = frozenset({"script", "style", "noscript", "template"})
_OUTSIDE_ARTICLE = frozenset({"nav", "header", "footer", "aside", "menu", "li", "a"})
_ELLIPSIS_END = re.compile(r"(?:…|\.\.\.)\s*$")
# An <h1> shorter than this is a logo or section name, not the headline.
H1_MIN_WORDS = 3


def extract_html(raw: RawDocument, is_outlet: Callable[[str], object]) -> Draft:
    """Body, title, credits, dates, outlet labels, section, tags and image of an HTML page."""
    tree = parse_html(raw.text)
    base_url = raw.final_url or raw.url
    meta = read_meta(tree, base_url)
    wrap_loose_text(tree)
    lines, credits = _extract_body(tree, base_url, meta)
    url = meta.canonical or base_url
    photo = is_photo_page(url, meta)
    if photo:
        lines = _photo_lines(tree, lines)
    else:
        _reject_front_page(tree, word_count(" ".join(lines)), url)
    names = site_names(tree, meta)
    title = _pick_title(tree, meta, names, is_outlet)
    lead = None if photo else standfirst(tree, meta.description, lines, title)
    lines = [lead, *lines] if lead else lines
    paragraphs, dateline = finish_body(lines, title, is_outlet)

    def not_person(name: str) -> bool:
        """True for the site's or a known outlet's name given as author ("Lesotho Times", "Lrt.lt")."""
        return is_domain_like(name) or bool(is_outlet(name)) or any(same_text(name, site) for site in names)

    def wire(name: str) -> bool:
        """True for a wire agency, a co-author when named beside reporters ("Adam Vidler", "AP")."""
        return getattr(is_outlet(name), "kind", None) == SourceKind.wire

    return Draft(
        paragraphs=paragraphs,
        title=title,
        url=meta.canonical,
        dates=date_candidates(tree, meta, url),
        authors=people(credits.authors, meta.ld_authors, meta.authors, not_person=not_person, co_author=wire)
        or people(bylines(tree), not_person=not_person, co_author=wire)
        or organisations(meta.ld_organisations, meta.ld_authors, meta.authors),
        editors=people(credits.editors, meta.editors, not_person=not_person),
        labels=[name for name in names if not name.startswith("http")],
        dateline_outlet=dateline.outlet,
        section=section(meta),
        tags=meta.tags,
        image=meta.image,
        dateline=dateline.place,
        photo=photo,
        stated_dates=meta.dates,
        dateline_date=dateline.date,
        modified_date=meta.modified,
        shown_dates=lambda: list(visible_dates(tree)),
    )


def _extract_body(tree: HtmlElement, url: str | None, meta: PageMeta) -> tuple[list[str], Credits]:
    """Body lines and credits: trafilatura's fast pass, its full cascade when that is a fragment.

    Metadata comes from our own pass over the same tree (html_meta), not from trafilatura's.
    """
    size = _PageSize(tree, _visible_chars(tree), meta.stated_words)
    lines, credits = _trafilatura_lines(tree, url, fast=True)
    if not size.is_fragment(lines):
        return lines, credits
    full_lines, full_credits = _trafilatura_lines(tree, url, fast=False)
    if word_count(" ".join(full_lines)) > word_count(" ".join(lines)):
        lines, credits = full_lines, full_credits
    if not meta.is_article or not size.misses_paragraphs(lines):
        return lines, credits
    wide_lines, wide_credits = _trafilatura_lines(tree, url, fast=False, focus={})
    words, wide_words = word_count(" ".join(lines)), word_count(" ".join(wide_lines))
    prose_words = sum(word_count(line) for line in wide_lines if is_prose(line))
    if wide_words >= BALANCED_MIN_GROWTH * max(words, 1) and 2 * prose_words >= wide_words:
        return wide_lines, wide_credits
    return lines, credits


@dataclass
class _PageSize:
    """How much article text a page holds, by three measures (the paragraphs counted when needed)."""

    tree: HtmlElement
    visible_chars: int  # all text outside scripts and styles
    stated_words: int | None  # the article's length by its JSON-LD
    paragraph_chars: int | None = None  # text of prose <p> elements outside navigation, lists and links

    def is_fragment(self, lines: list[str]) -> bool:
        """True when a body is a small part of the page's text, of its paragraphs or of the stated article."""
        chars = sum(len(line) for line in lines)
        if not chars or chars < FRAGMENT_PAGE_SHARE * self.visible_chars:
            return True
        if chars >= FRAGMENT_PARAGRAPH_SHARE * self.visible_chars:  # paragraphs are part of the visible text
            return self.misses_stated(lines)
        return self.misses_paragraphs(lines)

    def misses_paragraphs(self, lines: list[str]) -> bool:
        """True when a body leaves out most of the page's prose paragraphs or of the stated article."""
        if self.paragraph_chars is None:
            self.paragraph_chars = _paragraph_chars(self.tree)
        chars = sum(len(line) for line in lines)
        return (
            not chars or chars < FRAGMENT_PARAGRAPH_SHARE * self.paragraph_chars or self.misses_stated(lines)
        )

    def misses_stated(self, lines: list[str]) -> bool:
        """True when a body has under FRAGMENT_STATED_SHARE of the words the page states for its article."""
        return word_count(" ".join(lines)) < FRAGMENT_STATED_SHARE * (self.stated_words or 0)


def _visible_chars(tree: HtmlElement) -> int:
    """Characters of the page's text outside scripts and styles, spaces at either end of a node not counted."""
    chars = 0
    for element in tree.iter():
        if element.tag not in _INVISIBLE and element.text:
            chars += len(element.text.strip())
        if element.tail:
            chars += len(element.tail.strip())
    return chars


def _paragraph_chars(tree: HtmlElement) -> int:
    """Characters of the page's prose paragraphs: <p> outside navigation, lists and links, mostly not
    link text, not a teaser cut short with an ellipsis."""
    chars = 0
    for paragraph in tree.iter("p"):
        text = paragraph.text_content()
        if len(text) < PARAGRAPH_MIN_CHARS or _ELLIPSIS_END.search(text):
            continue
        if 2 * sum(len(link.text_content()) for link in paragraph.iter("a")) >= len(text):
            continue
        if not any(parent.tag in _OUTSIDE_ARTICLE for parent in paragraph.iterancestors()):
            chars += len(text.strip())
    return chars


def _trafilatura_lines(
    tree: HtmlElement, url: str | None, fast: bool, focus: dict[str, bool] | None = None
) -> tuple[list[str], Credits]:
    """trafilatura's body text of a page as lines, without credit and boilerplate lines.

    `focus` replaces the precision setting of TRAFILATURA_OPTIONS ({} for the balanced mode).
    """
    options = (
        TRAFILATURA_OPTIONS if focus is None else {**TRAFILATURA_OPTIONS, "favor_precision": False, **focus}
    )
    document = trafilatura.bare_extraction(tree, url=url, with_metadata=False, fast=fast, **options)
    text = document.text if document and document.text else ""  # type: ignore[union-attr]  # a Document: as_dict is off
    return strip_noise(split_lines(text))


def parse_html(text: str) -> HtmlElement:
    """The lxml tree of a page; SkipInput for a feed, PermanentError when nothing parses."""
    if _FEED.match(text[:2000]):
        raise SkipInput("an RSS/Atom feed, not an article page", Reason.not_article)
    tree = _load(text)
    if tree is None and text.strip():
        tree = load_html(f"<html><body>{text}</body></html>")  # a fragment without <html>
    if tree is None:
        raise PermanentError("HTML could not be parsed", Reason.malformed)
    return tree


def _load(text: str) -> HtmlElement | None:
    """trafilatura's load_html with our parser; its own loader whenever that needs its fallbacks or checks."""
    beginning = text[:50].lower()
    try:
        tree = lxml.html.fromstring(repair_faulty_html(text, beginning), parser=_PARSER)
    except Exception:  # noqa: BLE001 - e.g. a str with an encoding declaration: load_html re-parses it as bytes
        return load_html(text)
    if tree is None or (is_dubious_html(beginning) and len(tree) < 2):
        return load_html(text)  # its sanity check decides
    return tree


def _photo_lines(tree: HtmlElement, lines: list[str]) -> list[str]:
    """The body of a photo page: its picture captions when they say more than the extracted text."""
    captions, _ = strip_noise(caption_lines(tree))
    return captions if word_count(" ".join(captions)) > word_count(" ".join(lines)) else lines


def _reject_front_page(tree: HtmlElement, body_words: int, url: str | None) -> None:
    """SkipInput(not_article) for a home, section or index page: a few words among many links."""
    at_root = bool(url) and urlsplit(url).path in ("", "/")
    if body_words >= FRONT_PAGE_MAX_WORDS and not at_root:
        return  # an article's worth of text: no need to count the links
    link_words = sum(len((a.text_content() or "").split()) for a in tree.iter("a"))
    if body_words < FRONT_PAGE_MAX_WORDS and link_words >= FRONT_PAGE_LINK_RATIO * max(body_words, 1):
        raise SkipInput(f"front page: {body_words} words of text, {link_words} of links", Reason.not_article)
    if at_root and link_words >= body_words:
        raise SkipInput("front page: site root URL", Reason.not_article)


def _pick_title(
    tree: HtmlElement, meta: PageMeta, site_names: list[str], is_outlet: Callable[[str], object]
) -> str:
    """The headline: the page's <h1> when the title contains it, else the title without site name."""
    title = _SPACES.sub(" ", meta.title or extract_title(tree) or "").strip()
    for h1 in tree.iter("h1"):
        heading = _SPACES.sub(" ", h1.text_content()).strip()
        if len(heading.split()) >= H1_MIN_WORDS and heading.lower() in title.lower():
            return heading
    return _strip_site_name(title, site_names, is_outlet)


def _strip_site_name(title: str, site_names: list[str], is_outlet: Callable[[str], object]) -> str:
    """Remove a leading or trailing site name ("… - Kompas.com", "KapanLagi.com: …")."""
    parts = _TITLE_SEPARATOR.split(title)  # text, separator, text, …

    def is_site(part: str) -> bool:
        """True for a title part naming the site rather than the story."""
        return (
            any(is_domain_like(word) for word in part.split())
            or bool(is_outlet(part))
            or any(same_text(part, name) for name in site_names)
        )

    while len(parts) > 2 and is_site(parts[-1]):
        parts = parts[:-2]
    while len(parts) > 2 and is_site(parts[0]):
        parts = parts[2:]
    title = "".join(parts).strip()
    if " | " in title:  # "Headline | Site | Section | …" with names we do not know: the headline is longest
        title = max(title.split(" | "), key=len).strip()
    return title
