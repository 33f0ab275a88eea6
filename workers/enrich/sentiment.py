"""Sentiment of an article, and the tone toward each person and organisation it names.

Indonesian text goes through the trained model (:mod:`.sentiment_model`), which learnt from headlines.
An article is long and a headline short, so the article is read as headline-sized units: its title and
its lead sentences, each scored on its own, their calibrated probabilities averaged (the title counts
double: it is the one unit like the training data, and it says what the article is about). The tone
toward an entity is the same average over the sentences that mention it. Every sentence is scored once;
the words of the article's entity names give no lexicon evidence (Banggai is not "bangga").
English has no openly licensed training data here, so English text keeps the lexicon (:mod:`.lexicon`).
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Iterable, Sequence
from itertools import chain

from schemas import Entity, EntityType, Sentiment, SentimentLabel

from .lexicon import Evidence, name_words, read_evidence, score_pieces, score_skipping
from .sentiment_model import LABELS, probabilities
from .tokens import words

# The title and this many lead sentences make up an article's units. Chosen by reading the five seeds
# and the project's own texts (ops/eval/enrichment: regression sets, not quality figures): after the lead,
# a news report turns to quotes, background and context whose tone drifts from the report's (the war
# reports quote thanks and praise). No labelled article-level data exists here to tune this on.
LEAD_SENTENCES = 3
TITLE_WEIGHT = 2.0
TONED_TYPES = (EntityType.PERSON, EntityType.ORGANIZATION)
# A sentence ends at . ! ? or … followed by a space, or at a line break; "U.S.", "J." and "Jr." style
# abbreviations (one or two letters, the first a capital, before the dot) do not end one. The abbreviation
# test is made on each candidate (_abbreviation) rather than as lookbehinds opening the pattern: a pattern
# opening with a character class lets the regex engine skip ahead, lookbehinds are tried at every character.
_SENTENCE_END = re.compile(r"[.!?…]+[\"”’)]*\s+|\n+")
_NO_SENTIMENT = Sentiment(label=SentimentLabel.neutral, score=0.0, confidence=0.0)

Probabilities = list[float]


def is_english(language: str | None) -> bool:
    """True for English text, which the lexicon scores (the model is Indonesian)."""
    return (language or "").lower().startswith("en")


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) character spans of the sentences of ``text``, empty ones left out."""
    spans, start, pos = [], 0, 0
    while (match := _SENTENCE_END.search(text, pos)) is not None:
        if text[match.start()] != "\n" and _abbreviation(text, match.start()):
            pos = match.start() + 1  # as a lookbehind failing there: the next character may start an end
            continue
        if text[start : match.start()].strip():
            spans.append((start, match.start() + len(match.group().rstrip())))
        start = pos = match.end()
    if text[start:].strip():
        spans.append((start, len(text)))
    return spans


def _abbreviation(text: str, i: int) -> bool:
    """True when the full stop (or other end mark) at ``i`` follows a capital, or a capital and a small letter."""
    before = text[max(0, i - 2) : i]
    if before[-1:] and "A" <= before[-1] <= "Z":
        return True
    return len(before) == 2 and "A" <= before[0] <= "Z" and "a" <= before[1] <= "z"


def _unit_probabilities(unit_words: Sequence[str], names: frozenset[str]) -> Probabilities | None:
    """The model's probabilities for one unit, or None when it has no word."""
    if not any(w[0].isalpha() for w in unit_words):
        return None
    return probabilities(unit_words, names)


def combine(units: Iterable[tuple[Probabilities | None, float]]) -> Sentiment | None:
    """The weighted mean of ``(probabilities, weight)`` units as a Sentiment; None when no unit had words."""
    total = 0.0
    mean = [0.0, 0.0, 0.0]
    for probs, weight in units:
        if probs is not None:
            mean = [m + weight * p for m, p in zip(mean, probs, strict=True)]
            total += weight
    if not total:
        return None
    mean = [p / total for p in mean]
    best = max(range(3), key=mean.__getitem__)
    return Sentiment(
        label=SentimentLabel(LABELS[best]), score=round(mean[2] - mean[0], 3), confidence=round(mean[best], 3)
    )


class SplitText:
    """A text's sentences (character spans) and the words of each (:func:`tokens.words`), split once for
    the sentiment, the tones and the keywords. End marks that follow a sentence end with nothing else
    before them (". . .", a line opening with ".") belong to no sentence: they are the words of the gap
    before the next sentence (``gaps``; ``gaps[-1]`` after the last)."""

    def __init__(self, text: str):
        self.spans = sentence_spans(text)
        self.sentence_words = [words(text[start:end]) for start, end in self.spans]
        bounds = [0, *(b for span in self.spans for b in span), len(text)]  # gap k: bounds[2k]..bounds[2k+1]
        self.gaps = [_gap_words(text[a:b]) for a, b in zip(bounds[::2], bounds[1::2], strict=True)]

    def words(self) -> list[str]:
        """The words of the whole text, ``words(text)`` (a word never spans the space between sentences)."""
        parts = (
            part
            for gap, sentence in zip(self.gaps, self.sentence_words, strict=False)
            for part in (gap, sentence)
        )
        return [*chain.from_iterable(parts), *self.gaps[-1]]


