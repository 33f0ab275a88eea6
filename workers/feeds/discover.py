"""Find a site's feeds: ``<link rel="alternate">`` on its homepage and ``Sitemap:`` lines in robots.txt."""

from __future__ import annotations

from urllib.parse import urlsplit

import lxml.html
from lxml import etree

from workers.feeds.urls import canonicalize
from workers.fetch.robots import RobotsRules

FEED_LINK_TYPES = frozenset(
    {
        "application/rss+xml",
        "application/atom+xml",
        "application/rdf+xml",
        "application/feed+xml",
        "application/xml",
        "text/xml",
    }
)


def feed_links(html: str, base_url: str) -> list[str]:
    """Feed URLs a page announces with ``<link rel="alternate" type="application/rss+xml" href=…>``, in order."""
    try:
        document = lxml.html.document_fromstring(html)
    except (etree.ParserError, ValueError):
        return []
    base = next(iter(document.xpath("//base/@href")), None) or base_url
    found: list[str] = []
    for link in document.xpath("//link[@href]"):
        rels = (link.get("rel") or "").lower().split()
        media = (link.get("type") or "").split(";")[0].strip().lower()
        url = canonicalize(link.get("href"), canonicalize(base, base_url) or base_url)
        if "alternate" in rels and media in FEED_LINK_TYPES and url and url not in found:
            found.append(url)
    return found


def robots_url(url: str) -> str:
    """The robots.txt URL of a page's origin."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}/robots.txt"


def robots_sitemaps(text: str, base_url: str) -> list[str]:
    """Canonical URLs of the ``Sitemap:`` lines of a robots.txt."""
    urls = (canonicalize(line, base_url) for line in RobotsRules.parse(text, "kliping").sitemaps)
    return list(dict.fromkeys(url for url in urls if url))
