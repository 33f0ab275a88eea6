"""The trained entity recogniser: a CRF (python-crfsuite) over the capitalised runs of a text.

Only runs of capitalised words (with the short words that join them inside a name: "dan", "of", "-", ",")
are tagged; every other token is outside any entity. That keeps the cost to a fraction of the tokens, and
loses few entities in cased news (``ops/train_entities.py`` prints the share of gold entities a run covers).
Each token's features are its word, shape and affixes, its neighbours, the cue lists, the name lexicon and
what the hand-written rules (gazetteer included) made of it: the model learns when to trust them. A separate
gazetteer feature was tried and dropped: no change on idner dev (0.846 both), one more trie walk per run.
Three families were dropped for speed (issue 25: each is one more string per token to build and to hand to
crfsuite): the two-letter suffix, the length and the previous token's shape. Model-level dev F1 with / without
them: id (idner dev) 0.850 / 0.851, en (BTC dev) 0.543 / 0.547. Dropping the next token's shape too, or
the two-letter prefix, cost id 0.002-0.005 or broke a seed or fixture test (tests/test_enrich*.py).
``ops/train_entities.py`` trains
one model per language on the train parts of ``../shared/data/train`` and writes them to ``workers/data``.
"""

from __future__ import annotations

import string
from collections import defaultdict
from dataclasses import dataclass, field
from functools import cache, lru_cache
from importlib import resources
from itertools import compress, count, groupby, product
from operator import and_, or_

from .cues import cues
from .mentions import Claims
from .resources import load_words
from .tokens import COSTLY_WORD_CACHE_SIZE, HYPHENS, WORD_CACHE_SIZE, Doc

MODEL_FILES = {"id": "ner_id.crfsuite", "en": "ner_en.crfsuite"}
ATTRIBUTES_SUFFIX = ".attributes.txt"  # beside each model: the attributes it has weights for, one a line
LEXICON_FILE = "ner_lexicon.txt"  # word, tab, the type of the names it is mostly seen in
DEFAULT_LANGUAGE = "id"
# A rule mention the model labels O with at least this marginal probability is not added back by the
# linking layer. Chosen on idner-news-2k dev (documents of 10 sentences) among 1.01 (off), 0.99, 0.95, 0.9,
# 0.8, 0.7, 0.5: mention F1 0.824, 0.828, 0.832, 0.837, 0.842, 0.839, 0.839.
SURE_OUTSIDE = 0.8
# lower-case tokens that may join two capitalised words inside one name: "Energi dan Sumber Daya Mineral",
# "Bank of England", "Mohammed bin Salman", "Badan Meteorologi, Klimatologi, dan Geofisika"
JOINERS = frozenset(
    {"dan", "and", "of", "the", "for", "de", "da", "del", "bin", "binti", "van", "von", "der", "al", "el"}
    | {"untuk", "&", ".", ",", "'", "’", *HYPHENS}
)
# lower-case words for an area that the news sets annotate as part of the place: "wilayah Jabotabek"
_AREA_WORDS = frozenset({"wilayah", "kawasan", "daerah", "hotel", "lapangan", "perairan", "pegunungan"})
MAXJOINERS = 2  # ", dan" between two capitalised words
_SHAPE = str.maketrans(
    {**dict.fromkeys(string.ascii_uppercase, "X"), **dict.fromkeys(string.ascii_lowercase, "x")}
    | dict.fromkeys(string.digits, "d")
)


