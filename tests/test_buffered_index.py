"""A batch's writes held and sent as one bulk request (workers/backends/elastic/buffered.py), on osmem."""

from __future__ import annotations

import uuid
import warnings

from schemas import CopyRef, Dedup
from schemas.elastic import index_template
from tests.support.es_proxy import start_proxy
from tests.support.osmem import osmem_template
from tests.test_elastic import LIVE, _article, client, index  # noqa: F401 - fixtures
from workers.backends.elastic.buffered import BufferedIndex
from workers.backends.elastic.index import ElasticIndex, make_client
from workers.settings import Settings


def _copy(article_id: str, canonical_id: str):
    """A copy of `canonical_id` (as the pipeline stores it)."""
    return _article(
        article_id,
        "Salinan",
        "Isi salinan.",
        dedup=Dedup(canonical_id=canonical_id, is_canonical=False, story_id="story-1"),
    )


def test_reads_see_held_writes_and_the_flush_stores_them(index):  # noqa: F811
    stored = _article("lama", "Kanonik lama", "Sudah tersimpan sebelum batch ini.")
    index.put(stored)
    buffered = BufferedIndex(index)
    fresh = _article("baru", "Kanonik baru", "Ditulis di batch ini.")
    buffered.put(fresh)
    assert buffered.get("baru") == fresh and index.get("baru") is None  # held, not sent
    assert buffered.get("lama") == stored  # the index behind
    buffered.put(_copy("c1", "baru"))
    buffered.add_copy("baru", CopyRef(id="c1", outlet="Pantau"))  # canonical held: recorded in memory
    buffered.put(_copy("c2", "lama"))
    buffered.add_copy("lama", CopyRef(id="c2", outlet="Pantau"))  # canonical stored: recorded at the flush
    buffered.put(_copy("c4", "lama"))
    buffered.add_copy(
        "lama", CopyRef(id="c4", outlet="Kompas")
    )  # two copies of one stored canonical: one update
    buffered.put(_copy("c3", "belum"))  # its canonical is in no index yet: left to settle

    flushed = buffered.flush()

    assert flushed.failures == [] and [a.id for a in flushed.unlinked] == ["c3"]
    assert buffered.pending == []
    index.refresh()
    assert index.count() == 6
    assert [c.id for c in index.get("baru").dedup.copies] == ["c1"]
    assert [c.id for c in index.get("lama").dedup.copies] == ["c2", "c4"]
    assert (index.get("baru").dedup.copy_count, index.get("lama").dedup.copy_count) == (1, 2)


def test_one_bulk_request_and_a_refused_item_reported(es_url):
    with start_proxy(es_url) as proxy:
        alias = f"kliping-buffer-{uuid.uuid4().hex[:8]}"
        index = ElasticIndex(
            make_client(Settings(elasticsearch_url=proxy.url, elasticsearch_timeout=30)), alias
        )
        index.setup(None if LIVE else osmem_template(index_template(alias)))
        buffered = BufferedIndex(index)
        articles = [_article(f"b{i}", f"Judul {i}", f"Isi berita nomor {i}.") for i in range(4)]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # pydantic warns when serialising the deliberately bad value
            articles[2] = articles[2].model_copy(update={"published_at": "not a date"})
            for article in articles:
                buffered.put(article)
            since = len(proxy.faults.log)
            flushed = buffered.flush()
        writes = [
            r for r in proxy.faults.log[since:] if r.method in ("PUT", "POST") and "_mget" not in r.path
        ]
        assert [r.bulk_ids for r in writes] == [["b0", "b1", "b2", "b3"]]  # one request for the batch
        assert [(f.id, f.status) for f in flushed.failures] == [("b2", 400)]
        index.refresh()
        assert index.count() == 3
        if LIVE:
            index.client.indices.delete(index=f"{alias}-*")


