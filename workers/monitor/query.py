"""The analyst query language of search and standing rules: parsed once, compiled for each engine.

One parser serves ``kliping search``, ``kliping rules``, the web view and both search backends
(the embedded store's FTS5 and Elasticsearch, see workers.monitor.compile), so a query finds the
same articles everywhere. Syntax:

- words and ``"quoted phrases"``; adjacent terms are ANDed;
- ``AND`` / ``OR`` / ``NOT`` in upper case (a lower-case ``and`` is an ordinary word), a leading
  ``NOT`` included; ``-word`` is ``NOT word``; ``+word`` is ``word``; parentheses;
  ``NOT`` binds tighter than ``AND``, which binds tighter than ``OR``;
- ``korup*``: any word whose form or root starts with ``korup`` (korupsi, koruptor, dikorupsi);
- ``title:`` / ``text:`` before a word, phrase, prefix or parenthesis limits it to that field.

Matching is on title and text, case- and accent-folded (``Pérez`` = ``perez``); a phrase lies
within one field. Indonesian affixes: a bare word matches every word the shared light stemmer
(workers.enrich.stem) reduces to it, the word itself included: ``korupsi`` finds ``dikorupsi``,
``korupsinya``, ``berkorupsi``. A quoted term matches exactly (folded), without affix stripping;
a bare token the tokeniser splits (``Rusia-Ukraina``, ``Covid-19``) is such an exact phrase too.

What the language cannot do is refused with a QueryError naming it (proximity ``"a b"~3``,
fuzzy ``word~``, inner wildcards ``ko*up``, unknown fields ``author:x``, nesting deeper than
MAX_QUERY_DEPTH), never read as something else.
"""

from __future__ import annotations

import re
import unicodedata
from bisect import bisect_left
from collections import defaultdict
from dataclasses import dataclass, field, replace
from functools import lru_cache

from workers.dedupe import words
from workers.enrich.stem import candidates

FIELDS = ("title", "text")
_OPERATORS = {"AND", "OR", "NOT"}
# One lexeme: a parenthesis, or an optional sign, an optional `name:` and a phrase or a bare word.
_LEXEME = re.compile(
    r"""\s*(?:
      (?P<paren>[()])
    | (?P<sign>[-+!](?=\S))?(?:(?P<field>[^\W\d_]\w*):(?=[\w"(*]))?
      (?:"(?P<phrase>[^"]*)(?P<closed>"?)(?P<phrase_tail>~\S*)? | (?P<bare>[^\s()"]+))?
    )""",
    re.VERBOSE,
)
# Deepest nesting of NOT and parentheses a query may have. Analysts' standing queries nest a few
# levels (3-5 in the rules we have seen); 32 leaves room for generated ones and keeps every walk
# of the tree (parse, evaluate, required_keys, the FTS5 and Elasticsearch compilers) far from
# Python's recursion limit, which `NOT ` × 990 or 400 parentheses reached (and FTS5 and
# Elasticsearch limit nesting too).
MAX_QUERY_DEPTH = 32
# A prefix shorter than this matches a large part of the vocabulary (every word starting with a
# letter or two): refused rather than slow.
MIN_PREFIX = 2


class QueryError(ValueError):
    """The query text cannot be parsed or asks for something the language does not do."""


def fold(text: str) -> str:
    """Lower-case and strip accents (NFKD, combining marks dropped)."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    if decomposed.isascii():  # most news text: no character can be a combining mark
        return decomposed
    # only the non-ASCII runs are looked at character by character (an ASCII one never combines)
    return _NON_ASCII.sub(_without_marks, decomposed)


_NON_ASCII = re.compile(r"[^\x00-\x7f]+")


def _without_marks(run: re.Match[str]) -> str:
    return "".join(ch for ch in run.group() if not unicodedata.combining(ch))


def tokens(text: str) -> list[str]:
    """Folded word tokens of a text (the dedup tokeniser after folding)."""
    return words(fold(text))


# Roots of this many distinct tokens are remembered: an article's words are mostly ones seen before
# (Zipf), and every stored article's search fields need the roots of all its words.
ROOTS_CACHE_SIZE = 1 << 16


@lru_cache(maxsize=ROOTS_CACHE_SIZE)
def roots(token: str) -> tuple[str, ...]:
    """What a bare query word may equal for this text token: its stem candidates (itself when short)."""
    return candidates(token) or (token,)


@dataclass(frozen=True)
class Term:
    """A word (affixes allowed) or an exact phrase, in one field or either."""

    words: tuple[str, ...]
    exact: bool
    field: str | None = None

    def __str__(self) -> str:
        text = " ".join(self.words)
        text = f'"{text}"' if self.exact else text
        return f"{self.field}:{text}" if self.field else text


@dataclass(frozen=True)
class Prefix:
    """Any word whose form or stem candidate starts with `stem`."""

    stem: str
    field: str | None = None

    def __str__(self) -> str:
        return f"{self.field + ':' if self.field else ''}{self.stem}*"


@dataclass(frozen=True)
class And:
    """All children match."""

    children: tuple[Node, ...]


@dataclass(frozen=True)
class Or:
    """At least one child matches."""

    children: tuple[Node, ...]


@dataclass(frozen=True)
class Not:
    """The child does not match."""

    child: Node


Node = Term | Prefix | And | Or | Not
Leaf = Term | Prefix


@dataclass
class _Field:
    """One field's positions of exact tokens and of stem candidates, and the sorted candidates."""

    exact: dict[str, list[int]]
    stems: dict[str, list[int]]
    sorted_stems: list[str]

    @classmethod
    def of(cls, text: str) -> _Field:
        exact: dict[str, list[int]] = defaultdict(list)
        for position, token in enumerate(tokens(text)):
            exact[token].append(position)
        stems: dict[str, list[int]] = defaultdict(list)
        for token, positions in exact.items():
            for root in roots(token):
                stems[root].extend(positions)
        return cls(dict(exact), dict(stems), sorted(stems))

    def has(self, leaf: Leaf) -> bool:
        if isinstance(leaf, Prefix):
            at = bisect_left(self.sorted_stems, leaf.stem)
            return at < len(self.sorted_stems) and self.sorted_stems[at].startswith(leaf.stem)
        table = self.exact if leaf.exact else self.stems
        first = table.get(leaf.words[0])
        if not first:
            return False
        if len(leaf.words) == 1:
            return True
        rest = [set(table.get(word, ())) for word in leaf.words[1:]]
        return any(all(p + i + 1 in positions for i, positions in enumerate(rest)) for p in first)