def candidate_runs(doc: Doc) -> list[tuple[int, int]]:
    """Token ranges of the capitalised runs the model tags (start inclusive, end exclusive)."""
    runs, i, n = [], 0, doc.n
    caps, words = doc.caps, doc.words
    # only a capitalised word or an "@" can open a run: the others are skipped in C
    opening = map(or_, map(and_, caps, words), map("@".__eq__, doc.texts))
    for start in compress(count(), opening):
        if start < i:
            continue  # inside the previous run
        i = start
        if doc.texts[i] == "@" and _touches(doc, i) and words[i + 1]:
            runs.append((i, i + 2))  # a user name: "@SportsCenter"
            i += 2
            continue
        if not (caps[i] and words[i]):
            i += 1
            continue
        if i > 0 and not doc.gap_newline[i] and _is_head(doc, i - 1):
            i -= 1  # a lower-case head word opens the name: "kawasan Pantura", "kota Bandung"
        j = i + 1
        while j < n and not doc.gap_newline[j]:
            if words[j] and (caps[j] or doc.texts[j].isdigit()):
                j += 1
                continue
            if _joined_word(doc, j):
                j += 2  # a hyphen inside a word joins a lower-case part: "Jong-un", "al-Assad"
                continue
            if _acronym_after(doc, j):
                j += 3  # the acronym in brackets belongs to the name: "Mahkamah Konstitusi (MK)"
                continue
            k = j
            while k < n and k - j < MAXJOINERS and doc.keys[k] in JOINERS and not doc.gap_newline[k]:
                k += 1
            if (
                k > j
                and k < n
                and caps[k]
                and words[k]
                and not doc.gap_newline[k]
                and not doc.sentence_start[k]
            ):
                j = k + 1
            else:
                break
        if j - i > 1 or not (doc.sentence_start[i] and doc.keys[i] in _ordinary()):
            runs.append((i, j))  # a lone ordinary word opening a sentence ("Menurut", "The") is no name
        i = j
    return runs


@cache
def _ordinary() -> frozenset[str]:
    """Ordinary words (the common-word and stopword lists) that are not in the name lexicon."""
    names = lexicon()
    return frozenset(w for w in cues().common if w not in names)


def _is_head(doc: Doc, i: int) -> bool:
    """True for a lower-case organisation or place head word ("kota", "wilayah", "hotel")."""
    key = doc.keys[i]
    return doc.words[i] and not doc.caps[i] and (key in _heads())


@cache
def _heads() -> frozenset[str]:
    c = cues()
    heads = {k for k in c.place_heads.firsts | c.org_heads.firsts if k.isalpha()}
    return frozenset(heads | _AREA_WORDS)


def _touches(doc: Doc, i: int) -> bool:
    """True when token ``i`` is followed by a token with no space between them."""
    return i + 1 < doc.n and doc.ends[i] == doc.starts[i + 1]


def _joined_word(doc: Doc, j: int) -> bool:
    """True when token ``j`` is a hyphen between two words with no spaces around it."""
    return (
        doc.texts[j] in HYPHENS
        and j > 0
        and doc.ends[j - 1] == doc.starts[j]
        and _touches(doc, j)
        and doc.words[j + 1]
    )


def _acronym_after(doc: Doc, j: int) -> bool:
    """True when tokens ``j``.. are "(", a capitalised word, ")"."""
    return (
        j + 2 < doc.n
        and doc.texts[j] == "("
        and doc.caps[j + 1]
        and doc.words[j + 1]
        and doc.texts[j + 2] == ")"
    )


@lru_cache(maxsize=WORD_CACHE_SIZE)
def _word_features(text: str) -> tuple[str, ...]:
    """Features of a token on its own (cached: the same words recur across articles)."""
    key = text.casefold()
    c = cues()
    feats = [
        "w=" + key,
        "sh=" + _shape(text),
        "p3=" + key[:3],
        "s3=" + key[-3:],
        "s4=" + key[-4:],
        "p2=" + key[:2],
    ]
    if text.isupper():
        feats.append("upper")
    kind = lexicon().get(key)
    if kind:
        feats.append("lex=" + kind)
    for name, words in (
        ("common", c.common),
        ("role", c.role_words),
        ("date", c.dates),
        ("loc", c.locatives),
        ("orgkw", c.org_keywords),
        ("placekw", c.place_keywords),
        ("speech", c.speech_after),
    ):
        if key in words:
            feats.append(name)
    if key in c.org_heads.firsts:
        feats.append("orghead")
    if key in c.place_heads.firsts:
        feats.append("placehead")
    return tuple(feats)


