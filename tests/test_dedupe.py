"""Dedup stage: exact, near and partial copies, no chaining, story clustering — on the embedded index."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from schemas import Article, DedupMethod, Entity, EntityType, Source
from workers.backends.sqlite.store import EmbeddedStore
from workers.dedupe import assign_story, body_hash, dedupe, fingerprint, similarity
from workers.settings import PROJECT_ROOT

SEED_004 = next((PROJECT_ROOT / "seeds").glob("004_*.txt")).read_text(encoding="utf-8")
BODY = "\n".join(line for line in SEED_004.splitlines()[:16] if line.strip())


def _article(article_id: str, text: str, outlet: str = "Outlet", **extra) -> Article:
    return Article(
        id=article_id,
        input=f"{article_id}.txt",
        title=text[:60],
        text=text,
        source=Source(name=outlet),
        content_hash=body_hash(text),
        **extra,
    )


@pytest.fixture
def index(tmp_path) -> EmbeddedStore:
    return EmbeddedStore(tmp_path / "dedup.sqlite3")


def test_body_hash_ignores_whitespace_and_punctuation():
    assert body_hash("Putin  berterima kasih.\nKorea Utara!") == body_hash(
        "putin berterima kasih korea utara"
    )


def test_first_article_is_canonical_and_exact_copy_is_found(index):
    first = dedupe(_article("a1", BODY), index)
    assert not first.is_copy and first.canonical_id == "a1"
    again = dedupe(_article("a2", BODY.upper() + "  "), index)
    assert again.is_copy and again.canonical_id == "a1" and again.method == DedupMethod.exact


def test_near_copy_with_own_header_and_edits(index):
    dedupe(_article("orig", BODY), index)
    edited = (
        "JAKARTA, Warta Kita - "
        + BODY.replace("Presiden Rusia", "Presiden Rusia Vladimir Putin").replace(
            "bulan lalu", "pada bulan lalu"
        )
        + "\nIkuti berita terbaru kami setiap hari."
    )
    verdict = dedupe(_article("copy", edited, outlet="Warta Kita"), index)
    assert verdict.is_copy and verdict.canonical_id == "orig"
    assert verdict.method in (DedupMethod.near, DedupMethod.containment)


def test_truncated_reprint_is_a_containment_copy(index):
    dedupe(_article("orig", BODY), index)
    half = BODY[: len(BODY) // 3]
    verdict = dedupe(_article("part", half), index)
    assert verdict.is_copy and verdict.canonical_id == "orig"


def test_distinct_reports_of_one_event_are_not_copies(index, seed_paths):
    verdicts = [dedupe(_article(p.stem, p.read_text(encoding="utf-8")), index) for p in seed_paths]
    assert [v.is_copy for v in verdicts] == [False] * 5


def test_copies_do_not_chain(index):
    """C matches copy B closely but not canonical A: it must not join A's group through B."""
    words_a = BODY.split()
    dedupe(_article("A", BODY), index)
    b_text = " ".join(words_a[: int(len(words_a) * 0.85)])
    assert dedupe(_article("B", b_text), index).canonical_id == "A"
    tail = " ".join(f"kata{i} tambahan{i}" for i in range(120))
    c_text = " ".join(words_a[: int(len(words_a) * 0.45)]) + " " + tail
    fa, fc = fingerprint(_article("A", BODY)), fingerprint(_article("C", c_text))
    jaccard, contained = similarity(fa, fc)
    verdict = dedupe(_article("C", c_text), index)
    assert not verdict.is_copy, (jaccard, contained)


def test_story_groups_related_articles_and_separates_others(index):
    now = datetime(2025, 4, 28, tzinfo=UTC)

    def with_entities(article_id, names, when):
        entities = [Entity(name=n, type=EntityType.LOCATION) for n in names]
        return _article(article_id, f"teks {article_id}", entities=entities, published_at=when)

    window = timedelta(days=3)
    s1 = assign_story(
        with_entities("s1", ["Korea Utara", "Rusia", "Kursk", "Vladimir Putin"], now), index, window
    )
    s2 = assign_story(
        with_entities("s2", ["Kursk", "Korea Utara", "Kim Jong Un", "Rusia"], now + timedelta(hours=5)),
        index,
        window,
    )
    s3 = assign_story(with_entities("s3", ["Jakarta", "Banjir", "Jawa Barat"], now), index, window)
    s4 = assign_story(
        with_entities("s4", ["Korea Utara", "Rusia", "Kursk"], now + timedelta(days=30)), index, window
    )
    assert s1 == s2 == "s1"
    assert s3 == "s3" and s4 == "s4"
