"""Sitemaps: XML url sets and indexes (from a tree, or streaming for the protocol's 50 MB files) and
plain-text sitemaps (one URL a line). Entries come newest first (``news:publication_date``, else
``lastmod``), so the per-poll cap takes the news and leaves the archive for later polls."""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator
from datetime import UTC, datetime

from lxml import etree

from schemas.feeds import FeedItem, FeedKind, ParsedFeed
from workers.feeds.dates import parse_date
from workers.feeds.repair import document_start, repair_fragment
from workers.feeds.urls import canonicalize

# The sitemap protocol's limits per file: 50,000 URLs, 50 MB uncompressed.
MAX_FEED_CHARS = 50 * 1024 * 1024
MAX_ITEMS = 50_000
MAX_CHILDREN = 1_000  # sitemap index entries kept (the protocol's limit is 50,000; we poll the newest)
STREAM_CHUNK_CHARS = 1024 * 1024  # text handed to the pull parser at a time

# lxml settings for untrusted XML: no entities resolved, no network, no DTD, no huge trees.
SAFE_PARSING: dict[str, bool] = {
    "resolve_entities": False,
    "no_network": True,
    "huge_tree": False,
    "load_dtd": False,
    "dtd_validation": False,
    "remove_comments": True,
    "remove_pis": True,
}
_DECLARATION = re.compile(r"^\s*<\?xml[^>]*\?>", re.DOTALL)
_URL_LINE = re.compile(r"^https?://\S+$", re.IGNORECASE)
_OLDEST = datetime.min.replace(tzinfo=UTC)


def local_name(element: etree._Element) -> str:
    """An element's tag without namespace, in lower case ('' for comments and PIs)."""
    tag = element.tag
    return _local_tag(tag) if isinstance(tag, str) else ""


@functools.lru_cache(maxsize=4096)
def _local_tag(tag: str) -> str:
    # string work, not etree.QName: a recovered tree keeps undeclared prefixes (`itunes:subtitle`)
    return tag.rpartition("}")[2].rpartition(":")[2].lower()


def element_text(element: etree._Element) -> str:
    """The stripped text of an element and its descendants (one text node: no join)."""
    if len(element) == 0:
        return (element.text or "").strip()
    return "".join(element.itertext()).strip()


def item(url: str | None, base: str, title: str | None = None, date: str | None = None) -> FeedItem | None:
    """A FeedItem for a non-empty URL (never the base itself), or None."""
    if not url or not url.strip():
        return None
    canonical = canonicalize(url, base)
    return FeedItem(url=canonical, title=title, published_at=parse_date(date)) if canonical else None


def newest_first(items: list[FeedItem]) -> list[FeedItem]:
    """Items by date, newest first; undated ones after the dated, in document order."""
    return sorted(items, key=lambda i: i.published_at or _OLDEST, reverse=True)


def _child_text(element: etree._Element, name: str) -> str | None:
    for child in element:
        if local_name(child) == name:
            value = element_text(child)
            if value:
                return value
    return None


def _url_entry(entry: etree._Element, base: str) -> tuple[FeedItem | None, bool]:
    """A <url> entry as an item (None without <loc>) and whether it carries a Google News block."""
    title = date = None
    news = False
    for block in entry:
        if local_name(block) == "news":
            news = True
            title, date = _child_text(block, "title"), _child_text(block, "publication_date")
    return item(_child_text(entry, "loc"), base, title, date or _child_text(entry, "lastmod")), news


def _sitemap_entry(entry: etree._Element, base: str) -> FeedItem | None:
    return item(_child_text(entry, "loc"), base, date=_child_text(entry, "lastmod"))


def _result(urls: list[FeedItem], children: list[FeedItem], news: bool) -> ParsedFeed:
    if children and not urls:
        newest = newest_first(children)[:MAX_CHILDREN]
        return ParsedFeed(kind=FeedKind.sitemap_index, children=[c.url for c in newest])
    kind = FeedKind.news_sitemap if news else FeedKind.sitemap
    return ParsedFeed(kind=kind, items=newest_first(urls)[:MAX_ITEMS], children=[c.url for c in children])


def sitemap_from_tree(root: etree._Element, base: str) -> ParsedFeed:
    """A parsed <urlset> or <sitemapindex>."""
    urls, children, news = [], [], False
    for entry in root:
        name = local_name(entry)
        if name == "url":
            found, is_news = _url_entry(entry, base)
            news = news or is_news
            if found:
                urls.append(found)
        elif name == "sitemap" and (child := _sitemap_entry(entry, base)):
            children.append(child)
    return _result(urls, children, news)


def _chunks(text: str) -> Iterator[bytes]:
    """The repaired document in pieces cut after a `>`, so no reference or tag is split."""
    # offsets, not slices or substitutions: a 50 MB document is never copied whole
    start = document_start(text)
    declaration = _DECLARATION.match(text, start)
    start = declaration.end() if declaration else start
    while start < len(text):
        end = min(len(text), start + STREAM_CHUNK_CHARS)
        if end < len(text):
            cut = text.rfind(">", start, end)
            end = cut + 1 if cut > start else end
        yield repair_fragment(text[start:end]).encode("utf-8")
        start = end


def stream_sitemap(text: str, base: str) -> ParsedFeed:
    """Parse a large sitemap without building its tree; entries cut off by a truncation are dropped."""
    # events for entries only ({*}: any namespace or none): the parser skips the rest in C
    parser = etree.XMLPullParser(events=("end",), tag=("{*}url", "{*}sitemap"), **SAFE_PARSING, recover=True)
    urls: list[FeedItem] = []
    children: list[FeedItem] = []
    news = False
    for chunk in _chunks(text):
        parser.feed(chunk)
        for _, element in parser.read_events():
            name = local_name(element)
            if name == "url" and len(urls) < MAX_ITEMS:
                found, is_news = _url_entry(element, base)
                news = news or is_news
                urls += [found] if found else []
            elif name == "sitemap" and (child := _sitemap_entry(element, base)):
                children.append(child)
            else:
                continue
            element.clear()
            parent = element.getparent()
            if parent is not None:  # drop the entries read so far: the tree stays one entry deep
                del parent[: parent.index(element)]
    try:
        parser.close()  # what ends only here was cut off by a truncation: not read
    except etree.XMLSyntaxError:
        pass
    return _result(urls, children, news)


def is_text_sitemap(text: str, content_type: str | None = None) -> bool:
    """True for a plain-text sitemap: one URL a line, no markup."""
    head = text[:4096].lstrip("\ufeff \t\r\n")
    if content_type == "text/plain" and not head.startswith("<"):
        return True
    first = head.split("\n", 1)[0].strip()
    return bool(_URL_LINE.match(first)) and "<" not in head[:512]


def parse_text_sitemap(text: str, base: str) -> ParsedFeed:
    """A text sitemap's URLs (lines that are not http(s) URLs are ignored)."""
    items = []
    for line in text.lstrip("\ufeff").splitlines():
        line = line.strip()
        if _URL_LINE.match(line) and (found := item(line, base)):
            items.append(found)
            if len(items) >= MAX_ITEMS:
                break
    return ParsedFeed(kind=FeedKind.sitemap, items=items)
