"""HTML-only steps of the clean stage: loose-text repair, photo pages, lazy metadata fallbacks."""

from __future__ import annotations

from datetime import UTC, datetime

from lxml.html import fromstring, tostring

from schemas import RawDocument
from tests.test_clean import REGISTRY
from workers.clean import clean, warm_up
from workers.clean.html_meta import bylines, date_candidates, people
from workers.clean.meta import PageMeta, read_meta
from workers.clean.photo import caption_lines, is_photo_page
from workers.clean.tree import wrap_loose_text

LEAD = (
    "Brandon Salim, putra sulung aktor Fery Salim, rupanya semakin mantap menekuni dunia hiburan tanah air."
)
QUOTE = '"Di sini sebagai Lido, teman baik Lexa yang sama-sama bermain musik di kafe," jelasnya di Jakarta.'


def _paragraphs(html: str) -> list[str]:
    """Text of every <p> after wrap_loose_text, whitespace collapsed."""
    tree = fromstring(html)
    wrap_loose_text(tree)
    for br in tree.iter("br"):
        br.tail = f" {br.tail or ''}"  # a line break separates words
    return [" ".join(p.text_content().split()) for p in tree.iter("p") if p.text_content().strip()]


def test_loose_lead_beside_paragraphs_becomes_a_paragraph():
    html = f'<div class="news"><b>Kapanlagi.com</b> - <a href="/b">Brandon Salim</a>{LEAD[13:]}<p></p><p>{QUOTE}</p></div>'
    assert _paragraphs(html) == [f"Kapanlagi.com - {LEAD}", QUOTE]


def test_loose_text_between_and_after_blocks_is_wrapped_in_place():
    html = f"<div><p>{QUOTE}</p>{LEAD}<br><br>{LEAD}<div>iklan</div>{LEAD}</div>"
    assert _paragraphs(html) == [QUOTE, f"{LEAD} {LEAD}", LEAD]


def test_link_lists_separators_and_plain_containers_stay_as_they_are():
    links = "".join(f'<a href="/{i}">Judul berita terkait nomor {i} yang panjang</a> | ' for i in range(5))
    nav = f"<div><p>{QUOTE}</p>{links}</div>"
    plain = f"<div><b>Jakarta</b> - {LEAD}</div>"  # no block child: trafilatura reads it as it is
    for html in (nav, plain):
        tree = fromstring(html)
        before = tostring(tree)
        assert wrap_loose_text(tree) == 0
        assert tostring(tree) == before


def test_photo_page_needs_a_photo_url_and_an_article_page():
    article = PageMeta(is_article=True)
    assert is_photo_page(
        "https://finance.detik.com/readfoto/2016/02/23/153201/3149106/461/1/gardu-induk", article
    )
    assert is_photo_page("https://photo.liputan6.com/musik/hadiri-grammy-awards-2437247", article)
    assert is_photo_page("https://www.example.co.id/foto/2025/04/28/banjir-bekasi", article)
    assert not is_photo_page("https://www.example.co.id/foto/", PageMeta(is_article=False))
    assert not is_photo_page("https://www.example.co.id/berita/fotografer-senior-pamerkan-karya", article)
    assert not is_photo_page(None, article)


def test_caption_lines_are_distinct_and_skip_credits():
    caption = "Petugas memeriksa tiket pemudik di Stasiun Pasar Senen, Jakarta, Kamis (27/3/2025)."
    tree = fromstring(
        f"<div><figure><figcaption>{caption}</figcaption></figure><figure><figcaption>{caption}</figcaption></figure>"
        "<figure><figcaption>Foto: Reuters</figcaption></figure></div>"
    )
    assert caption_lines(tree) == [caption]


def test_stated_date_is_used_without_searching_the_page():
    tree = fromstring("<html><body><p>Selasa, 23/02/2016 15:32 WIB</p></body></html>")
    candidates = date_candidates(tree, PageMeta(dates=["2025-04-28T21:14:00+07:00"]), None)
    assert next(candidates) == "2025-04-28T21:14:00+07:00"


def test_visible_dates_on_the_page_day_come_first_and_fullest_first():
    html = (
        "<html><head><title>x</title></head><body><article><h1>Judul</h1>"
        "<div class='date'>Senin, 28 April 2025 21:14 WIB</div><p>Teks artikel.</p></article>"
        "<ul><li>Minggu, 27 April 2025</li><li>Senin, 28 April 2025</li></ul></body></html>"
    )
    tree = fromstring(html)
    candidates = list(date_candidates(tree, read_meta(tree, None), None))
    assert candidates[0] == "Senin, 28 April 2025 21:14 WIB"
    assert candidates[-1] == "2025-04-28"  # htmldate's day, the last resort


