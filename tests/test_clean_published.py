"""The publication date the clean stage settles on: where it was stated, and in which zone (workers/clean/published.py)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from schemas import DateSource, RawDocument
from workers.clean import clean
from workers.clean.dates import WIB
from workers.settings import DEFAULT_SOURCES_FILE
from workers.sources import SourceRegistry

REGISTRY = SourceRegistry.load(DEFAULT_SOURCES_FILE)
FETCHED = datetime(2026, 1, 10, 12, 0, tzinfo=UTC)
BODY = " ".join(
    [
        "Pemerintah provinsi mengumumkan rencana pembangunan jalan baru yang menghubungkan dua kabupaten di wilayah selatan.",
        "Kepala dinas pekerjaan umum mengatakan proyek itu akan dimulai bulan depan dan selesai dalam dua tahun.",
        "Warga menyambut baik rencana tersebut karena perjalanan ke pusat kota selama ini memakan waktu berjam-jam.",
        "Anggaran proyek berasal dari dana daerah dan bantuan pemerintah pusat, kata pejabat itu kepada wartawan.",
    ]
)


def _page(head: str = "", shown: str = "", first: str = "") -> str:
    return (
        f"<html><head><title>Jalan baru untuk dua kabupaten</title>{head}</head><body><article>"
        f"<h1>Jalan baru untuk dua kabupaten</h1>{shown}<p>{first}{BODY}</p><p>{BODY}</p></article></body></html>"
    )


def _clean(text: str, url: str | None = "https://news.example.org/read/jalan-baru", **extra):
    content_type = "text/html" if text.lstrip().startswith("<") else "text/plain"
    raw = RawDocument(
        input=url or "/tmp/jalan.txt",
        url=url,
        content_type=content_type,
        text=text,
        fetched_at=FETCHED,
        **extra,
    )
    return clean(raw, REGISTRY)


def test_metadata_json_ld_and_the_first_seen_fallback():
    meta = '<meta property="article:published_time" content="2025-04-28T21:14:00+07:00">'
    article = _clean(_page(meta))
    assert (article.published_at, article.date_source) == (
        datetime(2025, 4, 28, 14, 14, tzinfo=UTC),
        DateSource.page,
    )
    ld = {"@type": "NewsArticle", "headline": "Jalan baru", "datePublished": "2025-04-28T21:14:00+07:00"}
    script = (
        f"//<![CDATA[\n{json.dumps(ld)}\n//]]>"  # commented CDATA around JSON-LD, as older templates write it
    )
    article = _clean(_page(f'<script type="application/ld+json">{script}</script>'))
    assert (article.published_at, article.date_source) == (
        datetime(2025, 4, 28, 14, 14, tzinfo=UTC),
        DateSource.json_ld,
    )
    undated = _clean(_page())
    assert undated.published_at is None
    assert (undated.dated_at, undated.first_seen_at, undated.date_source) == (
        FETCHED,
        FETCHED,
        DateSource.first_seen,
    )


def test_a_time_without_zone_takes_the_zone_another_statement_gives_it():
    head = (
        '<meta property="article:published_time" content="2023-04-28T18:41:00">'
        '<script type="application/ld+json">{"@type": "NewsArticle", "datePublished": "2023-04-28T18:41:00+02:00"}'
        "</script>"
    )
    article = _clean(_page(head), url="https://zeitung.example.de/artikel")
    assert article.published_at == datetime(2023, 4, 28, 16, 41, tzinfo=UTC)


def test_dateline_and_feed_dates_when_the_page_states_none():
    article = _clean(_page(first="Jakarta, 28 April 2025 - "))
    assert (article.published_at, article.date_source) == (
        datetime(2025, 4, 28, tzinfo=WIB),
        DateSource.dateline,
    )
    assert article.dateline == "Jakarta" and article.text.startswith("Pemerintah provinsi")
    listed = datetime(2025, 5, 1, 7, 30, tzinfo=UTC)
    article = _clean(_page(), listed_at=listed)
    assert (article.published_at, article.date_source) == (listed, DateSource.feed)
    article = _clean(_page(first="Jakarta, 28 April 2025 - "), listed_at=listed)
    assert article.date_source is DateSource.dateline  # what the article says before what the feed says


def test_plain_text_date_lines_and_a_place_with_date():
    text = f"Jalan baru untuk dua kabupaten\nSenin, 28 April 2025 21:14 WIB\n\n{BODY}\n\n{BODY}\n"
    article = _clean(text, url=None)
    assert (article.published_at, article.date_source) == (
        datetime(2025, 4, 28, 21, 14, tzinfo=WIB),
        DateSource.text,
    )
    text = f"Jalan baru untuk dua kabupaten\nBandung, 28 April 2025\n\n{BODY}\n\n{BODY}\n"
    article = _clean(text, url=None)
    assert (article.published_at, article.date_source) == (
        datetime(2025, 4, 28, tzinfo=WIB),
        DateSource.dateline,
    )
    assert article.dateline == "Bandung" and "28 April" not in article.text
    mentioned = f"Jalan baru untuk dua kabupaten\n\n{BODY} Rapat digelar pada 26 April 2025.\n\n{BODY}\n"
    assert (
        _clean(mentioned, url=None).date_source is DateSource.first_seen
    )  # a date in the story is no dateline


DETIK_URL = "https://inet.detik.com/read/2015/11/05/100026/3062623/323/google-umbar-kelemahan"
DETIK_HEAD = '<meta name="pubdate" content="2015-11-05 T10:08:58Z" itemprop="datePublished">'
LOCAL = datetime(2015, 11, 5, 10, 8, 58, tzinfo=WIB)


def _registry_without_flags(tmp_path: Path) -> SourceRegistry:
    data = json.loads(DEFAULT_SOURCES_FILE.read_text(encoding="utf-8"))
    for entry in data["sources"]:
        entry.pop("local_time_as_utc", None)
    path = tmp_path / "sources.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    return SourceRegistry.load(path)


def test_local_time_labelled_utc_is_read_in_the_outlets_zone_when_the_registry_says_so():
    article = _clean(_page(DETIK_HEAD), url=DETIK_URL.replace("/100026/", "/"))  # no other evidence
    assert article.published_at == LOCAL
    assert article.published_at.utcoffset() == timedelta(hours=7)


@pytest.mark.parametrize(
    ("url", "shown", "fetched", "expected"),
    [
        (DETIK_URL, "", FETCHED, LOCAL),  # the URL's time (10:00 local) agrees with 10:08 read locally
        (DETIK_URL.replace("/100026/", "/"), "<p>Kamis, 05/11/2015 10:00 WIB</p>", FETCHED, LOCAL),  # a stamp
        # read as UTC it lies in the future of the fetch
        (DETIK_URL.replace("/100026/", "/"), "", datetime(2015, 11, 5, 4, 0, tzinfo=UTC), LOCAL),
        # nothing says otherwise: the label stands
        (DETIK_URL.replace("/100026/", "/"), "", FETCHED, datetime(2015, 11, 5, 10, 8, 58, tzinfo=UTC)),
        # a stamp agreeing with the UTC reading (17:08 WIB is 10:08 UTC)
        (
            DETIK_URL.replace("/100026/", "/"),
            "<p>Kamis, 05/11/2015 17:08 WIB</p>",
            FETCHED,
            datetime(2015, 11, 5, 10, 8, 58, tzinfo=UTC),
        ),
    ],
)
def test_local_time_labelled_utc_is_read_locally_when_the_evidence_agrees(
    tmp_path, url, shown, fetched, expected
):
    raw = RawDocument(
        input=url, url=url, content_type="text/html", text=_page(DETIK_HEAD, shown), fetched_at=fetched
    )
    article = clean(raw, _registry_without_flags(tmp_path))
    assert article.published_at == expected


def test_an_outlet_without_a_zone_keeps_the_utc_label_and_unzoned_times_default_by_language():
    page = _page('<meta property="article:published_time" content="2015-11-05T10:08:58Z">')
    assert _clean(page).published_at == datetime(2015, 11, 5, 10, 8, 58, tzinfo=UTC)
    page = _page('<meta property="article:published_time" content="2015-11-05 10:08">')
    assert _clean(page).published_at == datetime(2015, 11, 5, 10, 8, tzinfo=WIB)  # Indonesian text
    kompas = _clean(page, url="https://regional.kompas.com/read/2015/11/05/x")
    assert kompas.published_at.utcoffset() == timedelta(hours=7) and kompas.source.name == "Kompas"
    fajar = _clean(page, url="https://fajar.co.id/2015/11/05/x")  # Makassar: WITA
    assert fajar.published_at == datetime(2015, 11, 5, 10, 8, tzinfo=timezone(timedelta(hours=8)))


def test_a_published_time_rewritten_on_edit_gives_way_to_json_ld():
    ld = '<script type="application/ld+json">{"@type": "NewsArticle", "datePublished": "2024-08-04T13:23:00Z"}</script>'
    edited = (
        '<meta property="article:published_time" content="2024-08-05T19:49:50Z">'
        '<meta property="article:modified_time" content="2024-08-05T19:49:50Z">'
    )
    article = _clean(_page(edited + ld))
    assert (article.published_at, article.date_source) == (
        datetime(2024, 8, 4, 13, 23, tzinfo=UTC),
        DateSource.json_ld,
    )
    kept = edited.replace(
        'article:modified_time" content="2024-08-05T19:49:50Z',
        'article:modified_time" content="2024-08-06T08:00:00Z',
    )
    assert _clean(_page(kept + ld)).published_at == datetime(2024, 8, 5, 19, 49, 50, tzinfo=UTC)


def test_a_shown_stamp_with_a_counter_after_a_bar_dates_the_page():
    shown = "<p>Selasa, 23/02/2016</p><div>Selasa, 23 Februari 2016 15:06 WIB | 998 Views</div>"
    article = _clean(_page(shown=shown), url="https://otomotif.antaranews.com/berita/546646/x")
    assert article.published_at == datetime(2016, 2, 23, 15, 6, tzinfo=WIB)
