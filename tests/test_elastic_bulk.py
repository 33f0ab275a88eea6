"""Bulk indexing under back-pressure: an item refused with 429 is retried, a bad one is reported."""

from __future__ import annotations

import uuid
import warnings
from collections.abc import Iterator

import pytest

from schemas.elastic import index_template
from tests.support.es_proxy import EsProxy, start_proxy
from tests.support.osmem import osmem_template
from tests.test_elastic import LIVE, _article
from workers.backends.elastic.index import ElasticIndex, make_client
from workers.settings import Settings


@pytest.fixture
def rejecting(es_url) -> Iterator[EsProxy]:
    """A fault-injecting proxy in front of es_url that refuses article "a1" once with 429."""
    with start_proxy(es_url) as proxy:
        refused: list[str] = []

        def once(doc_id: str) -> bool:
            if doc_id == "a1" and not refused:
                refused.append(doc_id)
                return True
            return False

        proxy.faults.reject_item = once
        yield proxy


def test_put_many_retries_a_429_item_and_reports_a_permanent_failure(rejecting):
    url = rejecting.url
    alias = f"kliping-bulk-{uuid.uuid4().hex[:8]}"
    index = ElasticIndex(make_client(Settings(elasticsearch_url=url, elasticsearch_timeout=30)), alias)
    index.setup(None if LIVE else osmem_template(index_template(alias)))
    articles = [_article(f"a{i}", f"Judul {i}", f"Isi berita nomor {i}.") for i in range(5)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pydantic warns when serialising the deliberately bad value
        articles[3] = articles[3].model_copy(update={"published_at": "not a date"})
        failures = index.put_many(articles)

    bulks = [r for r in rejecting.faults.log if r.bulk_ids]
    assert [r.rejected for r in bulks] == [["a1"], []]
    assert [r.bulk_ids for r in bulks] == [
        ["a0", "a1", "a2", "a3", "a4"],
        ["a1"],
    ]  # only the refused item is re-sent
    assert [(f.id, f.status) for f in failures] == [("a3", 400)]  # permanent: reported for quarantine
    index.refresh()
    assert index.count() == 4
    assert index.get("a1") == articles[1]
    if LIVE:
        index.client.indices.delete(index=f"{alias}-*")
