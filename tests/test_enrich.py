"""The enrich stage as the pipeline calls it: enrich(), reuse_enrichment(), the source profile and keywords."""

from __future__ import annotations

from pathlib import Path

import pytest

from schemas import (
    Article,
    Entity,
    EntityType,
    Scope,
    Sentiment,
    SentimentLabel,
    Source,
    SourceKind,
)
from workers.enrich import enrich, extract_keywords, refine_source, reuse_enrichment
from workers.enrich.context import dateline_labels
from workers.enrich.tokens import Doc
from workers.settings import DEFAULT_SOURCES_FILE, PROJECT_ROOT
from workers.sources import SourceRegistry

SEEDS = sorted((PROJECT_ROOT / "seeds").glob("*.txt"))
FIXTURES = Path(__file__).parent / "fixtures" / "enrich"


@pytest.fixture(scope="module")
def registry() -> SourceRegistry:
    return SourceRegistry.load(DEFAULT_SOURCES_FILE)


def _article(
    text: str, source: Source | None = None, url: str | None = None, title: str = "", **extra
) -> Article:
    return Article(
        id="a1",
        input=url or "file.txt",
        url=url,
        title=title,
        text=text,
        source=source or Source(name="unknown"),
        content_hash="h",
        **extra,
    )


def _seed(number: int) -> str:
    return SEEDS[number].read_text(encoding="utf-8")


def test_enrich_returns_a_new_enriched_article(registry):
    article = _article(_seed(0), source=Source(name="Pikiran-Rakyat.com"))
    enriched = enrich(article, registry)
    assert enriched is not article
    assert article.entities == [] and article.sentiment is None and article.keywords == []  # input untouched
    assert enriched.source.name == "Pikiran Rakyat" and enriched.source.known
    assert enriched.source.scope is Scope.lokal
    assert (
        enriched.sentiment.label is not SentimentLabel.positive
    )  # raw page: the lead is the old tool's block
    names = {e.name for e in enriched.entities}
    assert {"Vladimir Putin", "Kim Jong Un", "Korea Utara", "Kursk", "Moskow", "Kremlin"} <= names
    assert "Pikiran Rakyat" not in names  # the outlet is the source, not a mentioned entity
    assert 0 < len(enriched.keywords) <= 10
    assert Article.model_validate(enriched.model_dump(mode="json")) == enriched  # JSON round trip


@pytest.mark.parametrize("number", range(5))
def test_enrich_every_seed(registry, number):
    enriched = enrich(_article(_seed(number)), registry)
    # seed 000's negative label (through the clean stage) is in test_enrich_sentiment_model.py
    assert enriched.sentiment.label is not SentimentLabel.positive
    assert not [e for e in enriched.entities if e.name.lower() == "april"]
    assert {"Rusia", "Kursk", "Vladimir Putin"} <= {e.name for e in enriched.entities}


def test_journalists_are_not_entities(registry):
    text = "Oleh Leon Weldrick\n\nPantau - Leon Weldrick melaporkan dari Moskow. Leon Weldrick menulis tentang Putin."
    enriched = enrich(_article(text, authors=["Leon Weldrick"]), registry)
    assert {e.name for e in enriched.entities} == {"Moskow", "Vladimir Putin"}


def test_source_profile_refinement(registry):
    by_label = refine_source(_article("teks", source=Source(name="KOMPAS.com")), registry)
    assert by_label.name == "Kompas" and by_label.known
    by_url = refine_source(_article("teks", url="https://jabar.tribunnews.com/2025/04/28/x"), registry)
    assert by_url.name == "Tribun Jabar" and by_url.scope is Scope.lokal
    by_dateline = refine_source(_article(_seed(2)), registry)  # "TRIBUNNEWS.COM- Presiden Rusia ..."
    assert by_dateline.name == "Tribunnews" and by_dateline.scope is Scope.nasional
    wire = refine_source(_article(_seed(4)), registry)  # "(SeaPRwire) – ..."
    assert wire.name == "SeaPRwire" and wire.kind is SourceKind.press_release
    known = Source(name="Kompas", known=True, scope=Scope.nasional)
    assert refine_source(_article("teks", source=known), registry) is known
    unknown = Source(name="Warta Desa", domain="wartadesa.example")
    assert refine_source(_article("Isi berita.", source=unknown), registry) == unknown