@cache
def lexicon() -> dict[str, str]:
    """The name lexicon ``ops/train_entities.py`` derives from the other NER train parts (empty if absent)."""
    path = resources.files("workers").joinpath("data", LEXICON_FILE)
    if not path.is_file():
        return {}
    rows = (line.split("\t") for line in path.read_text(encoding="utf-8").splitlines() if line)
    return {word: kind for word, kind in rows}


def _rule_tags(doc: Doc, claims: Claims) -> list[str]:
    """Per token: the rules' verdict ("PERSON-B/role cue") or ""."""
    tags = [""] * doc.n
    for m in claims.mentions:
        tags[m.start] = f"{m.type.value}-B"
        for k in range(m.start + 1, m.end):
            tags[k] = f"{m.type.value}-I"
    return tags


def _rule_names(claims: Claims, n: int) -> list[str]:
    names = [""] * n
    for m in claims.mentions:
        for k in range(m.start, m.end):
            names[k] = m.rule
    return names


def run_features(
    doc: Doc, claims: Claims, runs: list[tuple[int, int]], known: frozenset[str] | None = None
) -> list[list[list[str]]]:
    """The feature lists of every token of every run (one list of token features per run). With ``known``
    (the attributes a model has weights for), only those: the others would cost their conversion to
    crfsuite's items and change nothing (about 12 of 21 features per token remain)."""
    if known is not None:
        return _known_run_features(doc, claims, runs, known)
    rules, rule_names = _rule_tags(doc, claims), _rule_names(claims, doc.n)
    # padded by two on each side, so that neighbours need no bounds checks: position i is at i + 2
    keys = [_PAD, _PAD, *doc.keys, _PAD, _PAD]
    rules_padded = [_PAD, *rules, _PAD]
    texts, n = doc.texts, doc.n
    out = []
    for start, end in runs:
        seq = []
        shapes = [_shape(texts[k]) if k < n else _PAD for k in range(start + 1, end + 1)]
        for i in range(start, end):
            key, prev, nxt = keys[i + 2], keys[i + 1], keys[i + 3]
            feats = [
                "w-1=" + prev,
                "w+1=" + nxt,
                "w-2=" + keys[i],
                "w+2=" + keys[i + 4],
                "w-1|w=" + prev + "|" + key,
                "w|w+1=" + key + "|" + nxt,
                "r=" + rules[i],
                "rn=" + rule_names[i],
                "r-1=" + rules_padded[i],
                "r+1=" + rules_padded[i + 2],
                "sh+1=" + shapes[i - start],
            ]
            seq.append([*_word_features(texts[i]), *feats, *_flags(doc, i, start)])
        out.append(seq)
    return out


def _flags(doc: Doc, i: int, start: int) -> list[str]:
    return [
        flag
        for flag, on in (
            ("first", i == start),
            ("sent_start", doc.sentence_start[i]),
            ("heading", doc.heading[i]),
        )
        if on
    ]


_PAD = "<s>"  # the neighbour of the first and last tokens


