"""Dedup fingerprints: word shingles, MinHash signatures and LSH bands, body hashes, similarity estimates."""

from __future__ import annotations

import hashlib
import re
import zlib

import numpy as np

from schemas import Article, SourceKind
from workers.clean.boilerplate import is_boilerplate
from workers.ports import Fingerprint

# Word 5-grams: long enough that two outlets' own reports of one event (which share names and
# a few quotes) rarely share many, short enough that a copy with small edits keeps most of them.
SHINGLE_SIZE = 5
NUM_PERM = 128
# 64 bands of 2 rows: a candidate pair is found with probability > 0.99 from Jaccard 0.33 up
# (a reprint of a third of the original), at the cost of more candidates to verify; verification
# is a vector compare, cheap beside extraction.
BANDS, ROWS = 64, 2
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
_WORD = re.compile(r"\w+", re.UNICODE)
# A wire or press-wire marker opening the text: "(SeaPRwire) –", "(ANTARA) -", "JAKARTA (ANTARA) -",
# "Mataram, NTB (ANTARA News) -". The cleaner usually moves it into the source; a text that kept it
# (no dateline recognised) is still an original.
_WIRE_MARKER = re.compile(
    r"^\s*(?:[A-Z][\w .,]{0,40}?\s*)?\(\s*(?:antara(?:\s+news)?|seaprwire|reuters|afp|ap|xinhua|bernama)\s*\)\s*[-–—:]",
    re.I,
)


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
