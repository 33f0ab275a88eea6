#!/usr/bin/env python3
"""Score the enrich stage, and time it against extraction.

    .venv/bin/python ops/evaluate_enrichment.py [GOLD.jsonl ...] [--data ../shared/data/train] [--details]

Quality figures come from the dev parts of the public sets in ../shared/data/train (--data; skipped when
the folder is absent): entity precision, recall and F1 per type at mention level (exact character spans)
and document level (each document's set of (surface, type) pairs), on idner-news-2k dev (Indonesian news)
and the Broad Twitter Corpus dev part (English tweets). A document there is 10 consecutive sentences,
enriched as one text. The test parts of those sets are never read. Sentiment figures come from
ops/evaluate_sentiment.py (accuracy, macro-F1, reliability table and ECE on a held-out CNBC fold).

Regression figures (not quality claims: the texts were written here and the rules cite them) follow for
ops/eval/enrichment/gold.jsonl (short Indonesian and English news texts), seeds_gold.jsonl (the five
seeds as the clean stage outputs them) and heldout.jsonl; each gets entity P/R/F1 per type (a document's
set of (canonical name, type) pairs), a name-only score, sentiment accuracy and confusion matrix. Then the
cost: enrichment per article (ms, p50/p99) over the gold documents, next to extraction (workers.clean) per
article on tests/fixtures/clean/*.html; the pipeline budget is enrichment <= 25% of extraction.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from ops.eval_enrichment_lib import (  # noqa: E402
    EVAL_DIR,
    LABELS,
    GoldDoc,
    NerReport,
    Report,
    load_gold,
    score,
    score_ner_dev,
)
from schemas import RawDocument  # noqa: E402
from workers.clean import clean  # noqa: E402
from workers.enrich import enrich  # noqa: E402
from workers.errors import KlipingError  # noqa: E402
from workers.settings import DEFAULT_SOURCES_FILE, PROJECT_ROOT  # noqa: E402
from workers.sources import SourceRegistry  # noqa: E402

DEFAULT_GOLD = [EVAL_DIR / "gold.jsonl", EVAL_DIR / "seeds_gold.jsonl", EVAL_DIR / "heldout.jsonl"]
CLEAN_FIXTURES = PROJECT_ROOT / "tests" / "fixtures" / "clean"
TIMING_ROUNDS = 5  # each document is timed this many times; the figures are per call
BUDGET_RATIO = 0.25  # issue 23: enrich under a quarter of clean per article


def _print_report(name: str, report: Report, details: bool) -> None:
    print(f"\n== {name}")
    print(f"{'':14}{'P':>7}{'R':>7}{'F1':>7}{'tp':>6}{'fp':>5}{'fn':>5}")
    rows = [*report.by_type.items(), ("overall", report.overall), ("name only", report.names_only)]
    for label, c in rows:
        print(f"{label:14}{c.precision:7.3f}{c.recall:7.3f}{c.f1:7.3f}{c.tp:6}{c.fp:5}{c.fn:5}")
    print(f"sentiment accuracy {report.sentiment_accuracy:.3f}   (rows gold, columns predicted)")
    print(f"{'':10}" + "".join(f"{p:>10}" for p in LABELS))
    for g in LABELS:
        print(f"{g:10}" + "".join(f"{report.confusion[(g, p)]:10}" for p in LABELS))
    print(f"month/day-name entities: {report.month_entities or 'none'}")
    if details:
        for ident, (missed, spurious) in report.errors.items():
            print(f"  {ident}\n    missed:   {sorted(missed)}\n    spurious: {sorted(spurious)}")


def _print_ner(language: str, source: str, report: NerReport) -> None:
    print(f"\n== entities, {source} ({report.n_docs} documents of {report.n_sentences} sentences)")
    print(f"{'':22}{'P':>7}{'R':>7}{'F1':>7}{'tp':>6}{'fp':>5}{'fn':>5}")
    for level, table in (("mention", report.mentions), ("document", report.documents)):
        for kind in ("PERSON", "ORGANIZATION", "LOCATION", "overall"):
            c = table[kind]
            print(
                f"{level + ' ' + kind:22}{c.precision:7.3f}{c.recall:7.3f}{c.f1:7.3f}{c.tp:6}{c.fp:5}{c.fn:5}"
            )


def _dev_figures(data: Path) -> None:
    """Entity (and, when its module exists, sentiment) figures on the dev parts."""
    if not data.is_dir():
        print(f"\n(no {data}: dev-part figures skipped)")
        return
    for language, source in (
        ("id", "idner-news-2k dev (Indonesian news)"),
        ("en", "Broad Twitter Corpus dev (English tweets)"),
    ):
        _print_ner(language, source, score_ner_dev(data, language))
    import evaluate_sentiment  # ops/evaluate_sentiment.py: the held-out CNBC fold, reliability table, ECE

    print()
    evaluate_sentiment.main([str(data)])


def _percentiles(ms: list[float]) -> tuple[float, float, float]:
    ms = sorted(ms)
    p99 = ms[min(len(ms) - 1, round(0.99 * (len(ms) - 1)))]
    return statistics.mean(ms), statistics.median(ms), p99


def _time_enrichment(docs: list[GoldDoc], registry: SourceRegistry) -> list[float]:
    times = []
    for _ in range(TIMING_ROUNDS):
        for doc in docs:
            start = time.perf_counter()
            enrich(doc.article, registry)
            times.append((time.perf_counter() - start) * 1000)
    return times


def _time_extraction(registry: SourceRegistry) -> list[float]:
    pages = [
        RawDocument(input=p.name, content_type="text/html", text=p.read_text(encoding="utf-8"))
        for p in sorted(CLEAN_FIXTURES.glob("*.html"))
    ]
    times = []
    for _ in range(TIMING_ROUNDS):
        for raw in pages:
            start = time.perf_counter()
            try:
                clean(raw, registry)
            except KlipingError:
                pass  # front pages and stubs are skipped: that is extraction work too
            times.append((time.perf_counter() - start) * 1000)
    return times


def main(argv: list[str] | None = None) -> int:
    """Print the scores of each gold file and the cost figures; exit status 0."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("gold", nargs="*", type=Path, default=DEFAULT_GOLD)
    parser.add_argument(
        "--details", action="store_true", help="list missed and spurious entities per document"
    )
    parser.add_argument("--data", type=Path, default=PROJECT_ROOT.parent / "shared" / "data" / "train")
    args = parser.parse_args(argv)
    print("# quality: dev parts of ../shared/data/train")
    _dev_figures(args.data)
    print("\n# regression sets written here (not quality figures)")
    registry = SourceRegistry.load(DEFAULT_SOURCES_FILE)
    all_docs: list[GoldDoc] = []
    for path in args.gold:
        docs = load_gold(path, registry)
        all_docs += docs
        _print_report(f"{path} ({len(docs)} documents)", score(docs, registry), args.details)
    enrich_mean, enrich_p50, enrich_p99 = _percentiles(_time_enrichment(all_docs, registry))
    extract_mean, extract_p50, extract_p99 = _percentiles(_time_extraction(registry))
    print(f"\n== cost per article ({TIMING_ROUNDS} rounds, after warm-up)")
    print(
        f"enrichment  ({len(all_docs):3} gold docs): mean {enrich_mean:6.2f} ms  p50 {enrich_p50:6.2f}  p99 {enrich_p99:6.2f}"
    )
    print(
        f"extraction ({len(list(CLEAN_FIXTURES.glob('*.html'))):3} html pages): mean {extract_mean:6.2f} ms  "
        f"p50 {extract_p50:6.2f}  p99 {extract_p99:6.2f}"
    )
    ratio = enrich_mean / extract_mean
    verdict = "within" if ratio <= BUDGET_RATIO else "OVER"
    print(
        f"enrichment / extraction (means): {ratio:.1%}  ({verdict} the {BUDGET_RATIO:.0%} budget); "
        f"p50 ratio {enrich_p50 / extract_p50:.1%}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
