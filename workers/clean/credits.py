"""Bylines and credit lines: who wrote and who edited an article.

Indonesian outlets credit in many shapes: "Oleh Leon Weldrick", "Penulis : X" with the name
on the next line, Kompas' table "| Penulis | : Kontributor Lhokseumawe, Masriadi |",
Antara's "Pewarta: X" / "Editor: Y" footer, "Laporan Wartawan Tribunnews.com, X".
The same rules serve the HTML body, the plain-text path and HTML metadata (author names).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_AUTHOR_ROLES = r"penulis|reporter|pewarta|wartawan|kontributor|koresponden|author|writer|written\s+by|teks"
_EDITOR_ROLES = r"editor|redaktur|penyunting|editing|redaksi"
_SILENT_ROLES = (
    r"fotografer|photographer|videografer|ilustrator|grafis|produser|producer|penerjemah|translator"
)

# "Penulis : X", "| Editor | : Y |", "Pewarta: X Editor: Y": a role label and its value.
_ROLE = re.compile(
    rf"(?:^|(?<=[\s|]))(?P<role>{_AUTHOR_ROLES}|{_EDITOR_ROLES}|{_SILENT_ROLES})\s*\|?\s*[:：]\s*\|?",
    re.IGNORECASE,
)
_EDITOR_ROLE = re.compile(_EDITOR_ROLES, re.IGNORECASE)
_SILENT_ROLE = re.compile(_SILENT_ROLES, re.IGNORECASE)
# "Kontributor Lhokseumawe, Masriadi": a role and a place before the name.
_PLACE_ROLE = re.compile(r"^(?:kontributor|koresponden|wartawan)\b", re.IGNORECASE)
# "By", and the same word in the languages of Fundus's pages: von, par, por, door, av, af.
_BY = r"oleh|by|von|par|por|door|av|af"
_BYLINE = re.compile(rf"^(?:{_BY})\s*[:：]?\s+(?P<value>.+)$", re.IGNORECASE)
# Wire sign-off: "(Reporting by Will Dunham; Editing by Tom Brown)".
_WIRE_CREDIT = re.compile(
    r"^\(?(?:additional\s+)?(?:reporting|writing)\s+by\s+(?P<value>[^;()]+?)"
    r"(?:;\s*(?:additional\s+reporting\s+by\s+[^;()]+;\s*)?editing\s+by\s+(?P<editor>[^;()]+?))?\)?$",
    re.IGNORECASE,
)
_REPORT = re.compile(
    r"^laporan\s+(?:wartawan|reporter|koresponden|kontributor)\s+[\w.-]+(?:\s+[\w.-]+)?\s*,\s*(?P<value>.+)$",
    re.IGNORECASE,
)
# A date after a byline ("By Arny Putri on 16 Feb 2016 at 09:09 WIB") or a role prefix inside a value.
_NAME_TAIL = re.compile(
    r"\s+(?:on|pada|at|-|—|–|\|)\s+.*$|(?:^|\s+)\d.*$|,?\s+(?:senin|selasa|rabu|kamis|jumat|sabtu|minggu|monday|tuesday|"
    r"wednesday|thursday|friday|saturday|sunday)\b.*$",
    re.IGNORECASE,
)
_ROLE_PREFIX = re.compile(rf"^(?:(?:{_AUTHOR_ROLES}|{_EDITOR_ROLES}|{_BY})\b\s*[:：]?\s*)+", re.IGNORECASE)
_NAME_SPLIT = re.compile(r"\s*(?:;|&|/|\b(?:and|dan|und|et|y|og|och|en)\b|,)\s*", re.IGNORECASE)
_NAME_PARTICLE = re.compile(r"^(?:bin|binti|van|von|de|der|den|al|el|da|di|du|la|le|d'|dos|del)$")
_NAME_REST = re.compile(r"^[\w.'’-]*$")
# Words that make a "name" an organisation or an outlet, not a person.
_NOT_PERSON = re.compile(
    r"\b(?:media|news|pt|tbk|group|redaksi|team|staff|admin|cyber|online|\w+\.(?:com|co\.id|id|net))\b",
    re.IGNORECASE,
)

# A byline is short; a longer line starting with "Penulis:" is prose quoting a writer.
CREDIT_MAX_WORDS = 15
NAME_MAX_WORDS = 6


@dataclass
class Credits:
    """Authors and editors found in an article's lines."""

    authors: list[str] = field(default_factory=list)
    editors: list[str] = field(default_factory=list)

    def add(self, role: str, value: str) -> None:
        """Record the names in a credit value under the list its role belongs to."""
        if _SILENT_ROLE.fullmatch(role):
            return
        target = self.editors if _EDITOR_ROLE.fullmatch(role) else self.authors
        for name in person_names(value):
            if name not in target:
                target.append(name)


