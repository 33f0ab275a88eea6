"""The entity rules, run in order of reliability: gazetteer, acronym definitions, cued people,
organisation and place phrases, then uncued capitalised names."""

from __future__ import annotations

from functools import cache
from itertools import compress, count
from operator import and_

from schemas import EntityType

from .context import initials_used, is_initials
from .cues import MAX_NAME_TOKENS, cues, is_demonym, is_name_token, name_run
from .gazetteer import Gazetteer, Match
from .mentions import Claims, Mention
from .stem import candidates
from .tokens import HYPHENS, Doc, fold

_NOT_BEFORE_NAME = frozenset({"the", "a", "an", "at", "of"})
_ROMAN = frozenset("IVX")  # "PT Angkasa Pura I": a one-letter word inside an organisation name
MAX_ROLE_TOKENS = 8  # "Kepala Staf Umum Angkatan Bersenjata Rusia" between cue and name
MAX_TRAILING_NAME = 4  # words of a name after a role phrase: "Muhammad Bobby Afif Nasution"
MAX_ORG_TOKENS = 10  # "Komisi Untuk Orang Hilang dan Korban Tindak Kekerasan"
MAX_ACRONYM_RUN = 12
# an acronym spelled out by fewer words needs an organisation head word: "Budi Santoso (BS)" is a person
MIN_EXPANSION_WORDS = 3


def find_known(doc: Doc, claims: Claims, gaz: Gazetteer) -> None:
    """Claim the longest gazetteer match at each position, subject to the context rules."""
    c = cues()
    firsts = c.regency_cues.firsts
    regency_after = {end for i in doc.positions(firsts) if (end := c.regency_cues.match(doc.keys, i))}
    initials = initials_used(doc)
    i = 0
    # only a capitalised token that opens some alias can start a match
    for k in compress(count(), map(and_, doc.caps, map(gaz.first_keys.__contains__, doc.keys))):
        if k < i:
            continue  # inside the previous match
        i = k
        match, rule = None, "gazetteer"
        if not doc.masked[i] and doc.texts[i] not in initials:
            if i in regency_after:  # "Bupati Bandung" is the kabupaten, not the city
                match, rule = gaz.regencies.longest(doc.texts, doc.keys, i), "regency cue"
            match = match or gaz.names.longest(doc.texts, doc.keys, i)
        if match and _plausible(doc, match):
            entry = match.entry
            claims.add(Mention(match.start, match.end, entry.name, entry.type, entry.subtype, rule=rule))
            i = match.end


def _plausible(doc: Doc, match: Match) -> bool:
    if any(doc.masked[match.start : match.end]) or is_initials(doc, match):
        return False
    if match.entry.type is EntityType.PERSON and _after_head(doc, match.start):
        return False  # "Universitas Airlangga", "Bandara Ahmad Yani": a name inside an organisation or place
    # an alias that is also an ordinary word (Tempo, Lima, Solo) does not count at a sentence start
    start = match.start
    if match.end - start > 1 or doc.texts[start].isupper() or not doc.sentence_start[start]:
        return True
    return doc.keys[start] not in cues().common


def _after_head(doc: Doc, i: int) -> bool:
    """True when token ``i`` follows a capitalised organisation or place head word."""
    c = cues()
    k = i - 1
    if k < 0 or not doc.caps[k]:
        return False
    return any(
        (start := i - n) >= 0
        and doc.caps[start]
        and (c.org_heads.match(doc.keys, start) == i or c.place_heads.match(doc.keys, start) == i)
        for n in (1, 2)
    )


