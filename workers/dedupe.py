"""Dedup stage: syndicated copies (exact hash, MinHash/LSH, containment) and story clustering.

Copies are verified against the group's canonical only, so clusters never chain. The index
behind it (SQLite or Redis) only stores; every decision is made here.
"""

from __future__ import annotations

import hashlib
import re
import zlib
from datetime import UTC, datetime, timedelta

import numpy as np

from schemas import (
    Article,
    CopyRef,
    Dedup,
    DedupMethod,
    DedupVerdict,
    Reason,
    SourceKind,
)
from workers.backends import ArticleIndex, DedupIndex, Fingerprint, StoryRecord
from workers.clean.boilerplate import is_boilerplate
from workers.errors import TransientError

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

# Story clustering: two canonical articles belong to one story when their key terms (top entities
# and keywords) overlap by at least STORY_OVERLAP of the smaller set and share STORY_MIN_SHARED
# terms, within the story window. Chosen so the five seed reports (one event) join and unrelated
# Indonesian news does not.
STORY_TERMS = 12
STORY_OVERLAP = 0.45
STORY_MIN_SHARED = 3

# Hashing is multiply-shift throughout (odd 64-bit multipliers, arithmetic modulo 2**64, the top
# 32 bits kept): numpy does it in whole arrays without a division, where the earlier scheme
# (crc32 of every joined 5-gram string, then (a*h + b) mod a prime) cost 0.92 ms a 750-word
# article against 0.51 ms now; copies P/R of ops/evaluate_dedup.py were the same with either.
# The constants are fixed: a signature is compared with signatures stored by other workers and runs.
_rng = np.random.default_rng(20250428)
_A = _rng.integers(1, 2**63, NUM_PERM, dtype=np.uint64) | np.uint64(1)
_B = _rng.integers(0, 2**63, NUM_PERM, dtype=np.uint64)
_POSITION = _rng.integers(1, 2**63, SHINGLE_SIZE, dtype=np.uint64) | np.uint64(
    1
)  # one multiplier per place in a shingle
_SHIFT = np.uint64(32)
_EMPTY_SIGNATURE = np.full(NUM_PERM, 2**32 - 1, dtype=np.uint64)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_WORD = re.compile(r"\w+", re.UNICODE)
# A wire or press-wire marker opening the text: "(SeaPRwire) –", "(ANTARA) -", "JAKARTA (ANTARA) -",
# "Mataram, NTB (ANTARA News) -". The cleaner usually moves it into the source; a text that kept it
# (no dateline recognised) is still an original.
_WIRE_MARKER = re.compile(
    r"^\s*(?:[A-Z][\w .,]{0,40}?\s*)?\(\s*(?:antara(?:\s+news)?|seaprwire|reuters|afp|ap|xinhua|bernama)\s*\)\s*[-–—:]",
    re.I,
)
# Rounds of verify-then-register before giving up (the index changed under us every time): the
# runner retries the input later.
MAX_ROUNDS = 8


def words(text: str) -> list[str]:
    """Lower-cased word tokens, punctuation dropped (so header/footer punctuation does not matter)."""
    return _WORD.findall(text.lower())


def body_hash(text: str) -> str:
    """Hash of the normalised body: identical text, whatever the whitespace and punctuation."""
    return _tokens_hash(words(text))


def _tokens_hash(tokens: list[str]) -> str:
    return hashlib.sha1(" ".join(tokens).encode("utf-8")).hexdigest()


def fingerprint_text(text: str) -> str:
    """The body without lines the clean stage left that are furniture ("Baca juga: …", captions)."""
    return "\n".join(line for line in text.splitlines() if line.strip() and not is_boilerplate(line.strip()))


def shingle_hashes(text: str) -> np.ndarray:
    """Distinct 32-bit hashes of the body's word shingles."""
    return _shingles(words(text))


def _shingles(tokens: list[str]) -> np.ndarray:
    """Distinct 32-bit hashes of the word 5-grams of tokens (one gram of them all when fewer)."""
    if not tokens:
        return np.zeros(0, dtype=np.uint64)
    # Each word hashed once; a gram's hash is the sum of its words' hashes times their places'
    # multipliers (order matters), wrapping at 2**64, top half kept.
    word_hashes = np.fromiter(map(zlib.crc32, map(str.encode, tokens)), dtype=np.uint64, count=len(tokens))
    size = min(SHINGLE_SIZE, len(tokens))
    grams = len(tokens) - size + 1
    with np.errstate(over="ignore"):
        summed = word_hashes[:grams] * _POSITION[0]
        for place in range(1, size):
            summed += word_hashes[place : place + grams] * _POSITION[place]
    return np.unique(summed >> _SHIFT)


def minhash(hashes: np.ndarray) -> np.ndarray:
    """MinHash signature (NUM_PERM values below 2**32) of a set of shingle hashes."""
    if hashes.size == 0:
        return _EMPTY_SIGNATURE.copy()
    with np.errstate(over="ignore"):
        return ((np.multiply.outer(hashes, _A) + _B) >> _SHIFT).min(axis=0)


