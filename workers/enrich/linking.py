"""The gazetteer as the linking layer: the spans the model recognises get canonical names and types.

A span the hand-written rules found too (same tokens) takes the rules' canonical name: the gazetteer's
(Korut, DPRK and North Korea are Korea Utara; Kim Jong-un is Kim Jong Un), an acronym's long form, a
regency's "Kabupaten" name. A known name keeps the gazetteer's type, whatever the model guessed ("Golkar"
is an organisation). Other spans are named as written. A bracketed acronym closing a span ("Mahkamah
Konstitusi (MK)") is an alias, not part of the name.
"""

from __future__ import annotations

from collections import Counter

from schemas import EntityType

from .cues import cues, is_demonym
from .gazetteer import gazetteer
from .mentions import Claims, Mention
from .rules import _clean_name
from .tagger import JOINERS
from .tokens import Doc

_TYPES = {t.value: t for t in EntityType}
# rules whose verdict on a span outranks the model's type: a known name or a defined acronym
_TRUSTED_RULES = frozenset({"gazetteer", "acronym", "regency cue", "role cue", "speech verb"})
# Rule mentions kept where the model tagged nothing: people after a role or speech cue and known people.
# Chosen on idner-news-2k dev (documents of 10 sentences): keeping them costs 0.006 mention F1 there
# (0.830 -> 0.824) and keeps the people of our long articles; keeping defined acronyms cost 0.02 more
# (idner writes "Mahkamah Konstitusi (MK)" as one mention), so they are not kept.
KEEP_RULES = frozenset(
    {("role cue", "PERSON"), ("speech verb", "PERSON"), ("gazetteer", "PERSON")}
    | {
        (rule, "LOCATION")
        for rule in ("place head", "place cue", "locative run", "place keyword", "regency cue")
    }
    | {("org keyword", "ORGANIZATION")}
)
# Any other confident rule mention is kept when its entity is named this often in the text; at 2, idner dev
# mention F1 fell to 0.79 (its annotators leave many repeated country names untagged); at 3, 0.825.
MIN_RECURRING = 3
# Known places of these subtypes are kept even when the model left them out (Kursk, Kabupaten Demak):
# on idner dev this costs nothing (0.822 either way); countries and cities are left to the model, since
# keeping them costs 0.007 there (idner leaves many country names untagged).
KEEP_PLACES = frozenset({"region", "regency", "district", "sea"})


def merge(doc: Doc, rules: Claims, spans: list[tuple[int, int, str]]) -> Claims:
    """The model's mentions, named by the rules and the gazetteer, plus the rules' confident mentions
    where the model saw nothing: people after a cue and defined acronyms always, others when the model
    found that entity elsewhere in the text (it tagged "Rusia" once: every "Rusia" counts) or when the
    name recurs in the text."""
    merged = link(doc, rules, spans)
    found = {(m.name, m.type) for m in merged.mentions}
    recurring = Counter((m.name, m.type) for m in rules.mentions if not m.weak)
    for m in rules.mentions:
        key = (m.name, m.type)
        keep = key in found or (
            not m.weak
            and (
                (m.rule, m.type.value) in KEEP_RULES
                or recurring[key] >= MIN_RECURRING
                or (m.rule == "gazetteer" and m.subtype in KEEP_PLACES)
            )
        )
        if not keep:
            continue
        mention = Mention(m.start, m.end, m.name, m.type, m.subtype, rule="document+" + m.rule)
        if merged.is_free(m.start, m.end):
            merged.add(mention)
        elif ((m.rule, m.type.value) in KEEP_RULES or key in found) and _same_type_inside(merged, mention):
            merged.add(
                mention, replace=True
            )  # "International Institute for Strategic Studies" over "Strategic Studies"
    return merged


def _same_type_inside(claims: Claims, mention: Mention) -> bool:
    """True when every mention overlapping ``mention`` lies inside it and has its type."""
    owners = {id(o): o for o in (claims.at(k) for k in range(mention.start, mention.end)) if o is not None}
    return all(
        o.type is mention.type and mention.start <= o.start and o.end <= mention.end for o in owners.values()
    )


