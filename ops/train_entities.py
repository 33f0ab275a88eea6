#!/usr/bin/env python3
"""Train the entity recogniser (workers/enrich/tagger.py) from the train parts of the NER data sets.

    ops/dev.sh python ops/train_entities.py ../shared/data/train [--language id|en] [--c1 X --c2 Y]

One CRF per language (python-crfsuite, L-BFGS: deterministic, no random state; the training order is the
files' order): Indonesian from idner-news-2k train, English from the Broad Twitter Corpus
train part; both read the name lexicon built from the NERGrit and NERP train parts. Dev parts are only scored (mention level, exact character spans, the model's spans before
linking); test parts are never read. The models go to workers/data/ner_<language>.crfsuite.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import pycrfsuite

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from ops.ner_corpus import (  # noqa: E402
    DEV_PARTS,
    LEXICON_PARTS,
    TRAIN_PARTS,
    Sentence,
    build_lexicon,
    doc_labels,
    load,
)
from workers.enrich.entities import rule_claims  # noqa: E402
from workers.enrich.tagger import (  # noqa: E402
    LEXICON_FILE,
    MODEL_FILES,
    candidate_runs,
    lexicon,
    run_features,
    tag,
)
from workers.enrich.tokens import Doc  # noqa: E402
from workers.settings import PROJECT_ROOT  # noqa: E402

# L1/L2 penalties, chosen on the dev parts (idner-news-2k dev for id, BTC dev for en) among
# c1, c2 in (0.1, 0.01) (0.05, 0.05) (0.02, 0.02) (0.2, 0.1) (0.01, 0.2) (idner dev F1 0.836-0.844); L1 also keeps the model file small.
PARAMS = {"id": (0.1, 0.01), "en": (0.05, 0.05)}  # en: BTC dev 0.555 against 0.537 at (0.1, 0.01)
MAX_ITERATIONS = 200
MIN_FEATURE_FREQ = 1


def examples(sentences: list[Sentence]):
    """(features, labels) of every capitalised run, plus how many gold entities no run covers."""
    uncovered = 0
    for s in sentences:
        doc = Doc(s.text)
        labels = doc_labels(doc, s.spans)
        runs = candidate_runs(doc)
        covered = {i for start, end in runs for i in range(start, end)}
        uncovered += sum(1 for i, label in enumerate(labels) if label.startswith("B-") and i not in covered)
        for (start, end), feats in zip(
            runs, run_features(doc, rule_claims(doc, for_model=True), runs), strict=True
        ):
            yield feats, labels[start:end]
    examples.uncovered = uncovered  # type: ignore[attr-defined]


def train(sentences: list[Sentence], path: Path, c1: float, c2: float) -> None:
    """Fit a CRF on the sentences and write it to ``path``."""
    trainer = pycrfsuite.Trainer(verbose=False)
    for xseq, yseq in examples(sentences):
        trainer.append(xseq, yseq)
    trainer.set_params(
        {
            "c1": c1,
            "c2": c2,
            "max_iterations": MAX_ITERATIONS,
            "feature.minfreq": MIN_FEATURE_FREQ,
            "feature.possible_transitions": True,
        }
    )
    trainer.train(str(path))


def predicted_spans(tagger: pycrfsuite.Tagger, s: Sentence) -> set[tuple[int, int, str]]:
    """The model's entity spans of a sentence, in characters."""
    doc = Doc(s.text)
    spans = tag(doc, rule_claims(doc, for_model=True), None, tagger)
    return {(doc.starts[a], doc.ends[b - 1], kind) for a, b, kind in spans}


def score(tagger: pycrfsuite.Tagger, sentences: list[Sentence]) -> dict[str, Counter]:
    """tp/fp/fn per type and overall, mention level (exact character spans)."""
    counts: dict[str, Counter] = {}
    for s in sentences:
        gold, pred = set(s.spans), predicted_spans(tagger, s)
        for kind in {k for *_, k in gold | pred} | {"overall"}:
            g = {x for x in gold if kind in ("overall", x[2])}
            p = {x for x in pred if kind in ("overall", x[2])}
            c = counts.setdefault(kind, Counter())
            c["tp"] += len(g & p)
            c["fp"] += len(p - g)
            c["fn"] += len(g - p)
    return counts


def print_scores(counts: dict[str, Counter]) -> float:
    """Print P/R/F1 per type; return the overall F1."""
    f1 = 0.0
    for kind in sorted(counts):
        c = counts[kind]
        p = c["tp"] / (c["tp"] + c["fp"]) if c["tp"] + c["fp"] else 1.0
        r = c["tp"] / (c["tp"] + c["fn"]) if c["tp"] + c["fn"] else 1.0
        f = 2 * p * r / (p + r) if p + r else 0.0
        print(f"  {kind:13} P {p:.3f}  R {r:.3f}  F1 {f:.3f}  (tp {c['tp']} fp {c['fp']} fn {c['fn']})")
        if kind == "overall":
            f1 = f
    return f1


def main(argv: list[str] | None = None) -> int:
    """Train the requested languages' models, print their dev scores, install them in workers/data."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", type=Path, help="the ../shared/data/train folder")
    parser.add_argument("--language", choices=sorted(MODEL_FILES), action="append")
    parser.add_argument("--c1", type=float)
    parser.add_argument("--c2", type=float)
    parser.add_argument("--output", type=Path, default=PROJECT_ROOT / "workers" / "data")
    args = parser.parse_args(argv)
    words = build_lexicon(load(args.data, LEXICON_PARTS))
    lexicon_path = args.output / LEXICON_FILE
    lexicon_path.write_text("".join(f"{w}\t{k}\n" for w, k in words.items()), encoding="utf-8")
    lexicon.cache_clear()
    print(f"lexicon: {len(words)} words from {', '.join(d for d, _ in LEXICON_PARTS)} -> {lexicon_path}")
    for language in args.language or sorted(MODEL_FILES):
        c1, c2 = PARAMS[language]
        c1, c2 = args.c1 if args.c1 is not None else c1, args.c2 if args.c2 is not None else c2
        sentences = load(args.data, TRAIN_PARTS[language])
        began = time.perf_counter()
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / MODEL_FILES[language]
            train(sentences, path, c1, c2)
            uncovered = examples.uncovered  # type: ignore[attr-defined]
            print(
                f"{language}: trained on {len(sentences)} sentences ({', '.join(f for _, f in TRAIN_PARTS[language])}) "
                f"c1={c1} c2={c2} in {time.perf_counter() - began:.0f} s; "
                f"{uncovered} gold entities start outside a capitalised run"
            )
            tagger = pycrfsuite.Tagger()
            tagger.open(str(path))
            dev = load(args.data, DEV_PARTS[language])
            print(f"{language} dev ({', '.join(f'{d}/{f}' for d, f in DEV_PARTS[language])}), mention level:")
            print_scores(score(tagger, dev))
            tagger.close()
            target = args.output / MODEL_FILES[language]
            target.write_bytes(path.read_bytes())
            print(f"  wrote {target} ({target.stat().st_size / 1e6:.2f} MB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
