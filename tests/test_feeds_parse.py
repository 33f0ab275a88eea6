"""Feed parsing (RSS 0.9x/1.0/2.0, Atom, sitemaps), XML-bomb refusal, URL canonicalisation, discovery."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from schemas import Reason
from schemas.feeds import FeedKind
from tests.support.feed_site import fixture_text
from workers.errors import PermanentError
from workers.feeds.discover import feed_links, robots_sitemaps, robots_url
from workers.feeds.parse import parse_feed
from workers.feeds.urls import canonicalize

BASE = "https://warta.example.id"


def _feed(name: str):
    return parse_feed(fixture_text(name).replace("__BASE__", BASE), f"{BASE}/feed.xml")


def test_rss2_items_are_canonical_with_dates():
    parsed = _feed("rss2.xml")
    assert parsed.kind == FeedKind.rss and parsed.title == "Warta Nusantara - Berita Terkini"
    assert [i.url for i in parsed.items] == [
        f"{BASE}/berita/2025/04/26/banjir-bandung-selatan",  # utm_* dropped
        f"{BASE}/berita/2025/04/26/harga-cabai-turun",  # fragment dropped
        f"{BASE}/berita/2025/04/25/juara-robotik-surabaya",  # permalink guid stands in for <link>
    ]
    assert parsed.items[0].published_at == datetime(2025, 4, 26, 1, 15, tzinfo=UTC)


def test_rss1_rdf_with_declared_latin1_encoding():
    parsed = _feed("rss1.rdf")
    assert parsed.kind == FeedKind.rdf
    assert [i.url for i in parsed.items] == ["https://daerah.example.id/sulawesi/jembatan-baru"]


def test_rss091_without_namespaces():
    text = (
        '<?xml version="1.0"?><rss version="0.91"><channel><title>Lama</title>'
        "<item><title>A</title><link>http://lama.example.id/a?id=3&amp;utm_campaign=x</link></item></channel></rss>"
    )
    assert [i.url for i in parse_feed(text, "http://lama.example.id/rss").items] == [
        "http://lama.example.id/a?id=3"
    ]


def test_atom_alternate_link_relative_link_and_identifying_params_kept():
    parsed = parse_feed(fixture_text("atom.xml"), "https://kabarekonomi.example.id/atom.xml")
    assert parsed.kind == FeedKind.atom
    assert [i.url for i in parsed.items] == [
        "https://kabarekonomi.example.id/pasar/rupiah-menguat-tipis?id=8812",
        "https://kabarekonomi.example.id/fiskal/jadwal-spt-badan",
    ]
    assert parsed.items[1].published_at == datetime(2025, 4, 25, 16, tzinfo=UTC)


def test_news_sitemap_and_plain_sitemap():
    news = _feed("sitemap_news.xml")
    assert news.kind == FeedKind.news_sitemap
    assert news.items[1].title == "Harga Cabai Rawit di Pasar Induk Turun Jelang Akhir Bulan"
    plain = _feed("sitemap_2025_03.xml")
    assert plain.kind == FeedKind.sitemap and len(plain.items) == 2


def test_sitemap_index_lists_children_newest_first():
    parsed = _feed("sitemap_index.xml")
    assert parsed.kind == FeedKind.sitemap_index and not parsed.items
    assert parsed.children == [f"{BASE}/sitemap-news.xml", f"{BASE}/sitemap-2025-03.xml"]


def test_billion_laughs_is_refused():
    with pytest.raises(PermanentError) as caught:
        parse_feed(fixture_text("billion_laughs.xml"), BASE)
    assert caught.value.reason == Reason.malformed and "entit" in str(caught.value)


def test_external_entity_is_refused():
    xxe = '<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]><rss><channel><title>&x;</title></channel></rss>'
    with pytest.raises(PermanentError):
        parse_feed(xxe, BASE)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "<html><body>bukan feed</body></html>",
        "<?xml version='1.0'?><catatan><isi/></catatan>",
    ],
)
def test_malformed_or_unknown_documents_are_permanent_errors(text):
    with pytest.raises(PermanentError) as caught:
        parse_feed(text, BASE)
    assert caught.value.reason == Reason.malformed


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (
            "HTTPS://WWW.Tempo.CO:443/read/123/judul?utm_source=x&utm_medium=y",
            "https://www.tempo.co/read/123/judul",
        ),
        (
            "https://news.detik.com/berita/d-7890/judul?fbclid=abc&gclid=1&mc_cid=2#lanjut",
            "https://news.detik.com/berita/d-7890/judul",
        ),
        ("https://example.id/index.php?id=77&page=2&_ga=1.2", "https://example.id/index.php?id=77&page=2"),
        ("http://example.id:8080", "http://example.id:8080/"),
        ("ftp://example.id/a", None),
        ("javascript:alert(1)", None),
        ("http://[::1", None),
    ],
)
def test_canonicalize(url, expected):
    assert canonicalize(url) == expected


def test_homepage_feed_links_and_robots_sitemaps():
    links = feed_links(fixture_text("homepage.html"), f"{BASE}/")
    assert links == [
        f"{BASE}/feed.xml"
    ]  # the Atom link is the same feed plus a tracking tag; hreflang is no feed
    robots = "User-agent: *\nDisallow: /cari\nSitemap: https://warta.example.id/sitemap_index.xml\nSitemap: /sitemap-news.xml\n"
    assert robots_sitemaps(robots, f"{BASE}/") == [f"{BASE}/sitemap_index.xml", f"{BASE}/sitemap-news.xml"]
    assert robots_url(f"{BASE}/berita/a?x=1") == f"{BASE}/robots.txt"