def _known_run_features(
    doc: Doc, claims: Claims, runs: list[tuple[int, int]], known: frozenset[str]
) -> list[list[list[str]]]:
    """:func:`run_features` for a model: the same features in the same order, the unknown ones left out.

    Whether a feature is known is asked of its value (is "jakarta" a known "w-1=" value?), whose hash the
    token's key already holds, rather than of the whole new string; the rules' verdicts and names, few
    values, are looked up whole."""
    rules, rule_names = _rule_tags(doc, claims), _rule_names(claims, doc.n)
    rule_feats, name_feats = _value_features(known, ("r=", "r-1=", "r+1=")), _value_features(known, ("rn=",))
    values = _family_values(known)
    w_prev, w_next, w_prev2, w_next2 = values["w-1="], values["w+1="], values["w-2="], values["w+2="]
    sh_next = values["sh+1="]
    pair_prev, pair_next = values["w-1|w="], values["w|w+1="]
    keys = [_PAD, _PAD, *doc.keys, _PAD, _PAD]  # position i is at i + 2
    rules_padded = [_PAD, *rules, _PAD]
    texts, sentence_start, heading, n = doc.texts, doc.sentence_start, doc.heading, doc.n
    flags = _known_flags(known)
    out = []
    for start, end in runs:
        seq = []
        shapes = [_shape(texts[k]) if k < n else _PAD for k in range(start + 1, end + 1)]  # the next tokens'
        for i in range(start, end):
            key, prev, nxt, prev2, next2 = keys[i + 2], keys[i + 1], keys[i + 3], keys[i], keys[i + 4]
            feats = []
            if prev in w_prev:
                feats.append("w-1=" + prev)
            if nxt in w_next:
                feats.append("w+1=" + nxt)
            if prev2 in w_prev2:
                feats.append("w-2=" + prev2)
            if next2 in w_next2:
                feats.append("w+2=" + next2)
            if (pair := prev + "|" + key) in pair_prev:
                feats.append("w-1|w=" + pair)
            if (pair := key + "|" + nxt) in pair_next:
                feats.append("w|w+1=" + pair)
            rule = rule_feats[rules[i]]
            for feature in (
                rule[0],
                name_feats[rule_names[i]][0],
                rule_feats[rules_padded[i]][1],
                rule_feats[rules_padded[i + 2]][2],
            ):
                if feature is not None:
                    feats.append(feature)
            if (shape := shapes[i - start]) in sh_next:
                feats.append("sh+1=" + shape)
            feats += flags[i == start, sentence_start[i], heading[i]]
            seq.append(feats + _known_word_features(texts[i], known))
        out.append(seq)
    return out


@cache
def _known_flags(known: frozenset[str]) -> dict[tuple[bool, ...], list[str]]:
    """The known ones of "first", "sent_start" and "heading", for each combination of the three."""
    names = ("first", "sent_start", "heading")
    combinations = product((False, True), repeat=3)
    return {on: [f for f, yes in zip(names, on, strict=True) if yes and f in known] for on in combinations}


@cache
def _family_values(known: frozenset[str]) -> dict[str, frozenset[str]]:
    """The values the model knows per feature family: "w-1=" -> {"said", "kata", ...}."""
    values: dict[str, set[str]] = {}
    for feature in known:
        family, _, value = feature.partition("=")
        values.setdefault(family + "=", set()).add(value)
    return defaultdict(frozenset, {family: frozenset(v) for family, v in values.items()})


class _ValueFeatures(dict):
    """Per value, the features of some families ("r=", "r-1=" ...) that a model knows (None for the others)."""

    def __init__(self, known: frozenset[str], families: tuple[str, ...]):
        super().__init__()
        self.known, self.families = known, families

    def __missing__(self, value: str) -> tuple[str | None, ...]:
        found = self[value] = tuple(
            f if f in self.known else None for f in (fam + value for fam in self.families)
        )
        return found


@cache
def _value_features(known: frozenset[str], families: tuple[str, ...]) -> _ValueFeatures:
    """The features of rule verdicts and rule names: few values, kept for the process."""
    return _ValueFeatures(known, families)


@lru_cache(maxsize=COSTLY_WORD_CACHE_SIZE)
def _known_word_features(text: str, known: frozenset[str]) -> list[str]:
    """:func:`_word_features` that the model knows (not memoised twice: models read only these)."""
    return [f for f in _word_features.__wrapped__(text) if f in known]


