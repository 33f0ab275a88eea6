"""Requests per article against osmem: a write after a read reuses the read's lookup, and stays correct."""

from __future__ import annotations

from collections import Counter

from tests.test_elastic import BANJIR, KORUT
from tests.test_elastic_ops import index  # noqa: F401 - the set-up index fixture
from workers.backends.elastic.index import ElasticIndex


def _count_requests(target: ElasticIndex) -> Counter:
    """Count the client's requests by endpoint (the real client, every request still sent)."""
    counts: Counter = Counter()
    send = target.client.perform_request

    def counted(method: str, path: str, **kwargs):
        endpoint = "index" if "/_doc/" in path else path.rsplit("/", 1)[-1].split("?")[0]
        counts[endpoint] += 1
        return send(method, path, **kwargs)

    target.client.perform_request = counted
    return counts


def test_a_put_after_a_get_sends_one_lookup_and_one_write(index):  # noqa: F811
    index.get("unknown")  # the alias's index list is read once, then cached
    counts = _count_requests(index)
    assert index.get(KORUT.id) is None
    index.put(KORUT)
    assert counts == {"_mget": 1, "index": 1}

    index.put(KORUT.model_copy(update={"title": "Korut akui bantu Rusia (diperbarui)"}))  # a re-write
    assert counts == {"_mget": 1, "index": 2}
    assert index.get(KORUT.id).title == "Korut akui bantu Rusia (diperbarui)"


def test_a_fresh_worker_still_finds_an_article_in_an_older_index(index):  # noqa: F811
    index.put(KORUT)
    new = index.rollover()
    other = ElasticIndex(index.client, index.alias)  # another worker: nothing remembered
    other.put(KORUT.model_copy(update={"title": "Korut akui bantu Rusia (diperbarui)"}))
    other.put(BANJIR)
    index.refresh()
    assert index.client.count(index=f"{index.alias}-000001")["count"] == 1  # KORUT stayed where it was
    assert index.client.count(index=new)["count"] == 1
    assert index.count() == 2
