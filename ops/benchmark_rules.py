#!/usr/bin/env python3
"""Cost of matching one article against 10, 1,000 and 10,000 standing rules.

    ops/dev.sh python ops/benchmark_rules.py [--rules 10 1000 10000] [--repeat 10]

Rules are generated the way analysts write them: entity names from the gazetteers as quoted
phrases or bare words, and news words (workers/data/common_words.txt: general Indonesian and
English news vocabulary, so most rules do not match a given article, as in production),
combined with AND, OR groups and NOT exclusions (seeded random, so runs compare). Articles are the five seeds and the
enrichment fixtures, loaded and cleaned by the pipeline. For each rule count the script prints
compile time, the mean time to tokenise + prefilter + evaluate one article (the monitor
stage's matching cost, store writes excluded), candidates and matches per article, and the
brute-force cost (every rule evaluated) for comparison.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from schemas.monitor import Rule
from workers.clean import clean
from workers.load import load
from workers.monitor.match import Matcher, document_of
from workers.monitor.query import tokens
from workers.settings import PROJECT_ROOT, get_settings
from workers.sources import SourceRegistry

DATA = PROJECT_ROOT / "workers" / "data"


def _articles():
    settings = get_settings()
    registry = SourceRegistry.load(settings.sources_file)
    paths = sorted((PROJECT_ROOT / "seeds").glob("*.txt")) + sorted(
        (PROJECT_ROOT / "tests/fixtures/enrich").glob("*.txt")
    )
    return [
        clean(load(str(p), fetch=lambda url: None, max_bytes=settings.max_file_bytes), registry)
        for p in paths
    ]


def _names() -> list[str]:
    names: list[str] = []
    for name in ("gazetteer_persons", "gazetteer_organizations", "gazetteer_world"):
        for group, table in json.loads((DATA / f"{name}.json").read_text(encoding="utf-8")).items():
            if isinstance(table, dict) and not group.startswith("_"):
                for canonical, aliases in table.items():
                    names.extend([canonical, *aliases])
    return sorted(set(names))


def _rules(count: int, names: list[str], words: list[str], rng: random.Random) -> list[Rule]:
    def term() -> str:
        if rng.random() < 0.5:
            name = rng.choice(names)
            return f'"{name}"' if " " in name else name
        return rng.choice(words)

    rules = []
    for number in range(count):
        parts = [term()]
        if rng.random() < 0.4:
            parts.append("AND " + term())
        if rng.random() < 0.3:
            parts.insert(0, "(" + " OR ".join(term() for _ in range(rng.randint(2, 4))) + ")")
        if rng.random() < 0.2:
            parts.append("NOT " + term())
        rules.append(Rule(name=f"rule{number}", query=" ".join(parts)))
    return rules


def _best(run, repeat: int, rounds: int = 3) -> float:
    """Seconds per call of `run`: the best of a few rounds (the machine is shared; the minimum is the cost)."""
    timings = []
    for _ in range(rounds):
        started = time.perf_counter()
        for _ in range(repeat):
            run()
        timings.append((time.perf_counter() - started) / repeat)
    return min(timings)


def main() -> int:
    """Print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rules", type=int, nargs="+", default=[10, 1000, 10000])
    parser.add_argument(
        "--repeat", type=int, default=10, help="passes over the articles per round (best of 3 rounds)"
    )
    args = parser.parse_args()
    articles = _articles()
    lines = (DATA / "common_words.txt").read_text(encoding="utf-8").splitlines()
    words = sorted({w for line in lines if not line.startswith("#") for w in tokens(line) if len(w) > 3})
    for article in articles:  # warm the stemmer's cache: steady-state cost, not the first article's
        document_of(article)
    names = _names()
    print(
        f"{len(articles)} articles (mean {sum(len(a.text) for a in articles) // len(articles)} chars), "
        f"vocabulary {len(words)} words + {len(names)} names"
    )
    print(
        f"{'rules':>7} {'compile s':>10} {'µs/article':>11} {'tokenise µs':>12} {'candidates':>11} "
        f"{'matches':>8} {'brute µs':>10}"
    )
    for count in args.rules:
        rules = _rules(count, names, words, random.Random(count))
        started = time.perf_counter()
        matcher = Matcher(rules)
        compiled = time.perf_counter() - started

        docs = [document_of(a) for a in articles]
        tokenise = _best(lambda: [document_of(a) for a in articles], args.repeat) / len(articles)
        per_article = _best(lambda m=matcher: [m.match(a) for a in articles], args.repeat) / len(articles)
        matches = sum(len(matcher.match(a)) for a in articles) / len(articles)
        candidates = sum(len(matcher.candidates(d)) for d in docs) / len(docs)
        brute = _best(lambda m=matcher: [m.match_all(a) for a in articles], 1) / len(articles)
        print(
            f"{count:>7} {compiled:>10.3f} {per_article * 1e6:>11.0f} {tokenise * 1e6:>12.0f} {candidates:>11.1f} "
            f"{matches:>8.1f} {brute * 1e6:>10.0f}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