def test_people_come_from_the_first_source_naming_any():
    assert people(["Rina Kartika", "rina kartika"], ["Dedi Pratama"]) == ["Rina Kartika"]
    assert people(["Kompas.com"], ["Dedi Pratama"], ["Rina Kartika"]) == ["Dedi Pratama"]  # no person: next
    assert people(["구현모"], ["Андрей Колесников"]) == ["구현모"]  # names in scripts without capitals
    assert people([], ["Felix Schröder und Jörg Soldwisch, dpa"]) == ["Felix Schröder", "Jörg Soldwisch"]
    assert people(["Lesotho Times"], ["Mohloai Mpesi"], not_person=lambda n: n == "Lesotho Times") == [
        "Mohloai Mpesi"
    ]
    assert people([], []) == []


def test_json_ld_authors_by_parts_and_by_reference_and_labelled_meta_tags():
    ld = (
        '{"@graph": [{"@type": "NewsArticle", "author": [{"@type": "Person", "givenName": "Birgit",'
        ' "familyName": "Baumann"}, {"@id": "#p2"}, {"@type": "Organization", "name": "Der Standard"}]},'
        ' {"@type": "Person", "@id": "#p2", "name": "Андрей Колесников"}]}'
    )
    head = (
        f'<script type="application/ld+json">{ld}</script><meta name="twitter:label1" content="Written by">'
        '<meta name="twitter:data1" content="Timo Shihepo"><meta name="DCSext.author" content="Madeleine Howell">'
    )
    meta = read_meta(fromstring(f"<html><head>{head}</head><body></body></html>"), None)
    assert meta.ld_authors == ["Birgit Baumann", "Андрей Колесников"]
    assert meta.ld_organisations == ["Der Standard"]
    assert sorted(meta.authors) == ["Madeleine Howell", "Timo Shihepo"]


def test_bylines_read_author_markup():
    page = (
        '<html><body><span class="e-byline" rel="author">By <span itemprop="name">Madeleine Howell</span></span>'
        '<ul><li><a href="/author/flakin/">Nathaniel Flakin</a></li></ul></body></html>'
    )
    assert people(bylines(fromstring(page))) == ["Madeleine Howell", "Nathaniel Flakin"]


def test_warm_up_then_clean_a_photo_story():
    warm_up()
    caption = (
        "PT PLN hari ini resmi mengoperasikan Gardu Induk 150 kV Milenium beserta jaringannya. "
        "Gardu induk ini merupakan bagian dari GITET Balaraja."
    )
    html = (
        '<html><head><meta property="og:type" content="article"><title>Gardu Induk Milenium Beroperasi</title></head>'
        f"<body><h1>Gardu Induk Milenium Beroperasi</h1><figure><img src='a.jpg'><figcaption>{caption}</figcaption>"
        "</figure><ul>"
        + "".join(f"<li><a href='/{i}'>Berita lain nomor {i} hari ini</a></li>" for i in range(30))
        + "</ul></body></html>"
    )
    url = "https://finance.detik.com/foto-bisnis/d-3149106/gardu-induk-milenium-pln-resmi-beroperasi"
    raw = RawDocument(
        input=url,
        url=url,
        final_url=url,
        content_type="text/html",
        text=html,
        fetched_at=datetime(2025, 7, 1, tzinfo=UTC),
    )
    article = clean(raw, REGISTRY)
    assert article.text == caption
    assert article.source.name == "Detik"


_STORY = "".join(
    f"<p>{LEAD} {QUOTE} Kalimat ke-{n} menutup paragraf ini dengan tenang.</p>" for n in range(6)
)


def test_pages_parse_into_html_elements_and_forms_wrapping_the_story_are_kept():
    from lxml.html import HtmlElement

    from workers.clean.html import parse_html

    page = f"<html><head><title>Brandon Salim</title></head><body><form id='aspnetForm'><div>{_STORY}</div></form></body></html>"
    tree = parse_html(page)
    assert all(isinstance(element, HtmlElement) for element in tree.iter())
    article = clean(RawDocument(input="form.html", content_type="text/html", text=page), REGISTRY)
    assert article.text.startswith(
        LEAD
    )  # trafilatura demotes a form holding the whole page, using HtmlElement's text_content


def test_a_page_with_an_xml_declaration_still_parses():
    # lxml refuses a str that declares its encoding: trafilatura's loader parses it again as bytes
    page = f'<?xml version="1.0" encoding="utf-8"?>\n<html xmlns="http://www.w3.org/1999/xhtml"><head><title>Brandon Salim</title></head><body><article>{_STORY}</article></body></html>'
    article = clean(RawDocument(input="xhtml.html", content_type="text/html", text=page), REGISTRY)
    assert LEAD in article.text


# Sentences of a made-up report, each paragraph told apart by its number.
_BRIDGE = [
    "The city council voted on Tuesday to rebuild the old harbour bridge after engineers found deep cracks.",
    "Work will start in the spring and take two years, the mayor told reporters outside the town hall.",
    "Ferries will carry commuters across the river while the bridge is closed, at the same fare as the bus.",
    "Shop owners near the bridge said they feared losing customers during the long months of construction.",
    "The council promised them lower rents and a campaign inviting visitors to the old quarter instead.",
]
_AD = (
    '<aside class="sidebar"><div class="ad"><span class="ad-label">Advertisement</span></div></aside>'
    '<div class="ad full-bleed"><span class="ad-label">Advertisement</span></div>'
)