@lru_cache(maxsize=WORD_CACHE_SIZE)
def _shape(text: str) -> str:
    """ "Xxxx" for "Jakarta", "X" for "KPK", "d" for "2025": character classes, repeats collapsed."""
    if text.isascii() and text.isalpha():  # most tokens: one of four shapes, no translation needed
        if text.islower():
            return "x"
        if text.isupper():
            return "X"
        if text[0].isupper() and text[1:].islower():
            return "Xx"
    return "".join(char for char, _ in groupby(text.translate(_SHAPE)))


def spans_from_labels(labels: list[str], offset: int) -> list[tuple[int, int, str]]:
    """Token spans (start, end, type) of BIO labels; an I- without its B- opens a span."""
    spans: list[tuple[int, int, str]] = []
    for k, label in enumerate(labels):
        prefix, _, kind = label.partition("-")
        if prefix == "I" and spans and spans[-1][1] == offset + k and spans[-1][2] == kind:
            spans[-1] = (spans[-1][0], offset + k + 1, kind)
        elif prefix in ("B", "I"):
            spans.append((offset + k, offset + k + 1, kind))
    return spans


@cache
def known_attributes(language: str) -> frozenset[str] | None:
    """The attributes the language's model has weights for (``ATTRIBUTES_FILES``, written with the model
    by ``ops/train_entities.py``); None when that list is absent (then every feature is passed)."""
    path = resources.files("workers").joinpath("data", MODEL_FILES[language] + ATTRIBUTES_SUFFIX)
    if not path.is_file():
        return None
    return frozenset(path.read_text(encoding="utf-8").split("\n")) - {""}


@cache
def _tagger(language: str):  # -> pycrfsuite.Tagger | None
    """The model of a language, loaded on first use; None when the package has no model for it."""
    import pycrfsuite

    name = MODEL_FILES.get(language)
    if name is None:
        return None
    path = resources.files("workers").joinpath("data", name)
    if not path.is_file():
        return None
    tagger = pycrfsuite.Tagger()
    with resources.as_file(path) as file:
        tagger.open(str(file))
    return tagger


def model_language(doc: Doc, language: str | None) -> str:
    """The model for an article language; for an unknown one, English when the text has more English than
    Indonesian function words, else Indonesian."""
    if language in MODEL_FILES:
        return language
    if language is None:
        english, indonesian = _function_words()
        en = sum(1 for key in doc.keys if key in english)
        if en > sum(1 for key in doc.keys if key in indonesian):
            return "en"
    return DEFAULT_LANGUAGE


@cache
def _function_words() -> tuple[frozenset[str], frozenset[str]]:
    english, indonesian = load_words("stopwords_en.txt"), load_words("stopwords_id.txt")
    return english - indonesian, indonesian - english


def has_model(doc: Doc, language: str | None) -> bool:
    """True when the package ships a model for this language (or the default one)."""
    return _tagger(model_language(doc, language)) is not None


@dataclass
class Tagging:
    """What the model made of a document: entity spans (token start, end, type name), and the tokens a rule
    claimed that the model is sure lie outside any entity (its marginal probability of O)."""

    spans: list[tuple[int, int, str]] = field(default_factory=list)
    sure_outside: set[int] = field(default_factory=set)


def tag(doc: Doc, claims: Claims, language: str | None, model=None) -> Tagging:
    """Entity spans the model (the language's, unless given) finds, and the rule-claimed tokens it rejects."""
    if model is None:
        language = model_language(doc, language)
        tagger, known = _tagger(language), known_attributes(language)
    else:
        tagger, known = model, None
    runs = candidate_runs(doc)
    result = Tagging()
    for (start, _), seq in zip(runs, run_features(doc, claims, runs, known), strict=True):
        labels = tagger.tag(seq)
        result.spans += spans_from_labels(labels, start)
        for k, label in enumerate(labels):
            if label == "O" and claims.at(start + k) is not None and tagger.marginal("O", k) >= SURE_OUTSIDE:
                result.sure_outside.add(start + k)
    return result
