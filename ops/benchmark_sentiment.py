#!/usr/bin/env python3
"""Cost of the trained sentiment per article, next to the clean and enrich stages, and its load time.

    .venv/bin/python ops/benchmark_sentiment.py /work/shared/data/idnews/pages [--rounds 5]

Cleans every page under the folder (*.html, *.html.gz), then times per article (after warm-up): clean, the
whole enrich stage, the trained sentiment inside it (article sentiment and the tone toward each person and
organisation: ``score_article``), and the lexicon alone over title and text (what enrich ran before). The
budget is enrich <= a quarter of clean. The model's load time is measured in a fresh process.
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
from workers.enrich import enrich, extract_entities
from workers.enrich.lexicon import score_words
from workers.enrich.sentiment import score_article
from workers.enrich.tokens import words
from workers.errors import KlipingError
from workers.settings import DEFAULT_SOURCES_FILE, PROJECT_ROOT
from workers.sources import SourceRegistry

ENRICH_BUDGET = 0.25  # enrich <= a quarter of clean (issue 23)
_LOAD = (
    "import time; from workers.enrich import sentiment_model as m; t = time.perf_counter(); m.model(); "
    "print(time.perf_counter() - t)"
)


def _pages(folder: Path) -> list[RawDocument]:
    out = []
    for path in sorted([*folder.rglob("*.html"), *folder.rglob("*.html.gz")]):
        data = gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()
        out.append(
            RawDocument(input=path.name, content_type="text/html", text=data.decode("utf-8", "replace"))
        )
    return out


def _mean_ms(function: Callable[[int], object], n: int, rounds: int) -> float:
    times = []
    for _ in range(rounds):
        for i in range(n):
            start = time.perf_counter()
            function(i)
            times.append((time.perf_counter() - start) * 1000)
    return statistics.mean(times)


def main(argv: list[str] | None = None) -> int:
    """Print the per-article costs and the model's load time."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args(argv)
    registry = SourceRegistry.load(DEFAULT_SOURCES_FILE)
    raws, articles = [], []
    for raw in _pages(args.folder):
        try:
            articles.append(clean(raw, registry))
            raws.append(raw)
        except KlipingError:
            continue
    entities = [extract_entities(a.text) for a in articles]
    enriched: list[Article] = [enrich(a, registry) for a in articles]  # warm-up: data files and caches
    n, rounds = len(articles), args.rounds
    clean_ms = _mean_ms(lambda i: clean(raws[i], registry), n, rounds)
    enrich_ms = _mean_ms(lambda i: enrich(articles[i], registry), n, rounds)
    model_ms = _mean_ms(
        lambda i: score_article(
            words(articles[i].title), articles[i].text, entities[i], articles[i].language
        ),
        n,
        rounds,
    )
    lexicon_ms = _mean_ms(
        lambda i: score_words(words(articles[i].title) + words(articles[i].text)), n, rounds
    )
    load = subprocess.run(
        [sys.executable, "-c", _LOAD], capture_output=True, text=True, check=True, cwd=PROJECT_ROOT
    )
    toned = sum(e.sentiment is not None for a in enriched for e in a.entities)
    print(f"{n} articles from {args.folder} ({rounds} rounds, mean ms per article); {toned} toned entities")
    print(f"clean                          {clean_ms:7.2f}")
    print(
        f"enrich (whole stage)           {enrich_ms:7.2f}   {enrich_ms / clean_ms:.1%} of clean (budget {ENRICH_BUDGET:.0%})"
    )
    print(f"  trained sentiment + tones    {model_ms:7.2f}")
    print(f"  lexicon alone (before)       {lexicon_ms:7.2f}")
    print(f"model load in a fresh process  {float(load.stdout) * 1000:7.1f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