@dataclass
class Document:
    """An article tokenised once for all rules: per field, positions of tokens and of stem candidates."""

    fields: dict[str, _Field]
    _found: dict[Leaf, bool] = field(default_factory=dict)  # many rules share terms: look each up once

    @classmethod
    def of(cls, text: str, title: str = "") -> Document:
        """Tokenise an article's text (and title) for matching."""
        return cls({"title": _Field.of(title), "text": _Field.of(text)})

    @property
    def exact(self) -> dict[str, list[int]]:
        """Exact tokens of the text field (with positions)."""
        return self.fields["text"].exact

    def terms(self) -> set[str]:
        """Every key a rule's prefilter term can hit (exact tokens and stem candidates)."""
        return {key for f in self.fields.values() for key in (*f.exact, *f.stems)}

    def has(self, leaf: Leaf) -> bool:
        """True when the term occurs (phrase words consecutive within one field)."""
        found = self._found.get(leaf)
        if found is None:
            names = (leaf.field,) if leaf.field else FIELDS
            found = self._found[leaf] = any(self.fields[name].has(leaf) for name in names)
        return found


def parse(text: str) -> Node:
    """Parse query text into a tree; raises QueryError on empty, malformed or unsupported input."""
    parser = _Parser(_lex(text))
    node = parser.or_expr(0)
    if parser.peek() is not None:
        raise QueryError(f"unexpected {_show(parser.peek())} (an unmatched ')'?)")
    return node


def evaluate(node: Node, doc: Document) -> bool:
    """Exact evaluation of a parsed query on a tokenised document."""
    if isinstance(node, Term | Prefix):
        return doc.has(node)
    if isinstance(node, And):
        return all(evaluate(child, doc) for child in node.children)
    if isinstance(node, Or):
        return any(evaluate(child, doc) for child in node.children)
    return not evaluate(node.child, doc)


def positive_terms(node: Node) -> list[Leaf]:
    """Terms not under a NOT: the ones reported as 'matched' when present."""
    if isinstance(node, Term | Prefix):
        return [node]
    if isinstance(node, Not):
        return []
    return [term for child in node.children for term in positive_terms(child)]


def required_keys(node: Node) -> frozenset[str] | None:
    """Keys of which at least one occurs in every matching document (None: no such set, e.g. NOT x).

    A term needs its longest word (long words are rarer, so fewer rules become candidates); AND
    needs any one child's set (the smallest, then the one of longest words, is kept); OR needs
    the union of its children's. A prefix has no single key. The matcher indexes rules by these keys.
    """
    if isinstance(node, Term):
        return frozenset((max(node.words, key=len),))
    if isinstance(node, Not | Prefix):
        return None
    sets = [required_keys(child) for child in node.children]
    if isinstance(node, And):
        known = [s for s in sets if s is not None]
        return min(known, key=lambda keys: (len(keys), -min(map(len, keys)))) if known else None
    if any(s is None for s in sets):
        return None
    return frozenset().union(*sets)  # type: ignore[arg-type]


# --- lexing ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Open:
    """An opening parenthesis, with the field it applies to and whether it is negated."""

    field: str | None
    negated: bool


def _show(item: object) -> str:
    if isinstance(item, _Open):
        return "'('"
    return repr(str(item)) if not isinstance(item, str) else repr(item)


