"""Dedup stage: syndicated copies (exact hash, MinHash/LSH, containment) and story clustering.

Copies are verified against the group's canonical only, so clusters never chain. The index
behind it (SQLite or Redis) only stores; every decision is made here.
"""

from __future__ import annotations

import hashlib
import re
import zlib
from datetime import datetime, timedelta, timezone

import numpy as np

from schemas import Article, DedupMethod, DedupVerdict, SourceKind
from workers.backends import DedupIndex, Fingerprint, StoryRecord

# Word 5-grams: long enough that two outlets' own reports of one event (which share names and
# a few quotes) rarely share many, short enough that a copy with small edits keeps most of them.
SHINGLE_SIZE = 5
NUM_PERM = 128
# 64 bands of 2 rows: a candidate pair is found with probability > 0.99 from Jaccard 0.33 up
# (a reprint of a third of the original), at the cost of more candidates to verify; verification
# is a vector compare, cheap beside extraction.
BANDS, ROWS = 64, 2
# Verified thresholds. NEAR_JACCARD: estimated Jaccard of two bodies at or above which the later
# one is a near copy. CONTAINMENT: share of the shorter text's shingles found in the longer one
# for a partial reprint (excerpt, truncated copy); MIN_CONTAINED_SHINGLES keeps tiny texts from
# being "contained" by chance. Chosen on hand-made reprints of the seeds (tests/test_dedupe.py);
# to be re-tuned by the dedup evaluation.
NEAR_JACCARD = 0.6
CONTAINMENT = 0.8
MIN_CONTAINED_SHINGLES = 25

# Story clustering: two canonical articles belong to one story when their key terms (top entities
# and keywords) overlap by at least STORY_OVERLAP of the smaller set and share STORY_MIN_SHARED
# terms, within the story window. Chosen so the five seed reports (one event) join and unrelated
# Indonesian news does not.
STORY_TERMS = 12
STORY_OVERLAP = 0.45
STORY_MIN_SHARED = 3

_PRIME = 4294967311  # smallest prime above 2**32: a*h + b stays below 2**64 for 32-bit a, b, h
_rng = np.random.default_rng(20250428)
_A = _rng.integers(1, 2**32 - 1, NUM_PERM, dtype=np.uint64)
_B = _rng.integers(0, 2**32 - 1, NUM_PERM, dtype=np.uint64)
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
_WORD = re.compile(r"\w+", re.UNICODE)
_WIRE_MARKER = re.compile(r"^\s*(?:\(\s*(?:antara|seaprwire|reuters|afp|ap|xinhua)\s*\)|[A-Z][A-Z .]+,\s*\(?ANTARA\)?)", re.I)


def words(text: str) -> list[str]:
    """Lower-cased word tokens, punctuation dropped (so header/footer punctuation does not matter)."""
    return _WORD.findall(text.lower())


def body_hash(text: str) -> str:
    """Hash of the normalised body: identical text, whatever the whitespace and punctuation."""
    return hashlib.sha1(" ".join(words(text)).encode("utf-8")).hexdigest()


def shingle_hashes(text: str) -> np.ndarray:
    """Distinct 32-bit hashes of the body's word shingles."""
    tokens = words(text)
    if len(tokens) < SHINGLE_SIZE:
        grams = [" ".join(tokens)] if tokens else []
    else:
        grams = [" ".join(tokens[i : i + SHINGLE_SIZE]) for i in range(len(tokens) - SHINGLE_SIZE + 1)]
    return np.unique(np.fromiter((zlib.crc32(g.encode("utf-8")) for g in grams), dtype=np.uint64, count=len(grams)))


def minhash(hashes: np.ndarray) -> np.ndarray:
    """MinHash signature (NUM_PERM values) of a set of shingle hashes."""
    if hashes.size == 0:
        return np.full(NUM_PERM, _PRIME, dtype=np.uint64)
    return ((np.outer(hashes, _A) + _B) % _PRIME).min(axis=0)


def bands(signature: np.ndarray | list[int]) -> list[str]:
    """LSH band keys of a signature."""
    sig = np.asarray(signature, dtype=np.uint64)
    return [f"{i}:{hashlib.blake2b(sig[i * ROWS:(i + 1) * ROWS].tobytes(), digest_size=8).hexdigest()}" for i in range(BANDS)]


def is_original(article: Article) -> bool:
    """True for a wire or press-release original: its source is a wire, or it opens with a wire marker."""
    return article.source.kind in (SourceKind.wire, SourceKind.press_release) or bool(_WIRE_MARKER.match(article.text))