def find_acronyms(doc: Doc, claims: Claims) -> None:
    """Definitions "Long Name (ACR)": the acronym, there and anywhere else in the text, names the long form."""
    defined: dict[str, Mention] = {}
    for p in compress(count(), map("(".__eq__, doc.texts)):
        if not 1 <= p < doc.n - 2:
            continue
        acronym = doc.texts[p + 1]
        if doc.texts[p + 2] != ")" or not _looks_like_acronym(acronym):
            continue
        if claims.at(p + 1) is not None or fold(acronym) in cues().role_words:
            continue  # known already (WPK after the commission's name), or a rank: AKBP
        before = claims.at(p - 1)
        long_form: Mention | None
        if before is not None and before.end == p and before.type is EntityType.ORGANIZATION:
            long_form = before
        else:
            long_form = _expansion(doc, claims, p, acronym)
            if long_form is None or not claims.add(long_form, replace=True):
                continue
        short = Mention(
            p + 1, p + 2, long_form.name, EntityType.ORGANIZATION, long_form.subtype, rule="acronym"
        )
        if claims.add(short):
            defined[acronym] = short
    for i in compress(count(), map(defined.__contains__, doc.texts)):  # the acronym alone, anywhere
        if claims.at(i) is None and not doc.masked[i]:
            short = defined[doc.texts[i]]
            claims.add(Mention(i, i + 1, short.name, short.type, short.subtype, rule="acronym"))


@cache
def _person_cue_words() -> frozenset[str]:
    """First words of the role and speech cues, and the speech verbs after a name."""
    c = cues()
    return c.roles.firsts | c.speech_before.firsts | c.speech_after


def _looks_like_acronym(text: str) -> bool:
    upper = sum(1 for ch in text if ch.isupper())
    return 2 <= len(text) <= 10 and text[0].isupper() and (upper >= 2 or text.isupper()) and text.isalnum()


def _expansion(doc: Doc, claims: Claims, p: int, acronym: str) -> Mention | None:
    """The words before "(" that spell the acronym, as a new organisation mention."""
    c = cues()
    start = _run_start(doc, claims, p)
    letters = acronym.upper()
    for k in range(p - 1, start - 1, -1):  # shortest suffix first
        if not doc.caps[k] or doc.keys[k] in c.connectors:
            continue
        content = [i for i in range(k, p) if doc.words[i] and doc.keys[i] not in c.connectors]
        initials = "".join(doc.texts[i][0].upper() for i in content)
        has_head = any(c.org_heads.match(doc.keys, i) or doc.keys[i] in c.org_keywords for i in content)
        spelled = initials == letters or (initials[0] == letters[0] and _subsequence(letters, initials))
        syllabic = c.org_heads.match(doc.keys, k) and _subsequence(letters.lower(), doc.surface(k, p).lower())
        if (spelled and (has_head or len(content) >= MIN_EXPANSION_WORDS)) or (
            syllabic
            and doc.texts[k][0].upper() == letters[0]  # Badan Perencanaan Pembangunan Nasional (Bappenas)
        ):
            while k - 1 >= start and c.org_heads.match(doc.keys, k - 1) == k:
                k -= 1  # the legal form belongs to the name: PT Isuzu Astra Motor Indonesia (IAMI)
            return Mention(k, p, _clean_name(doc.surface(k, p)), EntityType.ORGANIZATION, rule="acronym")
    return None


def _subsequence(needle: str, haystack: str) -> bool:
    it = iter(haystack)
    return all(ch in it for ch in needle)


def _run_start(doc: Doc, claims: Claims, p: int) -> int:
    """Start of the capitalised run (places and organisations included) that ends before token ``p``."""
    c = cues()
    j = p - 1
    while j >= 0 and p - j <= MAX_ACRONYM_RUN and not doc.newline_before(j + 1):
        owner = claims.at(j)
        if owner is not None:
            if owner.type is EntityType.PERSON:
                break
            j = owner.start - 1
        elif doc.words[j] and doc.caps[j]:
            j -= 1  # dates included: Institut Teknologi Sepuluh Nopember (ITS)
        elif doc.keys[j] in c.connectors and j > 0 and doc.caps[j - 1]:
            j -= 1
        else:
            break
    return j + 1


