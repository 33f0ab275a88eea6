"""The trained sentiment model: calibrated multinomial logistic regression over words, word pairs,
character n-grams and the lexicon's evidence.

Trained by ``ops/train_sentiment.py`` on Indonesian market-news headlines; the weights ship as
``workers/data/sentiment_model.json`` and are read on first use. The same :func:`unit_features` serve
training and prediction; prediction takes a faster but equal route (:func:`logits`): the model is linear,
so the weight vector of a word's own features (the word and its character n-grams) is summed once per
distinct word and cached.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from .lexicon import evidence, net_score
from .resources import load_json
from .tokens import WORD_CACHE_SIZE

MODEL_FILE = "sentiment_model.json"
LABELS = ("negative", "neutral", "positive")  # the order of every weight vector
# Character n-gram sizes of the shipped model are stored with its weights ("char_ngrams"): features and
# weights must agree. ops/train_sentiment.py trains without them by default: with n-grams of 3-5 or 4-5
# the dev fold's macro-F1 was 0.805-0.811, without them 0.805-0.809 (ops/train_sentiment.py, seed 23), but
# on the project's own general-news texts (ops/eval/enrichment: floods, crime, sport, the seeds; regression
# sets, not independent) the n-gram models disagreed with 14-18 of 27 Indonesian labels, nearly all by
# saying neutral, against 11-12 without: their many small weights learn "market news" and pull other news
# to neutral, where the lexicon's general evidence should decide.
DEFAULT_CHAR_NGRAMS: tuple[int, ...] = ()
LEXICON_FEATURES = ("lex:pos", "lex:neg", "lex:score")

Vector = tuple[float, float, float]
_ZERO: Vector = (0.0, 0.0, 0.0)
_NO_NAMES: frozenset[str] = frozenset()


def word_features(word: str, sizes: Sequence[int]) -> list[str]:
    """Features of one lower-cased word on its own: the word and its character n-grams of ``sizes``."""
    padded = f"<{word}>"
    grams = [padded[i : i + n] for n in sizes for i in range(len(padded) - n + 1)]
    return [f"w:{word}", *(f"c:{g}" for g in grams)]


def _is_word(token: str) -> bool:
    return token[0].isalpha()


def pair_features(tokens: Sequence[str]) -> list[str]:
    """Adjacent word pairs ("tidak berhasil", "cetak rekor"); punctuation breaks a pair."""
    return [f"b:{a} {b}" for a, b in zip(tokens, tokens[1:], strict=False) if _is_word(a) and _is_word(b)]


def lexicon_values(
    unit_words: Sequence[str], names: frozenset[str] = _NO_NAMES
) -> tuple[float, float, float]:
    """The lexicon's positive and negative evidence of a unit, log-scaled (one strong word is ~1.3), and its score.

    These dense features carry what the lexicon knows beyond market news (war, disaster, crime, sport):
    training leaves them unregularised so that the sparse features only correct them. The words of entity
    ``names`` give no lexicon evidence (its stemmer would read Banggai as "bangga"); the model's own word
    features see every word, as they did in training.
    """
    positive, negative, n_words = evidence(list(unit_words), names)
    return math.log1p(positive), math.log1p(negative), net_score(positive, negative, n_words)


def unit_features(
    unit_words: Sequence[str], sizes: Sequence[int], names: frozenset[str] = _NO_NAMES
) -> dict[str, float]:
    """All features of a unit (headline, sentence: words as :func:`tokens.words` splits them) with their values."""
    tokens = [w.lower() for w in unit_words]
    sparse = [f for token in tokens if _is_word(token) for f in word_features(token, sizes)]
    features: dict[str, float] = dict(Counter(sparse + pair_features(tokens)))
    for name, value in zip(LEXICON_FEATURES, lexicon_values(unit_words, names), strict=True):
        if value:
            features[name] = value
    return features


@dataclass(frozen=True)
class SentimentModel:
    """Weights per feature (one per label), the bias, the calibration temperature and the n-gram sizes."""

    weights: dict[str, Vector]
    bias: Vector
    temperature: float
    char_ngrams: tuple[int, ...]

    @classmethod
    def from_json(cls, data: dict) -> SentimentModel:
        """The model in the layout ``ops/train_sentiment.py`` writes."""
        if tuple(data["labels"]) != LABELS:
            raise ValueError(f"sentiment model labels {data['labels']} are not {LABELS}")
        weights = {k: (v[0], v[1], v[2]) for k, v in data["weights"].items()}
        return cls(
            weights=weights,
            bias=(data["bias"][0], data["bias"][1], data["bias"][2]),
            temperature=float(data["temperature"]),
            char_ngrams=tuple(data["char_ngrams"]),
        )

    def reference_logits(self, unit_words: Sequence[str], names: frozenset[str] = _NO_NAMES) -> list[float]:
        """Uncalibrated logits from :func:`unit_features` (the route training takes)."""
        out = list(self.bias)
        for name, value in unit_features(unit_words, self.char_ngrams, names).items():
            vector = self.weights.get(name, _ZERO)
            for k in range(3):
                out[k] += value * vector[k]
        return out


@lru_cache(maxsize=1)
def model() -> SentimentModel:
    """The shipped model, loaded once per process."""
    return SentimentModel.from_json(load_json(MODEL_FILE))


@lru_cache(maxsize=WORD_CACHE_SIZE)
def _word_vector(word: str) -> Vector:
    m = model()
    weights = m.weights
    a = b = c = 0.0
    for name in word_features(word, m.char_ngrams):
        vector = weights.get(name)
        if vector is not None:
            a, b, c = a + vector[0], b + vector[1], c + vector[2]
    return a, b, c


def logits(unit_words: Sequence[str], names: frozenset[str] = _NO_NAMES) -> list[float]:
    """Uncalibrated logits of a unit, equal to :meth:`SentimentModel.reference_logits` but faster."""
    m = model()
    tokens = [w.lower() for w in unit_words]
    a, b, c = m.bias
    for token in tokens:
        if _is_word(token):
            x, y, z = _word_vector(token)
            a, b, c = a + x, b + y, c + z
    weights = m.weights
    for name in pair_features(tokens):
        vector = weights.get(name)
        if vector is not None:
            a, b, c = a + vector[0], b + vector[1], c + vector[2]
    for name, value in zip(LEXICON_FEATURES, lexicon_values(unit_words, names), strict=True):
        vector = weights.get(name, _ZERO)
        a, b, c = a + value * vector[0], b + value * vector[1], c + value * vector[2]
    return [a, b, c]


def softmax(values: Sequence[float], temperature: float = 1.0) -> list[float]:
    """Probabilities from logits divided by ``temperature``."""
    top = max(values)
    exps = [math.exp((v - top) / temperature) for v in values]
    total = sum(exps)
    return [e / total for e in exps]


def probabilities(unit_words: Sequence[str], names: frozenset[str] = _NO_NAMES) -> list[float]:
    """Calibrated probabilities of (negative, neutral, positive) for a unit; ``names`` give no lexicon evidence."""
    return softmax(logits(unit_words, names), model().temperature)
