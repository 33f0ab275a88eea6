"""Match an article against every standing rule cheaply: compile once, prefilter, then evaluate.

Compilation parses each rule and indexes it under its required keys (query.required_keys):
a rule can only match a document that contains at least one of them. Matching an article
tokenises it once, looks each of its distinct keys up in that inverted index (a dict hit per
key, whatever the number of rules) and evaluates exactly only the candidate rules. Rules
with no required key (``NOT x`` alone) are always candidates.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from schemas import Article
from schemas.monitor import Rule
from workers.monitor.query import (
    Document,
    Node,
    evaluate,
    fold,
    parse,
    positive_terms,
    required_keys,
)


@dataclass(frozen=True)
class CompiledRule:
    """A rule with its parsed query."""

    rule: Rule
    node: Node


@dataclass(frozen=True)
class Match:
    """A rule that matched an article, and which of its terms occurred."""

    rule: Rule
    terms: list[str]


def article_text(article: Article) -> str:
    """What rules are matched on: title and body."""
    return f"{article.title}\n{article.text}"


def passes_filters(rule: Rule, article: Article) -> bool:
    """The --entity/--source/--sentiment filters of a rule (case- and accent-folded names).

    As in ``kliping search``, --sentiment with --entity is the tone toward that entity, not the article's.
    """
    if rule.source is not None:
        wanted = fold(rule.source)
        if wanted not in {fold(article.source.name), fold(article.source.domain or "")}:
            return False
    if rule.entity is not None:
        wanted = fold(rule.entity)
        named = [e for e in article.entities if wanted in {fold(n) for n in (e.name, *e.aliases)}]
        if rule.sentiment is not None:
            return any(e.sentiment is not None and e.sentiment.label == rule.sentiment for e in named)
        return bool(named)
    return rule.sentiment is None or (
        article.sentiment is not None and article.sentiment.label == rule.sentiment
    )


class Matcher:
    """Compiled rules behind an inverted index of required keys."""

    def __init__(self, rules: list[Rule]):
        self.rules = [CompiledRule(rule, parse(rule.query)) for rule in rules]
        self._by_key: dict[str, list[int]] = defaultdict(list)
        self._always: list[int] = []
        for number, compiled in enumerate(self.rules):
            keys = required_keys(compiled.node)
            if keys is None:
                self._always.append(number)
            for key in keys or ():
                self._by_key[key].append(number)

    def candidates(self, doc: Document) -> list[int]:
        """Numbers of the rules that may match (a superset of the matching ones), in rule order."""
        found = set(self._always)
        by_key = self._by_key
        for key in doc.terms():
            hits = by_key.get(key)
            if hits:
                found.update(hits)
        return sorted(found)

    def match(self, article: Article, doc: Document | None = None) -> list[Match]:
        """Rules matching the article, with the terms that occurred."""
        doc = doc or Document.of(article_text(article))
        out = []
        for number in self.candidates(doc):
            compiled = self.rules[number]
            if evaluate(compiled.node, doc) and passes_filters(compiled.rule, article):
                terms = [str(t) for t in dict.fromkeys(positive_terms(compiled.node)) if doc.has(t)]
                out.append(Match(compiled.rule, terms))
        return out

    def match_all(self, article: Article, doc: Document | None = None) -> list[Match]:
        """Brute force: evaluate every rule (the reference the prefilter is tested against)."""
        doc = doc or Document.of(article_text(article))
        return [
            Match(c.rule, [str(t) for t in dict.fromkeys(positive_terms(c.node)) if doc.has(t)])
            for c in self.rules
            if evaluate(c.node, doc) and passes_filters(c.rule, article)
        ]
