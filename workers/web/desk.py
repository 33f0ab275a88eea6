"""What the web view shows, read through the article index and monitor store of either mode."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from schemas import Article, CopyRef, Entity, SentimentLabel
from schemas.monitor import Alert
from workers.monitor.query import fold, tokens
from workers.ports import ArticleIndex, MonitorStore, SearchQuery

# Charts read at most this many articles of a search or an entity (newest or best first): enough
# for a desk's view of weeks of one topic, bounded so a page never reads a whole cluster.
CHART_LIMIT = 2000
# Results listed on a page.
LIST_LIMIT = 50


def when(article: Article) -> datetime:
    """The time an article is filed under: its date (published, else first seen: when it was fetched)."""
    return getattr(article, "dated_at", None) or article.published_at or article.fetched_at


@dataclass
class Day:
    """One day of a timeline: article count, sentiment counts and mean tone (score)."""

    day: date
    total: int = 0
    labels: dict[str, int] = field(default_factory=lambda: {label.value: 0 for label in SentimentLabel})
    score_sum: float = 0.0
    scored: int = 0
    mentions: int = 0

    @property
    def tone(self) -> float | None:
        """Mean sentiment score of the day's scored articles (-1 … 1)."""
        return self.score_sum / self.scored if self.scored else None


def timeline(articles: Iterable[Article], entity: str | None = None) -> list[Day]:
    """Articles per day with their sentiment (the entity's own tone and mentions when one is given)."""
    days: dict[date, Day] = {}
    for article in articles:
        at = when(article)
        day = days.setdefault(at.date(), Day(at.date()))
        day.total += 1
        found = _entity_in(article, entity) if entity else None
        sentiment = getattr(found, "sentiment", None) or article.sentiment
        if found is not None:
            day.mentions += found.mentions
        if sentiment is not None:
            day.labels[sentiment.label.value] += 1
            day.score_sum += sentiment.score
            day.scored += 1
    return [days[d] for d in sorted(days)]


def display_name(entity: Entity, text: str) -> str:
    """How the article itself writes an entity: the name or alias found at its first mention.

    Canonical names come from a gazetteer that is mostly Indonesian; an English article that says
    "United States" shows that, not "Amerika Serikat" (the canonical name stays the link target).
    """
    for position in entity.positions[:3]:
        for candidate in sorted((entity.name, *entity.aliases), key=len, reverse=True):
            if fold(text[position : position + len(candidate)]) == fold(candidate):
                return candidate
    folded = f" {' '.join(tokens(text))} "
    if f" {' '.join(tokens(entity.name))} " in folded:
        return entity.name
    for alias in sorted(entity.aliases, key=len, reverse=True):  # no positions (copies): any alias written
        if len(alias) > 2 and f" {' '.join(tokens(alias))} " in folded:
            return alias
    return entity.name


def _by_time(at: datetime | None) -> tuple[bool, float]:
    """Sort key: earliest first, undated last (aware and naive times compared as UTC)."""
    if at is None:
        return (True, 0.0)
    return (False, at.timestamp() if at.tzinfo else at.replace(tzinfo=UTC).timestamp())


def _entity_in(article: Article, name: str | None):
    wanted = fold(name or "")
    for entity in article.entities:
        if wanted in {fold(entity.name), *(fold(alias) for alias in entity.aliases)}:
            return entity
    return None


@dataclass
class Pickup:
    """One copy of a canonical article: which outlet, when, and how long after the canonical."""

    ref: CopyRef
    article: Article | None
    at: datetime | None
    delay: timedelta | None


@dataclass
class Story:
    """A canonical article, its syndicated copies by time, and the story's other reports."""

    canonical: Article
    copies: list[Pickup]
    related: list[Article]


@dataclass
class EntityView:
    """An entity across stored articles: its articles, names and timeline."""

    name: str
    type: str | None
    aliases: list[str]
    articles: list[Article]
    days: list[Day]


class Desk:
    """The read side of the web view over one ArticleIndex (and the alerts, when there is a store)."""

    def __init__(self, index: ArticleIndex, alerts: MonitorStore | None = None):
        self.index = index
        self._alerts = alerts

    def search(self, query: SearchQuery) -> list[Article]:
        """Articles of a search (QueryError for a query the language refuses)."""
        return self.index.search(query)

    def article(self, article_id: str) -> Article | None:
        """One stored article."""
        return self.index.get(article_id)

    def story(self, article: Article) -> Story:
        """The story page of an article: its canonical (itself unless a copy), copies and related reports."""
        dedup = article.dedup
        canonical = article
        if dedup is not None and not dedup.is_canonical:
            canonical = self.index.get(dedup.canonical_id) or article
        start = when(canonical)
        copies = []
        for ref in canonical.dedup.copies if canonical.dedup else []:
            copy = self.index.get(ref.id)
            at = when(copy) if copy else None
            copies.append(Pickup(ref, copy, at, at - start if at else None))
        copies.sort(key=lambda p: _by_time(p.at))
        related: list[Article] = []
        story_id = canonical.dedup.story_id if canonical.dedup else None
        if story_id:
            copy_ids = {ref.id for ref in (canonical.dedup.copies if canonical.dedup else [])}
            found = self.index.search(SearchQuery(story_id=story_id, limit=CHART_LIMIT))
            related = [a for a in found if a.id != canonical.id and a.id not in copy_ids]
            related.sort(key=lambda a: _by_time(when(a)))
        return Story(canonical, copies, related)

    def entity(self, name: str) -> EntityView:
        """The entity page: its articles (newest first) and its mentions and tone over time."""
        articles = self.index.search(SearchQuery(entity=name, limit=CHART_LIMIT))
        kind, canonical, aliases = None, name, set()
        for article in articles:
            found = _entity_in(article, name)
            if found is not None:
                kind, canonical = found.type.value, found.name
                aliases.update(found.aliases)
        return EntityView(canonical, kind, sorted(aliases - {canonical}), articles, timeline(articles, name))

    def alerts(self) -> list[Alert]:
        """Alerts with their delivery state, newest first (none without a monitor store)."""
        if self._alerts is None:
            return []
        alerts = list(self._alerts.alerts())
        return sorted(alerts, key=lambda a: a.created_at, reverse=True)
