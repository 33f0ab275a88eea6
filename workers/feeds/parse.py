"""Parse RSS 0.9x/1.0/2.0, Atom, sitemaps, news sitemaps and sitemap indexes into canonical item URLs.

XML-bomb protection (defusedxml is not available): a document declaring entities is refused
outright (feeds never need them; billion-laughs and external-entity attacks both do), and
lxml runs with entity resolution, network access and huge trees switched off, on a document
whose size is capped before parsing.
"""

from __future__ import annotations

import email.utils
import re
from datetime import UTC, datetime

from lxml import etree

from schemas import Reason
from schemas.feeds import FeedItem, FeedKind, ParsedFeed
from workers.errors import PermanentError
from workers.feeds.urls import canonicalize

# The sitemap protocol allows 50,000 URLs and 50 MB uncompressed per file; the fetcher's
# body cap (KLIPING_FETCH_MAX_BYTES, 5 MB) normally bites first. This cap is for text handed
# in from elsewhere.
MAX_FEED_CHARS = 50 * 1024 * 1024
MAX_ITEMS = 50_000
MAX_CHILDREN = 1_000  # sitemap index entries kept (the protocol's limit is 50,000; we poll the newest)

_DECLARATION = re.compile(r"^\s*<\?xml[^>]*\?>", re.DOTALL)
_ENTITY = re.compile(r"<!ENTITY", re.IGNORECASE)


def _parser() -> etree.XMLParser:
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        huge_tree=False,
        load_dtd=False,
        dtd_validation=False,
        remove_comments=True,
        remove_pis=True,
        recover=False,
    )


def _local(element: etree._Element) -> str:
    tag = element.tag
    return etree.QName(tag).localname.lower() if isinstance(tag, str) else ""


def _children(element: etree._Element, name: str) -> list[etree._Element]:
    return [child for child in element if _local(child) == name]


def _text(element: etree._Element, name: str) -> str | None:
    for child in _children(element, name):
        value = "".join(child.itertext()).strip()
        if value:
            return value
    return None


def _date(value: str | None) -> datetime | None:
    """An RFC 822 (RSS) or ISO 8601 (Atom, sitemaps) date; None when absent or unreadable."""
    if not value:
        return None
    try:
        when = datetime.fromisoformat(value.strip())
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def parse_xml(text: str) -> etree._Element:
    """The root element of an XML document, refusing entity declarations and oversized input."""
    if len(text) > MAX_FEED_CHARS:
        raise PermanentError(f"feed of {len(text)} characters exceeds {MAX_FEED_CHARS}", Reason.too_large)
    if _ENTITY.search(text):
        raise PermanentError(
            "feed declares XML entities (refused: entity expansion attack)", Reason.malformed
        )
    # the text is already decoded: lxml refuses str input that still declares an encoding
    body = _DECLARATION.sub("", text, count=1).strip()
    try:
        root = etree.fromstring(body, parser=_parser())
    except (etree.XMLSyntaxError, ValueError) as exc:
        raise PermanentError(f"not well-formed XML: {exc}", Reason.malformed) from exc
    if root is None:
        raise PermanentError("empty XML document", Reason.malformed)
    return root


def _item(url: str | None, base: str, title: str | None = None, date: str | None = None) -> FeedItem | None:
    canonical = canonicalize(url or "", base)
    return FeedItem(url=canonical, title=title, published_at=_date(date)) if canonical else None


def _rss_link(entry: etree._Element) -> str | None:
    link = _text(entry, "link")
    if link:
        return link
    for guid in _children(entry, "guid"):  # a permalink guid stands in for a missing <link>
        if guid.get("isPermaLink", "true").lower() == "true" and guid.text:
            return guid.text.strip()
    return None


def _atom_link(entry: etree._Element) -> str | None:
    links = _children(entry, "link")
    for link in links:
        if link.get("rel", "alternate") == "alternate" and link.get("href"):
            return link.get("href")
    return links[0].get("href") if links else None


def _rss(root: etree._Element, base: str, kind: FeedKind) -> ParsedFeed:
    channel = next(iter(_children(root, "channel")), root)
    # RSS 0.9x/2.0 nest items in <channel>; RSS 1.0 (RDF) puts them beside it
    entries = _children(channel, "item") + (_children(root, "item") if channel is not root else [])
    items = [
        _item(_rss_link(e), base, _text(e, "title"), _text(e, "pubdate") or _text(e, "date")) for e in entries
    ]
    return ParsedFeed(kind=kind, title=_text(channel, "title"), items=[i for i in items if i])


def _atom(root: etree._Element, base: str) -> ParsedFeed:
    entries = _children(root, "entry")
    items = [
        _item(_atom_link(e), base, _text(e, "title"), _text(e, "published") or _text(e, "updated"))
        for e in entries
    ]
    return ParsedFeed(kind=FeedKind.atom, title=_text(root, "title"), items=[i for i in items if i])


def _sitemap(root: etree._Element, base: str) -> ParsedFeed:
    items, news = [], False
    for entry in _children(root, "url"):
        title = date = None
        for block in _children(entry, "news"):  # Google News sitemap extension
            news = True
            title, date = _text(block, "title"), _text(block, "publication_date")
        item = _item(_text(entry, "loc"), base, title, date or _text(entry, "lastmod"))
        if item:
            items.append(item)
    return ParsedFeed(kind=FeedKind.news_sitemap if news else FeedKind.sitemap, items=items)


def _sitemap_index(root: etree._Element, base: str) -> ParsedFeed:
    entries = [(_text(e, "loc"), _date(_text(e, "lastmod"))) for e in _children(root, "sitemap")]
    oldest = datetime.min.replace(tzinfo=UTC)
    entries.sort(key=lambda pair: pair[1] or oldest, reverse=True)  # newest first: they hold the news
    children = [url for url in (canonicalize(loc or "", base) for loc, _ in entries) if url]
    return ParsedFeed(kind=FeedKind.sitemap_index, children=children[:MAX_CHILDREN])


_FEED_ROOT = re.compile(
    r"^\s*(?:<\?xml[^>]*\?>\s*)?(?:<!--.*?-->\s*)*<(?:rss|feed|urlset|sitemapindex|rdf:rdf)\b",
    re.IGNORECASE | re.DOTALL,
)


def looks_like_feed(text: str) -> bool:
    """True when a document starts like a feed or sitemap (some servers label feeds text/html)."""
    return bool(_FEED_ROOT.match(text[:4096]))


def parse_feed(text: str, base_url: str) -> ParsedFeed:
    """Parse a feed or sitemap; PermanentError(malformed) when it is neither."""
    root = parse_xml(text)
    name = _local(root)
    if name == "rss":
        parsed = _rss(root, base_url, FeedKind.rss)
    elif name == "rdf":
        parsed = _rss(root, base_url, FeedKind.rdf)
    elif name == "feed":
        parsed = _atom(root, base_url)
    elif name == "urlset":
        parsed = _sitemap(root, base_url)
    elif name == "sitemapindex":
        parsed = _sitemap_index(root, base_url)
    else:
        raise PermanentError(f"not a feed or sitemap: root element <{name}>", Reason.malformed)
    parsed.items = parsed.items[:MAX_ITEMS]
    return parsed
