"""Tokens of an article text with the flags the entity rules look at (case, sentence starts, headings)."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from itertools import accumulate

# Words keep inner apostrophes (Ma'ruf, Jum'at) but not the English possessive ('s), so "Whitfield's"
# is Whitfield; hyphens and other punctuation are their own tokens, so "Rusia-Ukraina" gives two places
# and "Kim Jong-un" can be matched with or without the hyphen.
_TOKEN = re.compile(r"\w+(?:['’](?!s\b)\w+)*|[^\w\s]")
# The same tokens as one group: split() then gives the gaps and the tokens in turn (gap, token, ..., gap).
_TOKEN_SPLIT = re.compile(f"({_TOKEN.pattern})")
# Sentiment and keywords read plainer words: letters only, hyphenated and apostrophised words whole
# (negara-negara, Ma'ruf), plus the punctuation that ends a clause. No word spans a line break.
_WORD = re.compile(r"[^\W\d_]+(?:[-'’][^\W\d_]+)*|[.!?;:,()\"“”]")
HYPHENS = frozenset("-‐‑–—")
_SENTENCE_END = frozenset(".!?;:…")
_QUOTES = frozenset("\"'“”‘’«»()[]")
# A line is a heading when at least this share of its words is capitalised: in the seeds, headlines
# score 0.78-1.0 and the body sentence densest with names 0.61 ("Komisi Militer Pusat Partai ...").
HEADING_CAP_RATIO = 0.75
# Per-word memo caches (fold here, stem.candidates, lexicon._weight, sentiment_model._word_vector). New
# articles keep bringing new words (names, numbers, typos), so each cache fills to its maxsize: at 65536
# entries the first three held ~35 MB together, reached only after ~15,000-30,000 articles (RSS +3 MB per
# 1,000 articles until then).
# 8192 entries (~4-5 MB together, full within ~1,000 articles) keep hit rates at 0.99 (fold, _weight).
WORD_CACHE_SIZE = 8192


@lru_cache(maxsize=WORD_CACHE_SIZE)
def fold(word: str) -> str:
    """Lookup key of a word: case-folded, accents stripped, typographic apostrophes unified."""
    if word.isascii():  # most words: no accents or typographic apostrophes, and casefold() is lower()
        return word.casefold()
    decomposed = unicodedata.normalize("NFKD", word.replace("’", "'"))
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


def tokenize(text: str) -> list[str]:
    """Word and punctuation tokens of a short text (aliases, cue phrases)."""
    return _TOKEN.findall(text)


def words(text: str) -> list[str]:
    """Letter words and clause punctuation of a text, for sentiment and keywords."""
    return _WORD.findall(text)


def is_capitalized(token: str) -> bool:
    """True when a token starts with an upper-case letter."""
    return token[0].isupper()


class Doc:
    """A tokenised text: tokens, their lookup keys and position flags, shared by all entity rules."""

    def __init__(self, text: str):
        self.text = text
        # parallel lists rather than token objects: this runs per article. Splitting is cheaper than a match
        # object per token, and the gaps are needed anyway (line breaks).
        parts = _TOKEN_SPLIT.split(text)
        self.texts = texts = parts[1::2]
        bounds = list(accumulate(map(len, parts)))  # where each part ends
        self.starts = bounds[0:-1:2]
        self.ends = bounds[1::2]
        self.keys = [fold(t) for t in texts]
        self.words = [t[0].isalnum() or t[0] == "_" for t in texts]
        self.caps = [t[0].isupper() for t in texts]
        self.n = n = len(texts)
        # a line break in the gap before each token
        self.gap_newline = [True] + ["\n" in gap for gap in parts[2:-1:2]]
        self.line_start = self.gap_newline[:n]  # first token of a line: the one after a line break
        self.sentence_start = [False] * n
        self.heading = [False] * n
        self.masked = [False] * n  # datelines, language lists: no entity may use these tokens
        self._flag_positions()

    def surface(self, start: int, end: int) -> str:
        """The text covered by tokens ``start`` to ``end`` (exclusive)."""
        return self.text[self.starts[start] : self.ends[end - 1]]

    def newline_before(self, i: int) -> bool:
        """True when a line break separates token ``i`` from the previous one."""
        return self.gap_newline[i]

    def _flag_positions(self) -> None:
        texts, gaps = self.texts, self.gap_newline
        prev = None  # index of the previous token that is not a quote or bracket
        line = 0  # first token of the current line
        for i, text in enumerate(texts):
            if gaps[i]:
                self._flag_heading(line, i)
                line = i
            if text in _QUOTES:
                continue
            self.sentence_start[i] = (
                prev is None
                or gaps[i]  # a line start
                or (texts[prev] in _SENTENCE_END and self._ends_sentence(prev))
                or (i - prev > 1 and any(gaps[prev + 1 : i + 1]))  # a line break before a quote
            )
            prev = i
        self._flag_heading(line, len(texts))

    def _ends_sentence(self, i: int) -> bool:
        text = self.texts[i]
        if text not in _SENTENCE_END:
            return False
        # "U.S." or "Jr." are abbreviations, not sentence ends
        return not (text == "." and i > 0 and len(self.texts[i - 1]) <= 2 and self.caps[i - 1])

    def _flag_heading(self, start: int, end: int) -> None:
        """Flag the line of tokens ``start`` to ``end`` (exclusive) as a heading when most words are capitalised."""
        line = zip(self.texts[start:end], self.words[start:end], self.caps[start:end], strict=False)
        caps = [cap for text, word, cap in line if word and not text.isdigit()]
        if len(caps) >= 2 and sum(caps) / len(caps) >= HEADING_CAP_RATIO:
            self.heading[start:end] = [True] * (end - start)
