"""Keywords of an article: its main entities and most frequent content words and phrases, for story clustering."""

from __future__ import annotations

from collections import defaultdict
from functools import lru_cache
from itertools import compress

from schemas import Entity

from .resources import cue_words, load_words
from .tokens import fold, fold_all, words

MAX_KEYWORDS = 10
TITLE_WEIGHT = 3  # a title word counts as three body occurrences: titles name the story
ENTITY_WEIGHT = 1.5  # an entity mention outweighs a plain word: canonical names unify Korut / Korea Utara
MIN_PHRASE_COUNT = 2  # a two-word phrase must recur to be a keyword ("pasukan khusus", "bantuan militer")
MIN_WORD_LENGTH = 3


def extract_keywords(title: str, text: str, entities: list[Entity]) -> list[str]:
    """Up to MAX_KEYWORDS lower-case keywords: entity names, content words and recurring two-word phrases."""
    return keywords_from_words(words(title), words(text), entities)


def keywords_from_words(title_words: list[str], text_words: list[str], entities: list[Entity]) -> list[str]:
    """:func:`extract_keywords` of a title and text already split by :func:`tokens.words`."""
    stop = _stopwords()
    # one split of all the aliases, a line each: no word spans a line break
    entity_words = set(map(fold, words("\n".join(alias for e in entities for alias in e.aliases))))
    scores: defaultdict[str, float] = defaultdict(float)  # entity mentions weigh 1.5
    first_seen: dict[str, int] = {}
    for weight, chunk in ((TITLE_WEIGHT, title_words), (1, text_words)):
        folded = fold_all(chunk)
        content = _content(folded, stop, entity_words) + [False]
        for i in compress(range(len(folded)), content):
            word = folded[i]
            scores[word] += weight
            first_seen.setdefault(word, len(first_seen))
            if content[i + 1]:
                phrase = f"{word} {folded[i + 1]}"
                scores[phrase] += weight
                first_seen.setdefault(phrase, len(first_seen))
    for phrase in [p for p in scores if " " in p and scores[p] < MIN_PHRASE_COUNT]:
        del scores[phrase]
    for phrase in [p for p in scores if " " in p]:  # a phrase replaces its words when it accounts for them
        for word in phrase.split():
            if scores.get(word, 0) <= scores[phrase]:
                scores.pop(word, None)
    for entity in entities:
        name = entity.name.lower()
        scores[name] += ENTITY_WEIGHT * entity.mentions
        first_seen.setdefault(name, len(first_seen))
    ranked = sorted(scores, key=lambda k: (-scores[k], first_seen[k]))
    return ranked[:MAX_KEYWORDS]


@lru_cache(maxsize=1)
def _stopwords() -> frozenset[str]:
    return load_words("stopwords_id.txt", "stopwords_en.txt") | cue_words("months") | cue_words("days")


def _content(folded: list[str], stop: frozenset[str], entity_words: set[str]) -> list[bool]:
    """For each folded word, whether it is a content word: long enough, not a stopword, not part of an entity name
    (decided once per distinct word)."""
    distinct = set(folded) - stop - entity_words
    content = {w for w in distinct if w[0].isalpha() and len(w) >= MIN_WORD_LENGTH}
    return list(map(content.__contains__, folded))
