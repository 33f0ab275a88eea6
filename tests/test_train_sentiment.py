"""ops/train_sentiment.py end to end on a small generated headline set (the real data stays in ../shared)."""

from __future__ import annotations

import csv
import importlib
import json
import random
import sys

import pytest

from workers.enrich.sentiment_model import LABELS, SentimentModel
from workers.enrich.tokens import words
from workers.settings import PROJECT_ROOT

_WORDS = {
    "negatif": ["anjlok", "ambruk", "rugi", "merosot", "loyo"],
    "netral": ["rilis", "aturan", "jadwal", "rapat", "profil"],
    "positif": ["melesat", "laba", "untung", "naik", "borong"],
}
_FILLER = ["saham", "bank", "emiten", "pasar", "investor", "rupiah", "asing", "hari", "ini"]


@pytest.fixture(scope="module")
def ops_modules():
    sys.path.insert(0, str(PROJECT_ROOT / "ops"))
    try:
        yield importlib.import_module("train_sentiment"), importlib.import_module("evaluate_sentiment")
    finally:
        sys.path.remove(str(PROJECT_ROOT / "ops"))


def _write_headlines(data_dir, n: int = 240) -> None:
    rng = random.Random(1)
    folder = data_dir / "sentiment-id" / "cnbc-headlines"
    folder.mkdir(parents=True)
    with (folder / "train_data.csv").open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["judul", "text", "tanggal", "sentimen"])
        for i in range(n):
            label = list(_WORDS)[i % 3]
            headline = " ".join(rng.sample(_FILLER, 3) + [rng.choice(_WORDS[label]), f"seri{i}"]).title()
            writer.writerow([headline, headline.lower(), "2025/01/01", label])


def test_training_writes_a_model_that_loads_and_separates_the_labels(tmp_path, ops_modules):
    train_sentiment, evaluate_sentiment = ops_modules
    _write_headlines(tmp_path)
    out = tmp_path / "model.json"
    heldout = train_sentiment.train(tmp_path, use_smsa=False, out=out, sizes=())
    assert heldout.macro_f1 > 0.9 and heldout.ece < 0.2  # the labels are word-coded: easy to learn
    data = json.loads(out.read_text(encoding="utf-8"))
    assert data["labels"] == list(LABELS) and data["char_ngrams"] == [] and "lex:neg" in data["weights"]
    model = SentimentModel.from_json(data)
    for text, label in [("Saham Bank Anjlok", 0), ("Jadwal Rapat Emiten", 1), ("Laba Emiten Melesat", 2)]:
        logits = model.reference_logits(words(text))
        assert max(range(3), key=logits.__getitem__) == label
    # folds are disjoint, cover every headline, and are the same on every call (a fixed seed)
    examples = evaluate_sentiment.load_cnbc(tmp_path)
    folds = evaluate_sentiment.split(examples)
    texts = [[e.text for e in fold] for fold in folds.values()]
    assert sorted(t for fold in texts for t in fold) == sorted(e.text for e in examples)
    assert texts == [[e.text for e in fold] for fold in evaluate_sentiment.split(examples).values()]
