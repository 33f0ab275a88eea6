"""The clean stage end to end: seed texts, HTML pages, skips and garbage (workers/clean)."""

from __future__ import annotations

import gzip
import hashlib
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from schemas import Article, RawDocument, Reason, SourceKind
from workers.clean import article_id, clean, content_hash
from workers.clean.body import TITLE_MAX_CHARS
from workers.errors import PermanentError, SkipInput
from workers.settings import DEFAULT_SOURCES_FILE
from workers.sources import SourceRegistry

REPO = Path(__file__).resolve().parent.parent
SEEDS = REPO / "seeds"
FIXTURES = Path(__file__).resolve().parent / "fixtures" / "clean"
REGISTRY = SourceRegistry.load(DEFAULT_SOURCES_FILE)
FETCHED_AT = datetime(2025, 4, 29, 3, 0, tzinfo=UTC)
WIB = timezone(timedelta(hours=7))


def _raw(path: Path, content_type: str = "text/html", url: str | None = None, **fields) -> RawDocument:
    """A RawDocument for a fixture file, as the loader (no URL) or the fetcher (URL) makes it."""
    return RawDocument(
        input=url or str(path),
        url=url,
        final_url=url,
        content_type=content_type,
        text=path.read_text(encoding="utf-8", errors="replace"),
        fetched_at=fields.pop("fetched_at", FETCHED_AT),
        **fields,
    )


def _seed(number: str) -> Article:
    """The cleaned seed text whose file name starts with `number`."""
    (path,) = SEEDS.glob(f"{number}_*.txt")
    return clean(_raw(path, "text/plain"), REGISTRY)


# --- the five seed texts ---------------------------------------------------------------------

SEED_EXPECTATIONS = {
    "000": {
        "title": "Korut Akui Terlibat di Perang Rusia-Ukrania, Bantu Putin Rebut Wilayah Kursk",
        "source": "Pikiran Rakyat",
        "authors": [],
        "editors": [],
        "section": None,
    },
    "001": {
        "title": "Pasukan Korea Utara Turut Membantu Rusia dalam Pertempuran di Kursk",
        "source": "Pantau",
        "authors": ["Leon Weldrick"],
        "editors": ["Ricky Setiawan"],
        "section": "Internasional",
    },
    "002": {
        "title": "Putin Berterima Kasih kepada Pasukan Korea Utara atas Bantuannya Merebut Kembali Kursk dari Ukraina",
        "source": "Tribunnews",
        "authors": [],
        "editors": ["Muhammad Barir"],
        "section": "Konflik Rusia Vs Ukraina",
    },
    "003": {
        "title": "Korea Utara Terjun Langsung dalam Perang Ukraina di Kursk",
        "source": "unknown",
        "authors": [],
        "editors": [],
        "section": None,
    },
}


@pytest.mark.parametrize("number", sorted(SEED_EXPECTATIONS))
def test_seed_title_outlet_and_credits(number):
    article, expected = _seed(number), SEED_EXPECTATIONS[number]
    assert article.title == expected["title"]
    assert article.source.name == expected["source"]
    assert article.source.known is (expected["source"] != "unknown")
    assert article.authors == expected["authors"]
    assert article.editors == expected["editors"]
    assert article.section == expected["section"]


@pytest.mark.parametrize("number", ["000", "001", "002", "003", "004"])
def test_seed_is_indonesian_without_a_stated_date(number):
    article = _seed(number)
    assert article.language == "id"
    # "Sabtu, 26 April 2025" inside the body is the date of an event, not of publication
    assert article.published_at is None
    assert article.url is None
    assert article.fetched_at == FETCHED_AT
    assert "\n\n" not in article.text and article.text == article.text.strip()


