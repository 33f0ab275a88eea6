"""Line rules shared by the HTML and plain-text paths: boilerplate, credits, datelines, body edges."""

from __future__ import annotations

import pytest

from workers.clean.body import TITLE_MAX_CHARS, derive_title, finish_body, split_lines, word_count
from workers.clean.boilerplate import filter_lines, is_boilerplate, strip_signoff
from workers.clean.credits import person_names, take_credits
from workers.clean.dateline import split_dateline
from workers.clean.outlet import resolve_source
from workers.settings import DEFAULT_SOURCES_FILE
from workers.sources import SourceRegistry

REGISTRY = SourceRegistry.load(DEFAULT_SOURCES_FILE)
PROSE = (
    "Harga beras medium di Pasar Induk Cipinang turun rata-rata Rp 500 per kilogram dalam sepekan terakhir."
)


@pytest.mark.parametrize(
    "line",
    [
        "Baca juga: Bulog Siapkan 1 Juta Ton Beras",
        "Baca Juga : Petani Karawang Mulai Panen",
        "BACA JUGA",
        "Simak juga video berikut ini",
        "Lihat Juga: Foto-foto Banjir Bekasi",
        'Artikel ini telah tayang di Kompas.com dengan judul "Harga Beras Turun"',
        "Dapatkan update berita pilihan dan breaking news setiap hari dari Kompas.com",
        "Simak update artikel pilihan lainnya dari kami di Google News",
        "Ikuti berita terkini dari WartaContoh.id di Google News",
        "Simak breaking news dan berita pilihan kami langsung di ponselmu.",
        "Pilih saluran andalanmu akses berita Kompas.com WhatsApp Channel : https://www.whatsapp.com/channel/x",
        "SHARE :",
        "Bagikan: Facebook Twitter WhatsApp",
        "Facebook Twitter WhatsApp",
        "Foto: Tentara Korea Utara berlatih skenario invasi selama latihan (sumber: KCNA)",
        "(Foto: http://photos.example.com/123)",
        "Ilustrasi: Gedung Mahkamah Agung",
        "Scroll to Top",
        "ADVERTISEMENT",
        "SCROLL TO CONTINUE WITH CONTENT",
        "Berita Terkait",
        "Isi komentar sepenuhnya adalah tanggung jawab pengguna dan diatur dalam UU ITE.",
        "Sentimen",
        "Sentimen: negatif (78%)",
        "Informasi Tambahan",
        "Grup Musik: APRIL",
        "Kab/Kota: Moskow, Pyongyang",
        "Tokoh Terkait",
        "Jenis Media: Internasional",
        "Sektor: Top Story, Daily News",
        "Pikiran-Rakyat.com",
        "https://www.seaprwire.com/",
        "---|",
        "COPYRIGHT © ANTARA 2015",
        "Senin, 28 April 2025 21:14 WIB",
        "01",
        "-",
    ],
)
def test_boilerplate_lines(line):
    assert is_boilerplate(line)


@pytest.mark.parametrize(
    "line",
    [
        PROSE,
        "Pernyataan Kremlin",
        "Warga diminta membaca juga petunjuk keselamatan sebelum berangkat.",
        "Foto-foto dari lokasi kejadian beredar luas di media sosial sejak Senin pagi.",
        "Sentimen pasar membaik setelah Bank Indonesia menahan suku bunga acuan.",
        "Hak cipta lagu tersebut kini dipegang oleh ahli waris sang pencipta.",
        "| 1 | Kyle Busch | 5040 |",
    ],
)
def test_article_lines_are_not_boilerplate(line):
    assert not is_boilerplate(line)


def test_filter_lines_drops_promotions_with_their_headlines():
    lines = [
        PROSE,
        "Baca Juga",
        "Inflasi April Diperkirakan Melandai",
        "Harga Cabai Merah Naik Tajam",
        "Menurut dia, pasokan mulai lancar sejak pekan lalu. Baca juga: Stok Beras Nasional Aman hingga Lebaran",
        "Harga eceran masih tinggi. (Baca juga: Pemerintah Tetapkan HET Beras Baru) Pedagang berharap harga turun.",
        "Pemerintah meminta daerah memantau harga setiap hari. (ant/red)",
    ]
    assert filter_lines(lines) == [
        PROSE,
        "Menurut dia, pasokan mulai lancar sejak pekan lalu.",
        "Harga eceran masih tinggi. Pedagang berharap harga turun.",
        "Pemerintah meminta daerah memantau harga setiap hari.",
    ]


def test_filter_lines_cuts_at_a_closing_disclaimer_and_drops_related_lists():
    lines = [
        PROSE,
        PROSE,
        "Rusia Menguji NATO dengan Drone dan Disinformasi, Apakah Barat Masuk Perangkap? |",
        "---|",
        "Seribu Jenazah Tentara Ukraina Ditukar 24 Jenazah Tentara Rusia |",
        "---|",
        "Artikel ini disediakan oleh penyedia konten pihak ketiga. SeaPRwire tidak memberikan jaminan.",
        "SeaPRwire menyediakan distribusi siaran pers real-time untuk perusahaan dan lembaga.",
    ]
    assert filter_lines(lines) == [PROSE, PROSE]


