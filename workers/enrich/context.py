"""Context rules that keep tokens out of entities: outlet datelines, language lists, initials."""

from __future__ import annotations

from itertools import compress, count

from schemas import EntityType

from .cues import cues
from .gazetteer import Gazetteer, Match
from .tokens import HYPHENS, Doc, fold

MAX_DATELINE_TOKENS = 10  # "JAKARTA, KOMPAS.com -" is 6 tokens; "Liputan6.com, Jakarta Selatan -" 7
_DATELINE_PUNCT = frozenset(".,()/")
# English words that look like acronyms in all-capitals lines ("AS WELL AS", "TELL US")
_CAPS_WORDS = frozenset({"as", "us", "un", "it", "in", "on", "no", "or", "is", "am", "me", "we", "so", "to"})
_CAPS_LINE_RATIO = 0.6


def datelines(doc: Doc) -> list[tuple[int, int]]:
    """Token ranges of the dateline prefixes ("PIKIRAN RAKYAT -", "JAKARTA, KOMPAS.com -") opening lines."""
    found = []
    for i in compress(count(), doc.line_start):
        dash = _dateline_dash(doc, i)
        if dash is not None:
            found.append((i, dash))
    return found


def _dateline_dash(doc: Doc, i: int) -> int | None:
    """Index of the dash closing a dateline that starts at token ``i``, if the line opens with one."""
    for j in range(i, min(doc.n, i + MAX_DATELINE_TOKENS)):
        text = doc.texts[j]
        if text in HYPHENS:
            followed_by_space = j + 1 < doc.n and doc.starts[j + 1] > doc.ends[j]
            return j if j > i and followed_by_space else None
        after_dot = j > i and doc.texts[j - 1] == "."  # KOMPAS.com
        if not (text in _DATELINE_PUNCT or (doc.words[j] and (doc.caps[j] or after_dot or text.isdigit()))):
            return None
        if j > i and doc.newline_before(j):
            return None
    return None


def dateline_labels(doc: Doc) -> list[str]:
    """The parts of the datelines, as written: ["JAKARTA", "KOMPAS.com"], ["SeaPRwire"]."""
    return [
        doc.surface(*part) for start, dash in datelines(doc) for part in _dateline_parts(doc, start, dash)
    ]


def mask_datelines(doc: Doc, gaz: Gazetteer) -> None:
    """Mask the outlet parts of datelines; the places in them stay ("JAKARTA, KOMPAS.com -" keeps JAKARTA)."""
    for start, dash in datelines(doc):
        parts = _dateline_parts(doc, start, dash)
        outlets = [p for p in parts if _is_outlet(doc, gaz, *p)]
        # a line such as "Presiden Jokowi - ..." is no dateline: every part must be an outlet or a place
        if not outlets or not all(p in outlets or _is_place(doc, gaz, *p) for p in parts):
            continue
        for part_start, part_end in outlets:
            for k in range(part_start, part_end):
                doc.masked[k] = True
        doc.masked[dash] = True


def _is_place(doc: Doc, gaz: Gazetteer, start: int, end: int) -> bool:
    match = gaz.names.longest(doc.texts, doc.keys, start)
    return match is not None and match.end == end and match.entry.type is EntityType.LOCATION


def _is_outlet(doc: Doc, gaz: Gazetteer, start: int, end: int) -> bool:
    surface = doc.surface(start, end)
    letters = [c for c in surface if c.isalpha()]
    return (
        (start > 0 and doc.texts[start - 1] == "(")  # Jakarta (ANTARA) -
        or "." in surface  # KOMPAS.com, TRIBUNNEWS.COM
        or (len(letters) > 1 and all(c.isupper() for c in letters) and not _is_place(doc, gaz, start, end))
        or fold(surface) in gaz.outlets
    )


def _dateline_parts(doc: Doc, start: int, end: int) -> list[tuple[int, int]]:
    """Comma-separated parts of a dateline, with a parenthesised outlet as its own part: Jakarta (ANTARA)."""
    parts, begin = [], start
    for k in range(start, end + 1):
        if k == end or doc.texts[k] in ",()":
            if k > begin:
                parts.append((begin, k))
            begin = k + 1
    return parts


def mask_language_lists(doc: Doc) -> None:
    """Mask the names after "bahasa" ("dalam bahasa Inggris, Korea, Jepang"): languages, not places."""
    c = cues()
    n = doc.n
    for i in doc.positions(c.languages):
        j = i + 1
        while (
            j < n
            and (doc.caps[j] or doc.keys[j] in {",", "dan", "and", "serta"})
            and not doc.newline_before(j)
        ):
            doc.masked[j] = True
            j += 1


def initials_used(doc: Doc) -> frozenset[str]:
    """Short capitals the text uses as a person's initials ("berinisial AS (34)"): every later bare "AS"
    in the same text is that person ("AS dijerat Pasal 338"), not Amerika Serikat."""
    found = set()
    for i in compress(count(), map(str.isupper, doc.texts)):
        text = doc.texts[i]
        if i >= 1 and len(text) <= 3 and text.isalpha():
            after_cue = doc.keys[i - 1] in cues().initials
            aged = i + 2 < doc.n and doc.texts[i + 1] == "(" and doc.texts[i + 2].isdigit()
            if after_cue or aged:
                found.add(text)
    return frozenset(found)


def is_initials(doc: Doc, match: Match) -> bool:
    """True when a short acronym hit is really a person's initials or an English word in capitals.

    "tersangka berinisial AS (32)" and "AS WELL AS" are not Amerika Serikat.
    """
    start, end = match.start, match.end
    surface = doc.surface(start, end)
    if len(surface) > 3 or not surface.isupper():
        return False
    if start > 0 and doc.keys[start - 1] in cues().initials:
        return True
    if end + 1 < doc.n and doc.texts[end] == "(" and doc.texts[end + 1].isdigit():
        return True
    return doc.keys[start] in _CAPS_WORDS and _caps_line(doc, start)


def _caps_line(doc: Doc, i: int) -> bool:
    """True when the line of token ``i`` is written mostly in capitals."""
    lo = i
    while lo > 0 and not doc.line_start[lo]:
        lo -= 1
    hi = i + 1
    while hi < doc.n and not doc.line_start[hi]:
        hi += 1
    words = [k for k in range(lo, hi) if doc.words[k] and not doc.texts[k].isdigit()]
    upper = sum(1 for k in words if doc.texts[k].isupper())
    return len(words) >= 3 and upper / len(words) >= _CAPS_LINE_RATIO
