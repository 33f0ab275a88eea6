"""Elasticsearch implementation of ArticleIndex (distributed mode).

Articles live in rolled-over indices ``<alias>-000001, -000002, …`` behind one write alias.
Documents are the Article JSON plus the flattened entity fields of ``schemas.elastic``.
Because a document may sit in an older index after a rollover, reads and re-writes first
locate it with a real-time multi-get over the alias's indices, so an id is stored once.
"""

from __future__ import annotations

import functools
import logging
import random
import re
import time
from collections.abc import Callable, Iterable, Iterator
from itertools import islice
from typing import Any, TypeVar

from elasticsearch import ApiError, ConflictError, Elasticsearch, NotFoundError
from elasticsearch import ConnectionError as EsConnectionError
from elasticsearch import ConnectionTimeout as EsConnectionTimeout
from elasticsearch.helpers import expand_action, streaming_bulk
from pydantic import BaseModel

from schemas import Article, CopyRef, Reason
from workers.backends.elastic import setup as es_setup
from workers.backends.elastic.documents import build_query, from_document, to_document
from workers.errors import BackendUnavailable, TransientError
from workers.ports import SearchQuery
from workers.settings import Settings

log = logging.getLogger(__name__)

# Bulk requests of 5–15 MB are Elastic's sizing advice; 500 articles of ~10 KB stay near 5 MB,
# and the byte cap keeps a batch of long articles from building a huge request.
BULK_CHUNK_SIZE = 500
BULK_MAX_CHUNK_BYTES = 10 * 1024 * 1024
# Items refused with 429 (a busy cluster) are retried with exponential backoff 2, 4, … 60 s.
BULK_RETRIES = 5
BULK_INITIAL_BACKOFF = 2.0
BULK_MAX_BACKOFF = 60.0
# add_copy is a read-modify-write guarded by seq_no; copies of one canonical arrive at once
# from several workers, so a few conflicts are normal and resolved by re-reading.
COPY_CONFLICT_RETRIES = 10
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
TRANSIENT_STATUS = {429, 502, 503, 504}
# The client's own immediate retries on a cluster of several nodes (one node: a single retry, for a
# stale keep-alive connection): few, since a task that still fails is retried later, with backoff.
CLIENT_RETRIES = 3
SINGLE_NODE_RETRIES = 1
CLIENT_RETRY_STATUS = (502, 503, 504)

T = TypeVar("T")


class BulkFailure(BaseModel):
    """One article a bulk write could not store, with the server's reason."""

    id: str
    status: int
    error: str


def make_client(settings: Settings) -> Elasticsearch:
    """A plain Elasticsearch client from settings (URL list, API key or basic auth, timeouts)."""
    if not settings.elasticsearch_url:
        raise ValueError("KLIPING_ELASTICSEARCH_URL is not set")
    options: dict[str, Any] = {
        "request_timeout": settings.elasticsearch_timeout,
        "retry_on_timeout": True,
        # Not 429: the client would re-send at once into a cluster that said it is overloaded. A
        # refused write raises BackendUnavailable instead and the task retries it with backoff.
        "retry_on_status": CLIENT_RETRY_STATUS,
    }
    if settings.elasticsearch_api_key:
        options["api_key"] = settings.elasticsearch_api_key
    elif settings.elasticsearch_username:
        options["basic_auth"] = (settings.elasticsearch_username, settings.elasticsearch_password or "")
    hosts = [url.strip() for url in settings.elasticsearch_url.split(",") if url.strip()]
    # Retrying at once only helps with another node to try (or a stale keep-alive connection: one retry).
    options["max_retries"] = CLIENT_RETRIES if len(hosts) > 1 else SINGLE_NODE_RETRIES
    return Elasticsearch(hosts, **options)


def _translate_errors(method: Callable[..., T]) -> Callable[..., T]:
    """Turn an unreachable or overloaded cluster into BackendUnavailable (a TransientError) so the runner retries."""

    @functools.wraps(method)
    def wrapper(*args, **kwargs) -> T:
        try:
            return method(*args, **kwargs)
        except (EsConnectionError, EsConnectionTimeout) as exc:
            raise BackendUnavailable(f"elasticsearch unavailable: {exc}", Reason.service_unavailable) from exc
        except ApiError as exc:
            if exc.meta.status in TRANSIENT_STATUS:
                raise BackendUnavailable(f"elasticsearch busy: {exc}", Reason.service_unavailable) from exc
            raise

    return wrapper


