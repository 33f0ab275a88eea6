"""Standfirsts kept as the body's lead, and authors of pages that credit an organisation (synthetic pages)."""

from __future__ import annotations

import json

from lxml.html import fromstring

from schemas import RawDocument
from tests.test_clean import REGISTRY
from workers.clean import clean
from workers.clean.html_meta import organisations, people
from workers.clean.meta import read_meta

STORY = [
    "The harbour authority said on Tuesday that the new breakwater would be finished before the winter storms arrive.",
    "Engineers have been working in two shifts since March, pouring concrete blocks that weigh forty tonnes each.",
    "Fishermen welcomed the work but said the closure of the northern quay had cut their catch by almost a third.",
    "The project is paid for by the regional government and a loan from the national development bank, officials said.",
    "A public meeting on the next phase, which would extend the breakwater by another two hundred metres, is planned.",
]


def _page(head: str = "", byline: str = "") -> str:
    body = "".join(f"<p>{line}</p>" for line in STORY)
    return (
        f"<html><head><title>Breakwater to be finished before winter</title>{head}</head><body>"
        f"<article><h1>Breakwater to be finished before winter</h1>{byline}{body}</article></body></html>"
    )


def _ld(author: object) -> str:
    data = {"@context": "https://schema.org", "@type": "NewsArticle", "author": author}
    return f'<script type="application/ld+json">{json.dumps(data)}</script>'


def _authors(html: str) -> list[str]:
    raw = RawDocument(
        input="https://harbour.example/a",
        url="https://harbour.example/a",
        content_type="text/html",
        text=html,
    )
    return list(clean(raw, REGISTRY).authors)


def test_an_organisation_stated_as_author_is_the_author_when_no_person_is_named():
    assert _authors(_page(_ld({"@type": "NewsMediaOrganization", "name": "Harbour Gazette"}))) == [
        "Harbour Gazette"
    ]
    assert _authors(_page('<meta name="author" content="Harbour Gazette">')) == ["Harbour Gazette"]
    assert _authors(_page(_ld({"@type": "Person", "name": "Associated Press"}))) == [
        "Associated Press"
    ]  # a wire


def test_a_person_named_anywhere_wins_over_an_organisation():
    head = (
        _ld([{"@type": "Organization", "name": "Harbour Gazette"}])
        + '<meta name="author" content="Mara Lindqvist">'
    )
    assert _authors(_page(head)) == ["Mara Lindqvist"]


def test_cms_accounts_ids_and_urls_are_not_authors():
    for value in ("admin", "kei_eno", "105092", "https://www.facebook.com/harbour"):
        assert _authors(_page(f'<meta name="author" content="{value}">')) == []


def test_an_outlet_address_in_an_author_tag_names_no_person():
    not_site = lambda name: name == "harbour.example"  # noqa: E731
    assert people(["harbour.example, Frankfurt, Germany"], not_person=not_site) == []
    assert organisations([], ["harbour.example, Frankfurt, Germany"]) == [
        "harbour.example, Frankfurt, Germany"
    ]


def test_json_ld_authors_in_nested_lists():
    ld = _ld([{"@type": "Person", "name": "Engin Haupt"}, [{"@type": "Person", "name": "Mara Lindqvist"}]])
    meta = read_meta(fromstring(_page(ld)), None)
    assert meta.ld_authors == ["Engin Haupt", "Mara Lindqvist"]
    assert meta.ld_organisations == []


LEAD = "Two shifts, forty-tonne blocks and a closed quay: the town's new breakwater is nearly done."


def _lead_page(description: str, standfirst: str, after_body: bool = False) -> str:
    body = "".join(f"<p>{line}</p>" for line in STORY)
    top, bottom = ("", standfirst) if after_body else (standfirst, "")
    return (
        f'<html><head><title>Breakwater</title><meta property="og:description" content="{description}">'
        '<meta property="og:type" content="article"></head><body><header><nav><a href="/">Home</a></nav></header>'
        f"<article><header><h1>Breakwater to be finished before winter</h1>{top}</header>"
        f'<div class="story">{body}</div></article><div class="promo">{bottom}</div></body></html>'
    )


def _body(html: str) -> list[str]:
    raw = RawDocument(
        input="https://harbour.example/b",
        url="https://harbour.example/b",
        content_type="text/html",
        text=html,
    )
    return clean(raw, REGISTRY).text.split("\n")


def test_a_standfirst_between_headline_and_body_leads_the_body():
    body = _body(_lead_page(LEAD, f'<p class="dek">{LEAD}</p>'))
    assert body[0] == LEAD
    assert body[1:] == STORY


def test_a_standfirst_the_body_already_says_is_not_repeated():
    echo = STORY[0]  # Indonesian pages open with their description
    assert _body(_lead_page(echo, f'<p class="dek">{echo}</p>')) == STORY
    near = STORY[0].replace("on Tuesday", "on Monday")  # the same sentence with a word changed
    assert _body(_lead_page(near, f'<p class="dek">{near}</p>')) == STORY


def test_a_description_shown_as_furniture_or_cut_or_later_is_not_a_standfirst():
    teaser = f'<ul class="related"><li><a href="/c">{LEAD}</a></li></ul>'
    assert _body(_lead_page(LEAD, teaser)) == STORY
    cut = LEAD[:60] + "…"
    assert _body(_lead_page(cut, f'<p class="dek">{cut}</p>')) == STORY
    assert _body(_lead_page(LEAD, f"<p>{LEAD}</p>", after_body=True)) == STORY  # below the article
    assert _body(_lead_page(LEAD, "")) == STORY  # stated in the head only


def test_bylines_in_labelled_fields_and_author_classes_but_not_photo_credits():
    field = "<aside><ul><li><strong>Datum</strong> 28.04.2023</li><li><strong>Autorin/Autor</strong> Mara Lindqvist</li></ul></aside>"
    assert _authors(_page(byline=field)) == ["Mara Lindqvist"]
    von = '<p class="author"> von <a href="mailto:x@harbour.example">Jonas Ek</a></p>'
    assert _authors(_page(byline=von)) == ["Jonas Ek"]
    credit = '<div class="photo"><img src="a.jpg"><span class="author">Facebook</span></div>'
    assert _authors(_page(byline=credit)) == []


def test_a_wire_agency_is_a_co_author_beside_reporters_never_alone_as_a_person():
    both = _ld([{"@type": "Person", "name": "Adam Vidler"}, {"@type": "Person", "name": "AP"}])
    assert _authors(_page(both)) == ["Adam Vidler", "AP"]
    site = '<meta property="og:site_name" content="Harbour Gazette">'
    joint = _ld([{"@type": "Person", "name": "Harbour Gazette et AFP"}])  # the site and a wire: kept whole
    assert _authors(_page(site + joint)) == ["Harbour Gazette et AFP"]


def test_a_standfirst_before_a_first_paragraph_that_opens_with_a_link():
    html = _lead_page(LEAD, f'<p class="dek">{LEAD}</p>').replace(
        "<p>The harbour authority", '<p>The <a href="/harbour">harbour authority</a>', 1
    )
    assert _body(html)[0] == LEAD
