"""Dedup: fingerprints (fingerprint), the copy decision against the index (decide), story clustering (stories).

The group linking that rewrites other stored articles is orchestration: workers.pipeline.link_group.
"""

from workers.dedupe.decide import (
    CONTAINMENT,
    MAX_ROUNDS,
    MIN_CONTAINED_SHINGLES,
    NEAR_JACCARD,
    Verdict,
    dedupe,
    outranks,
    verify,
)
from workers.dedupe.fingerprint import (
    BANDS,
    NUM_PERM,
    ROWS,
    SHINGLE_SIZE,
    bands,
    body_hash,
    fingerprint,
    fingerprint_text,
    is_original,
    minhash,
    shingle_hashes,
    similarity,
    words,
)
from workers.dedupe.stories import (
    STORY_MIN_SHARED,
    STORY_OVERLAP,
    STORY_TERMS,
    assign_story,
    matching_stories,
    needed_shared,
    story_terms,
    term_class,
)

__all__ = [
    "BANDS",
    "CONTAINMENT",
    "MAX_ROUNDS",
    "MIN_CONTAINED_SHINGLES",
    "NEAR_JACCARD",
    "NUM_PERM",
    "ROWS",
    "SHINGLE_SIZE",
    "STORY_MIN_SHARED",
    "STORY_OVERLAP",
    "STORY_TERMS",
    "Verdict",
    "assign_story",
    "matching_stories",
    "needed_shared",
    "term_class",
    "bands",
    "body_hash",
    "dedupe",
    "fingerprint",
    "fingerprint_text",
    "is_original",
    "minhash",
    "outranks",
    "shingle_hashes",
    "similarity",
    "story_terms",
    "verify",
    "words",
]