class ElasticIndex:
    """ArticleIndex over an Elasticsearch write alias and the indices rolled over behind it."""

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

    # --- setup ------------------------------------------------------------------------------

    @_translate_errors
    def setup(self, template: dict | None = None) -> None:
        """Install the ILM policy, index template and first index (idempotent; admin privileges: `kliping es setup`)."""
        es_setup.install(self._client, self._alias, template)
        self._indices_cache = None

    @_translate_errors
    def check(self) -> bool:
        """Verify, read-only, that the alias exists (AliasMissing if not); False when the key may not look."""
        return es_setup.check(self._client, self._alias)

    def refresh(self) -> None:
        """Make every write visible to search now (tests and after a batch; ES does it each second anyway)."""
        self._client.indices.refresh(index=self._alias)

    # --- reads ------------------------------------------------------------------------------

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

    @_translate_errors
    def get(self, article_id: str) -> Article | None:
        """The stored article, or None (real time: sees writes not yet refreshed)."""
        hit = self._locate([article_id]).get(article_id)
        self._remember(article_id, hit["_index"] if hit else None)
        return from_document(hit["_source"]) if hit else None

    @_translate_errors
    def get_many(self, article_ids: list[str]) -> dict[str, Article | None]:
        """Several stored articles in one real-time request: id → article, or None when not stored."""
        hits = self._locate(list(dict.fromkeys(article_ids)))
        found: dict[str, Article | None] = {}
        for article_id in article_ids:
            hit = hits.get(article_id)
            self._remember(article_id, hit["_index"] if hit else None)
            found[article_id] = from_document(hit["_source"]) if hit else None
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

    @_translate_errors
    def search(self, query: SearchQuery) -> list[Article]:
        """Articles matching the query, best first (newest first without text)."""
        response = self._client.search(index=self._alias, **build_query(query))
        return [from_document(hit["_source"]) for hit in response["hits"]["hits"]]

    @_translate_errors
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

    @_translate_errors
    def count(self) -> int:
        """Number of stored articles."""
        try:
            return int(self._client.count(index=self._alias)["count"])
        except NotFoundError:
            return 0

    # --- writes -----------------------------------------------------------------------------

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

    @_translate_errors
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

    @_translate_errors
    def put_many(self, articles: Iterable[Article]) -> list[BulkFailure]:
        """Bulk create-or-replace; items refused with 429 are retried; the others' failures are returned."""
        failures: list[BulkFailure] = []
        iterator = iter(articles)
        while chunk := list(islice(iterator, BULK_CHUNK_SIZE)):
            located = self._locate([a.id for a in chunk], with_source=False)
            failures += self._bulk(chunk, lambda a, located=located: self._target(located.get(a.id)))  # type: ignore[misc]
        return failures

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
        failures = []
        for result in self._stream(actions):
            error = result.get("error", "")
            if isinstance(error, dict):
                error = f"{error.get('type')}: {error.get('reason')}"
            failures.append(
                BulkFailure(id=str(result.get("_id")), status=int(result.get("status", 0)), error=str(error))
            )
        return failures

    def _stream(self, actions: Iterable[dict]) -> Iterator[dict]:
        """Send actions with the streaming bulk helper (bounded chunks, 429 items re-sent with backoff); the failed items."""
        for _ok, item in streaming_bulk(
            self._client,
            actions,
            chunk_size=BULK_CHUNK_SIZE,
            max_chunk_bytes=BULK_MAX_CHUNK_BYTES,
            max_retries=BULK_RETRIES,
            initial_backoff=BULK_INITIAL_BACKOFF,
            max_backoff=BULK_MAX_BACKOFF,
            raise_on_error=False,
            yield_ok=False,
            expand_action_callback=_expand_action,
        ):
            yield next(iter(item.values()))

    # --- maintenance --------------------------------------------------------------------------

    def _next_index(self) -> str:
        """The name after the highest ``<alias>-NNNNNN`` on the server (alias or not)."""
        try:
            existing = list(self._client.indices.get(index=f"{self._alias}-*"))
        except NotFoundError:
            existing = []
        numbers = [
            int(m.group(1))
            for name in existing
            if (m := re.fullmatch(rf"{re.escape(self._alias)}-(\d+)", name))
        ]
        return f"{self._alias}-{max(numbers, default=0) + 1:06d}"

    @_translate_errors
    def rollover(self) -> str:
        """Roll the write alias over to a new index now; the old ones stay readable behind the alias.

        Uses the rollover API, or on servers without it (osmem) creates the next index and moves
        the write flag in one atomic alias update. Returns the new write index.
        """
        try:
            new = self._client.indices.rollover(alias=self._alias)["new_index"]
        except ApiError as exc:
            if exc.meta.status not in (400, 404, 405, 501):
                raise
            new = self._next_index()
            self._client.indices.create(index=new)
            self._client.indices.update_aliases(
                actions=[
                    *(
                        {"add": {"index": name, "alias": self._alias, "is_write_index": False}}
                        for name in self._indices()
                    ),
                    {"add": {"index": new, "alias": self._alias, "is_write_index": True}},
                ]
            )
        self._indices_cache = None
        return new

    @_translate_errors
    def reindex(self) -> tuple[str, list[str], list[BulkFailure]]:
        """Re-send every article into a fresh index with the installed template, then move the alias to it.

        The articles are re-derived through the Article model (so new derived fields are filled
        and removed ones dropped). The alias moves atomically, only when every article landed;
        the old indices are kept, without the alias, until an operator deletes them. Run it with
        the workers stopped: writes to the old index during the copy would be left behind.
        Returns (new index, old indices, failures).
        """
        self.refresh()  # iter_articles searches: every write so far must be visible
        self._indices_cache = None
        old = self._indices()
        new = self._next_index()
        self._client.indices.create(index=new)
        failures: list[BulkFailure] = []
        iterator = self.iter_articles()
        while chunk := list(islice(iterator, BULK_CHUNK_SIZE)):
            failures += self._bulk(chunk, lambda a: new)
        if failures:
            log.error("reindex into %s: %d articles failed; the alias stays on %s", new, len(failures), old)
            return new, old, failures
        self._client.indices.refresh(index=new)
        self._client.indices.update_aliases(
            actions=[
                *({"remove": {"index": name, "alias": self._alias}} for name in old),
                {"add": {"index": new, "alias": self._alias, "is_write_index": True}},
            ]
        )
        self._indices_cache = None
        self._where.clear()  # the old indices are no longer behind the alias
        self._retire(old)
        return new, old, failures

    def _retire(self, indices: list[str]) -> None:
        """Tell ILM that indices left behind by a reindex take no more writes (it would wait to roll them over)."""
        if not indices:
            return
        try:
            self._client.indices.put_settings(
                index=",".join(indices), settings={"index.lifecycle.indexing_complete": True}
            )
        except ApiError as exc:  # no ILM on this server: nothing waits on them
            log.info("old indices not marked indexing_complete (%s %s)", exc.meta.status, exc.error)

    @_translate_errors
    def add_copy(self, canonical_id: str, ref: CopyRef) -> None:
        """Record a copy on its canonical (idempotent; optimistic concurrency, no scripts)."""
        for attempt in range(COPY_CONFLICT_RETRIES):
            hit = self._locate([canonical_id]).get(canonical_id)
            update = _copies_update(hit, canonical_id, [ref])
            if update is None or hit is None:  # (no update without a hit)
                return
            try:
                self._client.update(
                    index=hit["_index"],
                    id=canonical_id,
                    doc=update,
                    if_seq_no=hit["_seq_no"],
                    if_primary_term=hit["_primary_term"],
                )
                return
            except ConflictError:
                # Another worker added its copy first: re-read and try again, after a short jittered pause.
                time.sleep(random.uniform(0, 0.05 * (attempt + 1)))
        raise TransientError(
            f"add_copy: {COPY_CONFLICT_RETRIES} update conflicts on {canonical_id}",
            Reason.service_unavailable,
        )

    @_translate_errors
    def add_copies(self, links: list[tuple[str, CopyRef]]) -> None:
        """Record many copies on their canonicals: one lookup, one bulk update; a conflicting item goes through add_copy."""
        wanted: dict[str, dict[str, CopyRef]] = {}
        for canonical_id, ref in links:
            wanted.setdefault(canonical_id, {})[ref.id] = ref
        hits = self._locate(list(wanted))
        actions = []
        for canonical_id, refs in wanted.items():
            update = _copies_update(hits.get(canonical_id), canonical_id, list(refs.values()))
            if update is not None:
                actions.append(
                    {
                        "_op_type": "update",
                        "_index": hits[canonical_id]["_index"],
                        "_id": canonical_id,
                        "if_seq_no": hits[canonical_id]["_seq_no"],
                        "if_primary_term": hits[canonical_id]["_primary_term"],
                        "doc": update,
                    }
                )
        for failed in self._stream(actions):
            canonical_id = str(failed.get("_id"))
            for ref in wanted[canonical_id].values():  # another worker wrote it meanwhile: re-read and retry
                self.add_copy(canonical_id, ref)


