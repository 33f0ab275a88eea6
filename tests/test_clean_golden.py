"""Golden files: small pages in the shape of Indonesian news sites, cleaned to exactly the expected article.

Each ``tests/fixtures/clean/golden/<name>.html`` (written for these tests) has its expected
fields in ``<name>.json``: title, text paragraphs, outlet, dateline, credits, date, section,
tags, language, image and canonical URL. The pages hold the furniture the clean stage must
remove: inline and boxed "Baca juga" links, related and popular lists, share and ad widgets,
comment sections, photo galleries and pagination.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from schemas import Article
from tests.test_clean import FIXTURES, REGISTRY, _raw
from workers.clean import clean

GOLDEN = FIXTURES / "golden"
FETCHED_AT = datetime(2025, 7, 1, tzinfo=UTC)
PAGES = sorted(path.stem for path in GOLDEN.glob("*.html"))


def clean_fixture(path: Path) -> Article:
    """The article the clean stage makes of a golden page loaded from a file."""
    return clean(_raw(path, fetched_at=FETCHED_AT), REGISTRY)


def golden_fields(article: Article) -> dict:
    """The fields a golden file fixes, in JSON form (text as a list of paragraphs)."""
    fields = article.model_dump(
        mode="json",
        include={
            "url",
            "title",
            "language",
            "published_at",
            "authors",
            "editors",
            "section",
            "tags",
            "image",
            "dateline",
        },
    )
    return {**fields, "source": article.source.name, "text": article.text.split("\n")}


def test_every_golden_page_has_its_expected_output():
    assert len(PAGES) >= 6
    assert all((GOLDEN / f"{name}.json").exists() for name in PAGES)


@pytest.mark.parametrize("name", PAGES)
def test_golden_page_cleans_to_expected_article(name):
    expected = json.loads((GOLDEN / f"{name}.json").read_text(encoding="utf-8"))
    assert golden_fields(clean_fixture(GOLDEN / f"{name}.html")) == expected


@pytest.mark.parametrize("name", PAGES)
def test_golden_page_keeps_no_promotion_or_furniture(name):
    text = clean_fixture(GOLDEN / f"{name}.html").text.lower()
    for furniture in (
        "baca juga",
        "simak",
        "berita terkait",
        "komentar",
        "halaman",
        "selanjutnya",
        "advertisement",
        "artikel ini telah tayang",
        "related news",
        "terpopuler",
        "rekomendasi",
    ):
        assert furniture not in text
