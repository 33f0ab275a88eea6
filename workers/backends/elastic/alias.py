"""The write alias and the indices rolled over behind it: where each article id is stored.

Because a document may sit in an older index after a rollover, reads and re-writes first locate
it with a real-time multi-get over the alias's indices, so an id is stored once. The classes of
index.py, copies.py and maintenance.py build on this one.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

from elasticsearch import Elasticsearch, NotFoundError

from schemas import Article, Reason
from workers.backends.elastic import setup as es_setup
from workers.backends.elastic.bulk import BulkFailure, stream
from workers.backends.elastic.documents import from_document, to_document

PAGE_SIZE = 500  # iter_articles page
# The alias's index list changes only on rollover; a stale list for this long can only make a
# just-written document look new (and be rewritten in place), never duplicate it.
INDICES_CACHE_SECONDS = 60.0
# The pipeline reads an article (get) and writes it moments later (put): the write reuses where
# the read found it, or that it was nowhere, instead of a second real-time mget (one round trip
# less per article; ops/benchmark_pipeline.py). Remembered this briefly, so only a second worker
# writing the same id AND a rollover inside these seconds could leave the id in two indices.
LOCATION_MEMORY_SECONDS = 10.0
LOCATION_MEMORY_SIZE = 256


class AliasIndices:
    """A write alias, the concrete indices behind it, and where each id is stored."""

    def __init__(self, client: Elasticsearch, alias: str = "kliping-articles"):
        self._client = client
        self._alias = alias
        self._indices_cache: tuple[float, list[str]] | None = None
        self._where: dict[str, tuple[float, str | None]] = {}  # id → (when, index holding it or None)

    @property
    def alias(self) -> str:
        """The write alias articles are indexed through."""
        return self._alias

    @property
    def client(self) -> Elasticsearch:
        """The underlying client (for operations tools)."""
        return self._client

    def refresh(self) -> None:
        """Make every write visible to search now (tests and after a batch; ES does it each second anyway)."""
        self._client.indices.refresh(index=self._alias)

    def _indices(self) -> list[str]:
        """Concrete indices behind the alias, newest first (cached briefly)."""
        now = time.monotonic()
        if self._indices_cache is None or now - self._indices_cache[0] > INDICES_CACHE_SECONDS:
            try:
                names = sorted(self._client.indices.get_alias(name=self._alias), reverse=True)
            except NotFoundError:
                names = []
            self._indices_cache = (now, names)
        return self._indices_cache[1]

    def _locate(self, ids: list[str], with_source: bool = True) -> dict[str, dict]:
        """Real-time lookup of documents by id across the alias's indices: id → mget hit."""
        indices = self._indices()
        if not ids or not indices:
            return {}
        docs = [{"_index": index, "_id": doc_id} for doc_id in ids for index in indices]
        found: dict[str, dict] = {}
        for hit in self._client.mget(docs=docs, source=with_source)["docs"]:
            if hit.get("found"):
                found.setdefault(hit["_id"], hit)
        return found

    def _remember(self, article_id: str, index: str | None) -> None:
        """Note where an id is stored (None: nowhere) for a write that follows soon."""
        self._where[article_id] = (time.monotonic(), index)
        if len(self._where) > LOCATION_MEMORY_SIZE:
            del self._where[next(iter(self._where))]

    def _write_target(self, article_id: str) -> str:
        """Where to write an id: as a recent read found it, else looked up now."""
        seen = self._where.get(article_id)
        if seen is not None and time.monotonic() - seen[0] < LOCATION_MEMORY_SECONDS:
            return self._target({"_index": seen[1]} if seen[1] else None)
        return self._target(self._locate([article_id], with_source=False).get(article_id))

    def _target(self, located: dict | None) -> str:
        """Where to write: the index already holding the id, else the write alias."""
        if located is not None:
            return located["_index"]
        if not self._indices():
            # Writing to a missing alias would auto-create a plain index of that name (require_alias stops it too).
            self._indices_cache = None  # look again next time: setup may run meanwhile
            raise es_setup.AliasMissing(
                f"alias {self._alias!r} does not exist: run `kliping es setup` first",
                Reason.service_unavailable,
            )
        return self._alias

    def _bulk(self, articles: list[Article], target: Callable[[Article], str]) -> list[BulkFailure]:
        """Index `articles` with the streaming helper (bounded chunks, 429 backoff); the failed items."""
        actions = (
            {
                "_op_type": "index",
                "_index": index,
                "_id": a.id,
                "_source": to_document(a),
                "require_alias": index == self._alias,
            }
            for a in articles
            if (index := target(a))
        )
        return [BulkFailure.of(item) for item in stream(self._client, actions)]

    def iter_articles(self) -> Iterator[Article]:
        """Every stored article, in id order (search_after pages: no server-side state)."""
        after: list | None = None
        while True:
            page: dict[str, Any] = {"query": {"match_all": {}}, "sort": [{"id": "asc"}], "size": PAGE_SIZE}
            if after is not None:
                page["search_after"] = after
            hits = self._client.search(index=self._alias, **page)["hits"]["hits"]
            for hit in hits:
                yield from_document(hit["_source"])
            if len(hits) < PAGE_SIZE:
                return
            after = hits[-1]["sort"]
