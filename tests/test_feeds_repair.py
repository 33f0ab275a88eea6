"""Broken real-world feeds, one small generated fixture per kind of breakage: repaired exactly, links intact."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from schemas import Reason
from schemas.feeds import FeedKind
from workers.errors import PermanentError
from workers.feeds.dates import parse_date
from workers.feeds.parse import parse_feed
from workers.feeds.repair import repair

BASE = "https://warta.example.id/feed.xml"
WIB = timezone(timedelta(hours=7))


def rss(*items: str, head: str = '<?xml version="1.0" encoding="utf-8"?>', channel: str = "") -> str:
    body = "".join(f"<item>{item}</item>" for item in items)
    return f'{head}<rss version="2.0"><channel><title>Warta</title>{channel}{body}</channel></rss>'


def atom(*entries: str, attrs: str = "") -> str:
    body = "".join(f"<entry>{entry}</entry>" for entry in entries)
    return f'<feed xmlns="http://www.w3.org/2005/Atom"{attrs}><title>Warta</title>{body}</feed>'


def urls(text: str | bytes, base: str = BASE) -> list[str]:
    return [item.url for item in parse_feed(text, base).items]


# --- breakage that used to refuse the whole feed -------------------------------------------------


def test_html_entities_in_titles_are_read():
    parsed = parse_feed(
        rss("<title>Banjir&nbsp;di Bandung &mdash; 3&frac12; meter</title><link>/a</link>"), BASE
    )
    assert parsed.items[0].title == "Banjir\u00a0di Bandung \u2014 3\u00bd meter"
    assert urls(rss("<title>&eacute;&hellip;</title><link>/a</link>")) == ["https://warta.example.id/a"]


@pytest.mark.parametrize(
    ("link", "expected"),
    [
        ("/berita?id=1&page=2", "https://warta.example.id/berita?id=1&page=2"),
        ("/berita?id=1&amp;page=2", "https://warta.example.id/berita?id=1&page=2"),
        ("/berita?a=1&copy=2&nbsp=3", "https://warta.example.id/berita?a=1&copy=2&nbsp=3"),
        ("/berita?q=a&&b=1", "https://warta.example.id/berita?b=1&q=a"),
    ],
)
def test_bare_ampersands_in_links_survive(link, expected):
    # a recovering parser alone turns `id=1&page=2` into `id=1` (or `id=1%3D2`): repair comes first
    assert urls(rss(f"<title>&nbsp;</title><link>{link}</link>")) == [expected]


def test_cdata_is_left_alone():
    text = rss(
        "<title><![CDATA[A &nbsp; B & C]]></title><link><![CDATA[/x?a=1&b=2]]></link><description>&hellip;</description>"
    )
    parsed = parse_feed(text, BASE)
    assert parsed.items[0].title == "A &nbsp; B & C"
    assert parsed.items[0].url == "https://warta.example.id/x?a=1&b=2"


def test_control_characters_and_raw_br():
    text = rss("<title>Satu\x0bDua\x1f</title><description>baris<br>baris<hr></description><link>/a</link>")
    parsed = parse_feed(text, BASE)
    assert parsed.items[0].title == "SatuDua" and parsed.items[0].url == "https://warta.example.id/a"


def test_text_before_the_xml_declaration():
    notice = "\n<b>Notice</b>: Undefined index: q in /var/www/feed.php on line 3<br />\n"
    assert urls(notice + rss("<link>/a</link>")) == ["https://warta.example.id/a"]
    assert urls("\ufeff\n\n" + rss("<link>/b</link>")) == ["https://warta.example.id/b"]


def test_truncated_feed_keeps_the_items_read_so_far():
    whole = rss(
        "<title>A</title><link>/a</link>", "<title>B</title><link>/b</link>", "<link>/c-yang-panjang</link>"
    )
    cut = whole[: whole.index("/c-yang") + 4]  # inside the third item's link
    assert urls(cut) == ["https://warta.example.id/a", "https://warta.example.id/b"]
    between = whole[: whole.index("<item><link>/c")]  # right after the second item
    assert urls(between) == ["https://warta.example.id/a", "https://warta.example.id/b"]


@pytest.mark.parametrize("codec", ["utf-16-le", "utf-16-be", "utf-32-le", "utf-32-be"])
def test_utf16_and_utf32_declared_without_bom(codec):
    text = rss("<title>Harga cabai turun di Pasar Induk — Rp 40.000</title><link>/cabai</link>").replace(
        'encoding="utf-8"', 'encoding="utf-16"'
    )
    parsed = parse_feed(text.encode(codec), BASE)
    assert parsed.items[0].title.endswith("Rp 40.000") and urls(text) == ["https://warta.example.id/cabai"]


def test_entity_declarations_stay_refused():
    with pytest.raises(PermanentError) as caught:
        parse_feed('<!DOCTYPE rss [<!ENTITY a "aaaa">]>' + rss("<title>&a;</title><link>/a</link>"), BASE)
    assert caught.value.reason == Reason.malformed and "entit" in str(caught.value)


def test_repair_only_touches_what_is_broken():
    good = rss("<title>A &amp; B &lt;3 &#233; &#x263A;</title><link>/a?x=1&amp;y=2</link>")
    assert repair(good) == good


# --- items that are no articles ------------------------------------------------------------------


def test_items_without_links_are_dropped_not_phantoms():
    text = rss("<title>tanpa tautan</title>", "<title>kosong</title><link> </link>", "<link>/a</link>")
    assert urls(text) == ["https://warta.example.id/a"]
    assert urls(rss("<guid isPermaLink='false'>https://warta.example.id/x</guid>", "<guid>123</guid>")) == []


def test_one_malformed_link_does_not_fail_the_feed():
    text = rss("<link>http://[x/1</link>", "<link>https://warta.example.id/baik</link>")
    assert urls(text) == ["https://warta.example.id/baik"]


def test_sitemap_url_without_loc_is_dropped():
    text = (
        '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
        "<url><lastmod>2025-04-26</lastmod></url><url><loc> </loc></url><url><loc>/a</loc></url></urlset>"
    )
    assert urls(text) == ["https://warta.example.id/a"]


# --- Atom link rules -----------------------------------------------------------------------------


def test_atom_links_that_are_not_the_article():
    entries = [
        '<link rel="enclosure" type="audio/mpeg" href="/podcast.mp3"/>',
        '<link rel="self" href="/feed/1"/><link rel="license" href="/lisensi"/>',
        '<link rel="related" href="https://lain.example.id/x"/><link rel="replies" href="/komentar"/>',
        '<link rel="enclosure" href="/a.mp3"/><link rel="alternate" type="text/html" href="/artikel"/>',
        '<link rel="alternate" type="application/pdf" href="/a.pdf"/><link href="/html-version"/>',
    ]
    assert urls(atom(*entries)) == [
        "https://warta.example.id/artikel",
        "https://warta.example.id/html-version",
    ]


def test_atom_id_as_the_only_link_and_atom03_text_link():
    assert urls(
        atom("<id>https://warta.example.id/berita/1</id>", "<id>tag:warta.example.id,2025:2</id>")
    ) == ["https://warta.example.id/berita/1"]
    atom03 = (
        '<feed version="0.3" xmlns="http://purl.org/atom/ns#"><entry>'
        "<link>https://warta.example.id/lama</link><issued>2025-04-26T08:15:00+07:00</issued>"
        "<modified>2025-04-27T00:00:00Z</modified></entry></feed>"
    )
    parsed = parse_feed(atom03, BASE)
    assert [i.url for i in parsed.items] == ["https://warta.example.id/lama"]
    assert parsed.items[0].published_at == datetime(2025, 4, 26, 1, 15, tzinfo=UTC)


def test_xml_base_resolves_relative_links():
    text = atom(
        '<link href="a"/>',
        '<link xml:base="/daerah/" href="b"/>',
        '<link xml:base="https://cdn.example.id/x/" href="../c"/>',
        attrs=' xml:base="https://warta.example.id/nasional/"',
    )
    assert urls(text, "https://feeds.example.net/warta.atom") == [
        "https://warta.example.id/nasional/a",
        "https://warta.example.id/daerah/b",
        "https://cdn.example.id/c",
    ]


def test_feed_type_and_rss_items_with_atom_links():
    text = rss(
        '<atom:link xmlns:atom="http://www.w3.org/2005/Atom" rel="self" href="/feed"/><link>/a</link>',
        head="",
    )
    parsed = parse_feed(text, BASE)
    assert parsed.kind == FeedKind.rss and [i.url for i in parsed.items] == ["https://warta.example.id/a"]


# --- dates ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("Sat, 26 Apr 2025 08:15:00 WIB", datetime(2025, 4, 26, 8, 15, tzinfo=WIB)),
        ("Sat, 26 Apr 2025 08:15:00 WITA", datetime(2025, 4, 26, 0, 15, tzinfo=UTC)),
        ("Sat, 26 Apr 2025 08:15:00 WIT", datetime(2025, 4, 25, 23, 15, tzinfo=UTC)),
        ("Sabtu, 26 April 2025 08:15 WIB", datetime(2025, 4, 26, 8, 15, tzinfo=WIB)),
        ("Senin, 18 Agustus 2025 - 10:30 WIB", datetime(2025, 8, 18, 10, 30, tzinfo=WIB)),
        ("5 Mei 2025", datetime(2025, 5, 5, tzinfo=UTC)),
        ("24 Des 2025 23:59:59 +0700", datetime(2025, 12, 24, 23, 59, 59, tzinfo=WIB)),
        ("2025-04-26T08:15:00+07:00", datetime(2025, 4, 26, 8, 15, tzinfo=WIB)),
        ("2025-04-26T01:15:00Z", datetime(2025, 4, 26, 1, 15, tzinfo=UTC)),
        ("2025-04-26", datetime(2025, 4, 26, tzinfo=UTC)),
        ("Sat, 26 Apr 2025 01:15:00 GMT", datetime(2025, 4, 26, 1, 15, tzinfo=UTC)),
    ],
)
def test_dates(value, expected):
    assert parse_date(value) == expected


@pytest.mark.parametrize("value", ["", "kemarin", "32 Januari 2025", "99/99/9999", None])
def test_unreadable_dates_are_none(value):
    assert parse_date(value) is None


def test_dublin_core_terms_dates():
    terms = 'xmlns:dcterms="http://purl.org/dc/terms/"'
    created = rss(f"<link>/a</link><dcterms:created {terms}>2025-04-26T08:15:00+07:00</dcterms:created>")
    modified = rss(f"<link>/b</link><dcterms:modified {terms}>2025-04-27T00:00:00Z</dcterms:modified>")
    assert parse_feed(created, BASE).items[0].published_at == datetime(2025, 4, 26, 1, 15, tzinfo=UTC)
    assert parse_feed(modified, BASE).items[0].published_at == datetime(2025, 4, 27, tzinfo=UTC)
    both = rss(
        f"<link>/c</link><dcterms:modified {terms}>2025-05-01</dcterms:modified>"
        f"<pubDate>Sat, 26 Apr 2025 08:15:00 WIB</pubDate>"
    )
    assert parse_feed(both, BASE).items[0].published_at == datetime(2025, 4, 26, 8, 15, tzinfo=WIB)
