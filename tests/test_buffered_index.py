"""A batch's writes held and sent as one bulk request (workers/backends/buffered.py), on osmem."""

from __future__ import annotations

import uuid
import warnings

from schemas import CopyRef, Dedup
from schemas.elastic import index_template
from tests.support.es_proxy import start_proxy
from tests.support.osmem import osmem_template
from tests.test_elastic import LIVE, _article, client, index  # noqa: F401 - fixtures
from workers.backends.buffered import BufferedIndex
from workers.backends.elastic import ElasticIndex, make_client
from workers.settings import Settings


def _copy(article_id: str, canonical_id: str):
    """A copy of `canonical_id` (as the pipeline stores it)."""
    return _article(article_id, "Salinan", "Isi salinan.", dedup=Dedup(canonical_id=canonical_id, is_canonical=False, story_id="story-1"))


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
    buffered.add_copy("lama", CopyRef(id="c4", outlet="Kompas"))  # two copies of one stored canonical: one update
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
        index = ElasticIndex(make_client(Settings(elasticsearch_url=proxy.url, elasticsearch_timeout=30)), alias)
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
        writes = [r for r in proxy.faults.log[since:] if r.method in ("PUT", "POST") and "_mget" not in r.path]
        assert [r.bulk_ids for r in writes] == [["b0", "b1", "b2", "b3"]]  # one request for the batch
        assert [(f.id, f.status) for f in flushed.failures] == [("b2", 400)]
        index.refresh()
        assert index.count() == 3
        if LIVE:
            index.client.indices.delete(index=f"{alias}-*")