def test_a_lone_pull_quote_row_stays():
    lines = [
        PROSE,
        "| “If you don’t have a big booster, you’re not going to make it,” Stafford said. |",
        PROSE,
    ]
    assert len(filter_lines(lines)) == 3


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("kesalahan fatal Vladimir Putin.***", "kesalahan fatal Vladimir Putin."),
        ("dialihkan ke bandara lain. (kpl/pur/tch)", "dialihkan ke bandara lain."),
        ("sejak Oktober. (Cas/Isk)", "sejak Oktober."),
        ("di Jakarta. (ant)", "di Jakarta."),
        ("kata juru bicara Amerika Serikat (AS)", "kata juru bicara Amerika Serikat (AS)"),
    ],
)
def test_strip_signoff(line, expected):
    assert strip_signoff(line) == expected


def test_credits_in_their_shapes():
    lines = [
        "Oleh Leon Weldrick",
        PROSE,
        "| Penulis | : Kontributor Lhokseumawe, Masriadi |",
        "| Editor | : Ervan Hardoko |",
        "Pewarta: Budisantoso Budiman dan Agus S",
        "Editor :",
        "Ricky Setiawan",
        "(Reporting by Will Dunham; Editing by Tom Brown)",
        "Penulis: Rina Kartika | Editor: Dedi Pratama",
        "Von Nina Magoley",  # "by" in German, French, Spanish, Dutch, Norwegian/Swedish
        "Par Jean Dupont et Marie Curie",
    ]
    kept, credits = take_credits(lines)
    assert kept == [PROSE]
    assert credits.authors == [
        "Leon Weldrick",
        "Masriadi",
        "Budisantoso Budiman",
        "Agus S",
        "Will Dunham",
        "Rina Kartika",
        "Nina Magoley",
        "Jean Dupont",
        "Marie Curie",
    ]
    assert credits.editors == ["Ervan Hardoko", "Ricky Setiawan", "Tom Brown", "Dedi Pratama"]


@pytest.mark.parametrize(
    "line",
    [
        "Oleh karena itu, pemerintah akan menambah anggaran subsidi pupuk tahun depan.",
        "Von dort aus fuhren die Demonstranten weiter zum Rathaus.",
        "Editor: ia mengatakan bahwa naskah itu sudah diperiksa berulang kali oleh tim redaksi sebelum terbit hari ini.",
    ],
)
def test_prose_is_not_a_credit(line):
    kept, credits = take_credits([line])
    assert kept == [line] and not credits.authors and not credits.editors


@pytest.mark.parametrize(
    ("value", "names"),
    [
        ("Pewarta Nur Imansyah", ["Nur Imansyah"]),
        ("Kompas Cyber Media", []),
        ("Liputan6.com", []),
        ("PT. VIVA MEDIA BARU - VIVA.co.id", []),
        ("By Arny Christika Putri on 16 Feb 2016 at 09:09 WIB", ["Arny Christika Putri"]),
        ("Jeff Foust Monday, November 18, 2019", ["Jeff Foust"]),
        ("Jane Doe; John Smith", ["Jane Doe", "John Smith"]),
    ],
)
def test_person_names(value, names):
    assert person_names(value) == names


@pytest.mark.parametrize(
    ("paragraph", "place", "outlet", "rest"),
    [
        ("JAKARTA, KOMPAS.com - Harga naik.", "JAKARTA", "KOMPAS.com", "Harga naik."),
        ("LHOKSEUMAWE, KOMPAS.com – Penyidik datang.", "LHOKSEUMAWE", "KOMPAS.com", "Penyidik datang."),
        (
            "Mataram, NTB (ANTARA News) - Sebanyak 29 penerbangan.",
            "Mataram",
            "ANTARA News",
            "Sebanyak 29 penerbangan.",
        ),
        (
            "Liputan6.com, Jakarta - Indonesia memasuki fase.",
            "Jakarta",
            "Liputan6.com",
            "Indonesia memasuki fase.",
        ),
        (
            "REPUBLIKA.CO.ID, JAKARTA -- Aktris itu datang.",
            "JAKARTA",
            "REPUBLIKA.CO.ID",
            "Aktris itu datang.",
        ),
        ("PIKIRAN RAKYAT - Korea Utara mengaku.", None, "PIKIRAN RAKYAT", "Korea Utara mengaku."),
        (
            "TRIBUNNEWS.COM- Presiden Rusia berterima kasih.",
            None,
            "TRIBUNNEWS.COM",
            "Presiden Rusia berterima kasih.",
        ),
        ("Pantau - Untuk pertama kalinya.", None, "Pantau", "Untuk pertama kalinya."),
        (
            "(SeaPRwire) – Presiden Rusia pada hari Senin.",
            None,
            "SeaPRwire",
            "Presiden Rusia pada hari Senin.",
        ),
        ("WASHINGTON (AP) — The ambassador said.", "WASHINGTON", "AP", "The ambassador said."),
        ("Jakarta - Polisi menangkap dua orang.", "Jakarta", None, "Polisi menangkap dua orang."),
        (
            "KUALA LUMPUR: Kerajaan akan menyalurkan bantuan.",
            "KUALA LUMPUR",
            None,
            "Kerajaan akan menyalurkan bantuan.",
        ),
        (
            "Jakarta, KompasOtomotif – Tahun depan dua merek.",
            "Jakarta",
            "KompasOtomotif",
            "Tahun depan dua merek.",
        ),
    ],
)
def test_datelines(paragraph, place, outlet, rest):
    dateline, remainder = split_dateline(paragraph, REGISTRY.by_label)
    assert (dateline.place, dateline.outlet, remainder) == (place, outlet, rest)