def _split_article(paragraphs: list[str], is_article: bool = True) -> str:
    """A page whose story is cut into containers of three paragraphs with ads between them.

    trafilatura's fast pass, and its full cascade in precision mode, keep the first container only
    (the shape of a Politico Europe page in fundus-dev).
    """
    blocks = "".join(
        '<div class="grid__container"><div class="grid__content article__content">'
        + "".join(f"<p>{text}</p>" for text in paragraphs[start : start + 3])
        + f"</div></div>{_AD}"
        for start in range(0, len(paragraphs), 3)
    )
    nav = (
        "<nav><ul>" + "".join(f'<li><a href="/s{i}">Section {i}</a></li>' for i in range(20)) + "</ul></nav>"
    )
    kind = '<meta property="og:type" content="article">' if is_article else ""
    return (
        f"<html><head>{kind}<title>Harbour bridge to be rebuilt</title></head><body>{nav}<article>"
        f"<header><h1>Harbour bridge to be rebuilt</h1></header>{blocks}</article><footer>Copyright</footer></body></html>"
    )


def _clean_page(html: str) -> str:
    """The body text the clean stage keeps of an HTML page."""
    return clean(RawDocument(input="page.html", content_type="text/html", text=html), REGISTRY).text


def test_an_article_split_between_ads_is_read_whole_not_its_first_block():
    paragraphs = [
        f"{_BRIDGE[n % 5]} Paragraph {n} adds a detail of its own about the plan." for n in range(15)
    ]
    assert _clean_page(_split_article(paragraphs)).split("\n") == paragraphs


def test_a_japanese_article_split_between_ads_is_read_whole():
    sentences = [
        "市議会は火曜日、技術者が橋脚に深い亀裂を見つけたことを受けて、古い港の橋を架け替えることを決めた。",
        "工事は春に始まり二年かかる見通しだと、市長は市役所の前で記者団に語った。",
        "橋が閉鎖されている間は、バスと同じ運賃のフェリーが通勤客を対岸へ運ぶ。",
    ]
    paragraphs = [f"{sentences[n % 3]}第{n}段落は計画の細部を伝える。" for n in range(12)]
    assert _clean_page(_split_article(paragraphs)).split("\n") == paragraphs


def test_a_fragment_is_judged_against_the_page_its_paragraphs_and_the_stated_length():
    from workers.clean.html import _PageSize

    body = ["One paragraph of twelve words that a fast pass kept from the article."]
    chars = len(body[0])

    def size(visible: int, paragraphs: int, stated: int | None) -> _PageSize:
        return _PageSize(fromstring("<p>x</p>"), visible, stated, paragraphs)

    assert size(chars * 2, chars, None).is_fragment([])
    assert not size(chars * 2, chars, 12).is_fragment(body)
    assert size(chars * 20, chars, None).is_fragment(body)  # a tenth of the page's text
    assert size(chars * 5, chars * 5, None).is_fragment(body)  # a fifth of its paragraphs
    assert size(chars * 2, chars, 100).is_fragment(body)  # an eighth of the stated length


def test_json_ld_states_the_article_length():
    body = " ".join(["kata"] * 120)
    ld = f'{{"@type": "NewsArticle", "articleBody": "{body}"}}'
    counted = read_meta(
        fromstring(f'<html><head><script type="application/ld+json">{ld}</script></head></html>'), None
    )
    assert counted.stated_words == 120
    ld = '{"@type": "NewsArticle", "wordCount": "850"}'
    stated = read_meta(
        fromstring(f'<html><head><script type="application/ld+json">{ld}</script></head></html>'), None
    )
    assert stated.stated_words == 850


def test_a_page_not_calling_itself_an_article_is_never_read_in_balanced_mode():
    # no og:type article: the fragment check stops at the precision cascade; trafilatura's
    # balanced mode reads the teasers of front pages as text
    paragraphs = [
        f"{_BRIDGE[n % 5]} Paragraph {n} adds a detail of its own about the plan." for n in range(15)
    ]
    assert _clean_page(_split_article(paragraphs, is_article=False)).split("\n") == paragraphs[:3]


def test_a_japanese_title_loses_the_site_name_after_a_full_width_colon():
    paragraphs = [
        f"{_BRIDGE[n % 5]} Paragraph {n} adds a detail of its own about the plan." for n in range(3)
    ]
    page = (
        '<html><head><meta property="og:site_name" content="朝日新聞デジタル">'
        "<title>宮崎県で震度5弱、高知と宮崎に津波注意報：朝日新聞デジタル</title></head><body><article>"
        + "".join(f"<p>{text}</p>" for text in paragraphs)
        + "</article></body></html>"
    )
    article = clean(RawDocument(input="page.html", content_type="text/html", text=page), REGISTRY)
    assert article.title == "宮崎県で震度5弱、高知と宮崎に津波注意報"