def test_seed_000_loses_monitoring_block_dateline_and_tail():
    article = _seed("000")
    for junk in (
        "Sentimen",
        "Informasi Tambahan",
        "Grup Musik",
        "Kab/Kota",
        "Tokoh Terkait",
        "Pikiran-Rakyat.com",
        "Jenis Media",
        "Simak update",
        "Google News",
        "PIKIRAN RAKYAT",
        "***",
    ):
        assert junk not in article.text
    assert article.text.startswith("Korea Utara mengaku mengirimkan tentaranya")
    assert article.text.endswith("kesalahan fatal Vladimir Putin.")
    assert "Pernyataan Kremlin" in article.text  # a subheading of the article stays


def test_seed_001_loses_page_header_caption_and_credits():
    article = _seed("001")
    for junk in ("Pantau Flash", "HOME", "Oleh Leon", "SHARE", "Foto:", "Penulis", "Editor", "Pantau -"):
        assert junk not in article.text
    assert article.title not in article.text
    assert article.text.startswith("Untuk pertama kalinya, pejabat tinggi militer Rusia")
    assert article.text.endswith("menurut laporan Reuters.")


def test_seed_002_loses_teaser_related_list_and_comment_notice():
    article = _seed("002")
    for junk in (
        "TRIBUNNEWS.COM",
        "|",
        "Isi komentar",
        "Rusia Menguji NATO",
        "Konflik Rusia Vs Ukraina",
        "Editor",
    ):
        assert junk not in article.text
    assert article.text.startswith(
        "Presiden Rusia Vladimir Putin pada tanggal 28 April mengucapkan terima kasih kepada pasukan dari "
        "Republik Rakyat Demokratik Korea (Korea Utara ) atas peran mereka"
    )
    assert article.text.count("Presiden Rusia Vladimir Putin pada tanggal 28 April") == 1
    assert article.text.endswith("Pyongyang dalam perang tersebut.")


def test_seed_003_loses_scroll_to_top():
    article = _seed("003")
    assert "Scroll to Top" not in article.text
    assert article.source.known is False
    assert article.text.endswith("merupakan urusan kedua negara.")


def test_seed_004_press_release_gets_a_derived_title_and_loses_distributor_text():
    article = _seed("004")
    assert article.source.name == "SeaPRwire"
    assert article.source.kind is SourceKind.press_release
    assert article.title.startswith("Presiden Rusia pada hari Senin berterima kasih kepada Korea Utara")
    assert len(article.title) <= TITLE_MAX_CHARS
    assert article.title.endswith("…")  # the first sentence goes on
    assert article.text.startswith(article.title[:-1] + " ")  # cut at a word boundary of it
    for junk in ("SeaPRwire", "Artikel ini disediakan", "pihak ketiga", "Sektor:", "siaran pers"):
        assert junk not in article.text
    assert article.text.endswith("“sangat dekat dengan kesepakatan.”")


def test_seed_id_is_the_file_uri_and_hash_ignores_whitespace(tmp_path):
    (path,) = SEEDS.glob("001_*.txt")
    article = clean(_raw(path, "text/plain"), REGISTRY)
    assert article.id == article_id(path.resolve().as_uri())
    assert article.id == hashlib.sha1(path.resolve().as_uri().encode()).hexdigest()[:16]
    assert article.content_hash == content_hash(article.title, article.text)

    respaced = tmp_path / path.name
    respaced.write_text(path.read_text(encoding="utf-8").replace(" ", "  "), encoding="utf-8")
    again = clean(_raw(respaced, "text/plain"), REGISTRY)
    assert again.content_hash == article.content_hash
    assert again.id != article.id  # another file, another id


def test_content_hash_normalises_case_and_whitespace():
    assert content_hash("Judul  Berita", "Satu\n\nDua ") == content_hash("judul berita", "satu dua")
    assert content_hash("Judul", "satu") != content_hash("Judul", "dua")


# --- HTML pages --------------------------------------------------------------------------------


