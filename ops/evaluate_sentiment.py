#!/usr/bin/env python3
"""Score the shipped sentiment model on the held-out fold of the CNBC training split: accuracy, macro-F1,
per-label scores, the confusion matrix, a reliability table and the expected calibration error.

    .venv/bin/python ops/evaluate_sentiment.py /work/shared/data/train

The fold is rebuilt exactly as ops/train_sentiment.py cut it (same grouping, same seed), so these are
headlines the model never trained on and no setting was chosen on. Only
sentiment-id/cnbc-headlines/train_data.csv is read: the CNBC 90-10 validation file is a withheld test part.
The lexicon alone (the previous enrich sentiment) and the majority label are scored on the same fold for
comparison. ``evaluate_sentiment(data_dir)`` is the entry point for ops/evaluate_enrichment.py.
"""

from __future__ import annotations

import argparse
import csv
import re
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from workers.enrich.lexicon import score_words
from workers.enrich.sentiment_model import LABELS, probabilities
from workers.enrich.tokens import words

SEED = 23
FOLDS = {"train": 0.70, "dev": 0.10, "heldout": 0.20}
CNBC = Path("sentiment-id/cnbc-headlines/train_data.csv")
SMSA = Path("sentiment-id/smsa/train_preprocess.tsv")
_LABEL = {"negatif": 0, "netral": 1, "positif": 2, "negative": 0, "neutral": 1, "positive": 2}
RELIABILITY_BINS = 10


@dataclass
class Example:
    """One labelled text and its group key (headlines with the same letters share a fold)."""

    text: str
    label: int
    group: str


def _group(text: str) -> str:
    return re.sub(r"[^a-z]+", " ", text.lower()).strip()


def load_cnbc(data_dir: Path) -> list[Example]:
    """The CNBC Indonesia headlines of the training split (column ``judul``, label ``sentimen``)."""
    with (data_dir / CNBC).open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    return [Example(r["judul"], _LABEL[r["sentimen"]], _group(r["judul"])) for r in rows]


def load_smsa(data_dir: Path) -> list[Example]:
    """The SMSA reviews (lower-cased, not news)."""
    out = []
    for line in (data_dir / SMSA).read_text(encoding="utf-8").splitlines():
        text, _, label = line.rpartition("\t")
        if text:
            out.append(Example(text, _LABEL[label], _group(text)))
    return out


def split(examples: list[Example], seed: int = SEED) -> dict[str, list[Example]]:
    """Folds by group, stratified by label: each label's groups are shuffled and cut 70/10/20."""
    rng = np.random.default_rng(seed)
    groups: dict[str, list[Example]] = {}
    for ex in examples:
        groups.setdefault(ex.group, []).append(ex)
    majority = {k: Counter(e.label for e in members).most_common(1)[0][0] for k, members in groups.items()}
    folds: dict[str, list[Example]] = {name: [] for name in FOLDS}
    for label in range(len(LABELS)):
        keys = sorted(k for k, v in majority.items() if v == label)
        keys = [keys[i] for i in rng.permutation(len(keys))]
        start = 0
        for n, (name, share) in enumerate(FOLDS.items()):
            end = len(keys) if n == len(FOLDS) - 1 else start + round(share * len(keys))
            for key in keys[start:end]:
                folds[name].extend(groups[key])
            start = end
    return folds


