"""The whole embedded pipeline on the seeds: the acceptance criteria of the foundation."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from schemas import DateSource, Outcome, SentimentLabel
from workers.ports import SearchQuery
from workers.runtime.embedded import run
from workers.runtime.wiring import embedded_context
from workers.settings import PROJECT_ROOT

SEED_TITLES = {
    "000": "Korut Akui Terlibat di Perang Rusia-Ukrania, Bantu Putin Rebut Wilayah Kursk",
    "001": "Pasukan Korea Utara Turut Membantu Rusia dalam Pertempuran di Kursk",
    "002": "Putin Berterima Kasih kepada Pasukan Korea Utara atas Bantuannya Merebut Kembali Kursk dari Ukraina",
    "003": "Korea Utara Terjun Langsung dalam Perang Ukraina di Kursk",
}
SEED_OUTLETS = {"000": "Pikiran Rakyat", "001": "Pantau", "002": "Tribunnews", "004": "SeaPRwire"}
BOILERPLATE = [
    "Sentimen",
    "Grup Musik",
    "Jenis Media",
    "Tokoh Terkait",
    "Simak update",
    "HOME",
    "SHARE",
    "Penulis :",
    "Editor :",
    "Isi komentar",
    "Scroll to Top",
    "(SeaPRwire)",
    "Artikel ini disediakan",
    "Sektor:",
    "SeaPRwire menyediakan",
    "---|",
]


@pytest.fixture
def ingested(settings, seed_paths):
    ctx = embedded_context(settings)
    results = list(run([str(p) for p in seed_paths], ctx))
    return ctx, results


def _by_seed(ctx):
    return {a.input.split("/")[-1][:3]: a for a in ctx.index.iter_articles()}


def test_seeds_are_five_distinct_indexed_articles_in_one_story(ingested):
    ctx, results = ingested
    assert [r.outcome for r in results] == [Outcome.indexed] * 5, [r.reason for r in results]
    articles = _by_seed(ctx)
    assert len(articles) == 5
    assert all(a.dedup.is_canonical and a.dedup.canonical_id == a.id for a in articles.values())
    assert len({a.dedup.story_id for a in articles.values()}) == 1


def test_seed_titles_outlets_language_and_clean_bodies(ingested):
    ctx, _ = ingested
    articles = _by_seed(ctx)
    for seed, title in SEED_TITLES.items():
        assert articles[seed].title == title
    assert articles["004"].title and len(articles["004"].title) <= 120
    for seed, outlet in SEED_OUTLETS.items():
        assert articles[seed].source.name == outlet
    assert articles["004"].source.kind.value == "press_release"
    for seed, article in articles.items():
        assert article.language == "id", seed
        for marker in BOILERPLATE:
            assert marker not in article.text, (seed, marker)


def test_enrichment_on_seeds(ingested):
    ctx, _ = ingested
    articles = _by_seed(ctx)
    assert articles["000"].sentiment.label == SentimentLabel.negative
    for seed, article in articles.items():
        names = {e.name.lower() for e in article.entities}
        assert "april" not in names, seed
        assert article.sentiment is not None and 0.0 <= article.sentiment.confidence <= 1.0
    people = {e.name for a in articles.values() for e in a.entities if e.type.value == "PERSON"}
    assert "Kim Jong Un" in people and "Kim Jong-un" not in people
    places = {e.name for a in articles.values() for e in a.entities if e.type.value == "LOCATION"}
    assert not {"Korut", "DPRK"} & places


def test_rerun_is_unchanged_and_search_finds_all(ingested, seed_paths):
    ctx, _ = ingested
    again = list(run([str(p) for p in seed_paths], ctx))
    assert [r.outcome for r in again] == [Outcome.unchanged] * 5
    assert ctx.index.count() == 5
    assert len(ctx.index.search(SearchQuery(text="Kursk"))) == 5


def test_seeds_are_dated_first_seen_and_keep_it_when_ingested_again(ingested, seed_paths, tmp_path):
    ctx, _ = ingested
    articles = _by_seed(ctx)
    # The seeds state no publication date (the dates in their text are of the events they report).
    for seed, article in articles.items():
        assert article.published_at is None, seed
        assert article.date_source is DateSource.first_seen
        assert article.dated_at == article.first_seen_at == article.fetched_at
    since = SearchQuery(text="Kursk", since=datetime(2025, 1, 1, tzinfo=UTC))
    assert len(ctx.index.search(since)) == 5


def test_first_seen_stays_when_an_article_is_ingested_again_changed(settings, seed_paths, tmp_path):
    ctx = embedded_context(settings)
    path = tmp_path / seed_paths[1].name
    original = seed_paths[1].read_text(encoding="utf-8")
    path.write_text(original, encoding="utf-8")
    [first] = list(run([str(path)], ctx))
    seen = ctx.index.get(first.id).first_seen_at
    assert [r.outcome for r in run([str(path)], ctx)] == [Outcome.unchanged]
    path.write_text(original + "\nKoreksi: nama jenderal diperbaiki dalam versi ini.\n", encoding="utf-8")
    [changed] = list(run([str(path)], ctx))
    assert changed.outcome is Outcome.indexed, changed.reason
    again = ctx.index.get(changed.id)
    assert again.first_seen_at == again.dated_at == seen < again.fetched_at
    assert again.date_source is DateSource.first_seen


def test_syndicated_copy_links_to_canonical_and_reuses_enrichment(ingested, tmp_path):
    ctx, _ = ingested
    original = (PROJECT_ROOT / "seeds").glob("004_*.txt").__next__().read_text(encoding="utf-8")
    reprint = tmp_path / "reprint.txt"
    reprint.write_text(
        "Putin berterima kasih kepada Korea Utara\n\n" + original.replace("(SeaPRwire) – ", "MOSKOW - "),
        encoding="utf-8",
    )
    [result] = list(run([str(reprint)], ctx))
    assert result.outcome == Outcome.copy, result.reason
    canonical = ctx.index.get(result.canonical_id)
    copy = ctx.index.get(result.id)
    assert canonical.source.name == "SeaPRwire"
    assert copy.dedup.is_canonical is False and copy.dedup.story_id == canonical.dedup.story_id
    assert [e.name for e in copy.entities] == [e.name for e in canonical.entities]
    assert canonical.dedup.copy_count == 1 and canonical.dedup.copies[0].id == copy.id


def test_bad_inputs_end_with_a_recorded_outcome(settings, tmp_path):
    ctx = embedded_context(settings)
    empty = tmp_path / "empty.html"
    empty.write_bytes(b"")
    binary = tmp_path / "binary.html"
    binary.write_bytes(bytes(range(256)) * 40)
    other = tmp_path / "photo.jpg"
    other.write_bytes(b"\xff\xd8\xff")
    inputs = [str(empty), str(binary), str(other), str(tmp_path / "missing.txt"), "ftp://example.com/x"]
    results = {r.input: r for r in run(inputs, ctx)}
    assert results[str(empty)].outcome == Outcome.skipped
    assert results[str(binary)].outcome == Outcome.failed and "bad_encoding" in results[str(binary)].reason
    assert results[str(other)].outcome == Outcome.skipped and "unsupported_type" in results[str(other)].reason
    assert results[str(tmp_path / "missing.txt")].outcome == Outcome.skipped
    assert results["ftp://example.com/x"].outcome == Outcome.failed
    assert {f.input for f in ctx.state.failed()} == {str(binary), "ftp://example.com/x"}
