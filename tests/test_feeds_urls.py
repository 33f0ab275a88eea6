"""URL canonicalisation: spellings of one article merge, spellings of two articles stay apart."""

from __future__ import annotations

import pytest

from workers.feeds.urls import canonicalize

MERGE = [
    ["https://www.tempo.co/read/1", "HTTPS://WWW.TEMPO.CO/read/1", "https://www.tempo.co:443/read/1"],
    ["http://example.id/", "http://example.id", "http://example.id:80/", "http://example.id./"],
    ["https://x.id/a/b/c", "https://x.id/a/./b/c", "https://x.id/a/d/../b/c", "https://x.id/a/b/c#komentar"],
    ["https://x.id/%7Euser/a", "https://x.id/~user/a", "https://x.id/%7euser/a"],
    ["https://x.id/a%2Fb", "https://x.id/a%2fb"],
    ["https://x.id/berita/caf%C3%A9", "https://x.id/berita/café", "https://x.id/berita/caf%c3%a9"],
    ["https://xn--bcher-kva.example/a", "https://bücher.example/a", "https://BÜCHER.example./a"],
    ["https://x.id/a?id=7", "https://x.id/a?id=7&utm_source=tw&utm_medium=social"],
    ["https://x.id/a?id=7", "https://x.id/a?WT.mc_id=rss&id=7", "https://x.id/a?id=7&xtor=RSS-1"],
    ["https://x.id/a", "https://x.id/a?at_medium=rss&at_campaign=feed", "https://x.id/a?ocid=msn"],
    ["https://x.id/a", "https://x.id/a?cmpid=abc", "https://x.id/a?__twitter_impression=true"],
    [
        "https://x.id/a",
        "https://x.id/a?fbclid=1&gclid=2&msclkid=3",
        "https://x.id/a?_ga=2.1&mc_cid=1&mc_eid=2",
    ],
    ["https://x.id/a?a=1&b=2", "https://x.id/a?b=2&a=1"],
    ["https://x.id/a", "https://x.id/a?", "https://x.id/a?&"],
]
APART = [
    ("https://x.id/a?id=7", "https://x.id/a?id=8"),
    ("https://x.id/?p=123", "https://x.id/?p=124"),
    ("https://x.id/Berita", "https://x.id/berita"),
    ("https://x.id/a%2Fb", "https://x.id/a/b"),
    ("https://x.id/a?page=2", "https://x.id/a"),
    ("http://x.id/a", "https://x.id/a"),
    ("https://x.id:8443/a", "https://x.id/a"),
]


@pytest.mark.parametrize("spellings", MERGE)
def test_spellings_of_one_article_merge(spellings):
    assert len({canonicalize(url) for url in spellings}) == 1, [canonicalize(url) for url in spellings]


@pytest.mark.parametrize(("first", "second"), APART)
def test_different_articles_stay_apart(first, second):
    assert canonicalize(first) != canonicalize(second)


@pytest.mark.parametrize(
    "bad",
    ["http://[x/1", "http://[::1", "https://x.id:99999/", "ftp://x.id/", "mailto:a@x.id", "", "http://"],
)
def test_malformed_urls_are_none_not_errors(bad):
    assert canonicalize(bad) is None


def test_relative_links_and_bad_base():
    assert canonicalize("../b?id=1", "https://x.id/a/c/") == "https://x.id/a/b?id=1"
    assert canonicalize("/b", "http://[x/1") is None
    assert canonicalize("http://[x/1", "https://x.id/feed") is None
    assert canonicalize("https://x.id/é?q=é") == "https://x.id/%C3%A9?q=%C3%A9"
