"""Bulk requests: bounded chunks, items refused with 429 re-sent with backoff, writes through the alias only."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from elasticsearch import Elasticsearch
from elasticsearch.helpers import expand_action, streaming_bulk
from pydantic import BaseModel

# Bulk requests of 5–15 MB are Elastic's sizing advice; 500 articles of ~10 KB stay near 5 MB,
# and the byte cap keeps a batch of long articles from building a huge request.
BULK_CHUNK_SIZE = 500
BULK_MAX_CHUNK_BYTES = 10 * 1024 * 1024
# Items refused with 429 (a busy cluster) are retried with exponential backoff 2, 4, … 60 s.
BULK_RETRIES = 5
BULK_INITIAL_BACKOFF = 2.0
BULK_MAX_BACKOFF = 60.0


class BulkFailure(BaseModel):
    """One article a bulk write could not store, with the server's reason."""

    id: str
    status: int
    error: str

    @classmethod
    def of(cls, item: dict) -> BulkFailure:
        """The failure a bulk response item describes."""
        error = item.get("error", "")
        if isinstance(error, dict):
            error = f"{error.get('type')}: {error.get('reason')}"
        return cls(id=str(item.get("_id")), status=int(item.get("status", 0)), error=str(error))


def stream(client: Elasticsearch, actions: Iterable[dict]) -> Iterator[dict]:
    """Send actions with the streaming bulk helper (bounded chunks, 429 items re-sent with backoff); the failed items."""
    for _ok, item in streaming_bulk(
        client,
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
