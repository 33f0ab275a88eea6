"""Lexicon sentiment of Indonesian and English text: weighted words with negation, intensifiers and a light stemmer.

The trained model (:mod:`.sentiment_model`) reads this evidence as two of its features; :func:`score_words`
is the plain lexicon score, kept for English (no openly licensed English news sentiment data here).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from itertools import compress

from schemas import Sentiment, SentimentLabel

from .resources import load_json
from .stem import candidates
from .tokens import COSTLY_WORD_CACHE_SIZE, words

# Label thresholds on the score, chosen on the five seeds and tests/fixtures/enrich (checked by
# tests/test_enrich_sentiment.py): the war reports score -0.38 to -0.98, the flood report -0.89, the positive
# business and achievement texts +0.85 and +0.99, the neutral announcement +0.17 (one loaded word,
# "gratis"). 0.25 sits between the announcement and the mildest war report. On the 26 idnews pages
# (../shared/data, eyeballed, not a test) it labels crime and disaster news negative and launches positive.
POSITIVE_THRESHOLD = 0.25
NEGATIVE_THRESHOLD = -0.25
# score = tanh(net weight / (SCORE_SCALE * sqrt(words + LENGTH_PRIOR))). Dividing by the square root of
# the length (not the length) lets consistent evidence add up in long reports (seed 003: 300 words, net -7)
# while a single loaded word in a 70-word announcement ("mudik gratis") stays well under the threshold.
# LENGTH_PRIOR keeps a two-word headline from saturating on one word.
SCORE_SCALE = 1.0
LENGTH_PRIOR = 10
NEGATION_WINDOW = 3  # "tidak akan berhasil": a negator reaches up to three words ahead, within the clause
NEGATION_FACTOR = -0.6  # "tidak berhasil" is negative, but weaker than "gagal"
INTENSIFIER_WINDOW = 2
# Confidence grows with the amount of evidence (total absolute weight; 6 ~ two strong words gives 0.63)
# and with its agreement (share of the weight on the winning side).
EVIDENCE_SCALE = 6.0


@dataclass(frozen=True)
class _Lexicon:
    words: dict[str, float]
    negators: frozenset[str]
    intensifiers: dict[str, float]
    pair_firsts: frozenset[str]  # first words of the two-word entries: only these need a pair lookup


@lru_cache(maxsize=1)
def _lexicon() -> _Lexicon:
    data = load_json("sentiment_lexicon.json")
    weights = {k.lower(): float(v) for k, v in data["words"].items()}
    return _Lexicon(
        words=weights,
        negators=frozenset(data["negators"]),
        intensifiers={k: float(v) for k, v in data["intensifiers"].items()},
        pair_firsts=frozenset(k.split(" ", 1)[0] for k in weights if " " in k),
    )


def _weight(word: str) -> float | None:
    """Lexicon weight of a word or of its first known root (memoised as part of :func:`_role`)."""
    words = _lexicon().words
    for candidate in candidates(word):
        if candidate in words:
            return words[candidate]
    return None


@dataclass(frozen=True)
class Evidence:
    """The lexicon's reading of some words: the signed weight of each scored word in text order, the number of
    words, and whether they end at a clause boundary (then the words after them start with no negation or
    intensifier pending, and evidence of consecutive pieces adds up to the evidence of the whole)."""

    weights: list[float]
    n_words: int
    closed: bool


def evidence(text_words: list[str], names: frozenset[str] = frozenset()) -> tuple[float, float, int]:
    """Positive weight, negative weight (absolute) and the number of words in ``text_words`` (``names`` skipped)."""
    found = read_evidence(text_words, names)
    positive, negative = _sums([found])
    return positive, negative, found.n_words


def read_evidence(text_words: list[str], names: frozenset[str] = frozenset()) -> Evidence:
    """The :class:`Evidence` of ``text_words``; the words of ``names`` count as words but are not scored.

    Only the tokens the lexicon has something to say about (:func:`_role`: clause punctuation, negators,
    intensifiers, loaded words, first words of a pair) and the names are visited; the plain words between
    two of them are counted, and shorten a pending negation or intensifier, all at once."""
    n = len(text_words)
    roles: list[_Role | None] = list(map(_role, map(str.lower, text_words)))
    if names:
        # words of the article's entity names carry no sentiment: Banggai is not "bangga", Badan not "bad"
        for k in compress(range(n), map(names.__contains__, text_words)):
            roles[k] = _NAME
    weights: list[float] = []
    negated = boosted = 0
    boost = 1.0
    n_words = done = 0  # done: tokens before this index are read
    for i in compress(range(n), roles):
        if i < done:
            continue  # the second word of a pair
        if gap := i - done:  # plain words: counted, each shortens a pending negation or intensifier
            n_words += gap
            negated, boosted = max(0, negated - gap), max(0, boosted - gap)
        role = roles[i]
        assert role is not None  # compress() visits only the tokens with a role
        kind = role[0]
        done = i + 1
        if kind is _NAME_KIND:
            n_words += 1  # a name's word counts, and shortens nothing
            continue
        if kind is _BOUNDARY:
            negated = boosted = 0  # clause boundary
            continue
        n_words += 1
        if kind is _NEGATOR:
            negated = NEGATION_WINDOW + 1
        elif kind is _INTENSIFIER:
            boost, boosted = role[1] or 0.0, INTENSIFIER_WINDOW + 1
        else:
            weight, paired = _pair_weight(role, text_words, done, names)
            done += paired
            if weight:
                if boosted:
                    weight *= boost
                if negated:
                    weight *= NEGATION_FACTOR
                weights.append(weight)
        if negated:
            negated -= 1
        if boosted:
            boosted -= 1
    n_words += n - done
    last = text_words[-1] if text_words else ""
    closed = not text_words or (last not in names and not last[0].isalpha())
    return Evidence(weights, n_words, closed)


_NAME_KIND, _BOUNDARY, _NEGATOR, _INTENSIFIER, _WORD = "name", "boundary", "negator", "intensifier", "word"
# A token's role: its kind, its weight (an intensifier's factor), whether it opens a pair, the word
_Role = tuple[str, float | None, bool, str]
_NAME: _Role = (_NAME_KIND, None, False, "")


def _pair_weight(
    role: _Role, text_words: list[str], after: int, names: frozenset[str]
) -> tuple[float | None, int]:
    """The weight of a loaded word, or of the pair it opens with the next word (then 1: that word is read)."""
    if role[2] and after < len(text_words):  # a pair's first word: "_" for a name's word after it
        following = text_words[after]
        weight = _lexicon().words.get(f"{role[3]} {'_' if following in names else following.lower()}")
        if weight is not None:
            return weight, 1
    return role[1], 0


@lru_cache(maxsize=COSTLY_WORD_CACHE_SIZE)
def _role(word: str) -> _Role | None:
    """What the lexicon makes of a lower-case token on its own; None for a plain word (no weight, no pair,
    no effect)."""
    if not word[0].isalpha():
        return (_BOUNDARY, None, False, word)
    lex = _lexicon()
    if word in lex.negators:
        return (_NEGATOR, None, False, word)
    if word in lex.intensifiers:
        return (_INTENSIFIER, lex.intensifiers[word], False, word)
    weight, pair_first = _weight(word), word in lex.pair_firsts
    if not weight and not pair_first:
        return None
    return (_WORD, weight, pair_first, word)


def _sums(pieces: list[Evidence]) -> tuple[float, float]:
    """Positive and (absolute) negative weight of consecutive pieces, added in text order."""
    positive = negative = 0.0
    for piece in pieces:
        for weight in piece.weights:
            if weight > 0:
                positive += weight
            else:
                negative -= weight
    return positive, negative


def score_pieces(pieces: list[Evidence]) -> Sentiment | None:
    """:func:`score_skipping` of the pieces' words put together, from each piece's evidence read once (an
    article's sentences, each mentioning several entities); None unless every piece but the last is closed
    (a negation could reach across the join: read the words put together instead)."""
    if not all(piece.closed for piece in pieces[:-1]):
        return None
    positive, negative = _sums(pieces)
    return _sentiment(positive, negative, sum(piece.n_words for piece in pieces))


def net_score(positive: float, negative: float, n_words: int) -> float:
    """The lexicon's score in [-1, 1]: net evidence over the square root of the length."""
    return math.tanh((positive - negative) / (SCORE_SCALE * math.sqrt(n_words + LENGTH_PRIOR)))


def name_words(names: Iterable[str]) -> frozenset[str]:
    """The capitalised words of entity names: they carry no sentiment (Banggai is not "bangga")."""
    return frozenset(w for w in words("\n".join(names)) if w[0].isupper())  # no word spans a line break


def score_sentiment(text: str, names: Iterable[str] = ()) -> Sentiment:
    """Label, score in [-1, 1] and confidence in [0, 1] for a news text; words of ``names`` are not scored."""
    return score_words(words(text), names)


def score_words(text_words: list[str], names: Iterable[str] = ()) -> Sentiment:
    """:func:`score_sentiment` of a text already split by :func:`tokens.words`."""
    return score_skipping(text_words, name_words(names))


def score_skipping(text_words: list[str], skip: frozenset[str]) -> Sentiment:
    """:func:`score_words` with the names' words already found (:func:`name_words`): an article's tone
    toward each entity scores its sentences against the same names, split once."""
    return _sentiment(*evidence(text_words, skip))


def _sentiment(positive: float, negative: float, n_words: int) -> Sentiment:
    """Label, score and confidence from the lexicon's evidence."""
    score = net_score(positive, negative, n_words)
    total = positive + negative
    amount = 1.0 - math.exp(-total / EVIDENCE_SCALE)
    agreement = abs(positive - negative) / total if total else 0.0
    if score >= POSITIVE_THRESHOLD or score <= NEGATIVE_THRESHOLD:
        label = SentimentLabel.positive if score > 0 else SentimentLabel.negative
        confidence = amount * (0.5 + 0.5 * agreement)
    else:
        label = SentimentLabel.neutral
        # sure of "neutral" when the score is far from both thresholds; half sure when there is no evidence
        confidence = (1.0 - abs(score) / POSITIVE_THRESHOLD) * (0.5 + 0.5 * amount)
    return Sentiment(label=label, score=round(score, 3), confidence=round(min(1.0, max(0.0, confidence)), 3))
