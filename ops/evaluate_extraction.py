#!/usr/bin/env python3
"""Score the clean stage against plain trafilatura on pages with known article bodies.

    ops/dev.sh python ops/evaluate_extraction.py ../shared/data/aeb ../shared/data/idnews

Each DATA_PATH is one of:
  * the ScrapingHub article-extraction benchmark layout: ground-truth.json ({id: {articleBody,
    url}}) and html/<id>.html.gz;
  * the idnews layout: expected.json ({relative path: {content, url, title, date (ms)}}); any
    other page under pages/ is a non-article page (front page, feed) the clean stage should skip;
  * the Fundus layout (fundus-dev): expected.json ({"html/<name>.html.gz": {body, url, title,
    date (ISO 8601), authors (list)}}).

The score is the benchmark's: texts become lower-cased word 4-gram shingles (multisets); per
page, true positives, false positives and false negatives are normalised to sum to 1 so long
pages do not weigh more; precision and recall are taken over the sums, F1 from those. A page
the clean stage skips counts as an empty extraction. Speed is pages per second of extraction
alone (parsing included, file reading excluded), after the models are loaded, in CPU
time of this process, with the two methods run in turn on each page: on a machine shared with
other jobs both then see the same load. "promos" counts bodies that still hold a "Baca juga",
"Simak juga" or "Lihat juga" line.

Under each method's row: titles equal to the expected one (case, spacing and punctuation
aside), dates within a minute and on the same UTC day (plain trafilatura states a day only),
and authors: precision and recall of the names (case and punctuation aside) over the pages
whose authors are known. Plain trafilatura's title, date and author come from its own metadata
pass (``bare_extraction`` with metadata, default settings), run outside the timed extraction.
"lost" counts pages the method scores under 0.5 where the other scores above 0.8.
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
from datetime import date as date_type
from pathlib import Path

import trafilatura

from schemas import RawDocument
from workers.clean import clean, warm_up
from workers.clean.body import same_text, text_key
from workers.clean.date_text import htmldate_default
from workers.errors import KlipingError
from workers.sources import SourceRegistry

SHINGLE_SIZE = 4
# A lost article: F1 under LOST_F1 on a page where the other method scores above KEPT_F1.
LOST_F1 = 0.5
KEPT_F1 = 0.8
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
    authors: list[str] | None = None  # None: not known


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
    titled: int = 0
    dates: int = 0
    same_day: int = 0
    dated: int = 0
    author_pages: int = 0
    authors_expected: int = 0
    authors_found: int = 0
    authors_right: int = 0

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
    f1s: dict[str, float] = field(default_factory=dict)  # per article page

    def add(self, page: Page, found: Found, outcome: str) -> None:
        """Count one page's outcome and, for an article page, its scores."""
        if page.body is None:
            self.non_articles[outcome] += 1
            return
        score = self.score
        score.add(page.body, found.text)
        self.f1s[page.name] = Score(*shingle_match(page.body, found.text), pages=1).figures()[2]
        self.promo_bodies += bool(_PROMO_LINE.search(found.text))
        if outcome != "article":
            score.skipped[outcome] += 1
        score.titled += bool(page.title)
        if page.title and found.title and same_text(page.title, found.title):
            score.titles += 1
        if page.date:
            score.dated += 1
            date = found.date
            score.dates += bool(isinstance(date, datetime) and abs((date - page.date).total_seconds()) <= 60)
            score.same_day += bool(date and _utc_day(date) == page.date.astimezone(UTC).date())
        if page.authors is not None:
            expected = {text_key(name) for name in page.authors}
            found_names = {text_key(name) for name in found.authors}
            score.author_pages += 1
            score.authors_expected += len(expected)
            score.authors_found += len(found_names)
            score.authors_right += len(expected & found_names)


@dataclass
class Found:
    """What a method extracted from one page."""

    text: str
    title: str | None = None
    date: datetime | date_type | None = None  # plain trafilatura gives a day
    authors: list[str] = field(default_factory=list)


def _utc_day(value: datetime | date_type) -> date_type:
    """The UTC calendar day of a time (a day stays itself)."""
    return value.astimezone(UTC).date() if isinstance(value, datetime) else value


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
    elif (path / "expected.json").exists() and (path / "pages").is_dir():
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
    elif (path / "expected.json").exists() and (path / "html").is_dir():
        expected = json.loads((path / "expected.json").read_text(encoding="utf-8"))
        for key, item in sorted(expected.items()):
            html = gzip.decompress((path / key).read_bytes()).decode("utf-8", "replace")
            date = datetime.fromisoformat(item["date"]) if item.get("date") else None
            date = date.replace(tzinfo=UTC) if date and date.tzinfo is None else date  # stated without zone
            authors = item.get("authors")
            yield Page(
                Path(key).name.removesuffix(".html.gz"),
                html,
                item.get("url"),
                item.get("body") or "",
                item.get("title"),
                date,
                list(authors) if isinstance(authors, list) else None,
            )
    else:
        raise SystemExit(f"{path}: neither ground-truth.json nor expected.json with pages/ or html/ found")