def test_html_boilerplate_variants_are_removed():
    article = clean(_raw(FIXTURES / "baca_juga.html"), REGISTRY)
    text = article.text.lower()
    assert "baca juga" not in text
    for junk in (
        "simak juga",
        "bagikan",
        "foto:",
        "artikel ini telah tayang",
        "dapatkan update",
        "(ant/red)",
        "terpopuler",
        "penulis",
        "bulog siapkan 1 juta ton",  # headlines linked from the "Baca juga" boxes
        "inflasi april diperkirakan",
        "stok beras nasional aman",
        "het beras baru",
        "wartacontoh.id -",
    ):
        assert junk not in text, junk
    # the paragraphs around the promotions stay whole
    assert (
        "Menurut dia, pasokan dari Jawa Tengah dan Jawa Timur mulai lancar sejak pekan lalu." in article.text
    )
    assert "pemerintah. Pedagang berharap penurunan harga gabah" in article.text
    assert article.text.endswith("di wilayah masing-masing.")


def test_html_metadata_of_an_indonesian_page():
    article = clean(_raw(FIXTURES / "baca_juga.html"), REGISTRY)
    canonical = "https://berita.example.co.id/ekonomi/2025/04/28/harga-beras-cipinang-turun"
    assert article.url == canonical
    assert article.id == article_id(canonical)
    assert article.title == "Harga Beras di Pasar Induk Cipinang Turun Jelang Panen Raya"
    assert article.published_at == datetime(2025, 4, 28, 21, 14, tzinfo=WIB)
    assert article.published_at.utcoffset() == timedelta(hours=7)
    assert article.dateline == "JAKARTA"
    assert article.authors == ["Rina Kartika"]
    assert article.editors == ["Dedi Pratama"]
    assert article.section == "Ekonomi"
    assert article.tags == ["harga beras", "Bulog", "panen raya"]
    assert article.image == "https://img.example.co.id/2025/04/28/pasar-cipinang.jpg"
    assert article.source.name == "Warta Contoh"
    assert article.source.domain == "berita.example.co.id"
    assert article.source.known is False
    assert article.language == "id"


def test_html_date_after_the_fetch_is_rejected():
    fetched_before = datetime(2025, 4, 1, tzinfo=UTC)
    article = clean(_raw(FIXTURES / "baca_juga.html", fetched_at=fetched_before), REGISTRY)
    assert article.published_at is None


def test_english_html_article():
    article = clean(_raw(FIXTURES / "english_article.html"), REGISTRY)
    assert article.language == "en"
    assert article.title == "Indonesia rice prices ease as main harvest begins"
    assert article.url == "https://news.example.com/asia/indonesia-rice-prices-ease-harvest"
    assert article.published_at == datetime(2025, 4, 28, 14, 30, tzinfo=UTC)
    assert article.authors == ["Jane Doe"]
    assert article.editors == ["John Smith"]
    assert article.dateline == "JAKARTA"
    assert article.section == "Asia"
    assert article.tags == ["Indonesia", "Commodities"]
    # the page names itself: a wire credit in the dateline does not make it a Reuters page
    assert (article.source.name, article.source.known) == ("Example News", False)
    assert article.text.startswith("Wholesale rice prices in Indonesia's capital fell")
    for junk in ("Reuters", "Read more", "Reporting by", "Most read", "All rights reserved"):
        assert junk not in article.text


def test_kompas_page_fetched_from_its_url():
    url = "http://nasional.kompas.com/read/2016/02/16/14382361/Menteri.Yuddy.Ancam.PNS.yang.Rankingnya.Terendah.Akan.Dipangkas."
    article = clean(_raw(FIXTURES / "kompas_article.html", url=url), REGISTRY)
    assert (article.source.name, article.source.known) == ("Kompas", True)
    assert article.title == 'Menteri Yuddy Ancam PNS yang Rankingnya Terendah Akan "Dipangkas"'
    assert article.dateline == "JAKARTA"
    assert article.authors == ["Nabilla Tashandra"]
    assert article.editors == ["Bayu Galih"]
    assert article.published_at == datetime(2016, 2, 16, 14, 38, tzinfo=WIB)
    assert article.text.startswith("Menteri Pendayagunaan Aparatur Negara")
    assert "KOMPAS.com" not in article.text and "Penulis" not in article.text
    assert article.text.endswith("dilayani oleh 1,7 pegawai.")