def find_cued_persons(doc: Doc, claims: Claims) -> None:
    """People named after a role or speech cue ("Menteri Keuangan X", "kata X") or before a speech verb."""
    c = cues()
    for i in doc.positions(_person_cue_words()):
        end = c.roles.match(doc.keys, i) or c.speech_before.match(doc.keys, i)
        if end is not None and not doc.masked[i]:
            stretch_end = _role_stretch(doc, claims, end)
            start = _trailing_name(doc, claims, end, stretch_end)
            end = name_run(doc, claims, start) if start < stretch_end else start
            if start > 0 and doc.caps[start - 1] and c.org_heads.match(doc.keys, start - 1) == start:
                # right after "PT" or "Universitas" comes the organisation's name: "Rektor Universitas
                # Gadjah Mada Ova Emilia" keeps the last two words, "Direktur PT Hutchison" none
                start = max(start, end - 2) if sum(doc.words[start:end]) > 2 else end
            _add_person(doc, claims, start, end, "role cue")
        if doc.keys[i] in c.speech_after and i > 0:
            _person_before(doc, claims, i)


def _role_stretch(doc: Doc, claims: Claims, i: int) -> int:
    """End of the words after a cue that belong to the role phrase or the name.

    "Kepala Biro Komunikasi dan Informasi Publik Kementerian Perhubungan Budi Rahardjo mengatakan":
    the stretch runs to Rahardjo and the name is its tail; it stops at lower-case words, dates, a second
    comma, or a connector after a name ("Menteri Luar Negeri Sugiono dan ...").
    """
    c = cues()
    j, comma, after_name = i, False, False
    while j < doc.n and j - i < MAX_ROLE_TOKENS + MAX_NAME_TOKENS and not (j > i and doc.newline_before(j)):
        owner, key = claims.at(j), doc.keys[j]
        if owner is not None:
            if owner.type is EntityType.PERSON:
                break
            j, after_name = owner.end, False
        elif key in c.role_words or (key == "." and not _ends_here(doc, j)) or doc.texts[j] in HYPHENS:
            j, after_name = j + 1, False
        elif doc.caps[j] and doc.words[j] and key not in c.dates:
            j, after_name = j + 1, True
        elif key in c.connectors and not doc.caps[j] and not after_name:
            j += 1
        elif key == "," and not comma and j + 1 < doc.n and doc.caps[j + 1]:
            comma, j = True, j + 1  # "Kepala Staf Umum Angkatan Bersenjata Rusia, Valery Gerasimov"
        else:
            break
    while j > i and not doc.words[j - 1]:
        j -= 1
    return j


def _ends_here(doc: Doc, i: int) -> bool:
    """True when the full stop at ``i`` ends a sentence (the next token opens one), not an abbreviation."""
    return i + 1 < doc.n and doc.sentence_start[i + 1]


def _trailing_name(doc: Doc, claims: Claims, start: int, end: int) -> int:
    """Start of the name that closes the stretch ``start``..``end``; ``end`` when it has none.

    When a role phrase precedes the name, ordinary words belong to the role ("Menteri ... Reformasi
    Birokrasi Yuddy Chrisnandi"); a stretch that is all name keeps them ("menurut Moon Seong Mook").
    """
    all_name = all(is_name_token(doc, k, cued=True) or doc.texts[k] in HYPHENS for k in range(start, end))
    k, count = end, 0
    while k > start and claims.at(k - 1) is None and count < MAX_TRAILING_NAME:
        prev = k - 1
        joined = doc.texts[prev] in HYPHENS and prev > start and doc.words[prev - 1]
        if is_name_token(doc, prev, cued=all_name) or joined:
            k, count = prev, count + (not joined)
        elif doc.texts[prev] == "." and prev - 1 >= start and len(doc.texts[prev - 1]) == 1:
            k = prev - 1  # a middle initial
        elif doc.keys[prev] in cues().particles and k < end:
            k = prev
        else:
            break
    while k < end and not is_name_token(doc, k, cued=True):
        k += 1  # a name starts with a name word, not with a particle or initial
    return k


