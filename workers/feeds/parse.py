"""Parse RSS 0.9x/1.0/2.0, Atom 0.3/1.0, sitemaps, news sitemaps and sitemap indexes into canonical item URLs.

Broken feeds are repaired first (``workers.feeds.repair``: entities, bare ampersands, control
characters, leading junk), and only a document still broken after that is parsed in recovery
mode, which keeps the items read before a truncation. An item without a link of its own is
dropped, never given the feed's URL. Large sitemaps are parsed streaming
(``workers.feeds.sitemaps``).

XML-bomb protection (defusedxml is not available): a document declaring entities is refused
outright (feeds never need them; billion-laughs and external-entity attacks both do), and
lxml runs with entity resolution, network access and huge trees switched off, on a document
whose size is capped before parsing.
"""

from __future__ import annotations

import re

from lxml import etree

from schemas import Reason
from schemas.feeds import FeedItem, FeedKind, ParsedFeed
from workers.errors import PermanentError
from workers.feeds.dates import parse_date
from workers.feeds.repair import decode_feed, refuse_entities, repair
from workers.feeds.sitemaps import (
    MAX_FEED_CHARS,
    MAX_ITEMS,
    SAFE_PARSING,
    element_text,
    is_text_sitemap,
    item,
    local_name,
    parse_text_sitemap,
    sitemap_from_tree,
    stream_sitemap,
)
from workers.feeds.urls import canonicalize

# Documents above this many characters whose root is a sitemap are parsed streaming (a tree of
# 50,000 <url> elements costs ~150 MB); below it one tree is faster. Feeds are far smaller.
STREAM_FROM_CHARS = 2 * 1024 * 1024

_DECLARATION = re.compile(r"^\s*<\?xml[^>]*\?>", re.DOTALL)
_SITEMAP_ROOT = re.compile(r"<(?:[\w-]+:)?(?:urlset|sitemapindex)\b")
# Links of an Atom entry that never are the article: its media, its licence, its own feed, comments.
_NOT_ARTICLE_RELS = frozenset(
    {"enclosure", "self", "license", "related", "edit", "edit-media", "replies", "via", "payment"}
)
_HTTP = re.compile(r"^\s*https?://", re.IGNORECASE)
_ENTRY_END = re.compile(r"</(?:[\w-]+:)?(?:item|entry|url|sitemap)\s*>", re.IGNORECASE)
_DOCUMENT_END = re.compile(r"</[^<>]+>\s*$")
_ENTRY_NAMES = frozenset({"item", "entry", "url", "sitemap"})
_PUBLISHED = ("pubdate", "published", "issued", "created", "date")
_UPDATED = ("updated", "modified", "lastbuilddate")


def _parser(recover: bool) -> etree.XMLParser:
    return etree.XMLParser(**SAFE_PARSING, recover=recover)


def _children(element: etree._Element, name: str) -> list[etree._Element]:
    return [child for child in element if local_name(child) == name]


def _text(element: etree._Element, name: str) -> str | None:
    for child in _children(element, name):
        value = element_text(child)
        if value:
            return value
    return None


def _first_text(element: etree._Element, names: tuple[str, ...]) -> str | None:
    """The first non-empty child text among `names`, in the order of `names`."""
    found = {}
    for child in element:
        name = local_name(child)
        if name in names and name not in found:
            value = element_text(child)
            if value:
                found[name] = value
    return next((found[name] for name in names if name in found), None)


def _parse_tree(body: str, base_url: str) -> etree._Element:
    """Strict parse, else repair and parse again, else recover what can be read."""
    try:
        root = etree.fromstring(body, parser=_parser(False), base_url=base_url)
    except (etree.XMLSyntaxError, ValueError):
        fixed = _DECLARATION.sub("", repair(body), count=1).strip()
        try:
            root = etree.fromstring(fixed, parser=_parser(False), base_url=base_url)
        except (etree.XMLSyntaxError, ValueError):
            try:
                root = etree.fromstring(fixed, parser=_parser(True), base_url=base_url)
            except (etree.XMLSyntaxError, ValueError) as exc:
                raise PermanentError(f"not well-formed XML: {exc}", Reason.malformed) from exc
    if root is None:
        raise PermanentError("empty or unreadable XML document", Reason.malformed)
    return root


