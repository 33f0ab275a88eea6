"""Datelines: the place and outlet prefix of a news article's first paragraph.

"JAKARTA, KOMPAS.com - …", "Mataram, NTB (ANTARA News) - …", "Liputan6.com, Jakarta - …",
"REPUBLIKA.CO.ID, JAKARTA -- …", "PIKIRAN RAKYAT - …", "TRIBUNNEWS.COM- …", "Pantau - …",
"(SeaPRwire) – …", "WASHINGTON (AP) — …", "KUALA LUMPUR: …". The prefix names where the story was filed and,
often, the outlet that wrote it: it is kept as metadata and removed from the text. A date in it ("Jakarta,
28 April 2025 - …", "JAKARTA, Senin (28/4/2025) - …") is the article's when the page states none; a line
of a place and a date alone ("Jakarta, 28 April 2025") says the same (``place_and_date``).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from workers.clean.dates import WEEKDAYS, parse_date_line

# The head is short and ends with a dash followed by a space ("TRIBUNNEWS.COM- " has none before).
_DATELINE = re.compile(
    r"^(?P<head>[^\n]{2,70}?)\s*(?P<separator>--|[-–—]|:)(?:\s+|$)(?P<rest>.*)$", re.DOTALL
)
_PAREN = re.compile(r"\(([^()]{2,40})\)")
_DOMAIN_LIKE = re.compile(r"^[\w-]+(?:\.[\w-]+)*\.(?:com|co\.id|id|net|org|co|tv|news|my|sg)$", re.IGNORECASE)
_HEAD_WORD = re.compile(r"^(?:[A-Z0-9][\w.&'’/-]*|\(.*|.*\))$")
_DATE_PART = re.compile(r"\d")
# An outlet name and a capitalised channel name run together: "KompasOtomotif", "detikInet".
_CHANNEL = re.compile(r"^([A-Za-z][a-z0-9]+)[A-Z][A-Za-z]+$")
_PLACE_DATE = re.compile(r"^(?P<place>[A-Z][\w.'’-]*(?: [A-Z][\w.'’-]*){0,2}),\s*(?P<date>[^,].{5,60})$")
# A place-only head ("Jakarta - ") must look like a place: one or two capitalised words or all
# capitals. Longer capitalised runs ("Presiden Joko Widodo - …") are more likely prose.
PLACE_MAX_WORDS = 3
HEAD_MAX_WORDS = 9


@dataclass
class Dateline:
    """What a dateline prefix said: the filing place and the outlet label, either may be None."""

    place: str | None = None
    outlet: str | None = None
    date: str | None = None  # the head's date text, unparsed ("28 April 2025", "28/4/2025")


def split_dateline(paragraph: str, is_outlet: Callable[[str], object]) -> tuple[Dateline, str]:
    """Split a leading dateline off a paragraph; (empty Dateline, paragraph) when there is none."""
    match = _DATELINE.match(paragraph)
    if not match:
        return Dateline(), paragraph
    head = match.group("head").strip()
    words = [word.rstrip(",") for word in head.split()]
    if len(words) > HEAD_MAX_WORDS or not all(_HEAD_WORD.match(word) for word in words):
        return Dateline(), paragraph
    if match.group("separator") == ":" and not (head.isupper() and "," not in head and match.group("rest")):
        return Dateline(), paragraph  # "KUALA LUMPUR: …" (Malaysian style); "Menurut Dia: …" is prose
    dateline = _read_head(head, is_outlet)
    if dateline is None:
        return Dateline(), paragraph
    return dateline, match.group("rest").strip()


def is_domain_like(text: str) -> bool:
    """True for an outlet written as its domain: "KOMPAS.com", "REPUBLIKA.CO.ID"."""
    return bool(_DOMAIN_LIKE.match(text.strip()))


def _read_head(head: str, is_outlet: Callable[[str], object]) -> Dateline | None:
    """Place and outlet of a dateline head, or None when the head does not look like one."""
    labels = _PAREN.findall(head)
    outlets = [label.split("/")[0].strip() for label in labels if not _DATE_PART.search(label)]
    dated = [label.strip() for label in labels if _DATE_PART.search(label)]
    parts = [p.strip() for p in _PAREN.sub(",", head).split(",") if p.strip()]
    places = []
    for part in parts:
        if is_domain_like(part) or is_outlet(part) or _is_outlet_channel(part, is_outlet):
            outlets.append(part)
        elif _DATE_PART.search(part) or part.lower() in WEEKDAYS:
            dated.append(part)  # "28 April 2025", and the weekday of "Senin (28/4/2025)"
        else:
            places.append(part)
    if not outlets:
        # No outlet: accept only a place-like head ("Jakarta -", "JAKARTA -").
        if len(places) != 1 or not _is_place(places[0]):
            return None
    elif places and not all(_is_place(p) for p in places):
        return None
    return Dateline(
        place=places[0] if places else None,
        outlet=outlets[0] if outlets else None,
        date=" ".join(dated) or None,
    )


def place_and_date(line: str) -> Dateline | None:
    """A line of a place and a date alone ("Jakarta, 28 April 2025", "BANDUNG, Senin (28/4/2025)"), else None."""
    match = _PLACE_DATE.match(line.strip())
    if not match or not _is_place(match.group("place")) or parse_date_line(match.group("date")) is None:
        return None
    return Dateline(place=match.group("place"), date=match.group("date").strip())


def _is_outlet_channel(text: str, is_outlet: Callable[[str], object]) -> bool:
    """True for an outlet's channel written as one word: "KompasOtomotif", "KompasTekno"."""
    outlet = channel_outlet(text)
    return bool(outlet and is_outlet(outlet))


def channel_outlet(text: str) -> str | None:
    """The outlet part of a one-word channel name ("KompasOtomotif" → "Kompas"), else None."""
    match = _CHANNEL.match(text.strip())
    return match.group(1) if match else None


def _is_place(text: str) -> bool:
    """True for text shaped like a place name in a dateline."""
    words = text.split()
    return 1 <= len(words) <= PLACE_MAX_WORDS and (text.isupper() or len(words) <= 2)