def _person_before(doc: Doc, claims: Claims, verb: int) -> None:
    """A name right before a speech verb: "Koo Byoungsam mengatakan", "Smith said"."""
    c = cues()
    j = verb - 1
    while j >= 0 and doc.keys[j] in c.adverbs:
        j -= 1
    if j >= 1 and doc.texts[j] == ",":
        j -= 1  # an apposition: "Pedagang di Pasar Terong, Hasnah, mengaku ..." (needs the opening comma below)
        appositive = True
    else:
        appositive = False
    start = j + 1
    while start - 1 >= 0 and verb - start < 8:
        k = start - 1
        if is_name_token(doc, k, cued=True) or (doc.texts[k] in HYPHENS and k > 0 and doc.words[k - 1]):
            start = k
        else:
            break
    org_tail = start >= 2 and doc.keys[start - 1] in c.connectors and doc.caps[start - 2]
    # "the Spaniard added", "the company said": a noun phrase, not a name
    article = (
        start >= 1 and doc.keys[start - 1] in _NOT_BEFORE_NAME
    )  # "the Spaniard added", "at Krungsri Research said"
    if appositive and not (start >= 1 and doc.texts[start - 1] == ","):
        return
    if start <= j and not org_tail and not article and name_run(doc, claims, start) == j + 1:
        _add_person(doc, claims, start, j + 1, "speech verb")


def _add_person(doc: Doc, claims: Claims, start: int, end: int, rule: str) -> None:
    # a one-word name must not be an ordinary word ("Peraturan Menteri Kesehatan Nomor 15") nor an
    # adjective of nationality ("said Chinese brands")
    if end > start and is_demonym(doc, end - 1):
        return
    if end - start > 1 or (end > start and is_name_token(doc, start, cued=False)):
        claims.add(Mention(start, end, _clean_name(doc.surface(start, end)), EntityType.PERSON, rule=rule))


def find_org_keywords(doc: Doc, claims: Claims) -> None:
    """Organisations around an English keyword: "Korea Research Institute for National Strategy", "Apple Inc".

    Runs before the person rules, so that "... for Strategic Studies said" stays inside the organisation.
    """
    c = cues()
    for i in doc.positions(c.org_keywords):
        key = doc.keys[i]
        if not doc.caps[i] or doc.masked[i] or doc.heading[i] or claims.at(i) is not None:
            continue
        start = _trim_common(doc, _run_start(doc, claims, i), i)
        # after the keyword only a connector continues the name ("Institute for ..."); "Recording Academy
        # Neil Portnow" and "PT Astra Otoparts Tbk Yusak Kristian" end at the keyword
        continues = i + 1 < doc.n and doc.keys[i + 1] in c.connectors and key not in c.org_suffixes
        end = _extend_org(doc, claims, i + 1) if continues else i + 1
        if sum(doc.words[start:end]) >= 2:
            name = _clean_name(doc.surface(start, end))
            claims.add(Mention(start, end, name, EntityType.ORGANIZATION, rule="org keyword"), replace=True)


def find_org_heads(doc: Doc, claims: Claims) -> None:
    """Organisations opened by a head word: "Kementerian Unifikasi Korea Selatan", "PT Maju Jaya Tbk"."""
    c = cues()
    for i in doc.positions(c.org_heads.firsts):
        if not doc.caps[i] or doc.masked[i] or claims.at(i) is not None:
            continue
        head_end = c.org_heads.match(doc.keys, i)
        if head_end is not None:
            end = _extend_org(doc, claims, head_end)
            if end > head_end:
                name = _clean_name(doc.surface(i, end))
                claims.add(Mention(i, end, name, EntityType.ORGANIZATION, rule="org head"), replace=True)


def _extend_org(doc: Doc, claims: Claims, j: int) -> int:
    """End of an organisation name continuing at token ``j`` (capitalised words, places, inner connectors)."""
    c = cues()
    last, count = j, 0
    while j < doc.n and count < MAX_ORG_TOKENS and not doc.newline_before(j) and not doc.masked[j]:
        owner = claims.at(j)
        if owner is not None:
            if owner.type is EntityType.PERSON:
                break
            j = last = owner.end
        elif _org_word(doc, j):
            if c.roles.match(doc.keys, j) or (len(doc.texts[j]) == 1 and doc.texts[j] not in _ROMAN):
                break  # a role or a person's initial starts a new phrase: "Kementerian Agama Kota Banjarmasin H. ..."
            j = last = j + 1
            if doc.keys[j - 1] in c.org_suffixes:
                break  # "PT Astra Otoparts Tbk Yusak Kristian": the name ends at Tbk
        elif (doc.keys[j] in c.connectors or doc.texts[j] in HYPHENS) and _org_continues(doc, claims, j + 1):
            j += 1  # Badan Riset dan Inovasi Nasional, PAN-RB
        else:
            break
        count += 1
    return last


