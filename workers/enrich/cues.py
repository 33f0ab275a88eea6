"""Cue words of the entity rules (roles, speech verbs, organisation and place heads) and name-token tests."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from .mentions import Claims
from .resources import cue_words, load_json, load_words
from .tokens import HYPHENS, Doc, fold, tokenize

MAX_NAME_TOKENS = 5  # longest personal name taken after a cue (Ferdinand Romualdez Marcos Jr. fits)


class Phrases:
    """Case-insensitive multi-word phrase lookup over a Doc's token keys (longest phrase wins)."""

    def __init__(self, phrases: list[str]):
        self._by_first: dict[str, list[tuple[str, ...]]] = {}
        self.values: dict[tuple[str, ...], str] = {}
        for phrase in phrases:
            key = tuple(fold(t) for t in tokenize(phrase))
            self._by_first.setdefault(key[0], []).append(key)
            self.values[key] = phrase
        for keys in self._by_first.values():
            keys.sort(key=len, reverse=True)
        self.firsts = frozenset(self._by_first)  # callers test membership before calling match()

    def match(self, keys: list[str], i: int) -> int | None:
        """End index (exclusive) of the longest phrase starting at token ``i``, else None."""
        for phrase in self._by_first.get(keys[i], ()):
            if tuple(keys[i : i + len(phrase)]) == phrase:
                return i + len(phrase)
        return None

    def match_value(self, keys: list[str], i: int) -> tuple[int, str] | None:
        """Like :meth:`match`, with the phrase as written in the data file."""
        end = self.match(keys, i)
        return None if end is None else (end, self.values[tuple(keys[i:end])])


@dataclass(frozen=True)
class Cues:
    """Every word list the entity rules use, loaded once."""

    roles: Phrases
    speech_before: Phrases
    speech_after: frozenset[str]
    adverbs: frozenset[str]
    role_words: frozenset[str]
    org_heads: Phrases
    org_keywords: frozenset[str]
    org_suffixes: frozenset[str]  # end an organisation name: "PT Astra Otoparts Tbk"
    place_heads: Phrases
    place_names: dict[str, tuple[str, str]]  # head -> (subtype, prefix of the canonical name)
    regency_cues: Phrases
    locatives: frozenset[str]  # "di Istora Senayan": a name after these is a place, not a person
    place_prepositions: frozenset[str]  # "in Rangpur": an unknown capitalised word after these is a place
    place_phrases: Phrases  # "the province of Cagayan", "districts of Lalmonirhat and Kurigram"
    place_keywords: frozenset[str]  # English place words closing a name: "Indonesia Arena", "Teesta River"
    connectors: frozenset[str]
    particles: frozenset[str]
    initials: frozenset[str]
    languages: frozenset[str]
    unresolvable: frozenset[str]
    dates: frozenset[str]  # month and day names: never part of a name (no "April" entity from 26 April 2025)
    stopwords: frozenset[str]
    common: frozenset[str]  # ordinary words that start sentences and headings


@lru_cache(maxsize=1)
def cues() -> Cues:
    """The cue lists from ``entity_cues.json`` and the word lists."""
    data = load_json("entity_cues.json")
    places = {k: v for k, v in data["location_heads"].items() if k != "_"}
    stopwords = load_words("stopwords_id.txt", "stopwords_en.txt")
    return Cues(
        roles=Phrases(data["person_roles"]),
        speech_before=Phrases(data["speech_before_name"]),
        speech_after=cue_words("speech_after_name"),
        adverbs=cue_words("adverbs_between"),
        role_words=cue_words("role_words") | cue_words("person_roles"),
        org_heads=Phrases(data["org_heads"]),
        org_keywords=cue_words("org_keywords"),
        org_suffixes=cue_words("org_suffixes"),
        place_heads=Phrases(list(places)),
        place_names={fold(k): (subtype, prefix) for k, (subtype, prefix) in places.items()},
        regency_cues=Phrases(data["regency_cues"]),
        locatives=cue_words("locatives"),
        place_prepositions=cue_words("place_prepositions"),
        place_phrases=Phrases(data["place_phrases"]),
        place_keywords=cue_words("place_keywords"),
        connectors=cue_words("connectors"),
        particles=cue_words("name_particles"),
        initials=cue_words("initials_cues"),
        languages=cue_words("language_cues"),
        unresolvable=frozenset(fold(w) for w in data["unresolvable_name_tokens"]),
        dates=cue_words("months") | cue_words("days"),
        stopwords=stopwords,
        common=load_words("common_words.txt") | stopwords,
    )