def test_dateline_labels():
    assert dateline_labels(Doc(_seed(0))) == ["PIKIRAN RAKYAT"]
    assert dateline_labels(Doc(_seed(4))) == ["SeaPRwire"]
    assert dateline_labels(Doc("JAKARTA, KOMPAS.com - Presiden tiba.")) == ["JAKARTA", "KOMPAS.com"]
    assert dateline_labels(Doc("Jakarta (ANTARA) - Presiden tiba.")) == ["Jakarta", "ANTARA"]
    assert dateline_labels(Doc("Presiden tiba di Jakarta - Bandung.")) == []


def test_reuse_enrichment_copies_the_canonical_enrichment(registry):
    canonical = enrich(_article(_seed(1), source=Source(name="Pantau")), registry)
    copy = _article(
        _seed(1).replace("Pantau - ", ""), source=Source(name="Media Lain", domain="lain.example")
    )
    reused = reuse_enrichment(copy, canonical)
    assert reused.source == copy.source  # keeps its own source
    assert [e.name for e in reused.entities] == [e.name for e in canonical.entities]
    assert all(e.positions == [] for e in reused.entities)  # offsets belong to the canonical's text
    assert [e.mentions for e in reused.entities] == [e.mentions for e in canonical.entities]
    assert reused.sentiment == canonical.sentiment and reused.keywords == canonical.keywords
    assert all(e.positions for e in canonical.entities)  # the canonical is not modified
    assert reused.text == copy.text and reused.id == copy.id


def test_reuse_enrichment_of_an_unenriched_canonical():
    canonical = _article("Teks.")
    reused = reuse_enrichment(_article("Teks lain."), canonical)
    assert reused.entities == [] and reused.sentiment is None and reused.keywords == []


def test_keywords_serve_story_clustering():
    keywords = [
        extract_keywords("", _seed(n), enrich(_article(_seed(n)), SourceRegistry()).entities)
        for n in range(5)
    ]
    for words in keywords:
        assert 0 < len(words) <= 10
        assert "rusia" in words
        assert not {"yang", "dan", "tersebut", "april", "the"} & set(words)
    # seed 002's headline "... Bantuannya Merebut Kembali Kursk" is one name to the trained model
    assert sum("kursk" in words for words in keywords) >= 4
    assert len(set(keywords[1]) & set(keywords[2])) >= 5  # two reports of one story share their keywords


def test_keywords_use_title_phrases_and_canonical_names():
    entities = [Entity(name="Korea Utara", type=EntityType.LOCATION, mentions=3, aliases=["Korut"])]
    text = "Harga beras naik. Harga beras di pasar naik lagi. Korut mengirim pasukan. Harga beras tinggi."
    keywords = extract_keywords("Harga beras melonjak", text, entities)
    assert keywords[0] == "harga beras"  # a recurring phrase, boosted by the title
    assert "korea utara" in keywords and "korut" not in keywords
    assert "harga" not in keywords and "beras" not in keywords  # the phrase stands for its words


def test_sentiment_reads_the_title_too(registry):
    article = _article("Rapat digelar di balai desa pada Senin.", title="Warga tewas dalam banjir bandang")
    enriched = enrich(article, registry)
    assert enriched.sentiment.label is SentimentLabel.negative


def test_enrich_english_article(registry):
    text = (FIXTURES / "english_summit.txt").read_text(encoding="utf-8")
    enriched = enrich(_article(text, url="https://www.reuters.com/world/x", language="en"), registry)
    assert enriched.source.name == "Reuters" and enriched.source.kind is SourceKind.wire
    people = [e.name for e in enriched.entities if e.type is EntityType.PERSON]
    assert people[:2] == ["Donald Trump", "Volodymyr Zelenskyy"]
    assert isinstance(enriched.sentiment, Sentiment)