def bands(signature: np.ndarray | list[int]) -> list[str]:
    """LSH band keys of a signature."""
    # 6-byte digests: a chance collision among a million canonicals per band is ~1 in 10**8, and
    # shorter fields keep the Redis band index near 35 bytes a band (ops/benchmark_dedup.py).
    sig = np.asarray(signature, dtype=np.uint64)
    return [
        f"{i}:{hashlib.blake2b(sig[i * ROWS : (i + 1) * ROWS].tobytes(), digest_size=6).hexdigest()}"
        for i in range(BANDS)
    ]


def is_original(article: Article) -> bool:
    """True for a wire or press-release original: its source is a wire, or it opens with a wire marker."""
    return article.source.kind in (SourceKind.wire, SourceKind.press_release) or bool(
        _WIRE_MARKER.match(article.text)
    )


def fingerprint(article: Article) -> Fingerprint:
    """The dedup fingerprint of a cleaned article (leftover furniture lines ignored)."""
    tokens = words(fingerprint_text(article.text))
    hashes = _shingles(tokens)
    return Fingerprint(
        article_id=article.id,
        canonical_id=article.id,
        body_hash=_tokens_hash(tokens),
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


class Verdict(DedupVerdict):
    """A DedupVerdict that also names the canonical a late original displaced (its group is now ours)."""

    replaces: str | None = None


def _verdict(fp: Fingerprint, canonical: Fingerprint) -> Verdict | None:
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
        verdict = _verdict(fp, candidate)
        if verdict:
            found.append((candidate, verdict))
    return sorted(found, key=lambda match: -match[1].similarity)


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
            pending = {moved_to}
            seen.discard(moved_to)
            continue
        claim = index.register(fp, keys, seen)
        if claim.candidates:  # another worker registered a neighbour since we looked
            pending = set(claim.candidates)
        elif claim.winner != fp.article_id:  # the same body was registered a moment ago
            pending = {claim.winner}
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


def link_group(
    article: Article, verdict: Verdict, articles: ArticleIndex, index: DedupIndex, window: timedelta
) -> Article:
    """Set a canonical's dedup fields from its group, store it, and point every stored member at it.

    Idempotent: a retry after a crash finds the same members and leaves them pointing here.
    """
    members = index.members(article.id)
    stored = {m.article_id: articles.get(m.article_id) for m in members}
    if verdict.replaces and verdict.replaces not in stored:
        stored[verdict.replaces] = articles.get(verdict.replaces)
    known = [article.dedup] if article.dedup else []  # a re-run keeps its story
    known += [a.dedup for a in stored.values() if a and a.dedup]
    story_id = next((dedup.story_id for dedup in known if dedup.story_id), None)
    previous = article.dedup.copies if article.dedup else []
    copies = {ref.id: ref for ref in previous}
    copies.update({m.article_id: CopyRef(id=m.article_id, outlet=m.outlet, url=m.url) for m in members})
    article.dedup = Dedup(
        canonical_id=article.id,
        story_id=story_id or assign_story(article, index, window),
        copies=list(copies.values()),
        copy_count=len(copies),
    )
    articles.put(article)
    # Read the group again after our write: a copy registered meanwhile either shows up here, or
    # registered after this read and so finds this article stored (the copy path re-reads it).
    for late in index.members(article.id):
        if late.article_id not in copies:
            articles.add_copy(article.id, CopyRef(id=late.article_id, outlet=late.outlet, url=late.url))
            members.append(late)
    stored.update(
        {m.article_id: articles.get(m.article_id) for m in members if stored.get(m.article_id) is None}
    )
    own = None  # computed only when a member needs re-pointing: most canonicals have none
    by_id = {m.article_id: m for m in members}
    for member_id, member in stored.items():
        if member is None or member_id == article.id:
            continue
        if (
            member.dedup
            and not member.dedup.is_canonical
            and member.dedup.canonical_id == article.id
            and member.dedup.story_id == article.dedup.story_id
        ):
            continue
        if own is None:
            own = fingerprint(article)
        match = _verdict(by_id.get(member_id) or fingerprint(member), own)
        member.dedup = Dedup(
            canonical_id=article.id,
            is_canonical=False,
            story_id=article.dedup.story_id,
            method=match.method if match else DedupMethod.near,
            similarity=match.similarity if match else None,
        )
        articles.put(member)
    return article


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
    until = when + window if when else None  # a back-filled article: not every later story either
    best_id, best_score = None, 0.0
    # Only stories sharing enough terms are read: reading every story of the window costs 30 ms a
    # canonical with 1,000 stories in it and 270 ms with 10,000 (embedded store, measured).
    for story in index.stories_sharing(terms, since, STORY_MIN_SHARED, until):
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