def _gap_words(gap: str) -> list[str]:
    return words(gap) if gap and not gap.isspace() else []


class _Sentences:
    """The sentences of a text, each scored by the model at most once."""

    def __init__(self, split: SplitText, names: frozenset[str]):
        self.names = names
        self.spans, self._words, self.gaps = split.spans, split.sentence_words, split.gaps
        self.starts = [start for start, _ in self.spans]
        self._probabilities: dict[int, Probabilities | None] = {}
        self._evidence: dict[int, Evidence] = {}

    def words(self, i: int) -> list[str]:
        return self._words[i]

    def evidence(self, i: int) -> Evidence:
        """The lexicon's evidence of one sentence (English tones)."""
        if i not in self._evidence:
            self._evidence[i] = read_evidence(self.words(i), self.names)
        return self._evidence[i]

    def lexicon_sentiment(self, title_words: list[str]) -> Sentiment:
        """The lexicon's sentiment of the title and the whole text read together (English articles), from the
        same per-sentence evidence the tones read: a sentence ending at a clause boundary is read alone,
        others together with what follows them (a negation may reach across)."""
        pieces, group = [], list(title_words)
        if _closes(group):
            pieces.append(read_evidence(group, self.names))
            group = []
        for i in range(len(self.spans)):
            sentence = self.words(i)
            if self.gaps[i]:
                group += self.gaps[i]  # end marks outside any sentence: read with the sentence after them
            if group:
                group += sentence
            elif _closes(sentence):
                pieces.append(self.evidence(i))
                continue
            else:
                group = list(sentence)
            if _closes(group):
                pieces.append(read_evidence(group, self.names))
                group = []
        group += self.gaps[-1]
        if group:
            pieces.append(read_evidence(group, self.names))
        tone = score_pieces(pieces)  # every piece but the last closes: never None
        if tone is None:
            everything = [
                *title_words,
                *(w for i in range(len(self.spans)) for w in self.gaps[i] + self.words(i)),
            ]
            tone = score_skipping(everything + self.gaps[-1], self.names)
        return tone

    def lexicon_tone(self, indices: list[int]) -> Sentiment:
        """The lexicon's sentiment of these sentences read together, each sentence read once per article."""
        tone = score_pieces([self.evidence(i) for i in indices])
        return tone or score_skipping([w for i in indices for w in self.words(i)], self.names)

    def probabilities(self, i: int) -> Probabilities | None:
        if i not in self._probabilities:
            self._probabilities[i] = _unit_probabilities(self.words(i), self.names)
        return self._probabilities[i]

    def containing(self, positions: Iterable[int]) -> list[int]:
        """Indices of the sentences holding these character offsets."""
        return sorted({bisect_right(self.starts, p) - 1 for p in positions} - {-1})


def _closes(unit_words: list[str]) -> bool:
    """True when words end at a clause boundary (see :class:`lexicon.Evidence`)."""
    return bool(unit_words) and not unit_words[-1][0].isalpha()


def score_article(
    title_words: list[str],
    text: str,
    entities: list[Entity],
    language: str | None = None,
    split: SplitText | None = None,
) -> tuple[Sentiment, list[Entity]]:
    """The article's sentiment, and its entities with the tone toward each person and organisation
    (``split``: the text's :class:`SplitText`, when the caller has it)."""
    all_names = [n for e in entities for n in (e.name, *e.aliases)]
    sentences = _Sentences(split or SplitText(text), name_words(all_names))
    if is_english(language):
        article = sentences.lexicon_sentiment(title_words)
    else:
        lead = [(sentences.probabilities(i), 1.0) for i in range(min(LEAD_SENTENCES, len(sentences.spans)))]
        title = _unit_probabilities(title_words, sentences.names)
        article = combine([(title, TITLE_WEIGHT), *lead]) or _NO_SENTIMENT
    toned = []
    for entity in entities:
        indices = sentences.containing(entity.positions) if entity.type in TONED_TYPES else []
        tone = None
        if indices and is_english(language):
            tone = sentences.lexicon_tone(indices)
        elif indices:
            tone = combine((sentences.probabilities(i), 1.0) for i in indices)
        toned.append(entity.model_copy(update={"sentiment": tone}) if tone else entity)
    return article, toned


def score_sentiment(text: str, names: Iterable[str] = (), language: str | None = None) -> Sentiment:
    """Label, score (P(positive) - P(negative)) and confidence of an article body without a title."""
    entities = [Entity(name=name, type=EntityType.LOCATION) for name in names]  # names to mask only
    return score_article([], text, entities, language)[0]


def entity_tones(text: str, entities: list[Entity], language: str | None = None) -> list[Entity]:
    """The entities, each person and organisation with the tone of the sentences that mention it."""
    return score_article([], text, entities, language)[1]
