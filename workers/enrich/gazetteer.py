"""Known people, organisations and places, compiled once into a token trie for fast longest-match lookup."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cached_property, lru_cache

from schemas import EntityType

from .resources import load_json
from .tokens import HYPHENS, fold, is_capitalized, tokenize

_END = ""  # trie key holding the aliases that end at a node (no token folds to "")


@dataclass(frozen=True)
class Entry:
    """What a gazetteer alias stands for."""

    name: str
    type: EntityType
    subtype: str | None = None
    en: str | None = field(default=None, compare=False)  # display name in English articles, when it differs


@dataclass(frozen=True)
class _Alias:
    entry: Entry
    exact: tuple[str, ...] | None  # tokens that must match case-sensitively (acronyms: AS, DPRK), else None


@dataclass(frozen=True)
class Match:
    """A gazetteer hit: tokens ``start`` to ``end`` (exclusive) name ``entry``."""

    start: int
    end: int
    entry: Entry


def _alias_tokens(alias: str) -> list[str]:
    return [t.replace("’", "'") for t in tokenize(alias) if t not in HYPHENS]


@dataclass
class Trie:
    """Aliases keyed by their folded tokens; hyphens are ignored on both sides."""

    root: dict = field(default_factory=dict)

    def add(self, alias: str, entry: Entry) -> None:
        """Register one surface form of an entry."""
        parts = _alias_tokens(alias)
        if not parts:
            return
        node = self.root
        for part in parts:
            node = node.setdefault(fold(part), {})
        aliases = node.setdefault(_END, [])
        exact = tuple(parts) if not any(c.islower() for c in alias) else None
        if not any(a.entry == entry and a.exact == exact for a in aliases):
            aliases.append(_Alias(entry, exact))

    def longest(self, texts: list[str], keys: list[str], start: int) -> Match | None:
        """The longest alias starting at token ``start`` whose case rules the text satisfies."""
        if not is_capitalized(texts[start]):
            return None
        node, i, found = self.root, start, []
        while i < len(keys):
            if keys[i] in HYPHENS and i > start:
                i += 1
                continue
            node = node.get(keys[i])  # type: ignore[assignment]  # None ends the walk below
            if node is None:
                break
            i += 1
            if _END in node:
                found.append((i, node[_END]))
        for end, aliases in reversed(found):
            words = [t.replace("’", "'") for t in texts[start:end] if t not in HYPHENS]
            for alias in aliases:
                if alias.exact is None or tuple(words) == alias.exact:
                    return Match(start, end, alias.entry)
        return None


@dataclass
class Gazetteer:
    """All known names, plus the bare kabupaten names that only count after a regency cue (Bupati Demak)."""

    names: Trie = field(default_factory=Trie)
    regencies: Trie = field(default_factory=Trie)
    outlets: set[str] = field(default_factory=set)  # folded outlet names, to recognise datelines
    english: dict[str, str] = field(default_factory=dict)  # canonical name -> English display name

    def add(self, entry: Entry, forms: list[str]) -> None:
        """Register an entry under each of its surface forms."""
        for form in forms:
            self.names.add(form, entry)
        if entry.en:
            self.english[entry.name] = entry.en

    @cached_property
    def first_keys(self) -> frozenset[str]:
        """The folded first tokens of every alias (regencies included): no match starts at another token."""
        return frozenset(self.names.root) | frozenset(self.regencies.root)

    def display_name(self, name: str, language: str | None) -> str | None:
        """The name an article in ``language`` uses for a canonical name, when it is not the canonical one:
        one entity (one canonical name), "United States" in English articles, "Amerika Serikat" in
        Indonesian ones."""
        return self.english.get(name) if language == "en" else None


def _persons() -> Iterator[tuple[Entry, list[str]]]:
    for name, aliases in load_json("gazetteer_persons.json")["persons"].items():
        yield Entry(name, EntityType.PERSON), [name, *aliases]


def _organizations(gaz: Gazetteer) -> Iterator[tuple[Entry, list[str]]]:
    data = load_json("gazetteer_organizations.json")
    blocked = set(data["media_bare_name_blocked"])
    for subtype, group in data.items():
        if not isinstance(group, dict):
            continue
        for name, aliases in group.items():
            if subtype == "media":
                gaz.outlets.update(fold(form) for form in [name, *aliases])
            entry = Entry(name, EntityType.ORGANIZATION, subtype)
            # a blocked outlet name is an ordinary word (antara = between): only its other forms count
            yield entry, ([] if name in blocked else [name]) + aliases


def _countries() -> Iterator[tuple[Entry, list[str]]]:
    for item in load_json("gazetteer_countries.json")["locations"]:
        entry = Entry(item["name"], EntityType.LOCATION, item["subtype"], en=item.get("en"))
        yield entry, [item["name"], *item["aliases"]]


def _world() -> Iterator[tuple[Entry, list[str]]]:
    for subtype, group in load_json("gazetteer_world.json").items():
        if isinstance(group, dict):
            for name, aliases in group.items():
                yield Entry(name, EntityType.LOCATION, subtype), [name, *aliases]


def _sumatra(names: list[str]) -> list[str]:
    # the English spelling "Sumatra" is common in Indonesian texts too
    return names + [n.replace("Sumatera", "Sumatra") for n in names if "Sumatera" in n]


def _indonesia(gaz: Gazetteer) -> Iterator[tuple[Entry, list[str]]]:
    data = load_json("gazetteer_indonesia.json")
    provinces = data["provinces"]
    province_keys = {fold(p["name"]) for p in provinces} | {fold(a) for p in provinces for a in p["aliases"]}
    kota_keys = {fold(k) for p in provinces for k in p["kota"]}
    other_keys = {fold(o["name"]) for o in data["other"]}
    blocked = {fold(b) for b in data["bare_name_blocked"]}
    country_keys = {
        fold(a) for item in load_json("gazetteer_countries.json")["locations"] for a in item["aliases"]
    }
    for p in provinces:
        names = _sumatra([p["name"], *p["aliases"], *p["en"]])
        en = next((n for n in p["en"] if n != p["name"]), None)
        entry = Entry(p["name"], EntityType.LOCATION, "province", en=en)
        yield entry, names + [f"Provinsi {n}" for n in names]
        for kota in p["kota"]:
            clash = fold(kota) in province_keys
            entry = Entry(f"Kota {kota}" if clash else kota, EntityType.LOCATION, "city")
            bare = [] if clash or fold(kota) in blocked else [kota]
            yield entry, [f"Kota {kota}", *bare, *data["kota_aliases"].get(kota, [])]
        for kab in p["kabupaten"]:
            entry = Entry(f"Kabupaten {kab}", EntityType.LOCATION, "regency")
            key = fold(kab)
            shared = key in kota_keys | province_keys | other_keys | country_keys | blocked
            extra = data["kabupaten_aliases"].get(kab, [])
            gaz.regencies.add(kab, entry)
            for alias in extra:
                gaz.regencies.add(alias, entry)
            yield entry, [entry.name, f"Kab. {kab}", f"Kab {kab}", *([] if shared else [kab]), *extra]
    for item in data["other"]:
        yield Entry(item["name"], EntityType.LOCATION, item["subtype"]), [item["name"], *item["aliases"]]


@lru_cache(maxsize=1)
def gazetteer() -> Gazetteer:
    """The compiled gazetteer (built on first use, then shared)."""
    gaz = Gazetteer()
    for source in (_persons(), _organizations(gaz), _indonesia(gaz), _countries(), _world()):
        for entry, forms in source:
            gaz.add(entry, forms)
    return gaz
