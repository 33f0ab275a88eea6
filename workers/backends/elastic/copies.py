"""Recording syndicated copies on their canonical article: optimistic concurrency, no scripts."""

from __future__ import annotations

import logging
import random
import time

from elasticsearch import ConflictError

from schemas import CopyRef, Reason
from workers.backends.elastic.alias import AliasIndices
from workers.backends.elastic.bulk import stream
from workers.backends.elastic.client import translate_errors
from workers.errors import TransientError

log = logging.getLogger(__name__)

# add_copy is a read-modify-write guarded by seq_no; copies of one canonical arrive at once
# from several workers, so a few conflicts are normal and resolved by re-reading.
COPY_CONFLICT_RETRIES = 10


class CopyLinks(AliasIndices):
    """add_copy / add_copies of ArticleIndex: the canonical's ``dedup.copies`` list, each copy once."""

    @translate_errors
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

    @translate_errors
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
        for failed in stream(self._client, actions):
            canonical_id = str(failed.get("_id"))
            for ref in wanted[canonical_id].values():  # another worker wrote it meanwhile: re-read and retry
                self.add_copy(canonical_id, ref)


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
