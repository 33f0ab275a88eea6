#!/usr/bin/env python3
"""What the trained entity recogniser costs: enrich time per article against clean time, and model load.

    ops/dev.sh python ops/benchmark_entities.py ../shared/data/aeb/html ../shared/data/idnews/pages

Cleans every page of the given folders (.html and .html.gz), then enriches the articles three times with
the trained model and three times with the rules alone (the model switched off), and prints CPU time per
article (this process's CPU, so that other load on the machine counts less). The budget of issue 23 is
the whole enrich stage under a quarter of the clean stage per article. Then, in a fresh interpreter, the
time to load the models and the lexicon (the part the model adds to a worker's start-up).
"""

from __future__ import annotations

import argparse
import gzip
import subprocess
import sys
import time
from pathlib import Path

from schemas import Article, RawDocument
from workers.clean import clean
from workers.enrich import enrich, entities
from workers.errors import KlipingError
from workers.sources import SourceRegistry

ROUNDS = 3
BUDGET = 0.25
_LOAD = (
    "import time; from workers.enrich import tagger; from workers.enrich.tokens import Doc; "
    "t = time.perf_counter(); tagger._tagger('id'); tagger._tagger('en'); tagger.lexicon(); "
    "print((time.perf_counter() - t) * 1000)"
)


def _pages(folders: list[Path]) -> list[RawDocument]:
    pages = []
    for folder in folders:
        for path in sorted(p for p in folder.rglob("*") if p.name.endswith((".html", ".html.gz"))):
            data = gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()
            pages.append(
                RawDocument(input=str(path), content_type="text/html", text=data.decode("utf-8", "replace"))
            )
    return pages


def _enrich_cpu(articles: list[Article], registry: SourceRegistry) -> float:
    """CPU seconds per article, over ROUNDS passes after one warm-up pass."""
    for article in articles:
        enrich(article, registry)
    start = time.process_time()
    for _ in range(ROUNDS):
        for article in articles:
            enrich(article, registry)
    return (time.process_time() - start) / ROUNDS / len(articles)


def main(argv: list[str] | None = None) -> int:
    """Print clean and enrich CPU per article, their ratio with and without the model, and the load time."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folders", nargs="+", type=Path)
    args = parser.parse_args(argv)
    registry = SourceRegistry()
    pages, articles, clean_cpu = _pages(args.folders), [], 0.0
    for raw in pages:
        start = time.process_time()
        try:
            articles.append(clean(raw, registry))
        except KlipingError:
            pass  # front pages and stubs: clean time all the same
        clean_cpu += time.process_time() - start
    per_article_clean = clean_cpu / len(articles)
    print(
        f"{len(pages)} pages, {len(articles)} articles; clean CPU {per_article_clean * 1000:.2f} ms per article"
    )
    with_model = _enrich_cpu(articles, registry)
    has_model = entities.has_model
    entities.has_model = lambda doc, language: False  # type: ignore[assignment]
    try:
        rules_only = _enrich_cpu(articles, registry)
    finally:
        entities.has_model = has_model
    for label, cost in (("with the model", with_model), ("rules only", rules_only)):
        ratio = cost / per_article_clean
        verdict = "within" if ratio <= BUDGET else "OVER"
        print(
            f"enrich {label:15} {cost * 1000:6.2f} ms per article = {ratio:.1%} of clean ({verdict} {BUDGET:.0%})"
        )
    load = subprocess.run([sys.executable, "-c", _LOAD], capture_output=True, text=True, check=True)
    print(f"model and lexicon load in a fresh process: {float(load.stdout):.0f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
