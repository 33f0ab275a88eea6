"""Sitemap scenarios (after ultimate-sitemap-parser's), polled from a real local HTTP server."""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from schemas.feeds import Feed, FeedKind
from tests.support.fetching import make_fetcher, server  # noqa: F401 - fixtures
from workers.backends.feed_state import SqliteFeedStore
from workers.feeds import poll
from workers.feeds.poll import MAX_SITEMAP_DEPTH, poll_due, poll_feed

ROOT = Path(__file__).resolve().parent.parent
T0 = datetime(2025, 4, 26, 2, 0, tzinfo=UTC)
XML = "application/xml"
NS = 'xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"'
NEWS_NS = 'xmlns:news="http://www.google.com/schemas/sitemap-news/0.9"'


class Collector:
    """An ingest callable that records the URLs and dates it was handed."""

    def __init__(self) -> None:
        self.urls: list[str] = []
        self.listed: dict[str, datetime] = {}

    def __call__(self, urls: list[str], listed: dict[str, datetime]) -> None:
        self.urls += urls
        self.listed.update(listed)


@pytest.fixture
def store(tmp_path):
    feed_store = SqliteFeedStore(tmp_path / "kliping.sqlite3")
    yield feed_store
    feed_store.close()


def urlset(*entries: tuple[str, str | None]) -> str:
    body = "".join(
        f"<url><loc>{loc}</loc>{f'<lastmod>{lastmod}</lastmod>' if lastmod else ''}</url>"
        for loc, lastmod in entries
    )
    return f'<?xml version="1.0" encoding="UTF-8"?><urlset {NS}>{body}</urlset>'


def index(*locs: str) -> str:
    body = "".join(f"<sitemap><loc>{loc}</loc></sitemap>" for loc in locs)
    return f'<?xml version="1.0" encoding="UTF-8"?><sitemapindex {NS}>{body}</sitemapindex>'


def polled(server, make_fetcher, store, path: str) -> tuple[Collector, str | None]:
    feed = Feed(url=server.url(path))
    store.add(feed)
    ingest = Collector()
    report = poll_feed(feed, store, make_fetcher().feed, ingest, now=T0)
    return ingest, report.error


def test_gzip_sitemap_file(server, make_fetcher, store):
    body = urlset(("/a", None), ("/b", None)).encode()
    server.route("/sitemap.xml.gz", gzip.compress(body), content_type="application/x-gzip")
    ingest, error = polled(server, make_fetcher, store, "/sitemap.xml.gz")
    assert error is None and ingest.urls == [server.url("/a"), server.url("/b")]
    server.route("/encoded.xml", body, content_type=XML, gzip=True)  # Content-Encoding: gzip as well
    ingest, error = polled(server, make_fetcher, store, "/encoded.xml")
    assert error is None and ingest.urls == [server.url("/a"), server.url("/b")]


def test_text_sitemap(server, make_fetcher, store):
    lines = f"{server.url('/a')}\n\n  {server.url('/b')}  \nbukan url\nftp://x.id/c\n"
    server.route("/sitemap.txt", lines, content_type="text/plain; charset=utf-8")
    ingest, error = polled(server, make_fetcher, store, "/sitemap.txt")
    assert error is None and ingest.urls == [server.url("/a"), server.url("/b")]


def test_nested_indexes_are_followed_to_a_bounded_depth(server, make_fetcher, store):
    depth = MAX_SITEMAP_DEPTH + 1
    for n in range(depth + 1):
        server.route(
            f"/index{n}.xml", index(f"/index{n + 1}.xml", f"/set{n}.xml", "/index0.xml"), content_type=XML
        )
        server.route(f"/set{n}.xml", urlset((f"/berita-{n}", None)), content_type=XML)
    ingest, error = polled(server, make_fetcher, store, "/index0.xml")
    assert error is None
    assert sorted(ingest.urls) == [server.url(f"/berita-{n}") for n in range(MAX_SITEMAP_DEPTH)]
    assert server.hits(f"/set{MAX_SITEMAP_DEPTH}.xml") == 0  # deeper than the bound: not fetched
    assert server.hits("/index0.xml") == 1  # the loop back to the top is not followed


def test_site_map_spelling_in_robots_from_a_homepage(server, make_fetcher, store):
    server.route("/", "<html><head><title>Warta</title></head><body>Beranda</body></html>")
    server.route(
        "/robots.txt",
        "User-agent: *\nDisallow: /cari\nSite-map: /peta.xml\nSitemap:\n",
        content_type="text/plain",
    )
    server.route("/peta.xml", urlset(("/a", None)), content_type=XML)
    ingest, error = polled(server, make_fetcher, store, "/")
    assert error is None and ingest.urls == [server.url("/a")]
    assert server.hits("/sitemap.xml") == 0  # robots.txt named one: nothing guessed


def test_probing_when_robots_names_no_sitemap(server, make_fetcher, store):
    server.route("/", "<html><head><title>Warta</title></head><body>Beranda</body></html>")
    server.route("/robots.txt", "User-agent: *\nDisallow: /cari\n", content_type="text/plain")
    server.route("/sitemap_index.xml", index("/sm-1.xml"), content_type=XML)
    server.route("/sm-1.xml", urlset(("/a", None)), content_type=XML)
    ingest, error = polled(server, make_fetcher, store, "/")
    assert error is None and ingest.urls == [server.url("/a")]
    assert server.hits("/sitemap.xml") == 1  # probed, 404: no error
    assert store.state(server.url("/")).kind == FeedKind.homepage