@dataclass
class Scores:
    """Classification and calibration scores of predicted probabilities against gold labels."""

    accuracy: float
    macro_f1: float
    per_label: dict[str, tuple[float, float, float, int]]  # label -> precision, recall, F1, support
    confusion: np.ndarray  # rows gold, columns predicted
    reliability: list[tuple[float, float, int, float, float]] = field(
        default_factory=list
    )  # lo, hi, n, conf, acc
    ece: float = 0.0

    def format(self) -> str:
        """The scores as a plain-text table."""
        lines = [f"n {int(self.confusion.sum())}  accuracy {self.accuracy:.3f}  macro-F1 {self.macro_f1:.3f}"]
        lines.append(f"{'':10}{'P':>7}{'R':>7}{'F1':>7}{'n':>6}")
        for label, (p, r, f1, n) in self.per_label.items():
            lines.append(f"{label:10}{p:7.3f}{r:7.3f}{f1:7.3f}{n:6}")
        lines.append("confusion (rows gold, columns predicted): " + " ".join(LABELS))
        lines += [
            f"  {label:10}" + "".join(f"{v:6}" for v in row)
            for label, row in zip(LABELS, self.confusion, strict=True)
        ]
        if self.reliability:
            lines.append(f"reliability (confidence = top probability)  ECE {self.ece:.3f}")
            lines.append(f"  {'bin':11}{'n':>6}{'mean conf':>11}{'accuracy':>10}")
            lines += [
                f"  {lo:.1f}-{hi:.1f}    {n:6}{c:11.3f}{a:10.3f}" for lo, hi, n, c, a in self.reliability if n
            ]
        return "\n".join(lines)


def score_labels(predicted: np.ndarray, gold: np.ndarray) -> Scores:
    """Accuracy, macro-F1, per-label scores and confusion of predicted label indices."""
    confusion = np.zeros((len(LABELS), len(LABELS)), dtype=int)
    np.add.at(confusion, (gold, predicted), 1)
    per_label = {}
    for k, label in enumerate(LABELS):
        tp, pred, support = confusion[k, k], confusion[:, k].sum(), confusion[k].sum()
        p = tp / pred if pred else 0.0
        r = tp / support if support else 0.0
        per_label[label] = (float(p), float(r), float(2 * p * r / (p + r)) if p + r else 0.0, int(support))
    macro = float(np.mean([v[2] for v in per_label.values()]))
    return Scores(float(np.trace(confusion) / max(1, len(gold))), macro, per_label, confusion)


def score_probabilities(probs: np.ndarray, gold: np.ndarray) -> Scores:
    """:func:`score_labels` of the most probable labels, plus the reliability table and ECE."""
    predicted = probs.argmax(axis=1)
    scores = score_labels(predicted, gold)
    confidence = probs.max(axis=1)
    correct = predicted == gold
    edges = np.linspace(0.0, 1.0, RELIABILITY_BINS + 1)
    ece = 0.0
    for lo, hi in zip(edges[:-1], edges[1:], strict=True):
        inside = (confidence > lo) & (confidence <= hi)
        n = int(inside.sum())
        conf = float(confidence[inside].mean()) if n else 0.0
        acc = float(correct[inside].mean()) if n else 0.0
        scores.reliability.append((float(lo), float(hi), n, conf, acc))
        ece += n / len(gold) * abs(acc - conf)
    scores.ece = float(ece)
    return scores


def model_probabilities(texts: list[str]) -> np.ndarray:
    """The shipped model's calibrated probabilities, by the route enrich uses for a headline."""
    return np.array([probabilities(words(text)) for text in texts])


def evaluate_sentiment(data_dir: Path) -> dict[str, Scores]:
    """Scores of the shipped model, the lexicon alone and the majority label on the held-out CNBC fold."""
    heldout = split(load_cnbc(data_dir))["heldout"]
    texts, gold = [e.text for e in heldout], np.array([e.label for e in heldout])
    lexicon = np.array([LABELS.index(score_words(words(t)).label.value) for t in texts])
    majority = Counter(e.label for e in split(load_cnbc(data_dir))["train"]).most_common(1)[0][0]
    return {
        "model": score_probabilities(model_probabilities(texts), gold),
        "lexicon only": score_labels(lexicon, gold),
        "majority label": score_labels(np.full(len(gold), majority), gold),
    }


def main(argv: list[str] | None = None) -> int:
    """Print the held-out scores."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data_dir", type=Path, help="../shared/data/train")
    args = parser.parse_args(argv)
    print(
        "Sentiment, held-out fold (20 %) of the CNBC Indonesia headlines training split "
        f"({args.data_dir / CNBC}); the withheld 90-10 validation file is not read"
    )
    for name, scores in evaluate_sentiment(args.data_dir).items():
        print(f"\n== {name}\n{scores.format()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
