"""Operators' index maintenance: roll the alias over to a new index, re-send every article into a fresh one."""

from __future__ import annotations

import logging
import re
from itertools import islice

from elasticsearch import ApiError, NotFoundError

from workers.backends.elastic.alias import AliasIndices
from workers.backends.elastic.bulk import BULK_CHUNK_SIZE, BulkFailure
from workers.backends.elastic.client import translate_errors

log = logging.getLogger(__name__)


class Maintenance(AliasIndices):
    """rollover and reindex (`kliping es rollover` / `kliping es reindex`)."""

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

    @translate_errors
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

    @translate_errors
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