def test_truncated_and_malformed_sitemaps_keep_what_was_read(server, make_fetcher, store):
    whole = urlset(("/a", None), ("/b", None), ("/c-yang-terpotong", None))
    server.route("/cut.xml", whole[: whole.index("/c-yang") + 5], content_type=XML)
    ingest, error = polled(server, make_fetcher, store, "/cut.xml")
    assert error is None and ingest.urls == [server.url("/a"), server.url("/b")]
    broken = urlset(("/x?a=1&b=2", None)).replace(
        "</url>", "</url><url><loc>/y</loc><lastmod>&nbsp;</url>", 1
    )
    server.route("/broken.xml", broken, content_type=XML)
    ingest, error = polled(server, make_fetcher, store, "/broken.xml")
    assert error is None and server.url("/x?a=1&b=2") in ingest.urls


def test_bom_without_content_type(server, make_fetcher, store):
    server.route("/bom.xml", b"\xef\xbb\xbf" + urlset(("/a", None)).encode(), content_type=None)
    ingest, error = polled(server, make_fetcher, store, "/bom.xml")
    assert error is None and ingest.urls == [server.url("/a")]


def test_newest_first_before_the_per_poll_cap(server, make_fetcher, store, monkeypatch):
    monkeypatch.setattr(poll, "MAX_NEW_PER_POLL", 2)
    entries = [
        ("/lama", "2025-01-01"),
        ("/baru", "2025-04-26T08:00:00+07:00"),
        ("/tanpa", None),
        ("/kemarin", "2025-04-25"),
    ]
    server.route("/sm.xml", urlset(*entries), content_type=XML)
    feed = Feed(url=server.url("/sm.xml"))
    store.add(feed)
    first, second = Collector(), Collector()
    poll_feed(feed, store, make_fetcher().feed, first, now=T0)
    poll_feed(feed, store, make_fetcher().feed, second, now=T0)
    assert first.urls == [server.url("/baru"), server.url("/kemarin")]
    assert second.urls == [server.url("/lama"), server.url("/tanpa")]
    assert first.listed[server.url("/baru")] == datetime(2025, 4, 26, 1, tzinfo=UTC)  # the date goes along


def test_a_url_in_two_feeds_is_handed_on_once_per_poll(server, make_fetcher, store):
    shared = server.url("/bersama")
    server.route("/one.xml", urlset((shared, "2025-04-26"), ("/satu", None)), content_type=XML)
    server.route(
        "/two.rss",
        f"<rss><channel><item><link>{shared}</link></item><item><link>/dua</link></item></channel></rss>",
        content_type="application/rss+xml",
    )
    store.add(Feed(url=server.url("/one.xml")))
    store.add(Feed(url=server.url("/two.rss")))
    ingest = Collector()
    reports = poll_due(store, make_fetcher().feed, ingest, now=T0)
    assert all(report.error is None for report in reports)
    assert sorted(ingest.urls) == sorted([shared, server.url("/satu"), server.url("/dua")])
    assert ingest.listed == {shared: datetime(2025, 4, 26, tzinfo=UTC)}


# titles of ~600 characters: ~47 MB in all, near the protocol's 50 MB
_FILLER = "serta kenaikan harga bahan pokok di pasar tradisional " * 11
_MEMORY_PROBE = """
import json, sys
def peak_mb():  # VmHWM: this process's own peak (ru_maxrss would carry the parent's over fork+exec)
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmHWM")) / 1024
from tests.support.fetching import make_settings
from workers.feeds.parse import parse_feed
from workers.fetch.fetcher import Fetcher
with Fetcher(make_settings(fetch_read_timeout=60.0)) as fetcher:
    doc = fetcher.feed(sys.argv[1])
    parsed = parse_feed(doc.text, doc.final_url, doc.content_type)
    del doc
print(json.dumps({"items": len(parsed.items), "kind": parsed.kind.value, "first": parsed.items[0].url,
                  "peak_mb": peak_mb()}))
"""


@pytest.mark.slow
def test_news_sitemap_of_50000_urls_streams_under_200_mb(server):
    rows = "".join(
        f"<url><loc>https://warta.example.id/berita/2025/{n % 12 + 1:02d}/{n}/judul-berita-yang-cukup-panjang-{n}</loc>"
        f"<news:news><news:publication><news:name>Warta</news:name><news:language>id</news:language></news:publication>"
        f"<news:publication_date>2025-{n % 12 + 1:02d}-{n % 28 + 1:02d}T08:{n % 60:02d}:00+07:00</news:publication_date>"
        f"<news:title>Judul berita nomor {n} tentang banjir &amp; harga cabai {_FILLER}</news:title></news:news></url>"
        for n in range(50_000)
    )
    body = f'<?xml version="1.0" encoding="UTF-8"?><urlset {NS} {NEWS_NS}>{rows}</urlset>'.encode()
    assert 45 * 2**20 < len(body) < 50 * 2**20  # near the protocol's 50 MB; the page cap (5 MB) refused 18 MB
    server.route("/news-sitemap.xml", body, content_type=XML)
    probe = subprocess.run(
        [sys.executable, "-c", _MEMORY_PROBE, server.url("/news-sitemap.xml")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert probe.returncode == 0, probe.stderr[-2000:]
    result = json.loads(probe.stdout)
    assert result["items"] == 50_000 and result["kind"] == "news_sitemap"
    newest = max(range(50_000), key=lambda n: (n % 12, n % 28, n % 60))
    assert result["first"].endswith(f"/judul-berita-yang-cukup-panjang-{newest}")  # newest first
    assert result["peak_mb"] < 200, result