def run_trafilatura(page: Page, registry: SourceRegistry) -> Found:
    """Plain trafilatura with its default settings (htmldate's too): text only."""
    with htmldate_default():
        return Found(trafilatura.extract(page.html, url=page.url) or "")


def trafilatura_metadata(page: Page) -> Found:
    """Plain trafilatura's own title, date (a day) and authors of a page (untimed)."""
    with htmldate_default():
        document = trafilatura.bare_extraction(page.html, url=page.url, with_metadata=True)
    if document is None:
        return Found("")
    day = None
    if document.date:  # type: ignore[union-attr]  # a Document: as_dict is off
        try:
            day = date_type.fromisoformat(document.date[:10])  # type: ignore[union-attr]
        except ValueError:
            day = None
    authors = [name.strip() for name in (document.author or "").split(";") if name.strip()]  # type: ignore[union-attr]
    return Found("", document.title, day, authors)  # type: ignore[union-attr]


def run_clean(page: Page, registry: SourceRegistry) -> Found:
    """The clean stage: body text, title, publication date and authors."""
    raw = RawDocument(
        input=page.url or page.name,
        url=page.url,
        final_url=page.url,
        content_type="text/html",
        text=page.html,
    )
    article = clean(raw, registry)
    return Found(article.text, article.title, article.published_at, list(article.authors))


def evaluate(
    pages: list[Page], methods: list[Callable], registry: SourceRegistry, details: bool
) -> list[Result]:
    """Score the methods over a dataset, page by page in turn, so load from other processes hits all alike."""
    results = [Result() for _ in methods]
    for page in pages:
        for method, result in zip(methods, results, strict=False):
            started = time.process_time()
            try:
                found = method(page, registry)
                outcome = "article"
            except KlipingError as exc:
                found, outcome = Found(""), exc.reason.value
            result.score.seconds += time.process_time() - started
            if method is run_trafilatura and page.body is not None:
                metadata = trafilatura_metadata(page)
                found.title, found.date, found.authors = metadata.title, metadata.date, metadata.authors
            result.add(page, found, outcome)
            if details and page.body is not None:
                p, r, f = Score(*shingle_match(page.body, found.text), pages=1).figures()
                print(
                    f"    {method.__name__:16} {page.name[:60]:60} P={p:.2f} R={r:.2f} F1={f:.2f} {outcome}"
                )
    return results


def _print_metadata(score: Score) -> None:
    """The title, date and author line under a method's row."""
    parts = [f"titles equal to expected: {score.titles}/{score.titled}"] if score.titled else []
    if score.dated:
        parts.append(f"dates within a minute: {score.dates}/{score.dated}")
        parts.append(f"same day: {score.same_day}/{score.dated}")
    if score.author_pages:
        precision = score.authors_right / score.authors_found if score.authors_found else 0.0
        recall = score.authors_right / score.authors_expected if score.authors_expected else 0.0
        parts.append(f"authors P={precision:.2f} R={recall:.2f} ({score.authors_expected} names)")
    if parts:
        print(f"{'':23} {', '.join(parts)}")


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
        results = evaluate(pages, methods, registry, args.details)
        for method, result, other in zip(methods, results, results[::-1], strict=False):
            score = result.score
            precision, recall, f1 = score.figures()
            speed = len(pages) / score.seconds if score.seconds else 0.0
            name = "trafilatura" if method is run_trafilatura else "clean"
            skipped = sum(score.skipped.values())
            print(
                f"{path.name:10} {name:12} {score.pages:5d} {skipped:7d} {precision:9.3f} {recall:6.3f} {f1:6.3f} "
                f"{speed:7.1f} {result.promo_bodies:6d}"
            )
            if score.skipped:
                print(f"{'':23} articles skipped: {dict(score.skipped)}")
            _print_metadata(score)
            lost = sorted(n for n, f in result.f1s.items() if f < LOST_F1 and other.f1s.get(n, 0.0) > KEPT_F1)
            if lost:
                print(
                    f"{'':23} lost (F1 < {LOST_F1} where the other > {KEPT_F1}): {len(lost)}: {', '.join(lost)}"
                )
            if result.non_articles:
                print(f"{'':23} non-article pages: {dict(result.non_articles)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
