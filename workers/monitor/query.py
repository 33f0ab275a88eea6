"""The analyst query language of standing rules: parse once, evaluate on a tokenised article.

Syntax: words, ``"quoted phrases"``, ``AND`` / ``OR`` / ``NOT`` (upper case, like most monitoring
tools: a lower-case ``and`` is an ordinary word), parentheses; adjacent terms are ANDed;
``NOT`` binds tighter than ``AND``, which binds tighter than ``OR``. Matching is on title + text,
case- and accent-folded (``Pérez`` = ``perez``).

Indonesian affixes: a bare word matches the word itself and every inflected form the shared
light stemmer (workers.enrich.stem) reduces to it: ``korupsi`` finds ``dikorupsi``,
``korupsinya``, ``berkorupsi``. Write the root to catch its family (an affixed query word
only finds itself and its further affixed forms). A quoted term matches exactly (folded),
without affix stripping: ``"korupsi"`` finds ``korupsi`` only, and the words of a multi-word
phrase must follow each other exactly. The stemmer strips affixes without a dictionary, so a
short root can also catch an unrelated word ending in it; quote such a word.
"""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from dataclasses import dataclass, field

from workers.dedupe import words
from workers.enrich.stem import candidates

_TOKEN = re.compile(r'"[^"]*"?|\(|\)|[^\s()"]+')
_OPERATORS = {"AND", "OR", "NOT"}


class QueryError(ValueError):
    """The query text cannot be parsed."""


def fold(text: str) -> str:
    """Lower-case and strip accents (NFKD, combining marks dropped)."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def tokens(text: str) -> list[str]:
    """Folded word tokens of a text (the dedup tokeniser after folding)."""
    return words(fold(text))


@dataclass(frozen=True)
class Term:
    """A word (affixes allowed) or an exact phrase."""

    words: tuple[str, ...]
    exact: bool

    def __str__(self) -> str:
        text = " ".join(self.words)
        return f'"{text}"' if self.exact else text


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


Node = Term | And | Or | Not


@dataclass
class Document:
    """An article tokenised once for all rules: positions of exact tokens and of stem candidates."""

    exact: dict[str, list[int]] = field(default_factory=dict)
    stems: dict[str, list[int]] = field(default_factory=dict)
    _found: dict[Term, bool] = field(default_factory=dict)  # many rules share terms: look each up once

    @classmethod
    def of(cls, text: str) -> Document:
        """Tokenise a text (title + body) for matching."""
        exact: dict[str, list[int]] = defaultdict(list)
        for position, token in enumerate(tokens(text)):
            exact[token].append(position)
        stems: dict[str, list[int]] = defaultdict(list)
        for token, positions in exact.items():
            for root in candidates(token):
                stems[root].extend(positions)
            if token not in stems:  # short words (< stem.MIN_ROOT) are their own root
                stems[token].extend(positions)
        return cls(dict(exact), dict(stems))

    def terms(self) -> set[str]:
        """Every key a rule's prefilter term can hit (exact tokens and stem candidates)."""
        return self.exact.keys() | self.stems.keys()

    def has(self, term: Term) -> bool:
        """True when the term occurs (phrase words consecutive)."""
        found = self._found.get(term)
        if found is None:
            found = self._found[term] = self._has(term)
        return found

    def _has(self, term: Term) -> bool:
        table = self.exact if term.exact else self.stems
        first = table.get(term.words[0])
        if not first:
            return False
        if len(term.words) == 1:
            return True
        rest = [set(table.get(word, ())) for word in term.words[1:]]
        return any(all(p + i + 1 in positions for i, positions in enumerate(rest)) for p in first)


def parse(text: str) -> Node:
    """Parse query text into a tree; raises QueryError on empty or malformed input."""
    parser = _Parser(_lex(text))
    node = parser.or_expr()
    if parser.peek() is not None:
        raise QueryError(f"unexpected {parser.peek()!r} in {text!r}")
    return node


def evaluate(node: Node, doc: Document) -> bool:
    """Exact evaluation of a parsed query on a tokenised document."""
    if isinstance(node, Term):
        return doc.has(node)
    if isinstance(node, And):
        return all(evaluate(child, doc) for child in node.children)
    if isinstance(node, Or):
        return any(evaluate(child, doc) for child in node.children)
    return not evaluate(node.child, doc)


def positive_terms(node: Node) -> list[Term]:
    """Terms not under a NOT: the ones reported as 'matched' when present."""
    if isinstance(node, Term):
        return [node]
    if isinstance(node, Not):
        return []
    return [term for child in node.children for term in positive_terms(child)]


def required_keys(node: Node) -> frozenset[str] | None:
    """Keys of which at least one occurs in every matching document (None: no such set, e.g. NOT x).

    A term needs its longest word (long words are rarer, so fewer rules become candidates); AND
    needs any one child's set (the smallest, then the one of longest words, is kept); OR needs
    the union of its children's. The matcher indexes rules by these keys.
    """
    if isinstance(node, Term):
        return frozenset((max(node.words, key=len),))
    if isinstance(node, Not):
        return None
    sets = [required_keys(child) for child in node.children]
    if isinstance(node, And):
        known = [s for s in sets if s is not None]
        return min(known, key=lambda keys: (len(keys), -min(map(len, keys)))) if known else None
    if any(s is None for s in sets):
        return None
    return frozenset().union(*sets)  # type: ignore[arg-type]


def _lex(text: str) -> list[str | Term]:
    out: list[str | Term] = []
    for raw in _TOKEN.findall(text):
        if raw in _OPERATORS or raw in ("(", ")"):
            out.append(raw)
            continue
        exact = raw.startswith('"')
        parts = tokens(raw.strip('"'))
        if not parts:
            continue  # punctuation only
        if exact:
            out.append(Term(tuple(parts), exact=True))
        else:  # a bare token that the tokeniser splits (Rusia-Ukraina) is a phrase of stemmed words
            out.append(Term(tuple(parts), exact=False))
    return out


class _Parser:
    """Recursive descent: or_expr := and_expr (OR and_expr)*; and_expr := unary (AND? unary)*."""

    def __init__(self, items: list[str | Term]):
        self.items = items
        self.pos = 0

    def peek(self) -> str | Term | None:
        return self.items[self.pos] if self.pos < len(self.items) else None

    def take(self) -> str | Term | None:
        item = self.peek()
        self.pos += 1
        return item

    def or_expr(self) -> Node:
        children = [self.and_expr()]
        while self.peek() == "OR":
            self.take()
            children.append(self.and_expr())
        return children[0] if len(children) == 1 else Or(tuple(children))

    def and_expr(self) -> Node:
        children = [self.unary()]
        while self.peek() not in (None, "OR", ")"):
            if self.peek() == "AND":
                self.take()
            children.append(self.unary())
        return children[0] if len(children) == 1 else And(tuple(children))

    def unary(self) -> Node:
        item = self.take()
        if item == "NOT":
            return Not(self.unary())
        if item == "(":
            node = self.or_expr()
            if self.take() != ")":
                raise QueryError("missing ')'")
            return node
        if isinstance(item, Term):
            return item
        raise QueryError("empty query" if item is None else f"unexpected {item!r}")
