"""A small Indonesian news site on the FixtureServer: feeds, sitemaps, a homepage and article pages."""

from __future__ import annotations

from pathlib import Path

from tests.support.http_server import FixtureServer

FEEDS = Path(__file__).resolve().parent.parent / "fixtures" / "feeds"

ARTICLES = {
    "/berita/2025/04/26/banjir-bandung-selatan": "article_banjir.html",
    "/berita/2025/04/26/harga-cabai-turun": "article_cabai.html",
    "/berita/2025/04/25/juara-robotik-surabaya": "article_robotik.html",
}
XML = "application/xml; charset=utf-8"


def fixture_text(name: str, server: FixtureServer | None = None) -> str:
    """A fixture file, with __BASE__ replaced by the server's origin."""
    text = (FEEDS / name).read_text(encoding="utf-8")
    return text.replace("__BASE__", server.url("").rstrip("/")) if server else text


def serve_site(server: FixtureServer, etag: str | None = '"feed-v1"') -> None:
    """Serve the feed (with an ETag), sitemaps, homepage, robots.txt and the three articles."""
    headers = {"ETag": etag} if etag else {}
    server.route(
        "/feed.xml",
        fixture_text("rss2.xml", server),
        content_type="application/rss+xml; charset=utf-8",
        headers=headers,
    )
    server.route("/sitemap_index.xml", fixture_text("sitemap_index.xml", server), content_type=XML)
    server.route("/sitemap-news.xml", fixture_text("sitemap_news.xml", server), content_type=XML)
    server.route("/sitemap-2025-03.xml", fixture_text("sitemap_2025_03.xml", server), content_type=XML)
    server.route("/", fixture_text("homepage.html", server))
    for path, name in ARTICLES.items():
        server.route(path, fixture_text(name, server))
