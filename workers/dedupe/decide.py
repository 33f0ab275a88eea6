"""Dedup stage: syndicated copies (exact hash, MinHash/LSH, containment) decided against the index.

Copies are verified against the group's canonical only, so clusters never chain. The index
behind it (SQLite or Redis) only stores; every decision is made here.
"""

from __future__ import annotations

from datetime import UTC, datetime

from schemas import Article, DedupMethod, DedupVerdict, Reason
from workers.dedupe.fingerprint import bands, fingerprint, similarity
from workers.errors import TransientError
from workers.ports import DedupIndex, Fingerprint

# Verified thresholds. NEAR_JACCARD: estimated Jaccard of two bodies at or above which the later
# one is a near copy. CONTAINMENT: share of the shorter text's shingles found in the longer one
# for a partial reprint (excerpt, truncated copy); MIN_CONTAINED_SHINGLES keeps tiny texts from
# being "contained" by chance. Tuned with ops/evaluate_dedup.py (reprints of real articles:
# headers/footers, "Baca juga" lines, 30-70 % truncation, merged paragraphs, 1 edit per 40 words).
# Seeds + fixtures, 112 documents: CONTAINMENT 0.8 → recall 0.899, 0.7 → 0.982, 0.6 → 1.000,
# precision 1.000 throughout, same for NEAR_JACCARD 0.4-0.6. With aeb + idnews (1,531 documents,
# 219 originals): CONTAINMENT 0.8 → recall 0.947, 0.7 → 0.981, 0.6 → 0.992 (these three before
# one article shipped twice was de-duplicated in the labels), then 0.6 → 0.995 at precision
# 1.000 (ARI of stories 0.995). Different reports of one event (the seeds) and other articles stay
# below 0.04 estimated containment, so 0.6 keeps a wide margin; edited truncated copies sit at
# 0.63-0.85 (the estimate from 128 permutations is noisy on short texts).
NEAR_JACCARD = 0.6
CONTAINMENT = 0.6
MIN_CONTAINED_SHINGLES = 25

# Rounds of verify-then-register before giving up (the index changed under us every time): the
# runner retries the input later.
MAX_ROUNDS = 8


class Verdict(DedupVerdict):
    """A DedupVerdict that also names the canonical a late original displaced (its group is now ours)."""

    replaces: str | None = None


def verify(fp: Fingerprint, canonical: Fingerprint) -> Verdict | None:
    """A copy verdict when fp matches the canonical's fingerprint closely enough, else None."""
    if fp.body_hash == canonical.body_hash:
        return Verdict(
            is_copy=True, canonical_id=canonical.article_id, method=DedupMethod.exact, similarity=1.0
        )
    jaccard, contained = similarity(fp, canonical)
    if jaccard >= NEAR_JACCARD:
        return Verdict(
            is_copy=True,
            canonical_id=canonical.article_id,
            method=DedupMethod.near,
            similarity=round(jaccard, 3),
        )
    if contained >= CONTAINMENT and min(fp.shingles, canonical.shingles) >= MIN_CONTAINED_SHINGLES:
        return Verdict(
            is_copy=True,
            canonical_id=canonical.article_id,
            method=DedupMethod.containment,
            similarity=round(contained, 3),
        )
    return None


def outranks(fp: Fingerprint, canonical: Fingerprint) -> bool:
    """True when fp should be its group's canonical instead: an original beats a reprint, then the earlier date."""
    if fp.is_original != canonical.is_original:
        return fp.is_original
    if fp.published_at is None or canonical.published_at is None:
        return False  # unknown dates: the first seen stays
    return _aware(fp.published_at) < _aware(canonical.published_at)


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _matches(fp: Fingerprint, ids: set[str], index: DedupIndex) -> list[tuple[Fingerprint, Verdict]]:
    """Canonicals among candidate ids that fp copies, verified on their stored fingerprints, closest first."""
    found = []
    for candidate_id in sorted(ids - {fp.article_id}):
        candidate = index.fingerprint(candidate_id)
        if candidate is None or candidate.canonical_id != candidate.article_id:
            continue  # expired, or re-pointed since it was listed: only canonicals can take copies
        verdict = verify(fp, candidate)
        if verdict:
            found.append((candidate, verdict))
    return sorted(found, key=lambda match: -(match[1].similarity or 0.0))  # verify() always sets it


def dedupe(article: Article, index: DedupIndex) -> Verdict:
    """Decide whether an article is a copy of a known canonical, and register it either way."""
    fp = fingerprint(article)
    keys = bands(fp.signature)
    pending = index.candidates(keys)
    exact = index.find_exact(fp.body_hash)
    if exact:
        pending.add(exact)
    seen: set[str] = set()
    for _ in range(MAX_ROUNDS):
        matches = _matches(fp, pending - seen, index)
        seen |= pending
        if matches:
            verdict, moved_to = _join(fp, keys, matches, index)
            if verdict is not None:
                return verdict
            pending = {moved_to}  # type: ignore[arg-type]  # _join names the next id when it gives no verdict
            seen.discard(moved_to)
            continue
        claim = index.register(fp, keys, seen)
        if claim.candidates:  # another worker registered a neighbour since we looked
            pending = set(claim.candidates)
        elif claim.winner != fp.article_id:  # the same body was registered a moment ago
            pending = {claim.winner}  # type: ignore[arg-type]  # a claim without candidates names its winner
            seen.discard(claim.winner)
        else:
            return Verdict(is_copy=False, canonical_id=fp.article_id)
    raise TransientError(f"dedup index kept changing under {article.id}", Reason.service_unavailable)


def _join(
    fp: Fingerprint, keys: list[str], matches: list[tuple[Fingerprint, Verdict]], index: DedupIndex
) -> tuple[Verdict | None, str | None]:
    """Join the closest canonical's group (or take it over when fp outranks it); else the id to try next.

    An original taking over also takes every other group whose canonical copies it and that it
    outranks: reprints edited apart from each other (two edited copies can be further apart than
    either is from the original) had to start separate groups before the original came.
    """
    canonical, verdict = matches[0]
    if outranks(fp, canonical):
        claim = index.repoint(fp, canonical.article_id, keys, bands(canonical.signature))
        if claim.winner == fp.article_id or claim.moved_to == fp.article_id:  # done, now or by an earlier try
            for other, _ in matches[1:]:
                if outranks(fp, other):
                    index.repoint(
                        fp, other.article_id, keys, bands(other.signature)
                    )  # moved or gone: it went elsewhere
            return Verdict(is_copy=False, canonical_id=fp.article_id, replaces=canonical.article_id), None
    else:
        claim = index.register(fp.model_copy(update={"canonical_id": canonical.article_id}), [])
        if claim.winner == canonical.article_id:
            return verdict, None
    # Re-pointed meanwhile: verify against the new canonical. Expired: try the body hash's owner.
    return None, claim.moved_to or claim.winner or index.find_exact(fp.body_hash) or canonical.article_id
