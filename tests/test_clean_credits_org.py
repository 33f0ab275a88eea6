"""Authors of HTML pages that credit an organisation, and standfirsts kept with the body (synthetic pages)."""

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
