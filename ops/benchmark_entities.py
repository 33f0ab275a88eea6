#!/usr/bin/env python3
"""What the enrich stage costs against the clean stage, per article, and what the trained model adds.

    ops/dev.sh python ops/benchmark_entities.py ../shared/data/aeb/html ../shared/data/idnews/pages [--rounds 7]

For each folder (.html and .html.gz pages): cleans every page once (warm-up), then runs --rounds rounds, each
cleaning every page, enriching every article with the trained model, and enriching them with the rules
alone (the model switched off), in turn: the machine's drift meets all three alike. Times are this
process's CPU (other load on the machine counts less than in wall time). Prints per article the median
over the rounds and the ratio enrich / clean (median and range over the rounds). The budget (issues 23
and 25) is the whole enrich stage under a quarter of the clean stage per article. Then, in a fresh
interpreter, the time to load the models and the lexicon (the part the model adds to a worker's start-up).
"""

from __future__ import annotations

import argparse
import gzip
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from schemas import Article, RawDocument
from workers.clean import clean
from workers.enrich import enrich, entities
from workers.errors import KlipingError
from workers.sources import SourceRegistry

ROUNDS = 7
BUDGET = 0.25
_LOAD = (
    "import time; from workers.enrich import tagger; from workers.enrich.tokens import Doc; "
    "t = time.perf_counter(); tagger._tagger('id'); tagger._tagger('en'); tagger.lexicon(); "
    "print((time.perf_counter() - t) * 1000)"
)


def _pages(folder: Path) -> list[RawDocument]:
    pages = []
    for path in sorted(p for p in folder.rglob("*") if p.name.endswith((".html", ".html.gz"))):
        data = gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()
        pages.append(
            RawDocument(input=str(path), content_type="text/html", text=data.decode("utf-8", "replace"))
        )
    return pages


def _clean_all(pages: list[RawDocument], registry: SourceRegistry) -> list[Article]:
    articles = []
    for raw in pages:
        try:
            articles.append(clean(raw, registry))
        except KlipingError:
            pass  # front pages and stubs: clean time all the same
    return articles


def _rules_only(articles: list[Article], registry: SourceRegistry) -> None:
    has_model = entities.has_model
    entities.has_model = lambda doc, language: False  # type: ignore[assignment]
    try:
        for article in articles:
            enrich(article, registry)
    finally:
        entities.has_model = has_model


def _cpu(function: Callable[[], object]) -> float:
    start = time.process_time()
    function()
    return time.process_time() - start


def _folder(folder: Path, rounds: int, registry: SourceRegistry) -> None:
    pages = _pages(folder)
    articles = _clean_all(pages, registry)
    if not articles:
        print(f"{folder}: no article")
        return
    for article in articles:  # warm-up: data files, models and word memos
        enrich(article, registry)
    _rules_only(articles, registry)
    times: dict[str, list[float]] = {"clean": [], "with the model": [], "rules only": []}
    for _ in range(rounds):
        times["clean"].append(_cpu(lambda: _clean_all(pages, registry)))
        times["with the model"].append(_cpu(lambda: [enrich(a, registry) for a in articles]))
        times["rules only"].append(_cpu(lambda: _rules_only(articles, registry)))
    n = len(articles)
    clean_ms = statistics.median(times["clean"]) / n * 1000
    print(
        f"{folder}: {len(pages)} pages, {n} articles, {rounds} rounds; clean CPU {clean_ms:.2f} ms per article"
    )
    for label in ("with the model", "rules only"):
        ratios = [e / c for e, c in zip(times[label], times["clean"], strict=True)]
        ratio = statistics.median(ratios)
        verdict = "within" if ratio <= BUDGET else "OVER"
        print(
            f"  enrich {label:15} {statistics.median(times[label]) / n * 1000:6.2f} ms per article = "
            f"{ratio:.1%} of clean (rounds {min(ratios):.1%}-{max(ratios):.1%}; {verdict} {BUDGET:.0%})"
        )


def main(argv: list[str] | None = None) -> int:
    """Print clean and enrich CPU per article per folder, their ratio with and without the model, and the load time."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folders", nargs="+", type=Path)
    parser.add_argument("--rounds", type=int, default=ROUNDS)
    args = parser.parse_args(argv)
    registry = SourceRegistry()
    for folder in args.folders:
        _folder(folder, args.rounds, registry)
    load = subprocess.run([sys.executable, "-c", _LOAD], capture_output=True, text=True, check=True)
    print(f"model and lexicon load in a fresh process: {float(load.stdout):.0f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
