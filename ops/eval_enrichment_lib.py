"""Scoring of the enrich stage: the project's own gold annotations (ops/eval/enrichment, regression sets
written here) and the dev parts of the public NER sets in ../shared/data/train (the quality figures).

Entities are compared per document as sets: a predicted (canonical name, type) pair is right when the
gold set of that document holds it. The looser name-only score ignores the type. Used by
ops/evaluate_enrichment.py (which prints the figures) and tests/test_enrich_eval.py (which holds floors).
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from ops.ner_corpus import DEV_PARTS, documents, joined
from ops.ner_corpus import load as load_ner
from schemas import Article, EntityType, RawDocument, Source
from workers.clean import clean
from workers.enrich import enrich
from workers.enrich.cues import cues
from workers.enrich.entities import find_mentions
from workers.enrich.tokens import Doc, fold, tokenize
from workers.settings import DEFAULT_SOURCES_FILE, PROJECT_ROOT
from workers.sources import SourceRegistry

EVAL_DIR = PROJECT_ROOT / "ops" / "eval" / "enrichment"
SEEDS_DIR = PROJECT_ROOT / "seeds"
LABELS = ("negative", "neutral", "positive")


@dataclass
class GoldDoc:
    """One annotated text: the article to enrich, and the entities and sentiment an analyst gave it."""

    ident: str
    article: Article
    entities: set[tuple[str, str]]
    sentiment: str


@dataclass
class Counts:
    """True positives, false positives and false negatives, with precision, recall and F1."""

    tp: int = 0
    fp: int = 0
    fn: int = 0

    def add(self, gold: set, predicted: set) -> None:
        """Count one document's sets."""
        self.tp += len(gold & predicted)
        self.fp += len(predicted - gold)
        self.fn += len(gold - predicted)

    @property
    def precision(self) -> float:
        """Share of predictions that are right (1.0 when nothing was predicted)."""
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        """Share of gold items found (1.0 when there were none)."""
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0

    @property
    def f1(self) -> float:
        """Harmonic mean of precision and recall."""
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0


@dataclass
class Report:
    """Scores over a set of gold documents, plus the errors for inspection."""

    by_type: dict[str, Counts] = field(default_factory=lambda: {t.value: Counts() for t in EntityType})
    overall: Counts = field(default_factory=Counts)
    names_only: Counts = field(default_factory=Counts)
    confusion: Counter = field(default_factory=Counter)  # (gold label, predicted label) -> count
    month_entities: list[str] = field(default_factory=list)
    errors: dict[str, tuple[set, set]] = field(default_factory=dict)  # doc -> (missed, spurious)
    sentiments: dict[str, str] = field(default_factory=dict)  # doc -> predicted label

    @property
    def sentiment_accuracy(self) -> float:
        """Share of documents whose sentiment label matches the gold one."""
        total = sum(self.confusion.values())
        return sum(n for (g, p), n in self.confusion.items() if g == p) / total if total else 1.0


def _registry() -> SourceRegistry:
    return SourceRegistry.load(DEFAULT_SOURCES_FILE)


def load_gold(path: Path, registry: SourceRegistry | None = None) -> list[GoldDoc]:
    """Gold documents of a JSON-lines file: rows with a ``text``, or a ``seed`` file name (cleaned first)."""
    registry = registry or _registry()
    docs = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines()):
        if not line.strip():
            continue
        row = json.loads(line)
        if "seed" in row:  # the seeds are scored as the pipeline sees them: after the clean stage
            raw = RawDocument(
                input=row["seed"], content_type="text/plain", text=(SEEDS_DIR / row["seed"]).read_text()
            )
            article, ident = clean(raw, registry), row["seed"]
        else:
            title, _, body = row["text"].partition("\n")  # the first line of a gold text is its headline
            article = Article(
                id=f"gold{n}",
                input=path.name,
                title=title.strip(),
                text=body.strip(),
                source=Source(name="unknown"),
                content_hash=f"gold{n}",
                language=row.get("language"),
            )
            ident = f"{path.stem}:{n + 1} {row['text'].splitlines()[0][:50]}"
        entities = {(e["name"], e["type"]) for e in row["entities"]}
        docs.append(GoldDoc(ident, article, entities, row["sentiment"]))
    return docs


def is_date_word_entity(name: str) -> bool:
    """True when an entity name contains a month or day name ("April", "Juni Lalu"): a date, not a name."""
    dates = cues().dates
    return any(fold(token) in dates for token in tokenize(name))


def score(docs: Iterable[GoldDoc], registry: SourceRegistry | None = None) -> Report:
    """Enrich every gold document and compare with its annotations."""
    registry = registry or _registry()
    report = Report()
    for doc in docs:
        enriched = enrich(doc.article, registry)
        predicted = {(e.name, e.type.value) for e in enriched.entities}
        report.overall.add(doc.entities, predicted)
        report.names_only.add({n for n, _ in doc.entities}, {n for n, _ in predicted})
        for kind, counts in report.by_type.items():
            counts.add({e for e in doc.entities if e[1] == kind}, {e for e in predicted if e[1] == kind})
        report.month_entities += [
            alias for e in enriched.entities for alias in (e.name, *e.aliases) if is_date_word_entity(alias)
        ]
        if doc.entities != predicted:
            report.errors[doc.ident] = (doc.entities - predicted, predicted - doc.entities)
        assert enriched.sentiment is not None  # enrich always scores sentiment
        label = enriched.sentiment.label.value
        report.confusion[(doc.sentiment, label)] += 1
        report.sentiments[doc.ident] = label
    return report


@dataclass
class NerReport:
    """Entity scores on a dev part: mention level (exact character spans) and document level (the set of
    (surface, type) pairs of each document), per type and overall."""

    mentions: dict[str, Counts] = field(default_factory=dict)
    documents: dict[str, Counts] = field(default_factory=dict)
    n_docs: int = 0
    n_sentences: int = 0

    def add(self, table: dict[str, Counts], gold: set, predicted: set) -> None:
        """Count one unit's items (tuples whose last element is the type) overall and per type."""
        for kind in ("overall", *(t.value for t in EntityType)):
            g = {x for x in gold if kind in ("overall", x[-1])}
            p = {x for x in predicted if kind in ("overall", x[-1])}
            table.setdefault(kind, Counts()).add(g, p)


def predicted_spans(text: str, language: str) -> set[tuple[int, int, str]]:
    """The enrich stage's entity mentions of a text, as (start, end, type) character spans."""
    doc = Doc(text)
    return {(doc.starts[m.start], doc.ends[m.end - 1], m.type.value) for m in find_mentions(doc, language)}


def score_ner_dev(data_root: Path, language: str) -> NerReport:
    """Score the enrich stage's entities on the dev parts of one language (never the test parts).

    Each document (``SENTENCES_PER_DOC`` consecutive sentences, joined by spaces) is enriched as one text,
    as the pipeline would see an article, so the document-level consolidation takes part.
    """
    report = NerReport()
    for group in documents(load_ner(data_root, DEV_PARTS[language])):
        doc = joined(group)
        gold, predicted = set(doc.spans), predicted_spans(doc.text, language)
        report.add(report.mentions, gold, predicted)
        report.add(
            report.documents,
            {(doc.text[a:b], kind) for a, b, kind in gold},
            {(doc.text[a:b], kind) for a, b, kind in predicted},
        )
        report.n_docs += 1
        report.n_sentences += len(group)
    return report
