"""Elasticsearch implementation of ArticleIndex (distributed mode).

Articles live in rolled-over indices ``<alias>-000001, -000002, …`` behind one write alias.
Documents are the Article JSON plus the flattened entity fields of ``schemas.elastic``.
Because a document may sit in an older index after a rollover, reads and re-writes first
locate it with a real-time multi-get over the alias's indices, so an id is stored once.

The parts: client.py (the client, errors), bulk.py (bulk requests), alias.py (where an id is
stored), copies.py (copy links on canonicals), maintenance.py (rollover, reindex), documents.py
(documents and query bodies), setup.py (template, ILM, first index).
"""

from __future__ import annotations

from collections.abc import Iterable
from itertools import islice
from typing import Any

from elasticsearch import NotFoundError

from schemas import Article, Reason
from workers.backends.elastic import setup as es_setup
from workers.backends.elastic.bulk import BULK_CHUNK_SIZE, BULK_RETRIES, BulkFailure
from workers.backends.elastic.client import (
    SINGLE_NODE_RETRIES,
    TRANSIENT_STATUS,
    make_client,
    translate_errors,
)
from workers.backends.elastic.copies import CopyLinks
from workers.backends.elastic.documents import build_query, from_document, to_document
from workers.backends.elastic.maintenance import Maintenance
from workers.ports import SearchQuery

# What callers imported from this module before it was split: still importable from here.
__all__ = [
    "BULK_RETRIES",
    "SINGLE_NODE_RETRIES",
    "TRANSIENT_STATUS",
    "BulkFailure",
    "ElasticIndex",
    "build_query",
    "make_client",
    "to_document",
]


class ElasticIndex(CopyLinks, Maintenance):
    """ArticleIndex over an Elasticsearch write alias and the indices rolled over behind it."""

    # --- setup ------------------------------------------------------------------------------

    @translate_errors
    def setup(self, template: dict | None = None) -> None:
        """Install the ILM policy, index template and first index (idempotent; admin privileges: `kliping es setup`)."""
        es_setup.install(self._client, self._alias, template)
        self._indices_cache = None

    @translate_errors
    def check(self) -> bool:
        """Verify, read-only, that the alias exists (AliasMissing if not); False when the key may not look."""
        return es_setup.check(self._client, self._alias)

    # --- reads ------------------------------------------------------------------------------

    @translate_errors
    def get(self, article_id: str) -> Article | None:
        """The stored article, or None (real time: sees writes not yet refreshed)."""
        hit = self._locate([article_id]).get(article_id)
        self._remember(article_id, hit["_index"] if hit else None)
        return from_document(hit["_source"]) if hit else None

    @translate_errors
    def get_many(self, article_ids: list[str]) -> dict[str, Article | None]:
        """Several stored articles in one real-time request: id → article, or None when not stored."""
        hits = self._locate(list(dict.fromkeys(article_ids)))
        found: dict[str, Article | None] = {}
        for article_id in article_ids:
            hit = hits.get(article_id)
            self._remember(article_id, hit["_index"] if hit else None)
            found[article_id] = from_document(hit["_source"]) if hit else None
        return found

    @translate_errors
    def search(self, query: SearchQuery) -> list[Article]:
        """Articles matching the query, best first (newest first without text)."""
        response = self._client.search(index=self._alias, **build_query(query))
        return [from_document(hit["_source"]) for hit in response["hits"]["hits"]]

    @translate_errors
    def ids_starting(self, prefix: str, limit: int = 10) -> list[str]:
        """Stored article ids beginning with `prefix` (for ids typed short), sorted."""
        if not prefix:
            return []
        body: dict[str, Any] = {
            "query": {"prefix": {"id": prefix}},
            "sort": [{"id": "asc"}],
            "size": limit,
            "_source": False,
        }
        return [hit["_id"] for hit in self._client.search(index=self._alias, **body)["hits"]["hits"]]

    @translate_errors
    def count(self) -> int:
        """Number of stored articles."""
        try:
            return int(self._client.count(index=self._alias)["count"])
        except NotFoundError:
            return 0

    # --- writes -----------------------------------------------------------------------------

    @translate_errors
    def put(self, article: Article) -> None:
        """Create or replace the article under its deterministic id."""
        target = self._write_target(article.id)
        try:
            response = self._client.index(
                index=target,
                id=article.id,
                document=to_document(article),
                require_alias=target == self._alias,  # never auto-create a template-less index
            )
        except NotFoundError as exc:
            if target != self._alias:
                raise
            self._indices_cache = None
            raise es_setup.AliasMissing(
                f"alias {self._alias!r} is gone: {exc.message}", Reason.service_unavailable
            ) from exc
        self._remember(article.id, response["_index"])

    @translate_errors
    def put_many(self, articles: Iterable[Article]) -> list[BulkFailure]:
        """Bulk create-or-replace; items refused with 429 are retried; the others' failures are returned."""
        failures: list[BulkFailure] = []
        iterator = iter(articles)
        while chunk := list(islice(iterator, BULK_CHUNK_SIZE)):
            located = self._locate([a.id for a in chunk], with_source=False)
            failures += self._bulk(chunk, lambda a, located=located: self._target(located.get(a.id)))  # type: ignore[misc]
        return failures