def fingerprint(article: Article) -> Fingerprint:
    """The dedup fingerprint of a cleaned article (boilerplate is already out)."""
    hashes = shingle_hashes(article.text)
    return Fingerprint(
        article_id=article.id,
        canonical_id=article.id,
        body_hash=body_hash(article.text),
        signature=minhash(hashes).tolist(),
        shingles=int(hashes.size),
        outlet=article.source.name,
        url=article.url,
        published_at=article.published_at,
        is_original=is_original(article),
    )


def similarity(a: Fingerprint, b: Fingerprint) -> tuple[float, float]:
    """Estimated Jaccard and containment (of the smaller set in the larger) of two fingerprints."""
    jaccard = float(np.mean(np.asarray(a.signature) == np.asarray(b.signature)))
    small, large = sorted((a.shingles, b.shingles))
    if small == 0:
        return jaccard, 0.0
    intersection = jaccard * (small + large) / (1.0 + jaccard)
    return jaccard, min(1.0, intersection / small)


def _verdict(fp: Fingerprint, canonical: Fingerprint) -> DedupVerdict | None:
    """A copy verdict when fp matches the canonical's fingerprint closely enough, else None."""
    jaccard, contained = similarity(fp, canonical)
    if jaccard >= NEAR_JACCARD:
        return DedupVerdict(is_copy=True, canonical_id=canonical.article_id, method=DedupMethod.near, similarity=round(jaccard, 3))
    if contained >= CONTAINMENT and min(fp.shingles, canonical.shingles) >= MIN_CONTAINED_SHINGLES:
        return DedupVerdict(is_copy=True, canonical_id=canonical.article_id, method=DedupMethod.containment, similarity=round(contained, 3))
    return None


def dedupe(article: Article, index: DedupIndex) -> DedupVerdict:
    """Decide whether an article is a copy of a known canonical, and register it either way."""
    fp = fingerprint(article)
    exact = index.find_exact(fp.body_hash)
    if exact and exact != article.id:
        return _register_copy(fp, index, DedupVerdict(is_copy=True, canonical_id=exact, method=DedupMethod.exact, similarity=1.0))
    keys = bands(fp.signature)
    best: DedupVerdict | None = None
    for candidate_id in sorted(index.candidates(keys) - {article.id}):
        candidate = index.fingerprint(candidate_id)
        verdict = _verdict(fp, candidate) if candidate else None
        if verdict and (best is None or verdict.similarity > best.similarity):
            best = verdict
    if best is not None:
        return _register_copy(fp, index, best)
    winner = index.claim(fp, keys)
    if winner != article.id:  # another worker registered the same body a moment ago
        return DedupVerdict(is_copy=True, canonical_id=winner, method=DedupMethod.exact, similarity=1.0)
    return DedupVerdict(is_copy=False, canonical_id=article.id)


def _register_copy(fp: Fingerprint, index: DedupIndex, verdict: DedupVerdict) -> DedupVerdict:
    """Store a copy's fingerprint pointing at its canonical (not in the bands: no chaining)."""
    index.claim(fp.model_copy(update={"canonical_id": verdict.canonical_id}), [])
    return verdict


def story_terms(article: Article) -> list[str]:
    """Key terms of an article for story clustering: top entities, then keywords, lower-cased."""
    terms: list[str] = []
    for name in [e.name for e in article.entities] + list(article.keywords):
        term = name.lower()
        if term not in terms:
            terms.append(term)
        if len(terms) >= STORY_TERMS:
            break
    return terms


def _within(a: datetime | None, b: datetime | None, window: timedelta) -> bool:
    """True when two times are within the window; an unknown time does not rule a story out."""
    return a is None or b is None or abs(a - b) <= window


def assign_story(article: Article, index: DedupIndex, window: timedelta) -> str:
    """The story id of a canonical article: an existing story with enough shared terms, or a new one."""
    terms = story_terms(article)
    when = article.published_at
    # An undated article (a plain-text file) may belong to a story of any time.
    since = when - window if when else _EPOCH
    best_id, best_score = None, 0.0
    for story in index.stories_since(since):
        if not _within(when, story.published_at, window):
            continue
        shared = len(set(terms) & set(story.terms))
        if shared < STORY_MIN_SHARED:
            continue
        score = shared / max(1, min(len(terms), len(story.terms)))
        if score >= STORY_OVERLAP and score > best_score:
            best_id, best_score = story.story_id, score
    if best_id is not None:
        return best_id
    story_id = article.id
    index.put_story(StoryRecord(story_id=story_id, terms=terms, title=article.title, published_at=when))
    return story_id
