#!/usr/bin/env python3
"""Score the clean stage against plain trafilatura on pages with known article bodies.

    ops/dev.sh python ops/evaluate_extraction.py ../shared/data/aeb ../shared/data/idnews

Each DATA_PATH is one of:
  * the ScrapingHub article-extraction benchmark layout: ground-truth.json ({id: {articleBody,
    url}}) and html/<id>.html.gz;
  * the idnews layout: expected.json ({relative path: {content, url, title, date (ms)}}); any
    other page under pages/ is a non-article page (front page, feed) the clean stage should skip.

The score is the benchmark's: texts become lower-cased word 4-gram shingles (multisets); per
page, true positives, false positives and false negatives are normalised to sum to 1 so long
pages do not weigh more; precision and recall are taken over the sums, F1 from those. A page
the clean stage skips counts as an empty extraction. Speed is pages per second of extraction
alone (parsing included, file reading excluded), after the models are loaded, in CPU
time of this process, with the two methods run in turn on each page: on a machine shared with
other jobs both then see the same load. "promos" counts bodies that still hold a "Baca juga",
"Simak juga" or "Lihat juga" line.
"""

from __future__ import annotations

import argparse
import gzip
import json
import re
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import trafilatura

from schemas import RawDocument
from workers.clean import clean, warm_up
from workers.clean.body import same_text
from workers.clean.date_text import htmldate_default
from workers.errors import KlipingError
from workers.sources import SourceRegistry

SHINGLE_SIZE = 4
_WORD = re.compile(r"\w+")
# A line of a body opening with a cross-link promotion the clean stage must remove.
_PROMO_LINE = re.compile(r"^\W*(?:baca|simak|lihat)\s+(?:juga|pula)\b", re.IGNORECASE | re.MULTILINE)
REPO = Path(__file__).resolve().parent.parent


@dataclass
class Page:
    """One evaluation page: its HTML and what is known about its article."""

    name: str
    html: str
    url: str | None
    body: str | None  # None: not an article, the clean stage should skip it
    title: str | None = None
    date: datetime | None = None


@dataclass
class Score:
    """Accumulated shingle counts, outcomes and time of one method on one dataset."""

    tp: float = 0.0
    fp: float = 0.0
    fn: float = 0.0
    pages: int = 0
    seconds: float = 0.0
    skipped: Counter = field(default_factory=Counter)
    titles: int = 0
    dates: int = 0
    dated: int = 0

    def add(self, truth: str, predicted: str) -> None:
        """Add one page's normalised true/false positives and false negatives."""
        tp, fp, fn = shingle_match(truth, predicted)
        self.tp, self.fp, self.fn, self.pages = self.tp + tp, self.fp + fp, self.fn + fn, self.pages + 1

    def figures(self) -> tuple[float, float, float]:
        """Precision, recall and F1."""
        precision = self.tp / (self.tp + self.fp) if self.tp + self.fp else 0.0
        recall = self.tp / (self.tp + self.fn) if self.tp + self.fn else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        return precision, recall, f1


@dataclass
class Result:
    """What one method did on one dataset: the article scores and the non-article outcomes."""

    score: Score = field(default_factory=Score)
    non_articles: Counter = field(default_factory=Counter)
    promo_bodies: int = 0  # bodies still holding a "Baca juga"-style promotion line

    def add(self, page: Page, text: str, title: str | None, date: datetime | None, outcome: str) -> None:
        """Count one page's outcome and, for an article page, its scores."""
        if page.body is None:
            self.non_articles[outcome] += 1
            return
        score = self.score
        score.add(page.body, text)
        self.promo_bodies += bool(_PROMO_LINE.search(text))
        if outcome != "article":
            score.skipped[outcome] += 1
        if page.title and title and same_text(page.title, title):
            score.titles += 1
        if page.date:
            score.dated += 1
            score.dates += bool(date and abs((date - page.date).total_seconds()) <= 60)


def shingles(text: str) -> Counter:
    """Multiset of lower-cased word n-grams (the whole text as one gram when it is shorter)."""
    words = _WORD.findall(text.lower())
    if len(words) < SHINGLE_SIZE:
        return Counter([tuple(words)]) if words else Counter()
    return Counter(tuple(words[i : i + SHINGLE_SIZE]) for i in range(len(words) - SHINGLE_SIZE + 1))


def shingle_match(truth: str, predicted: str) -> tuple[float, float, float]:
    """True positives, false positives, false negatives of one page, normalised to sum to 1."""
    true, pred = shingles(truth), shingles(predicted)
    tp = sum((true & pred).values())
    fp = sum((pred - true).values())
    fn = sum((true - pred).values())
    total = tp + fp + fn
    return (tp / total, fp / total, fn / total) if total else (0.0, 0.0, 0.0)


