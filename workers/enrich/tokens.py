"""Tokens of an article text with the flags the entity rules look at (case, sentence starts, headings)."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Container, Iterator
from functools import lru_cache
from itertools import accumulate, chain, compress, count, repeat
from operator import and_, gt, itemgetter, not_

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
# Per-word memo caches (fold here, stem.candidates, lexicon._role, sentiment_model._word_vector). New
# articles keep bringing new words (names, numbers, typos), so each cache fills to its maxsize: at 65536
# entries the first three held ~35 MB together, reached only after ~15,000-30,000 articles (RSS +3 MB per
# 1,000 articles until then).
# 8192 entries (~4-5 MB together, full within ~1,000 articles) keep hit rates at 0.99 (fold, _role).
WORD_CACHE_SIZE = 8192
# The two memos whose misses cost most (lexicon._role stems the word; tagger._known_word_features builds
# and filters its feature strings) hold more words. Over a stream of 1,493 distinct articles (real pages
# and dev/train sentences, /work/notes/issue-25-memo.md) this cut the word-memo misses of the last quarter
# from 154 to 107 per article and enrich CPU by ~10 % at +15 MB RSS; every memo at 32768 gained about the
# same for +36 MB, and at 65536 (not yet full after the stream) +48 MB.
COSTLY_WORD_CACHE_SIZE = 32768


@lru_cache(maxsize=WORD_CACHE_SIZE)
def fold(word: str) -> str:
    """Lookup key of a word: case-folded, accents stripped, typographic apostrophes unified."""
    if word.isascii():  # most words: no accents or typographic apostrophes, and casefold() is lower()
        return word.casefold()
    decomposed = unicodedata.normalize("NFKD", word.replace("’", "'"))
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


def fold_all(tokens: list[str]) -> list[str]:
    """:func:`fold` of every token: casefold() for ASCII ones (no memo: a new name costs no cache entry)."""
    keys = list(map(str.casefold, tokens))
    for k in compress(range(len(tokens)), map(not_, map(str.isascii, tokens))):
        keys[k] = fold(tokens[k])
    return keys


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
        # object per token, and the gaps are needed anyway (line breaks). Per-token flags come from map()
        # over C functions, not Python loops.
        parts = _TOKEN_SPLIT.split(text)
        self.texts = texts = parts[1::2]
        bounds = list(accumulate(map(len, parts)))  # where each part ends
        self.starts = bounds[0:-1:2]
        self.ends = bounds[1::2]
        self.keys = fold_all(texts)
        firsts = list(map(itemgetter(0), texts))
        # a token is a word when it starts with a \w character: a letter, a digit (str.isalnum) or "_"
        self.words = list(map(str.isalnum, firsts))
        if "_" in text:
            self.words = [w or f == "_" for w, f in zip(self.words, firsts, strict=True)]
        self.caps = list(map(str.isupper, firsts))
        self.n = n = len(texts)
        # a line break in the gap before each token
        self.gap_newline = [True, *map(str.__contains__, parts[2:-1:2], repeat("\n"))]
        self.line_start = self.gap_newline[:n]  # first token of a line: the one after a line break
        self.sentence_start = [False] * n
        self.heading = [False] * n
        self.masked = [False] * n  # datelines, language lists: no entity may use these tokens
        self._flag_sentences()
        self._flag_headings()

    def surface(self, start: int, end: int) -> str:
        """The text covered by tokens ``start`` to ``end`` (exclusive)."""
        return self.text[self.starts[start] : self.ends[end - 1]]

    def positions(self, keys: Container[str]) -> Iterator[int]:
        """Indices of the tokens whose key is in ``keys``, in text order: the rules that start at a cue word
        visit only those (the test runs in C over all tokens)."""
        return compress(count(), map(keys.__contains__, self.keys))

    def newline_before(self, i: int) -> bool:
        """True when a line break separates token ``i`` from the previous one."""
        return self.gap_newline[i]

    def _flag_sentences(self) -> None:
        """A sentence starts at the first token that is no quote or bracket after a line break (the text's
        start included) or after a sentence end."""
        texts, n, flags = self.texts, self.n, self.sentence_start
        line_starts = compress(range(n), self.gap_newline)
        ends = compress(range(n), map(_SENTENCE_END.__contains__, texts))
        for i in chain(line_starts, (i + 1 for i in ends if self._ends_sentence(i))):
            while i < n and texts[i] in _QUOTES:
                i += 1
            if i < n:
                flags[i] = True

    def _ends_sentence(self, i: int) -> bool:
        text = self.texts[i]
        if text not in _SENTENCE_END:
            return False
        # "U.S." or "Jr." are abbreviations, not sentence ends
        return not (text == "." and i > 0 and len(self.texts[i - 1]) <= 2 and self.caps[i - 1])

    def _flag_headings(self) -> None:
        """Flag each line whose words (numbers aside) are mostly capitalised as a heading."""
        # counted: a word that is not a number (no digit-only token is punctuation)
        counted = list(map(gt, self.words, map(str.isdigit, self.texts)))
        caps = list(map(and_, counted, self.caps))
        starts = list(compress(range(self.n), self.gap_newline))
        for start, end in zip(starts, [*starts[1:], self.n], strict=False):  # no line when no token
            words = sum(counted[start:end])
            if words >= 2 and sum(caps[start:end]) / words >= HEADING_CAP_RATIO:
                self.heading[start:end] = [True] * (end - start)
