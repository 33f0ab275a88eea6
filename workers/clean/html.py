"""HTML pages: parse once, extract the body with trafilatura, read metadata from the same tree."""

from __future__ import annotations

import re
from collections.abc import Callable
from urllib.parse import urlsplit

import trafilatura
from lxml.html import HtmlElement
from trafilatura.utils import load_html

from schemas import RawDocument, Reason
from workers.clean.body import finish_body, same_text, split_lines, strip_noise, word_count
from workers.clean.credits import person_names
from workers.clean.dateline import is_domain_like
from workers.clean.draft import Draft
from workers.clean.dates import parse_date
from workers.clean.meta import PageMeta, read_meta
from workers.errors import PermanentError, SkipInput

# favor_precision, measured with ops/evaluate_extraction.py (word 4-gram F1 of the whole clean
# stage, trafilatura 2.3): 0.930 against 0.889 in default mode and 0.862 with favor_recall on the
# 26 Indonesian pages (default mode keeps "latest" and "related" link lists as text and lets 5 of
# 6 front pages through as articles), 0.968 against 0.964 and 0.963 on the 181-page
# article-extraction benchmark. Comments are never the article.
TRAFILATURA_OPTIONS = {"favor_precision": True, "include_comments": False, "include_tables": True}

# A front page or index: little body, links everywhere. Measured on 6 HTML front pages and 207
# articles: front pages give 0-23 words of body and 31+ words of link text per body word (the
# Kompas index, 159 words of teasers, is caught by its root URL); articles stay under 10, photo
# pages reach 15-91 with under 40 words (too short either way).
FRONT_PAGE_MAX_WORDS = 150
FRONT_PAGE_LINK_RATIO = 15

_FEED = re.compile(r"^\s*(?:<\?xml[^>]*>\s*|<!--.*?-->\s*)*<(?:rss|feed|rdf:rdf)\b", re.IGNORECASE | re.DOTALL)
_TITLE_SEPARATOR = re.compile(r"(\s+[|\-–—»·:]\s+|:\s+|\s+::\s+)")
_SPACES = re.compile(r"\s+")
_TIME = re.compile(r"\b\d{1,2}[:.]\d{2}\b")
_ZONE = re.compile(r"\b(?:WIB|WITA|WIT|GMT|UTC)\b|[+-]\d{2}:?\d{2}\b", re.IGNORECASE)
# An <h1> shorter than this is a logo or section name, not the headline.
H1_MIN_WORDS = 3


def extract_html(raw: RawDocument, is_outlet: Callable[[str], object]) -> Draft:
    """Body, title, credits, dates, outlet labels, section, tags and image of an HTML page."""
    tree = parse_html(raw.text)
    base_url = raw.final_url or raw.url
    meta = read_meta(tree, base_url)
    document = trafilatura.bare_extraction(tree, url=base_url, with_metadata=True, **TRAFILATURA_OPTIONS)
    lines, credits = strip_noise(split_lines(document.text if document and document.text else ""))
    _reject_front_page(tree, word_count(" ".join(lines)), base_url or meta.canonical)
    site_names = [n for n in (meta.site_name, meta.publisher, document and document.sitename) if n]
    title = _pick_title(tree, meta, document.title if document else None, site_names, is_outlet)
    paragraphs, dateline = finish_body(lines, title, is_outlet)
    return Draft(
        paragraphs=paragraphs,
        title=title,
        url=meta.canonical or (document.url if document else None),
        dates=_date_candidates(meta, document.date if document else None),
        authors=_people(credits.authors, meta.authors, [document.author] if document and document.author else []),
        editors=_people(credits.editors, meta.editors),
        labels=[name for name in site_names if not name.startswith("http")],
        dateline_outlet=dateline.outlet,
        section=_section(meta, document),
        tags=meta.tags,
        image=meta.image or (document.image if document else None),
        dateline=dateline.place,
    )


def parse_html(text: str) -> HtmlElement:
    """The lxml tree of a page; SkipInput for a feed, PermanentError when nothing parses."""
    if _FEED.match(text[:2000]):
        raise SkipInput("an RSS/Atom feed, not an article page", Reason.not_article)
    tree = load_html(text)
    if tree is None and text.strip():
        tree = load_html(f"<html><body>{text}</body></html>")  # a fragment without <html>
    if tree is None:
        raise PermanentError("HTML could not be parsed", Reason.malformed)
    return tree


def _reject_front_page(tree: HtmlElement, body_words: int, url: str | None) -> None:
    """SkipInput(not_article) for a home, section or index page: a few words among many links."""
    link_words = sum(len((a.text_content() or "").split()) for a in tree.iter("a"))
    if body_words < FRONT_PAGE_MAX_WORDS and link_words >= FRONT_PAGE_LINK_RATIO * max(body_words, 1):
        raise SkipInput(f"front page: {body_words} words of text, {link_words} of links", Reason.not_article)
    if url and urlsplit(url).path in ("", "/") and link_words >= body_words:
        raise SkipInput("front page: site root URL", Reason.not_article)


def _pick_title(
    tree: HtmlElement,
    meta: PageMeta,
    extracted: str | None,
    site_names: list[str],
    is_outlet: Callable[[str], object],
) -> str:
    """The headline: the page's <h1> when the title tag contains it, else the title without site name."""
    title = _SPACES.sub(" ", extracted or meta.title or tree.findtext(".//title") or "").strip()
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


def _people(*sources: list[str]) -> list[str]:
    """Distinct person names from credit lines, metadata and trafilatura, in that order of trust."""
    names: list[str] = []
    for source in sources:
        for value in source:
            for name in person_names(value):
                if name.lower() not in (n.lower() for n in names):
                    names.append(name)
    return names


def _date_candidates(meta: PageMeta, day: str | None) -> list[str]:
    """Publication date candidates: stated in metadata, then shown on the page, then trafilatura's day.

    Pages also show the dates of related links. Stamps on the day trafilatura (htmldate)
    settled on go first, and among them the fullest (time and zone): listings abbreviate.
    """
    visible = sorted(meta.visible_dates, key=lambda text: (not _on_day(text, day), -_fullness(text)))
    return [*meta.dates, *visible, *([day] if day else [])]


def _fullness(text: str) -> int:
    """How much a date text states beyond the day: a time, and a zone."""
    return bool(_TIME.search(text)) + bool(_ZONE.search(text))


def _on_day(text: str, day: str | None) -> bool:
    """True when a date text falls on the given ISO day."""
    value = parse_date(text)
    return bool(day and value and value.date().isoformat() == day)


def _section(meta: PageMeta, document: object) -> str | None:
    """The site section of the article, unless the page only gives its domain."""
    categories = getattr(document, "categories", None) or []
    section = meta.section or (categories[0] if categories else None)
    if not section or is_domain_like(section) or section.startswith("http"):
        return None
    return section.strip()
