#!/usr/bin/env python3
"""Story lookup cost as the story window fills, on both dedup backends.

    .venv/bin/python ops/benchmark_stories.py --stories 20000 --zipf 1.0

Writes STORIES stories (12 terms each, drawn from a Zipf distribution over a vocabulary of
VOCABULARY terms, times spread over 3 days) into the embedded store and into a private Redis
server (benchmark_dedup.private_server), and at a few sizes times `stories_sharing` (the term-index
read of dedupe.assign_story) for 200 fresh term sets. A Zipf exponent of 1.0 is a harsh case: its
most common term is in about 70 % of the stories (printed), where the benchmark corpus's most common
story term ("amerika serikat") was in 31 % and the next ones in 3-5 %.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import redis

OPS = Path(__file__).resolve().parent
sys.path[:0] = [str(OPS.parent), str(OPS)]

from benchmark_dedup import private_server  # noqa: E402

from workers.backends.redis.state import RedisDedupIndex  # noqa: E402
from workers.backends.sqlite.store import EmbeddedStore  # noqa: E402
from workers.dedupe import STORY_MIN_SHARED, STORY_TERMS  # noqa: E402
from workers.ports import StoryRecord  # noqa: E402

WINDOW = timedelta(days=3)
QUERIES = 200
NOW = datetime(2025, 4, 27, tzinfo=UTC)


def main() -> None:
    """Fill both backends step by step and print the lookup cost at each size."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--stories", type=int, default=20_000)
    parser.add_argument(
        "--zipf",
        type=float,
        default=1.0,
        help="exponent of the term distribution (higher: commoner top terms)",
    )
    parser.add_argument("--vocabulary", type=int, default=50_000)
    args = parser.parse_args()
    rng = np.random.default_rng(1)
    weights = 1 / np.arange(1, args.vocabulary + 1) ** args.zipf
    weights /= weights.sum()

    def terms() -> list[str]:
        return list(dict.fromkeys(f"t{i}" for i in rng.choice(args.vocabulary, STORY_TERMS + 2, p=weights)))[
            :STORY_TERMS
        ]

    sizes = sorted(
        {size for size in (1000, 5000, 10_000, 20_000, 50_000) if size < args.stories} | {args.stories}
    )
    with tempfile.TemporaryDirectory() as tmp, private_server() as url:
        backends = {
            "embedded": EmbeddedStore(Path(tmp) / "stories.sqlite3"),
            "redis": RedisDedupIndex(redis.Redis.from_url(url), prefix="kliping"),
        }
        written, holding_top = 0, 0
        for size in sizes:
            while written < size:
                story = StoryRecord(
                    story_id=f"s{written}",
                    terms=terms(),
                    published_at=NOW - timedelta(seconds=int(rng.integers(0, WINDOW.total_seconds()))),
                )
                holding_top += "t0" in story.terms
                for backend in backends.values():
                    backend.put_story(story)
                written += 1
            queries = [terms() for _ in range(QUERIES)]
            figures = []
            for name, backend in backends.items():
                started, found = time.perf_counter(), 0
                for query in queries:
                    found += len(backend.stories_sharing(query, NOW - WINDOW, STORY_MIN_SHARED, NOW + WINDOW))
                figures.append(f"{name} {1000 * (time.perf_counter() - started) / QUERIES:.2f} ms")
            print(
                f"{size:>7} stories in the window (most common term in {holding_top / written:.0%}): "
                f"stories_sharing {', '.join(figures)} a lookup; {found / QUERIES:.1f} stories share ≥ {STORY_MIN_SHARED} terms"
            )


if __name__ == "__main__":
    main()