def parse_xml(text: str, base_url: str = "") -> etree._Element:
    """The root element of an XML document, refusing entity declarations and oversized input."""
    if len(text) > MAX_FEED_CHARS:
        raise PermanentError(f"feed of {len(text)} characters exceeds {MAX_FEED_CHARS}", Reason.too_large)
    refuse_entities(text)
    # the text is already decoded: lxml refuses str input that still declares an encoding
    return _parse_tree(_DECLARATION.sub("", text.lstrip("\ufeff"), count=1).strip(), base_url)


def _base(element: etree._Element, fallback: str) -> str:
    """The element's xml:base (resolved through its ancestors), else the document's URL."""
    try:
        return element.base or fallback
    except ValueError:
        return fallback


def _atom_link(entry: etree._Element, base: str) -> str | None:
    """An entry's article link: rel="alternate" (or none), HTML first; an Atom 0.3 text link; an http id."""
    fallback = None
    for link in _children(entry, "link"):
        rel = (link.get("rel") or "alternate").strip().lower()
        if rel in _NOT_ARTICLE_RELS:
            continue
        href = link.get("href")
        if href is None:  # RSS <link>text</link> or Atom 0.3's text link
            text = (link.text or "").strip()
            if text:
                return canonical(text, _base(link, base))
            continue
        if not href.strip():
            continue
        url = canonical(href, _base(link, base))
        media = (link.get("type") or "text/html").lower()
        if url and rel == "alternate" and "html" in media:
            return url
        if url and rel == "alternate":
            fallback = fallback or url
    return fallback


def canonical(url: str, base: str) -> str | None:
    """A canonical item URL; None for an empty link (never the base itself)."""
    return canonicalize(url, base) if url.strip() else None


def _entry_url(entry: etree._Element, base: str) -> str | None:
    """An RSS item's or Atom entry's own URL; None when it has none."""
    url = _atom_link(entry, base)
    if url:
        return url
    href = entry.get("href") or entry.get("HREF")  # CDF: <ITEM HREF="…">
    if href and href.strip():
        return canonical(href, base)
    for guid in _children(entry, "guid"):  # a permalink guid stands in for a missing <link>
        text = (guid.text or "").strip()
        if guid.get("isPermaLink", "true").lower() == "true" and _HTTP.match(text):
            return canonical(text, _base(guid, base))
    identifier = _text(entry, "id")  # an Atom entry whose only link is its id: a URL or a site path
    if identifier and (_HTTP.match(identifier) or identifier.startswith("/")):
        return canonical(identifier, _base(entry, base))
    return _nested_link(entry, base)


def _nested_link(entry: etree._Element, base: str) -> str | None:
    """A text <link> that broken markup (an unclosed <title>) pushed one level down, outside content."""
    for child in entry:
        if local_name(child) in ("title", "description", "summary"):
            for link in child.iter():
                if link is not child and local_name(link) == "link" and _HTTP.match(link.text or ""):
                    return canonical(link.text or "", _base(link, base))
    return None


def _raw_link(entry: etree._Element) -> str | None:
    """The link an entry states, as written (to name it when it is no usable URL)."""
    for link in _children(entry, "link"):
        raw = (link.get("href") or link.text or "").strip()
        if raw:
            return raw
    return None


def _entries(entries: list[etree._Element], base: str, skipped: list[str]) -> list[FeedItem]:
    """The entries with a usable URL; one with a link that is none (http://[x/1) is added to `skipped`."""
    items = []
    for entry in entries:
        url = _entry_url(entry, base)
        if url:
            date = _first_text(entry, _PUBLISHED) or _first_text(entry, _UPDATED)
            items.append(FeedItem(url=url, title=_text(entry, "title"), published_at=parse_date(date)))
            continue
        raw = _raw_link(entry)
        if raw is not None:
            skipped.append(
                f"{Reason.invalid_input.value}: item link {raw[:200]!r} is not a usable http(s) URL"
            )
    return items