def load_pages(path: Path) -> Iterator[Page]:
    """Pages of a dataset directory (benchmark or idnews layout)."""
    if (path / "ground-truth.json").exists():
        truth = json.loads((path / "ground-truth.json").read_text(encoding="utf-8"))
        for key, item in sorted(truth.items()):
            html = gzip.decompress((path / "html" / f"{key}.html.gz").read_bytes()).decode("utf-8", "replace")
            yield Page(key, html, item.get("url"), item.get("articleBody") or "")
    elif (path / "expected.json").exists():
        expected = json.loads((path / "expected.json").read_text(encoding="utf-8"))
        for page_path in sorted((path / "pages").rglob("*.html")):
            key = page_path.relative_to(path).as_posix()
            item = expected.get(key)
            html = page_path.read_text(encoding="utf-8", errors="replace")
            if item is None:
                yield Page(key, html, None, None)
                continue
            date = datetime.fromtimestamp(item["date"] / 1000, UTC) if item.get("date") else None
            yield Page(key, html, item.get("url"), item.get("content") or "", item.get("title"), date)
    else:
        raise SystemExit(f"{path}: neither ground-truth.json nor expected.json found")


def run_trafilatura(page: Page, registry: SourceRegistry) -> tuple[str, str | None, datetime | None]:
    """Plain trafilatura with its default settings (htmldate's too): text only."""
    with htmldate_default():
        return trafilatura.extract(page.html, url=page.url) or "", None, None


def run_clean(page: Page, registry: SourceRegistry) -> tuple[str, str | None, datetime | None]:
    """The clean stage: body text, title and publication date."""
    raw = RawDocument(
        input=page.url or page.name,
        url=page.url,
        final_url=page.url,
        content_type="text/html",
        text=page.html,
    )
    article = clean(raw, registry)
    return article.text, article.title, article.published_at


def evaluate(
    pages: list[Page], methods: list[Callable], registry: SourceRegistry, details: bool
) -> list[Result]:
    """Score the methods over a dataset, page by page in turn, so load from other processes hits all alike."""
    results = [Result() for _ in methods]
    for page in pages:
        for method, result in zip(methods, results, strict=False):
            started = time.process_time()
            try:
                text, title, date = method(page, registry)
                outcome = "article"
            except KlipingError as exc:
                text, title, date, outcome = "", None, None, exc.reason.value
            result.score.seconds += time.process_time() - started
            result.add(page, text, title, date, outcome)
            if details and page.body is not None:
                p, r, f = Score(*shingle_match(page.body, text), pages=1).figures()
                print(
                    f"    {method.__name__:16} {page.name[:60]:60} P={p:.2f} R={r:.2f} F1={f:.2f} {outcome}"
                )
    return results


def main(argv: list[str] | None = None) -> int:
    """Print precision, recall, F1 and speed of both methods for every dataset given."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("data_paths", nargs="+", type=Path, metavar="DATA_PATH")
    parser.add_argument("--registry", type=Path, default=REPO / "workers" / "data" / "sources.json")
    parser.add_argument("--details", action="store_true", help="print the scores of every page")
    args = parser.parse_args(argv)
    registry = SourceRegistry.load(args.registry)
    warm_up()  # load the language model, stoplists and date parser before timing anything
    print(
        f"{'dataset':10} {'method':12} {'pages':>5} {'skipped':>7} {'precision':>9} {'recall':>6} {'F1':>6} "
        f"{'pages/s':>7} {'promos':>6}"
    )
    methods = [run_trafilatura, run_clean]
    for path in args.data_paths:
        pages = list(load_pages(path))
        for method, result in zip(methods, evaluate(pages, methods, registry, args.details), strict=False):
            score = result.score
            precision, recall, f1 = score.figures()
            speed = len(pages) / score.seconds if score.seconds else 0.0
            name = "trafilatura" if method is run_trafilatura else "clean"
            skipped = sum(score.skipped.values())
            print(
                f"{path.name:10} {name:12} {score.pages:5d} {skipped:7d} {precision:9.3f} {recall:6.3f} {f1:6.3f} "
                f"{speed:7.1f} {result.promo_bodies:6d}"
            )
            if method is run_clean:
                if score.skipped:
                    print(f"{'':23} articles skipped: {dict(score.skipped)}")
                if score.dated:
                    print(
                        f"{'':23} titles equal to expected: {score.titles}/{score.pages}, "
                        f"dates within a minute: {score.dates}/{score.dated}"
                    )
                if result.non_articles:
                    print(f"{'':23} non-article pages: {dict(result.non_articles)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