def person_names(value: str | None) -> list[str]:
    """Person names in a byline value; roles, places ("Kontributor Lhokseumawe, X") and outlets removed."""
    if not value:
        return []
    value = _NAME_TAIL.sub("", value.strip(" |:-"))
    parts = _NAME_SPLIT.split(value)
    if len(parts) > 1 and _PLACE_ROLE.match(parts[0]):
        parts = parts[1:]  # "Kontributor Lhokseumawe, Masriadi": the first part is role and place
    names = []
    for part in parts:
        name = _ROLE_PREFIX.sub("", part).strip(" .|:-")
        if is_person_name(name) and name not in names:
            names.append(name)
    return names


def is_person_name(text: str) -> bool:
    """True for text shaped like a person's name: a few capitalised words, no outlet or company words."""
    words = text.split()
    if not 1 <= len(words) <= NAME_MAX_WORDS or _NOT_PERSON.search(text):
        return False
    return all(_is_name_word(word) for word in words) and any(len(w.strip(".")) > 1 for w in words)


def _is_name_word(word: str) -> bool:
    """True for a word of a name: capitalised in any cased script ("Órfão", "Андрей"), any word in a
    script without case (Chinese, Japanese, Korean, Devanagari, Arabic), or a particle ("van", "bin")."""
    first = word[0]
    capital = first.isupper() or (first.isalpha() and first.lower() == first.upper())
    return (capital and bool(_NAME_REST.match(word))) or bool(_NAME_PARTICLE.match(word))


def take_credits(lines: list[str]) -> tuple[list[str], Credits]:
    """Remove byline and credit lines, returning the other lines and the names they gave."""
    credits = Credits()
    kept: list[str] = []
    index = 0
    while index < len(lines):
        line = lines[index]
        consumed = _read_credit_line(line, lines[index + 1] if index + 1 < len(lines) else None, credits)
        if consumed:
            index += consumed
            continue
        kept.append(line)
        index += 1
    return kept, credits


def _read_credit_line(line: str, next_line: str | None, credits: Credits) -> int:
    """How many lines a credit starting at `line` takes (0: not a credit line)."""
    if len(line.split()) > CREDIT_MAX_WORDS:
        return 0
    stripped = line.strip(" |")
    wire = _WIRE_CREDIT.match(stripped)
    if wire:
        credits.add("penulis", wire.group("value"))
        credits.add("editor", wire.group("editor") or "")
        return 1
    for pattern, role in ((_BYLINE, "penulis"), (_REPORT, "penulis")):
        match = pattern.match(stripped)
        if match and person_names(match.group("value")):
            credits.add(role, match.group("value"))
            return 1
    roles = list(_ROLE.finditer(stripped))
    if not roles or roles[0].start() != 0:
        return 0
    for current, following in zip(roles, [*roles[1:], None], strict=False):
        end = following.start() if following else len(stripped)
        value = stripped[current.end() : end].strip(" |")
        if value:
            credits.add(current.group("role"), value)
        elif (
            following is None
            and next_line is not None
            and is_person_name(_NAME_TAIL.sub("", next_line.strip(" |")))
        ):
            # "Editor :" with the name on the next line
            credits.add(current.group("role"), next_line)
            return 2
    return 1