def _org_word(doc: Doc, i: int) -> bool:
    return doc.words[i] and (doc.caps[i] or doc.texts[i].isdigit()) and doc.keys[i] not in cues().dates


def _org_continues(doc: Doc, claims: Claims, i: int) -> bool:
    if i >= doc.n:
        return False
    owner = claims.at(i)
    return owner.type is not EntityType.PERSON if owner is not None else _org_word(doc, i)


def _trim_common(doc: Doc, start: int, end: int) -> int:
    """Skip roles, function words, and ordinary words opening a sentence, before an organisation name.

    "Menurut Korea Research Institute" starts at Korea; "the International Institute" keeps International.
    """
    c = cues()
    while start < end and doc.words[start]:
        key = doc.keys[start]
        role = c.roles.match(doc.keys, start)
        if not (role or key in c.stopwords or (doc.sentence_start[start] and key in c.common)):
            break
        start = role or start + 1  # "Direktur PT Astra Otoparts Tbk" starts at PT
    return start


def find_uncued_names(doc: Doc, claims: Claims) -> None:
    """Runs of two or more capitalised name-like words outside headings: weak PERSON guesses."""
    i = 0
    while i < doc.n:
        # caps first: a cheap test that most tokens fail (is_name_token rejects them too)
        if (
            not doc.caps[i]
            or claims.at(i) is not None
            or doc.heading[i]
            or not is_name_token(doc, i, cued=False)
        ):
            i += 1
            continue
        end = name_run(doc, claims, i, cued=False)
        start = i + 1 if doc.sentence_start[i] and _derived_word(doc.keys[i]) else i  # "Artinya Angie ..."
        derived = any(_derived_word(doc.keys[k]) for k in range(start, end))  # "Motivasi Kurangnya"
        if sum(doc.words[start:end]) >= 2 and not derived and not is_demonym(doc, end - 1):
            name = _clean_name(doc.surface(start, end))
            weak = not _inside_sentence(doc, start, end)
            if start > 0 and doc.keys[start - 1] in cues().locatives and not weak:  # "di Istora Senayan"
                claims.add(Mention(start, end, name, EntityType.LOCATION, "place", rule="locative run"))
            else:
                claims.add(Mention(start, end, name, EntityType.PERSON, weak=weak, rule="capitalised run"))
        i = max(end, i + 1)


def _inside_sentence(doc: Doc, start: int, end: int) -> bool:
    """True for a run of names inside running prose: after a lower-case word and not followed by another
    capitalised word ("dicetak oleh Ole Romeny pada menit ke-24"). Such a run is a name even when it occurs
    once; runs opening a line or a sentence are often boilerplate ("Google News", "Top Story")."""
    before = start - 1
    after_lower = before >= 0 and doc.words[before] and not doc.caps[before] and not doc.newline_before(start)
    return (
        after_lower
        and not doc.sentence_start[start]
        and not (end < doc.n and doc.caps[end] and doc.words[end])
    )


def _derived_word(key: str) -> bool:
    """True for an affixed form of a common word (artinya, menurutnya, ditambahkan): not a name."""
    common = cues().common
    return any(root in common for root in candidates(key)[1:])


def _clean_name(surface: str) -> str:
    """A canonical name from a surface form: single spaces, title case for names written in capitals."""
    name = " ".join(surface.split())
    if name.isupper() and len(name) > 5:
        name = " ".join(w if len(w) <= 3 else w.title() for w in name.split())
    return name