def _expand_action(
    data: bytes | str | dict[str, Any],
) -> tuple[dict[str, Any], bytes | dict[str, Any] | None]:
    """The bulk helper's action expansion, plus a per-item ``require_alias`` (writes through the alias only).

    With it, an item sent to the alias while the alias is missing fails (404) instead of creating a
    plain index of that name, which would then block the alias from ever being created.
    """
    if not isinstance(data, dict):
        return expand_action(data)
    data = dict(data)
    require_alias = data.pop("require_alias", False)
    header, body = expand_action(data)
    if require_alias:
        next(iter(header.values()))["require_alias"] = True
    return header, body


def _copies_update(hit: dict | None, canonical_id: str, refs: list[CopyRef]) -> dict | None:
    """The partial document recording `refs` on a canonical as an mget hit holds it; None: nothing to write."""
    dedup = hit["_source"].get("dedup") if hit else None
    if not dedup:
        log.warning("canonical %s not found (copies %s)", canonical_id, ", ".join(ref.id for ref in refs))
        return None
    copies = dedup.get("copies") or []
    known = {copy["id"] for copy in copies}
    new = [ref.model_dump(mode="json") for ref in refs if ref.id not in known]
    if not new:
        return None
    copies = [*copies, *new]
    return {"dedup": {"copies": copies, "copy_count": len(copies)}}
