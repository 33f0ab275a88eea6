"""`kliping rules test`: which stored articles a rule (or a query not saved yet) would match."""

from __future__ import annotations

from dataclasses import dataclass

from schemas import Article
from schemas.monitor import Rule
from workers.monitor.match import Matcher
from workers.ports import ArticleIndex, SearchQuery


@dataclass(frozen=True)
class Preview:
    """The rule tried, and the stored articles it matches with the terms that occurred."""

    rule: Rule
    saved: bool
    matches: list[tuple[Article, list[str]]]


def preview(index: ArticleIndex, rule: Rule, saved: bool = False, limit: int = 50) -> Preview:
    """Stored articles the rule matches: found by the search engine, confirmed by the rule matcher.

    Search and matcher compile the same parsed query, so the matcher only adds the matched terms
    (and would drop an article the engine found by mistake); the rule's filters go into the search.
    """
    query = SearchQuery(
        text=rule.query,
        entity=rule.entity,
        source=rule.source,
        sentiment=rule.sentiment,
        limit=limit,
    )
    matcher = Matcher([rule])
    matches = []
    for article in index.search(query):
        found = matcher.match(article)
        if found:
            matches.append((article, found[0].terms))
    return Preview(rule, saved, matches)