@pytest.mark.parametrize(
    "paragraph",
    [
        "Presiden Rusia Vladimir Putin pada tanggal 28 April mengucapkan terima kasih - katanya.",
        "Menurut Dia: harga akan turun.",
        "Rusia-Ukraina kembali memanas setelah serangan drone.",
        "Harga beras - yang sempat naik - kini turun.",
    ],
)
def test_prose_has_no_dateline(paragraph):
    dateline, remainder = split_dateline(paragraph, REGISTRY.by_label)
    assert (dateline.place, dateline.outlet, remainder) == (None, None, paragraph)


def test_finish_body_drops_title_repeats_kickers_and_a_dangling_heading():
    title = "Putin Berterima Kasih kepada Pasukan Korea Utara"
    lines = [
        "Home >",
        title,
        "TRIBUNNEWS.COM- Presiden Rusia berterima kasih kepada Korea Utara.",
        PROSE,
        "Konflik Rusia Vs Ukraina",
    ]
    paragraphs, dateline = finish_body(lines, title, REGISTRY.by_label)
    assert paragraphs == ["Presiden Rusia berterima kasih kepada Korea Utara.", PROSE]
    assert dateline.outlet == "TRIBUNNEWS.COM"


def test_finish_body_starts_at_a_dateline_below_caption_and_byline():
    caption = "Musisi dunia memberikan standing ovation untuk Joey Alexander di Grammy Awards ke-58. (Grammy)"
    lines = [caption, "Oleh :", "Maya Sofia", f"VIVA.co.id - {PROSE}", PROSE]
    paragraphs, dateline = finish_body(lines, "", REGISTRY.by_label)
    assert paragraphs == [PROSE, PROSE]
    assert dateline.outlet == "VIVA.co.id"


def test_finish_body_keeps_a_story_paragraph_above_a_dateline_like_line():
    story = " ".join([PROSE] * 5)  # longer than any caption: the article has begun
    lines = [story, f"JAKARTA - {PROSE}"]
    paragraphs, dateline = finish_body(lines, "", REGISTRY.by_label)
    assert paragraphs == lines
    assert (dateline.place, dateline.outlet) == (None, None)


def test_finish_body_keeps_a_closing_list():
    dates = [
        "June 24 – Bristow, VA @ Jiffy Lube Live",
        "June 26 – Allentown, PA @ PPL Center",
        "June 27 – Camden, NJ",
    ]
    paragraphs, _ = finish_body([PROSE, *dates], "", REGISTRY.by_label)
    assert paragraphs == [PROSE, *dates]


def test_split_lines_normalises_space_and_unwraps_plain_text():
    text = "Judul\u00a0 Berita\n\nKalimat pertama yang\nterpotong di tengah.\n\u200bBaris baru.\r\n"
    assert split_lines(text, unwrap=True) == [
        "Judul Berita",
        "Kalimat pertama yang terpotong di tengah.",
        "Baris baru.",
    ]
    assert split_lines(text) == [
        "Judul Berita",
        "Kalimat pertama yang",
        "terpotong di tengah.",
        "Baris baru.",
    ]


def test_derive_title_and_word_count():
    long = "Presiden Rusia pada hari Senin berterima kasih kepada Korea Utara karena telah mengirim pasukan untuk bertempur bersama Rusia. Kalimat kedua."
    title = derive_title([long])
    assert (
        title
        == "Presiden Rusia pada hari Senin berterima kasih kepada Korea Utara karena telah mengirim pasukan untuk…"
    )
    assert len(title) <= TITLE_MAX_CHARS
    assert long.startswith(title[:-1] + " ")  # cut between words, the ellipsis saying so
    unbroken = "x" * 300 + ". Next."
    assert derive_title([unbroken]) == "x" * (TITLE_MAX_CHARS - 1) + "…"
    assert derive_title(["Harga beras turun. Pedagang lega."]) == "Harga beras turun"
    assert word_count("Harga beras — turun 5%") == 4
    assert word_count("先日、不正に改造したiPhone") == 10  # nine ideographs and kana, and one Latin word
    assert word_count("東京女子医大 1900年") == 8
    assert word_count("ประเทศไทย มี") == 10  # Thai letters count, its vowel and tone marks (ี) do not


def test_outlet_of_a_channel_dateline_is_the_registry_outlet():
    source = resolve_source(REGISTRY, [None], [], "KompasOtomotif")
    assert (source.name, source.known) == ("Kompas", True)