def link(doc: Doc, rules: Claims, spans: list[tuple[int, int, str]]) -> Claims:
    """Mentions for the model's spans, named through the rules' mentions and the gazetteer."""
    by_range = {(m.start, m.end): m for m in rules.mentions}
    linked = Claims(doc.n)
    for start, end, kind in _split_known(doc, rules, _split_people(doc, rules, spans)):
        start, end = _trim(doc, start, end)
        if end <= start:
            continue
        if doc.texts[start] == "(" and doc.texts[end - 1] == ")":
            start, end = start + 1, end - 1  # "(BPKH)": the acronym, not its brackets
        end_name = _without_acronym(doc, start, end)
        if end_name <= start or _is_date(doc, start, end_name) or any(doc.masked[start:end]):
            continue
        if is_demonym(doc, end_name - 1):
            continue  # "Southeast Asian factories": an adjective, not a place
        known = by_range.get((start, end)) or by_range.get((start, end_name))
        if known is not None:
            trusted = known.rule in _TRUSTED_RULES or known.type.value == kind
            mention = Mention(
                start,
                end,
                known.name,
                known.type if trusted else _TYPES[kind],
                known.subtype if trusted else None,
                rule="model+" + known.rule,
            )
        else:
            mention = _from_gazetteer(doc, start, end, end_name) or Mention(
                start, end, _clean_name(doc.surface(start, end_name)), _TYPES[kind], rule="model"
            )
        linked.add(mention)
    return linked


def _split_people(doc: Doc, rules: Claims, spans: list[tuple[int, int, str]]) -> list[tuple[int, int, str]]:
    """Spans cut around the people the rules are sure of: an organisation or place span that swallowed a
    person ("Kremlin Dmitry Peskov", "SKK Migas Rudi Rubiandini") is the organisation, then the person."""
    people = [m for m in rules.mentions if m.type is EntityType.PERSON and (m.rule, "PERSON") in KEEP_RULES]
    out = []
    for start, end, kind in spans:
        inside = [m for m in people if start <= m.start and m.end <= end and (m.start, m.end) != (start, end)]
        if kind == "PERSON" or not inside:
            out.append((start, end, kind))
            continue
        pos = start
        for m in sorted(inside, key=lambda m: m.start):
            if m.start > pos and any(doc.words[pos : m.start]):
                out.append((pos, m.start, kind))
            out.append((m.start, m.end, "PERSON"))
            pos = m.end
        if pos < end and any(doc.words[pos:end]):
            out.append((pos, end, kind))
    return out


def _trim(doc: Doc, start: int, end: int) -> tuple[int, int]:
    """The span without joining words at its edges: "the International Institute ..." starts at International."""
    while start < end and not doc.caps[start] and doc.keys[start] in JOINERS and doc.texts[start] != "(":
        start += 1
    common = cues().common
    while end - start > 1 and doc.keys[start] in common and doc.heading[start]:
        start += 1  # a headline's ordinary words: "Bantuannya Merebut Kembali Kursk" is Kursk
    while (
        end > start
        and not doc.caps[end - 1]
        and doc.keys[end - 1] in JOINERS
        and doc.texts[end - 1] not in ")."
    ):
        end -= 1
    return start, end


def _split_known(doc: Doc, rules: Claims, spans: list[tuple[int, int, str]]) -> list[tuple[int, int, str]]:
    """A span made of two or more known names side by side is those names: "Oblast Kursk Rusia" is Kursk
    and Rusia, "Rusia-Ukrania" two countries."""
    out = []
    for start, end, kind in spans:
        parts, k = [], start
        while k < end:
            m = rules.at(k)
            if m is not None and m.rule in _TRUSTED_RULES and m.start == k and m.end <= end:
                parts.append((m.start, m.end, m.type.value))
                k = m.end
            elif doc.keys[k] in JOINERS:
                k += 1
            else:
                break
        out += parts if k == end and len(parts) >= 2 else [(start, end, kind)]
    return out


def _from_gazetteer(doc: Doc, start: int, end: int, end_name: int) -> Mention | None:
    """The gazetteer entry named by exactly the span's tokens, if any."""
    match = gazetteer().names.longest(doc.texts, doc.keys, start)
    if match is None or match.end != end_name:
        return None
    entry = match.entry
    return Mention(start, end, entry.name, entry.type, entry.subtype, rule="model+gazetteer")


def _without_acronym(doc: Doc, start: int, end: int) -> int:
    """End of the name when the span closes with a bracketed acronym: "Bursa Efek Indonesia (BEI)"."""
    if end - start >= 4 and doc.texts[end - 1] == ")" and doc.texts[end - 3] == "(":
        return end - 3
    return end


def _is_date(doc: Doc, start: int, end: int) -> bool:
    """True when a span has a month or day name in it: no "April" entity from "26 April 2025"."""
    dates = cues().dates
    return any(doc.keys[k] in dates for k in range(start, end))