def _rss(root: etree._Element, base: str, kind: FeedKind) -> ParsedFeed:
    channel = next(iter(_children(root, "channel")), root)
    cdf_base = channel.get("BASE") or channel.get("base")  # CDF's channel-wide base URL
    base = (canonical(cdf_base, base) or base) if cdf_base else base
    # RSS 0.9x/2.0 nest items in <channel>; RSS 1.0 (RDF) puts them beside it
    entries = _children(channel, "item") + (_children(root, "item") if channel is not root else [])
    skipped: list[str] = []
    items = _entries(entries, base, skipped)
    return ParsedFeed(kind=kind, title=_text(channel, "title"), items=items, skipped=skipped)


def _atom(root: etree._Element, base: str) -> ParsedFeed:
    skipped: list[str] = []
    items = _entries(_children(root, "entry"), base, skipped)
    return ParsedFeed(kind=FeedKind.atom, title=_text(root, "title"), items=items, skipped=skipped)


_FEED_ROOT = re.compile(
    r"^\s*(?:<\?xml[^>]*\?>\s*)?(?:<!--.*?-->\s*)*<(?:rss|feed|urlset|sitemapindex|rdf:rdf)\b",
    re.IGNORECASE | re.DOTALL,
)


def looks_like_feed(text: str) -> bool:
    """True when a document starts like a feed or sitemap (some servers label feeds text/html)."""
    return bool(_FEED_ROOT.match(text[:4096].lstrip("\ufeff")))


def _drop_unfinished(root: etree._Element, text: str) -> None:
    """In a truncated document, remove the entries recovery closed by itself (their link may be cut)."""
    if _DOCUMENT_END.search(text[-256:]):
        return
    closed = len(_ENTRY_END.findall(text))
    entries = [e for e in root.iter() if local_name(e) in _ENTRY_NAMES]
    for entry in entries[closed:]:
        parent = entry.getparent()
        if parent is not None:
            parent.remove(entry)


def _from_root(root: etree._Element, base_url: str) -> ParsedFeed:
    name = local_name(root)
    if name == "rss":
        return _rss(root, base_url, FeedKind.rss)
    if name == "rdf":
        return _rss(root, base_url, FeedKind.rdf)
    if name == "feed":
        return _atom(root, base_url)
    if name == "channel":  # a bare RSS 0.9x channel without <rss>
        return _rss(root, base_url, FeedKind.rss)
    if name in ("urlset", "sitemapindex"):
        return sitemap_from_tree(root, base_url)
    raise PermanentError(f"not a feed or sitemap: root element <{name}>", Reason.malformed)


def parse_feed(text: str | bytes, base_url: str, content_type: str | None = None) -> ParsedFeed:
    """Parse a feed or sitemap (XML, or a text sitemap); PermanentError(malformed) when it is neither."""
    if isinstance(text, bytes):
        text = decode_feed(text)
    if len(text) > MAX_FEED_CHARS:
        raise PermanentError(f"feed of {len(text)} characters exceeds {MAX_FEED_CHARS}", Reason.too_large)
    if is_text_sitemap(text, content_type):
        return parse_text_sitemap(text, base_url)
    if len(text) > STREAM_FROM_CHARS and _SITEMAP_ROOT.search(text, 0, 4096):
        refuse_entities(text[:4096])
        return stream_sitemap(text, base_url)
    root = parse_xml(text, base_url)
    _drop_unfinished(root, text)
    parsed = _from_root(root, base_url)
    parsed.items = parsed.items[:MAX_ITEMS]
    return parsed


__all__ = ["MAX_FEED_CHARS", "MAX_ITEMS", "item", "looks_like_feed", "parse_feed", "parse_xml"]  # noqa: F822
