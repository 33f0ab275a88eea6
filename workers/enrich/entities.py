"""Named entities of an article: people, organisations and places with canonical names and aliases."""

from __future__ import annotations

from collections.abc import Iterable

from schemas import Entity, EntityType

from .context import mask_datelines, mask_language_lists
from .cues import cues, is_name_token
from .gazetteer import gazetteer
from .linking import merge
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
from .tagger import has_model, model_language, tag
from .tokens import Doc, fold

# An uncued run of capitalised words is kept as a person only when the name occurs at least this often
# (its short forms included): one-off runs in the seeds were boilerplate ("Google News", "Top Story"),
# while the people the seeds discuss are all named at least twice or introduced by a cue.
MIN_UNCUED_MENTIONS = 2
MIN_SHORT_NAME = 3  # shorter first/last names (Un, Xi) are not resolved from a bare mention


def extract_entities(text: str, exclude: Iterable[str] = (), language: str | None = None) -> list[Entity]:
    """People, organisations and places in ``text``, most mentioned first; names in ``exclude`` are left out."""
    doc = Doc(text)
    mentions = find_mentions(doc, language)
    display = model_language(doc, language)  # the article's language, guessed when unknown
    return _aggregate(doc, mentions, {fold(name) for name in exclude if name}, display)


def find_mentions(doc: Doc, language: str | None = None) -> list[Mention]:
    """Every entity mention of the document, with canonical names.

    The trained model (``tagger``) recognises mentions, reading the rules' verdicts as features; the rules'
    confident mentions stay, the model's fill the rest, and the gazetteer names them (``linking``). Without
    a model for the language the rules alone decide.
    """
    if has_model(doc, language):
        claims = rule_claims(doc, for_model=True)
        claims = merge(doc, claims, tag(doc, claims, language))
    else:
        claims = rule_claims(doc)
    _resolve_short_mentions(doc, claims)
    return claims.mentions


def rule_claims(doc: Doc, for_model: bool = False) -> Claims:
    """The hand-written rules' mentions, most reliable rules first (datelines and language lists masked).

    ``for_model``: the rules the trained model reads; the uncued-name guesses are left out (the model makes
    that call itself, and the rule costs a fifth of the rules' time)."""
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
    if not for_model:
        find_uncued_names(doc, claims)
    return claims


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
    for i in doc.positions(full_names):
        targets = full_names[doc.keys[i]]
        if claims.at(i) is not None or doc.masked[i]:
            continue
        if len(targets) == 1 and is_name_token(doc, i, cued=False):
            name = next(iter(targets))
            claims.add(Mention(i, i + 1, name, EntityType.PERSON, weak=weak[name], rule="short form"))


def _drop_leading_words(doc: Doc, claims: Claims) -> None:
    """A name that is another person's name plus leading words is that person: a role and a place taken
    with the name ("Kajari Lhoksukon Teuku Rahmatsyah" when "Teuku Rahmatsyah" occurs too)."""
    names = {m.name for m in claims.mentions if m.type is EntityType.PERSON and " " in m.name}
    for m in claims.mentions:
        if m.type is EntityType.PERSON and m.name not in names - {m.name}:
            parts = m.name.split()
            rest = next((r for k in range(1, len(parts) - 1) if (r := " ".join(parts[k:])) in names), "")
            if rest:
                starts = (
                    k
                    for k in range(m.start + 1, m.end)
                    if fold(" ".join(doc.surface(k, m.end).split())) == fold(rest)
                )
                start = next(starts, None)
                if start is not None:
                    m.start, m.name = start, rest


def _aggregate(doc: Doc, mentions: list[Mention], exclude: set[str], language: str) -> list[Entity]:
    """One Entity per (type, name), with every surface form and position; weak one-off guesses dropped."""
    groups: dict[tuple[EntityType, str], list[Mention]] = {}
    for m in sorted(mentions, key=lambda m: m.start):
        groups.setdefault((m.type, fold(m.name)), []).append(m)
    entities = []
    for (_, key), group in groups.items():
        if key in exclude or (all(m.weak for m in group) and len(group) < MIN_UNCUED_MENTIONS):
            continue
        surfaces, positions = _surfaces(doc, group)
        entities.append(
            Entity(
                name=group[0].name,
                type=group[0].type,
                mentions=len(surfaces),
                aliases=list(dict.fromkeys(surfaces)),
                positions=positions,
                subtype=next((m.subtype for m in group if m.subtype), None),
                display_name=gazetteer().display_name(group[0].name, language),
            )
        )
    entities.sort(key=lambda e: (-e.mentions, e.positions[0]))
    return entities


def _surfaces(doc: Doc, group: list[Mention]) -> tuple[list[str], list[int]]:
    """Surface forms and positions of an entity's mentions; a name with its acronym in brackets
    ("Komisi Pemberantasan Korupsi (KPK)") counts as the name and the acronym."""
    surfaces, positions = [], []
    for m in group:
        if m.end - m.start >= 4 and doc.texts[m.end - 1] == ")" and doc.texts[m.end - 3] == "(":
            surfaces += [" ".join(doc.surface(m.start, m.end - 3).split()), doc.texts[m.end - 2]]
            positions += [doc.starts[m.start], doc.starts[m.end - 2]]
        else:
            surfaces.append(" ".join(doc.surface(m.start, m.end).split()))
            positions.append(doc.starts[m.start])
    return surfaces, positions