def _lex(text: str) -> list[str | Term | Prefix | _Open | Not]:
    """Lexemes: operators, ')' , opening parentheses and leaves (a leaf negated by '-' comes as Not)."""
    out: list[str | Term | Prefix | _Open | Not] = []
    position = 0
    while position < len(text):
        m = _LEXEME.match(text, position)
        if m is None or m.end() == position:
            if text[position:].strip():
                raise QueryError(f"cannot read {text[position:]!r}")
            break
        position = m.end()
        if m["paren"]:
            out.append(m["paren"])
            continue
        negated = m["sign"] in ("-", "!")
        name = _field_name(m["field"])
        if m["bare"] is None and m["phrase"] is None:
            if (m["field"] or m["sign"]) and text[position : position + 1] == "(":
                out.append(_Open(name, negated))
                position += 1
            continue  # a sign alone: nothing to apply it to
        leaf = _leaf(m, name)
        if leaf is None:
            continue  # punctuation only
        if isinstance(leaf, str):
            out.append(leaf)
        else:
            out.append(Not(leaf) if negated else leaf)
    return out


def _field_name(raw: str | None) -> str | None:
    if raw is None:
        return None
    name = raw.lower()
    if name not in FIELDS:
        raise QueryError(
            f"unknown field {raw + ':'!r}: the fields are title: and text: "
            "(outlets, entities, dates and sentiment are filters: --source, --entity, --since, --sentiment)"
        )
    return name


def _leaf(m: re.Match[str], name: str | None) -> str | Term | Prefix | None:
    """The leaf of a phrase or bare-word lexeme (or an operator word), refusing what is unsupported."""
    if m["phrase"] is not None:
        if m["phrase_tail"]:
            raise QueryError(
                f"proximity search {m['phrase_tail']!r} is not supported: write the words with AND, "
                f'or the exact phrase "{m["phrase"]}"'
            )
        if not m["closed"]:
            raise QueryError('a phrase is missing its closing "')
        parts = tokens(m["phrase"])
        return Term(tuple(parts), exact=True, field=name) if parts else None
    raw: str = m["bare"]
    if raw in _OPERATORS and not m["sign"] and not m["field"]:
        return raw
    if "~" in raw:
        raise QueryError(
            f"fuzzy search {raw!r} is not supported: quote the exact form or use a prefix (word*)"
        )
    if "*" in raw.rstrip("*") or "?" in raw:
        raise QueryError(f"wildcards inside a word ({raw!r}) are not supported: only a final * (korup*)")
    parts = tokens(raw)
    if not parts:
        return None
    if raw.endswith("*"):
        if len(parts) > 1:
            raise QueryError(f"a prefix ({raw!r}) must be one word")
        if len(parts[0]) < MIN_PREFIX:
            raise QueryError(f"a prefix needs at least {MIN_PREFIX} letters: {raw!r}")
        return Prefix(parts[0], field=name)
    # a bare token that the tokeniser splits (Rusia-Ukraina, Covid-19) is an exact phrase
    return Term(tuple(parts), exact=len(parts) > 1, field=name)


class _Parser:
    """Recursive descent: or_expr := and_expr (OR and_expr)*; and_expr := unary (AND? unary)*."""

    def __init__(self, items: list[str | Term | Prefix | _Open | Not]):
        self.items = items
        self.pos = 0

    def peek(self) -> str | Term | Prefix | _Open | Not | None:
        return self.items[self.pos] if self.pos < len(self.items) else None

    def take(self) -> str | Term | Prefix | _Open | Not | None:
        item = self.peek()
        self.pos += 1
        return item

    def or_expr(self, depth: int) -> Node:
        children = [self.and_expr(depth)]
        while self.peek() == "OR":
            self.take()
            children.append(self.and_expr(depth))
        return children[0] if len(children) == 1 else Or(tuple(children))

    def and_expr(self, depth: int) -> Node:
        children = [self.unary(depth)]
        while self.peek() not in (None, "OR", ")"):
            if self.peek() == "AND":
                self.take()
            children.append(self.unary(depth))
        return children[0] if len(children) == 1 else And(tuple(children))

    def unary(self, depth: int) -> Node:
        item = self.take()
        if item == "NOT" or item == "(" or isinstance(item, _Open):
            if depth + 1 > MAX_QUERY_DEPTH:
                raise QueryError(f"query nested deeper than {MAX_QUERY_DEPTH} levels of NOT and parentheses")
        if item == "NOT":
            return Not(self.unary(depth + 1))
        if item == "(" or isinstance(item, _Open):
            node = self.or_expr(depth + 1)
            if self.take() != ")":
                raise QueryError("missing ')'")
            if isinstance(item, _Open):
                node = _with_field(node, item.field)
                return Not(node) if item.negated else node
            return node
        if isinstance(item, Term | Prefix | Not):
            return item
        if item is None:
            raise QueryError("empty query" if self.pos <= 1 else "the query ends where a term was expected")
        raise QueryError(f"{_show(item)} where a term was expected")


def _with_field(node: Node, name: str | None) -> Node:
    """The subtree with every leaf lacking a field limited to `name` (title:(a OR b))."""
    if name is None:
        return node
    if isinstance(node, Term | Prefix):
        return node if node.field else replace(node, field=name)
    if isinstance(node, Not):
        return Not(_with_field(node.child, name))
    return type(node)(tuple(_with_field(child, name) for child in node.children))