def is_name_token(doc: Doc, i: int, cued: bool) -> bool:
    """True for a capitalised word that can be part of a personal name.

    After a cue ("kata X", "Menteri X") only function, role and date words are excluded, so that
    names which are also English words (Moon, Rice) still pass; without a cue, common words are out too.
    """
    text, key = doc.texts[i], doc.keys[i]
    if not doc.caps[i] or not doc.words[i] or doc.masked[i] or len(text) < 2 or text.isupper():
        return False
    c = cues()
    if key in c.dates or key in c.stopwords or key in c.role_words:
        return False
    if (key in c.org_heads.firsts and c.org_heads.match(doc.keys, i)) or (
        key in c.place_heads.firsts and c.place_heads.match(doc.keys, i)
    ):
        return False
    return cued or key not in c.common


def is_demonym(doc: Doc, i: int) -> bool:
    """True for an English adjective of nationality before a lower-case noun: "Chinese brands", "Asian factory"."""
    following = i + 1 < doc.n and doc.words[i + 1] and not doc.caps[i + 1]
    return following and doc.keys[i] in _demonyms()


@lru_cache(maxsize=1)
def _demonyms() -> frozenset[str]:
    """Adjectives of nationality and region, derived from the English place names (Korea -> Korean,
    China -> Chinese, Italy -> Italian, Bangladesh -> Bangladeshi), plus the irregular ones."""
    names = [fold(a) for item in load_json("gazetteer_countries.json")["locations"] for a in item["aliases"]]
    names += [
        fold(a)
        for group in load_json("gazetteer_world.json").values()
        if isinstance(group, dict)
        for name, aliases in group.items()
        for a in (name, *aliases)
    ]
    found = set(load_json("entity_cues.json")["demonyms_irregular"])
    for name in (n for n in names if " " not in n and len(n) > 3):
        stem = name[:-1] if name[-1] in "aeiouy" else name
        found.update(
            {name + "n", name + "an", name + "ian", stem + "ian", stem + "ese", name + "ese", name + "i"}
        )
    return frozenset(found)


def name_run(doc: Doc, claims: Claims, i: int, cued: bool = True) -> int:
    """End (exclusive) of the personal name starting at token ``i``; ``i`` itself when there is none."""
    n, c = doc.n, cues()
    end = j = i
    count = 0
    while j < n and count < MAX_NAME_TOKENS:
        if claims.at(j) is not None or (j > i and doc.newline_before(j)):
            break
        text = doc.texts[j]
        if is_name_token(doc, j, cued):
            count += 1
            j = end = j + 1
        elif end > i and text in HYPHENS and _joined(doc, j) and j + 1 < n and doc.words[j + 1]:
            j = end = j + 2  # Jong-un, al-Assad
            count += 1
        elif len(text) == 1 and text.isupper() and j + 1 < n and doc.texts[j + 1] == ".":
            j += 2  # a middle initial: Donald J. Trump
        elif end > i and doc.keys[j] in c.particles and j + 1 < n and doc.caps[j + 1]:
            j += 1  # Mohammed bin Salman
        else:
            break
    return end


def _joined(doc: Doc, i: int) -> bool:
    """True when token ``i`` touches its neighbours (a hyphen inside a word, not a dash between clauses)."""
    return doc.ends[i - 1] == doc.starts[i] and i + 1 < doc.n and doc.ends[i] == doc.starts[i + 1]
