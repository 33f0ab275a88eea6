"""Named entities of an article: people, organisations and places with canonical names and aliases."""

from __future__ import annotations

from collections.abc import Iterable

from schemas import Entity, EntityType

from .context import mask_datelines, mask_language_lists
from .cues import cues, is_name_token
from .gazetteer import gazetteer
from .mentions import Claims, Mention
from .places import find_cued_places, find_place_keywords, find_place_phrases
from .rules import (
    find_acronyms,
    find_cued_persons,
    find_known,
    find_org_heads,
    find_org_keywords,
    find_uncued_names,
)
from .tokens import Doc, fold

# An uncued run of capitalised words is kept as a person only when the name occurs at least this often
# (its short forms included): one-off runs in the seeds were boilerplate ("Google News", "Top Story"),
# while the people the seeds discuss are all named at least twice or introduced by a cue.
MIN_UNCUED_MENTIONS = 2
MIN_SHORT_NAME = 3  # shorter first/last names (Un, Xi) are not resolved from a bare mention


def extract_entities(text: str, exclude: Iterable[str] = ()) -> list[Entity]:
    """People, organisations and places in ``text``, most mentioned first; names in ``exclude`` are left out."""
    doc = Doc(text)
    gaz = gazetteer()
    mask_datelines(doc, gaz)
    mask_language_lists(doc)
    claims = Claims(doc.n)
    find_known(doc, claims, gaz)
    find_acronyms(doc, claims)
    find_place_keywords(doc, claims)
    find_org_keywords(doc, claims)
    find_cued_persons(doc, claims)
    find_org_heads(doc, claims)
    find_place_phrases(doc, claims)
    find_cued_places(doc, claims)
    find_uncued_names(doc, claims)
    _resolve_short_mentions(doc, claims)
    return _aggregate(doc, claims.mentions, {fold(name) for name in exclude if name})


def _resolve_short_mentions(doc: Doc, claims: Claims) -> None:
    """Short forms of a person's name take the full name used elsewhere in the text: "kata Perry" → Perry Warjiyo."""
    _drop_leading_words(doc, claims)
    full_names: dict[str, set[str]] = {}
    weak: dict[str, bool] = {}
    for m in claims.mentions:
        if m.type is EntityType.PERSON:
            weak[m.name] = weak.get(m.name, True) and m.weak
            parts = m.name.replace("-", " ").split()
            if len(parts) >= 2:
                for part in set(parts):  # any part: "kata Doli" is Ahmad Doli Kurnia
                    if len(part) >= MIN_SHORT_NAME and fold(part) not in cues().unresolvable:
                        full_names.setdefault(fold(part), set()).add(m.name)
    for m in claims.mentions:  # single-word names found by cues
        if m.type is EntityType.PERSON and " " not in m.name:
            named = full_names.get(fold(m.name), set())
            if len(named) == 1:
                m.name = next(iter(named))
    for i, key in enumerate(doc.keys):
        targets = full_names.get(key)
        if targets is None or claims.at(i) is not None or doc.masked[i]:
            continue
        if len(targets) == 1 and is_name_token(doc, i, cued=False):
            name = next(iter(targets))
            claims.add(Mention(i, i + 1, name, EntityType.PERSON, weak=weak[name], rule="short form"))


def _drop_leading_words(doc: Doc, claims: Claims) -> None:
    """A name that is another person's name plus a leading word is that person: a place name taken with the
    name after a role ("Kajari Lhoksukon Teuku Rahmatsyah" when "Teuku Rahmatsyah" occurs too)."""
    names = {m.name for m in claims.mentions if m.type is EntityType.PERSON and " " in m.name}
    for m in claims.mentions:
        if m.type is EntityType.PERSON and m.name not in names - {m.name}:
            rest = m.name.partition(" ")[2]
            if rest in names and " " in rest:
                starts = (
                    k
                    for k in range(m.start + 1, m.end)
                    if fold(" ".join(doc.surface(k, m.end).split())) == fold(rest)
                )
                start = next(starts, None)
                if start is not None:
                    m.start, m.name = start, rest


def _aggregate(doc: Doc, mentions: list[Mention], exclude: set[str]) -> list[Entity]:
    """One Entity per (type, name), with every surface form and position; weak one-off guesses dropped."""
    groups: dict[tuple[EntityType, str], list[Mention]] = {}
    for m in sorted(mentions, key=lambda m: m.start):
        groups.setdefault((m.type, fold(m.name)), []).append(m)
    entities = []
    for (_, key), group in groups.items():
        if key in exclude or (all(m.weak for m in group) and len(group) < MIN_UNCUED_MENTIONS):
            continue
        aliases = list(dict.fromkeys(" ".join(doc.surface(m.start, m.end).split()) for m in group))
        entities.append(
            Entity(
                name=group[0].name,
                type=group[0].type,
                mentions=len(group),
                aliases=aliases,
                positions=[doc.starts[m.start] for m in group],
                subtype=next((m.subtype for m in group if m.subtype), None),
            )
        )
    entities.sort(key=lambda e: (-e.mentions, e.positions[0]))
    return entities