def test_a_copy_in_a_concurrent_batch_is_linked_after_the_canonicals_flush(index, tmp_path):  # noqa: F811
    """Batch B holds the canonical, batch A a copy registered after B read the group: neither write is visible
    to the other before its flush, so A finds no canonical; B's pass after its flush links the copy."""
    import dataclasses

    from schemas import Outcome
    from workers import pipeline
    from workers.runtime.wiring import embedded_context
    from workers.settings import PROJECT_ROOT

    text = sorted((PROJECT_ROOT / "seeds").glob("*.txt"))[0].read_text(encoding="utf-8")
    (tmp_path / "original.txt").write_text(text, encoding="utf-8")
    (tmp_path / "reprint.txt").write_text(text, encoding="utf-8")
    local = embedded_context(Settings(data_dir=tmp_path / "data", redis_url=None, elasticsearch_url=None))
    batch_a, batch_b = BufferedIndex(index), BufferedIndex(index)
    ctx_a, ctx_b = (dataclasses.replace(local, index=held, monitor=None) for held in (batch_a, batch_b))

    original = pipeline.process(str(tmp_path / "original.txt"), ctx_b)  # link_group ran; its write is held
    copy = pipeline.process(str(tmp_path / "reprint.txt"), ctx_a)
    assert (original.outcome, copy.outcome, copy.canonical_id) == (Outcome.indexed, Outcome.copy, original.id)

    flushed_a = batch_a.flush()
    assert [a.id for a in flushed_a.unlinked] == [copy.id]
    assert pipeline.settle_copy(flushed_a.unlinked[0], index) is False  # the canonical is not stored yet
    flushed_b = batch_b.flush()
    assert [a.id for a in flushed_b.canonicals] == [original.id]
    assert pipeline.settle_late_copies(flushed_b.canonicals[0], index, local.dedup) == 1

    index.refresh()
    canonical, reprint = index.get(original.id), index.get(copy.id)
    assert [ref.id for ref in canonical.dedup.copies] == [copy.id] and canonical.dedup.copy_count == 1
    assert reprint.dedup.story_id == canonical.dedup.story_id is not None
    assert (
        pipeline.settle_late_copies(canonical, index, local.dedup) == 0
    )  # nothing left: a re-run adds nothing twice


def test_a_batch_looks_its_articles_up_in_one_mget(es_url, tmp_path):
    """ingest_batch cleans every input first, then asks whether they are stored in one request (not one each)."""
    import dataclasses
    import shutil

    from schemas import Outcome
    from workers.runtime.tasks import _Batch
    from workers.runtime.wiring import embedded_context
    from workers.settings import PROJECT_ROOT

    inputs = []
    for seed in sorted((PROJECT_ROOT / "seeds").glob("*.txt")):
        inputs.append(str(shutil.copy(seed, tmp_path / seed.name)))
    local = embedded_context(Settings(data_dir=tmp_path / "data", redis_url=None, elasticsearch_url=None))
    with start_proxy(es_url) as proxy:
        alias = f"kliping-batch-{uuid.uuid4().hex[:8]}"
        index = ElasticIndex(
            make_client(Settings(elasticsearch_url=proxy.url, elasticsearch_timeout=30)), alias
        )
        index.setup(None if LIVE else osmem_template(index_template(alias)))
        ctx = dataclasses.replace(local, index=index, monitor=None)

        def mgets_of_a_batch() -> tuple[int, list[Outcome]]:
            since = len(proxy.faults.log)
            batch = _Batch(ctx)
            assert batch.run(inputs, inputs) == [] and batch.retry == []
            mgets = sum("_mget" in r.path for r in proxy.faults.log[since:])
            return mgets, [r.outcome for r in batch.store()]

        first, outcomes = mgets_of_a_batch()
        assert Outcome.indexed in outcomes and len(outcomes) == len(inputs)
        assert first < len(inputs)  # one for the batch, more only for a group's stored members
        again, outcomes = mgets_of_a_batch()
        assert outcomes == [Outcome.unchanged] * len(inputs)
        assert again == 1
        if LIVE:
            index.client.indices.delete(index=f"{alias}-*")
