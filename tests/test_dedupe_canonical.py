"""Canonical choice and re-pointing: a late wire original or an earlier report takes over its group.

Runs on both dedup indexes (SQLite and Redis) and through the pipeline's store step.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import redis

from schemas import Article, DedupMethod, Source, SourceKind
from workers.backends.redis.state import (
    RedisDedupIndex,
    pack_fingerprint,
    unpack_fingerprint,
)
from workers.backends.sqlite.store import EmbeddedStore
from workers.dedupe import (
    bands,
    body_hash,
    dedupe,
    fingerprint,
    is_original,
)
from workers.pipeline import link_group, store
from workers.runtime.wiring import embedded_context
from workers.settings import PROJECT_ROOT

SEED_004 = next((PROJECT_ROOT / "seeds").glob("004_*.txt")).read_text(encoding="utf-8")
# The press-wire text without its "(SeaPRwire) –" marker: what a reprint carries.
BODY = "\n".join(line for line in SEED_004.splitlines()[:16] if line.strip()).replace("(SeaPRwire) – ", "")
WHEN = datetime(2025, 4, 28, 9, tzinfo=UTC)


def _article(
    article_id: str, text: str, outlet: str = "Outlet", kind: SourceKind = SourceKind.news, **extra
) -> Article:
    return Article(
        id=article_id,
        input=f"{article_id}.txt",
        title=text[:60],
        text=text,
        source=Source(name=outlet, kind=kind),
        content_hash=body_hash(text),
        **extra,
    )


def _reprint(outlet: str) -> str:
    return (
        f"JAKARTA, {outlet} - "
        + BODY.replace("bulan lalu", "pada bulan lalu")
        + f"\nBaca juga: Berita lain di {outlet}"
    )


@pytest.fixture(params=["embedded", "redis"])
def index(request, tmp_path):
    """Each dedup index, empty."""
    if request.param == "embedded":
        yield EmbeddedStore(tmp_path / "dedup.sqlite3")
        return
    client = redis.Redis.from_url(request.getfixturevalue("redis_url"), decode_responses=True)
    yield RedisDedupIndex(client, request.getfixturevalue("redis_prefix"))
    client.close()


def test_is_original_by_source_kind_or_wire_marker():
    assert is_original(_article("w", BODY, kind=SourceKind.wire))
    assert is_original(_article("p", BODY, kind=SourceKind.press_release))
    assert is_original(_article("m", "JAKARTA (ANTARA) - " + BODY))
    assert is_original(_article("s", "(SeaPRwire) – " + BODY))
    assert not is_original(_article("k", _reprint("KOMPAS.com")))


def test_late_wire_original_takes_over_the_group(index):
    assert not dedupe(_article("r1", _reprint("KOMPAS.com"), published_at=WHEN), index).is_copy
    assert dedupe(_article("r2", _reprint("Tribunnews"), published_at=WHEN), index).canonical_id == "r1"
    wire = _article(
        "wire",
        BODY,
        outlet="SeaPRwire",
        kind=SourceKind.press_release,
        published_at=WHEN + timedelta(hours=2),
    )
    verdict = dedupe(wire, index)
    assert not verdict.is_copy and verdict.canonical_id == "wire" and verdict.replaces == "r1"
    assert {m.article_id for m in index.members("wire")} == {"r1", "r2"}
    assert index.members("r1") == []
    assert index.fingerprint("r1").canonical_id == index.fingerprint("r2").canonical_id == "wire"
    assert index.candidates(bands(fingerprint(wire).signature)) == {"wire"}  # r1 left the bands
    # New reprints now join the original, and a repeat of the wire text is idempotent.
    assert dedupe(_article("r3", _reprint("Detik"), published_at=WHEN), index).canonical_id == "wire"
    again = dedupe(wire, index)
    assert not again.is_copy and again.canonical_id == "wire"


def test_earlier_report_beats_first_seen_but_unknown_dates_keep_the_first(index):
    dedupe(_article("late", _reprint("Pantau"), published_at=WHEN + timedelta(days=1)), index)
    verdict = dedupe(_article("early", _reprint("Detik"), published_at=WHEN), index)
    assert not verdict.is_copy and verdict.replaces == "late"
    undated = dedupe(_article("undated", _reprint("Viva")), index)
    assert undated.is_copy and undated.canonical_id == "early"
    # A reprint never displaces an original, however early it claims to be.
    dedupe(_article("orig", "(ANTARA) - " + BODY + "\nSatu paragraf lagi.", published_at=WHEN), index)
    reprint = dedupe(_article("older", _reprint("Okezone"), published_at=WHEN - timedelta(days=3)), index)
    assert reprint.is_copy


def test_baca_juga_lines_do_not_change_the_fingerprint():
    plain = _article("a", BODY)
    lines = BODY.splitlines()
    noisy = "\n".join(
        [
            *lines[:3],
            "Baca juga: Harga beras turun di Cipinang",
            *lines[3:],
            "Simak berita lainnya di Google News",
        ]
    )
    assert fingerprint(plain).body_hash == fingerprint(_article("b", noisy)).body_hash


def test_packed_fingerprint_round_trips_and_is_compact():
    fp = fingerprint(_article("a", BODY, kind=SourceKind.wire, published_at=WHEN))
    packed = pack_fingerprint(fp)
    assert unpack_fingerprint(fp.article_id, packed) == fp
    assert len(packed) < len(fp.model_dump_json()) * 0.75


def test_store_repoints_stored_copies_to_the_late_original(settings):
    ctx = embedded_context(settings)
    store(_article("r1", _reprint("KOMPAS.com"), published_at=WHEN), ctx)
    store(_article("r2", _reprint("Tribunnews"), published_at=WHEN), ctx)
    first_story = ctx.index.get("r1").dedup.story_id
    result = store(
        _article("wire", BODY, outlet="SeaPRwire", kind=SourceKind.press_release, published_at=WHEN), ctx
    )
    assert result.outcome.value == "indexed"
    wire = ctx.index.get("wire")
    assert wire.dedup.is_canonical and wire.dedup.story_id == first_story
    assert {ref.id for ref in wire.dedup.copies} == {"r1", "r2"} and wire.dedup.copy_count == 2
    for copy_id in ("r1", "r2"):
        copy = ctx.index.get(copy_id).dedup
        assert (copy.is_canonical, copy.canonical_id, copy.story_id) == (False, "wire", first_story)
    assert ctx.index.get("r1").dedup.method in (DedupMethod.near, DedupMethod.containment, DedupMethod.exact)
    # Linking again (a retried task) changes nothing.
    link_group(
        ctx.index.get("wire"),
        dedupe(ctx.index.get("wire"), ctx.dedup),
        ctx.index,
        ctx.dedup,
        timedelta(days=3),
    )
    assert sum(a.dedup.is_canonical for a in ctx.index.iter_articles()) == 1


def test_a_canonical_claim_rechecks_its_bands_and_writes_nothing_on_news(index):
    """The race guard: a near copy registered after the caller looked is handed back for verification."""
    first = fingerprint(_article("first", _reprint("KOMPAS.com")))
    assert index.register(first, bands(first.signature), seen=set()).winner == "first"
    second = fingerprint(_article("second", _reprint("Detik")))
    claim = index.register(second, bands(second.signature), seen=set())
    assert claim.candidates == ["first"] and claim.winner is None
    assert index.fingerprint("second") is None and index.find_exact(second.body_hash) is None
    # Verified and rejected by the caller: now it registers.
    assert index.register(second, bands(second.signature), seen={"first"}).winner == "second"


def test_a_copy_of_a_repointed_canonical_is_sent_to_the_new_one(index):
    old = fingerprint(_article("old", _reprint("Pantau")))
    index.register(old, bands(old.signature))
    new = fingerprint(_article("new", BODY, kind=SourceKind.wire))
    assert index.repoint(new, "old", bands(new.signature), bands(old.signature)).winner == "new"
    assert "old" not in index.candidates(bands(old.signature))  # its bands now lead to the new canonical only
    assert (
        index.repoint(new, "old", bands(new.signature), bands(old.signature)).moved_to == "new"
    )  # idempotent
    late = fingerprint(_article("late", _reprint("Viva"))).model_copy(update={"canonical_id": "old"})
    assert index.register(late, []).moved_to == "new"