def test_antara_page_loaded_from_a_file_finds_its_outlet_by_site_name():
    path = FIXTURES / "antara_article.html"
    article = clean(_raw(path), REGISTRY)
    assert article.url is None
    assert article.id == article_id(path.resolve().as_uri())
    assert (article.source.name, article.source.kind) == ("Antara", SourceKind.wire)
    assert article.dateline == "Mataram"
    assert article.editors == ["Ade Marboen"]
    assert article.published_at == datetime(2015, 11, 5, 14, 56, 43, tzinfo=WIB)
    assert article.text.startswith("Sebanyak 29 penerbangan")
    assert "COPYRIGHT" not in article.text and "Editor" not in article.text


def test_html_sent_as_text_plain_is_read_as_html():
    article = clean(_raw(FIXTURES / "baca_juga.html", "text/plain"), REGISTRY)
    assert article.title == "Harga Beras di Pasar Induk Cipinang Turun Jelang Panen Raya"
    assert "<p>" not in article.text


# --- what is not an article --------------------------------------------------------------------


def test_empty_page_is_skipped_as_no_text():
    with pytest.raises(SkipInput) as caught:
        clean(_raw(FIXTURES / "empty_page.html"), REGISTRY)
    assert caught.value.reason is Reason.no_text


def test_front_page_of_links_is_skipped_as_not_an_article():
    with pytest.raises(SkipInput) as caught:
        clean(_raw(FIXTURES / "viva_front_page.html", url="http://www.viva.co.id/"), REGISTRY)
    assert caught.value.reason is Reason.not_article


def test_short_item_is_skipped_as_too_short():
    with pytest.raises(SkipInput) as caught:
        clean(_raw(FIXTURES / "short_item.html"), REGISTRY)
    assert caught.value.reason is Reason.too_short


def test_unsupported_content_type_is_skipped():
    raw = _raw(FIXTURES / "english_article.html", "application/pdf")
    with pytest.raises(SkipInput) as caught:
        clean(raw, REGISTRY)
    assert caught.value.reason is Reason.unsupported_type


@pytest.mark.parametrize("content_type", ["text/html", "text/plain"])
def test_binary_data_is_a_permanent_error(content_type):
    data = gzip.compress((FIXTURES / "baca_juga.html").read_bytes())
    for text in (data.decode("latin-1"), data.decode("utf-8", errors="replace")):
        raw = RawDocument(input="data.bin", content_type=content_type, text=text)
        with pytest.raises(PermanentError) as caught:
            clean(raw, REGISTRY)
        assert caught.value.reason is Reason.malformed


@pytest.mark.parametrize("fixture", ["baca_juga.html", "kompas_article.html", "english_article.html"])
@pytest.mark.parametrize("fraction", [0.05, 0.2, 0.35, 0.5, 0.8])
def test_truncated_html_gives_an_article_or_a_skip(fixture, fraction):
    html = (FIXTURES / fixture).read_text(encoding="utf-8", errors="replace")
    raw = RawDocument(input=fixture, content_type="text/html", text=html[: int(len(html) * fraction)])
    try:
        article = clean(raw, REGISTRY)
    except SkipInput as exc:
        assert exc.reason in (Reason.no_text, Reason.too_short, Reason.not_article)
    else:
        assert article.text and article.title


@pytest.mark.parametrize("text", ["", "   \n\t ", "<<<>>><<//>>" * 40, "<html><body></body></html>"])
def test_contentless_input_is_skipped(text):
    with pytest.raises(SkipInput) as caught:
        clean(RawDocument(input="x.html", content_type="text/html", text=text), REGISTRY)
    assert caught.value.reason is Reason.no_text


def test_rss_feed_is_not_an_article():
    feed = '<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0"><channel><title>Berita</title></channel></rss>'
    with pytest.raises(SkipInput) as caught:
        clean(RawDocument(input="feed.xml", content_type="text/html", text=feed), REGISTRY)
    assert caught.value.reason is Reason.not_article
