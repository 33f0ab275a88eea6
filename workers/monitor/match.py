"""Match an article against every standing rule cheaply: compile once, prefilter, then evaluate.

Compilation parses each rule and indexes it under its required keys (query.required_keys):
a rule can only match a document that contains at least one of them. Matching an article
tokenises it once, looks each of its distinct keys up in that inverted index (a dict hit per
key, whatever the number of rules) and evaluates exactly only the candidate rules. Rules
with no required key (``NOT x`` alone) are always candidates.
"""

from __future__ import annotations

import logging
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

log = logging.getLogger(__name__)


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


def document_of(article: Article) -> Document:
    """What rules are matched on: the article's title and body, each a field of its own."""
    return Document.of(article.text, title=article.title)


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


@dataclass(frozen=True)
class Broken:
    """A rule that could not be parsed or evaluated, and why: to be disabled."""

    rule: Rule
    error: str


def compile_rules(rules: list[Rule]) -> tuple[list[CompiledRule], list[Broken]]:
    """Parse the active rules (those without an error); the ones that fail to parse are returned as broken."""
    compiled, broken = [], []
    for rule in rules:
        if rule.error is not None:
            continue  # disabled
        try:
            compiled.append(CompiledRule(rule, parse(rule.query)))
        except Exception as exc:  # noqa: BLE001 - a stored rule that no longer parses is disabled, never raised
            broken.append(Broken(rule, f"{type(exc).__name__}: {exc}"))
    return compiled, broken


class Matcher:
    """Compiled rules behind an inverted index of required keys.

    A rule that fails to parse or to evaluate is set aside in ``broken`` (and skipped from then on):
    one bad rule never fails an article nor stops the other rules.
    """

    def __init__(self, rules: list[Rule]):
        self.rules, self.broken = compile_rules(rules)
        self._dead: set[int] = set()
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
        """Rules matching the article, with the terms that occurred (a rule that raises is set aside)."""
        doc = doc or document_of(article)
        out = []
        for number in self.candidates(doc):
            if number in self._dead:
                continue
            compiled = self.rules[number]
            try:
                if evaluate(compiled.node, doc) and passes_filters(compiled.rule, article):
                    terms = [str(t) for t in dict.fromkeys(positive_terms(compiled.node)) if doc.has(t)]
                    out.append(Match(compiled.rule, terms))
            except Exception as exc:  # noqa: BLE001 - recorded and disabled, the article goes on
                log.warning("rule %s cannot be evaluated, disabled: %r", compiled.rule.name, exc)
                self._dead.add(number)
                self.broken.append(Broken(compiled.rule, f"{type(exc).__name__}: {exc}"))
        return out

    def match_all(self, article: Article, doc: Document | None = None) -> list[Match]:
        """Brute force: evaluate every rule (the reference the prefilter is tested against)."""
        doc = doc or document_of(article)
        return [
            Match(c.rule, [str(t) for t in dict.fromkeys(positive_terms(c.node)) if doc.has(t)])
            for c in self.rules
            if evaluate(c.node, doc) and passes_filters(c.rule, article)
        ]
