#!/usr/bin/env python3
"""Dedup cost per document and Redis memory per document with a large index.

    .venv/bin/python ops/benchmark_dedup.py --docs 100000 --redis-url redis://127.0.0.1:6379/14

Fills a dedicated Redis database under a fresh prefix with DOCS canonical fingerprints (random
signatures, the layout every worker uses: body hash, packed fingerprint, 64 LSH bands), reads
INFO memory used_memory before and after (memory per document = delta / DOCS), then times
SAMPLE dedupe() calls on synthetic texts (a quarter of them reprints of an indexed text) against
that index, and deletes every key of the prefix afterwards.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
import uuid
from pathlib import Path

import numpy as np
import redis

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from schemas import Article, Source
from workers.backends import Fingerprint
from workers.backends.redis_state import RedisDedupIndex
from workers.dedupe import NUM_PERM, bands, body_hash, dedupe

WORDS_PER_TEXT = 300
BATCH = 1000  # claims per pipeline


def _vocabulary() -> list[str]:
    """Real words for synthetic texts: the common-word list the project ships."""
    path = REPO / "workers" / "data" / "common_words.txt"
    return [w for w in path.read_text(encoding="utf-8").split() if w.isalpha()]


def _text(rng: random.Random, vocabulary: list[str]) -> str:
    return " ".join(rng.choice(vocabulary) for _ in range(WORDS_PER_TEXT))


def fill(index: RedisDedupIndex, client: redis.Redis, docs: int, rng: np.random.Generator) -> float:
    """Register `docs` synthetic canonical fingerprints (pipelined claims); return seconds taken."""
    started = time.perf_counter()
    for start in range(0, docs, BATCH):
        pipe = client.pipeline(transaction=False)
        batch_index = RedisDedupIndex(pipe, index._prefix)  # same scripts and layout, batched round trips
        signatures = rng.integers(0, 2**32 - 1, size=(min(BATCH, docs - start), NUM_PERM), dtype=np.uint64)
        for offset, signature in enumerate(signatures):
            n = start + offset
            article_id = f"{n:016x}"
            fp = Fingerprint(article_id=article_id, canonical_id=article_id, body_hash=body_hash(f"doc {n}"),
                             signature=signature.tolist(), shingles=WORDS_PER_TEXT - 4, outlet="Outlet",
                             url=f"https://example.com/read/{n}")
            batch_index._claim(keys=_claim_keys(index, fp), args=_claim_args(index, fp, bands(fp.signature)), client=pipe)
        pipe.execute()
        if (start // BATCH) % 20 == 0:
            print(f"  {start + BATCH:>9} indexed  {time.perf_counter() - started:7.1f} s", file=sys.stderr)
    return time.perf_counter() - started


def _claim_keys(index: RedisDedupIndex, fp: Fingerprint) -> list[str]:
    """The keys RedisDedupIndex.register passes for a canonical."""
    return [index.key("dedup", "hash", fp.body_hash), index.key("dedup", "fp", fp.article_id),
            index.key("dedup", "group", fp.canonical_id), index.key("dedup", "fp", fp.canonical_id)]


def _claim_args(index: RedisDedupIndex, fp: Fingerprint, own: list[str]) -> list:
    """The arguments RedisDedupIndex.register passes for a canonical (no band re-check)."""
    from workers.backends.redis_state import (
        DEDUP_TTL_SECONDS,
        _period,
        pack_fingerprint,
    )

    return [fp.canonical_id, pack_fingerprint(fp), DEDUP_TTL_SECONDS, fp.article_id, "0", index._prefix, _period(), len(own), *own]


def time_dedupe(index: RedisDedupIndex, sample: int, seed: int) -> list[float]:
    """Milliseconds of dedupe() on `sample` synthetic articles (a quarter are reprints of earlier ones)."""
    rng, vocabulary = random.Random(seed), _vocabulary()
    texts: list[str] = []
    timings = []
    for n in range(sample):
        if texts and n % 4 == 3:
            words = rng.choice(texts).split()
            text = "JAKARTA, KOMPAS.com - " + " ".join(words[: int(len(words) * 0.6)])
        else:
            text = _text(rng, vocabulary)
            texts.append(text)
        article = Article(id=f"sample{seed}-{n}", input="bench", title="bench", text=text,
                          source=Source(name="Bench"), content_hash=str(n))
        started = time.perf_counter()
        dedupe(article, index)
        timings.append((time.perf_counter() - started) * 1000)
    return timings


def main() -> None:
    """Fill, measure, clean up, print."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/14", help="a database the benchmark may fill")
    parser.add_argument("--docs", type=int, default=100_000)
    parser.add_argument("--sample", type=int, default=2000, help="dedupe() calls timed")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    client = redis.Redis.from_url(args.redis_url, decode_responses=True)
    prefix = f"kliping-bench-{uuid.uuid4().hex[:8]}"
    index = RedisDedupIndex(client, prefix)
    try:
        client.memory_purge() if hasattr(client, "memory_purge") else None
        before = int(client.info("memory")["used_memory"])
        seconds = fill(index, client, args.docs, np.random.default_rng(args.seed))
        after = int(client.info("memory")["used_memory"])
        keys = client.dbsize()
        timings = time_dedupe(index, args.sample, args.seed)
    finally:
        removed = 0
        for batch in _batches(client.scan_iter(match=f"{prefix}:*", count=10_000), 10_000):
            removed += client.unlink(*batch)
    per_doc = (after - before) / args.docs
    print(f"indexed   {args.docs} documents in {seconds:.1f} s ({args.docs / seconds:.0f}/s pipelined claims); {keys} keys in the db")
    print(f"memory    used_memory +{(after - before) / 2**20:.1f} MiB = {per_doc:.0f} bytes per document")
    print(f"dedupe()  p50 {np.percentile(timings, 50):.3f} ms  p99 {np.percentile(timings, 99):.3f} ms  "
          f"({args.sample} calls against the filled index)")
    print(f"cleanup   {removed} keys removed")


def _batches(items, size: int):
    batch = []
    for item in items:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


if __name__ == "__main__":
    main()
