"""Place rules for names the gazetteer does not know, from English cues: "in Rangpur", "the province of
Cagayan", "Indonesia Arena", "Teesta River"."""

from __future__ import annotations

from functools import cache

from schemas import EntityType

from .cues import cues, is_name_token, name_run
from .mentions import Claims, Mention
from .tokens import Doc, fold

MAX_PLACE_WORDS = 3  # "Foro Italico", "Monte Carlo", "Roland Garros"
MAX_PLACE_TOKENS = 3  # after a head word: "Desa Sukamaju Kidul"
_FEATURES = frozenset({"river", "mountain", "lake", "strait", "bay", "island", "beach", "valley"})


def find_place_phrases(doc: Doc, claims: Claims) -> None:
    """Places named by a head word the gazetteer does not know: "Desa Sukamaju", "Kabupaten X"."""
    c = cues()
    for i in doc.positions(c.place_heads.firsts):
        if not doc.caps[i] or doc.masked[i] or claims.at(i) is not None:
            continue
        found = c.place_heads.match_value(doc.keys, i)
        if found is None:
            continue
        j, head = found
        if j < doc.n and doc.texts[j] == ".":
            j += 1  # Kab.
        inner = (
            c.place_heads.match(doc.keys, j) if j < doc.n and doc.caps[j] and claims.at(j) is None else None
        )
        # a head inside the name: "Kecamatan Sungai Sembilan"
        end = min(name_run(doc, claims, inner or j), (inner or j) + MAX_PLACE_TOKENS)
        if end == (inner or j):
            continue
        owner = claims.at(end) if end < doc.n else None
        if owner is not None and _absorbs(doc, head, owner, end):
            end = owner.end  # "Sungai Bengawan Solo" is the river, not Solo
        name, subtype = _place_name(head, doc.surface(j, end))
        claims.add(Mention(i, end, name, EntityType.LOCATION, subtype, rule="place head"), replace=True)


def _place_name(head: str, rest: str) -> tuple[str, str]:
    """Canonical name and subtype of a head-word place, following the gazetteer conventions."""
    subtype, prefix = cues().place_names[fold(head)]
    return (f"{prefix} {rest}" if prefix else rest), subtype


def _absorbs(doc: Doc, head: str, owner: Mention, end: int) -> bool:
    """True when a natural feature's name ends in a known one-word place: "Sungai Bengawan Solo"."""
    one_word = owner.start == end and owner.end == end + 1 and owner.type is EntityType.LOCATION
    return one_word and cues().place_names[fold(head)][0] in _FEATURES and not doc.newline_before(end)


def find_cued_places(doc: Doc, claims: Claims) -> None:
    """Unknown capitalised names after a place preposition or phrase ("in Newark", "districts of A and B")."""
    c = cues()
    for i in doc.positions(_place_cue_words()):
        key = doc.keys[i]
        if doc.masked[i] or doc.caps[i]:
            continue  # the cue itself is lower case: "In" opening a sentence is too often "In April, ..."
        if key in c.place_phrases.firsts and (end := c.place_phrases.match(doc.keys, i)):
            j = end
            while j < doc.n:
                j = _add_place(doc, claims, j)
                if j + 1 < doc.n and doc.keys[j] in ("and", ",") and doc.caps[j + 1]:
                    j += 1  # a list of places: "districts of Lalmonirhat and Kurigram"
                else:
                    break
        elif key in c.place_prepositions and i + 1 < doc.n:
            if doc.keys[i + 1] != "the":
                _add_place(doc, claims, i + 1, require_uncommon=True)
            elif i + 3 < doc.n and not doc.words[i + 3]:
                _add_place(
                    doc, claims, i + 2, require_uncommon=True
                )  # "in the Bicol." but not "in the Indian state"


@cache
def _place_cue_words() -> frozenset[str]:
    """First words of the place phrases, and the place prepositions."""
    c = cues()
    return c.place_phrases.firsts | c.place_prepositions


def _add_place(doc: Doc, claims: Claims, start: int, require_uncommon: bool = False) -> int:
    """Claim the capitalised run at ``start`` as a place; the index after it (``start`` when none)."""
    end = start
    while (
        end < doc.n
        and end - start < MAX_PLACE_WORDS
        and claims.at(end) is None
        and (end == start or not doc.newline_before(end))
    ):
        if not is_name_token(doc, end, cued=not require_uncommon):
            break
        end += 1
    # a run followed by more capitals ("in New Delhi Street") or by a keyword rule's word is not ours to name
    if end == start or (end < doc.n and doc.caps[end] and doc.words[end] and claims.at(end) is None):
        return start
    name = " ".join(doc.surface(start, end).split())
    claims.add(Mention(start, end, name, EntityType.LOCATION, "place", weak=False, rule="place cue"))
    return end


def find_place_keywords(doc: Doc, claims: Claims) -> None:
    """Names closed by an English place word: "Indonesia Arena", "Teesta River", "Luzon Island"."""
    c = cues()
    for i in doc.positions(c.place_keywords):
        if not doc.caps[i] or doc.heading[i] or claims.at(i) is not None or i == 0:
            continue
        start = i
        while start - 1 >= 0 and i - start < MAX_PLACE_WORDS and doc.caps[start - 1] and doc.words[start - 1]:
            owner = claims.at(start - 1)
            if owner is not None and owner.type is not EntityType.LOCATION:
                break
            if doc.sentence_start[start - 1] and owner is None:
                break
            start = owner.start if owner is not None else start - 1
        if start < i:
            name = " ".join(doc.surface(start, i + 1).split())
            claims.add(
                Mention(start, i + 1, name, EntityType.LOCATION, "place", rule="place keyword"), replace=True
            )
