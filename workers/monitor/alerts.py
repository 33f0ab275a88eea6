"""The monitor stage: match a stored article against the rules, raise at most one alert per rule per story.

An alert's id is derived from (rule, story), and the store claims it create-once: the first
article of a story that matches a rule creates the alert (and queues its delivery); copies
and later articles of the same story are attached to it and queue nothing.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from schemas import Article
from schemas.monitor import Alert, AlertKind, Delivery, DeliveryState, Rule, alert_id
from workers.monitor.match import Match, Matcher
from workers.monitor.spike import BASELINE_HOURS, epoch_hour, is_spike
from workers.ports import MonitorStore


def story_of(article: Article) -> str:
    """The story an article belongs to (its canonical's id when no story was assigned)."""
    if article.dedup is None:
        return article.id
    return article.dedup.story_id or article.dedup.canonical_id


def _alert(rule: Rule, story: str, kind: AlertKind, article: Article, terms: list[str]) -> Alert:
    return Alert(
        id=alert_id(rule.name, story),
        rule=rule.name,
        story_id=story,
        kind=kind,
        article_id=article.id,
        title=article.title,
        url=article.url,
        outlet=article.source.name,
        sentiment=article.sentiment.label if article.sentiment else None,
        matched_terms=terms,
        delivery=Delivery(state=DeliveryState.pending if rule.webhook else DeliveryState.none),
    )


def monitor(
    article: Article, matcher: Matcher, store: MonitorStore, now: float | None = None, rerun: bool = False
) -> list[Alert]:
    """Match one stored article; return the alerts it created (attachments create none).

    `rerun`: the article was stored before (an idempotent re-run, or a task redelivered after its
    worker died between the index write and this stage): alerts it should have created are
    created now or handed on again while never attempted; spike counts are not counted twice.
    """
    created = []
    story = story_of(article)
    hour = epoch_hour(time.time() if now is None else now)
    for match in matcher.match(article):
        created.extend(_fire(match, story, article, store))
        if match.rule.spike and not rerun:
            count = store.hit(match.rule.name, hour)
            history = store.hourly_counts(match.rule.name, list(range(hour - BASELINE_HOURS, hour)))
            if is_spike(count, history):
                spike = _alert(match.rule, f"spike:{hour}", AlertKind.spike, article, match.terms)
                if store.claim_alert(spike):
                    created.append(spike)
    return created


def _fire(match: Match, story: str, article: Article, store: MonitorStore) -> list[Alert]:
    alert = _alert(match.rule, story, AlertKind.match, article, match.terms)
    if store.claim_alert(alert):
        _attach_copies(alert.id, article, store)
        return [alert]
    existing = store.get_alert(alert.id)
    if existing is None:
        return []
    _attach_copies(alert.id, article, store)
    if existing.article_id != article.id:  # a changed re-ingest is not its own copy
        store.attach(alert.id, article.id)
    elif existing.delivery.state == DeliveryState.pending and existing.delivery.attempts == 0:
        # Its own alert, never attempted: the first run may have died before queueing the delivery.
        # Handed on again; a duplicate delivery task sends nothing twice (compare-and-set claim).
        return [existing]
    return []


def _attach_copies(alert_id: str, article: Article, store: MonitorStore) -> None:
    """Attach a canonical's stored copies: one stored before it raised no alert of its own (it knew no story)."""
    if article.dedup is not None and article.dedup.is_canonical:
        for ref in article.dedup.copies:
            store.attach(alert_id, ref.id)


def disable_rule(store: MonitorStore, rule: Rule, error: str) -> None:
    """Disable a rule with the error that stopped it (shown by `kliping rules list`); a newer rule of that name stays."""
    current = store.rule(rule.name)
    if current is not None and current.query == rule.query and current.error is None:
        store.add_rule(current.model_copy(update={"error": error}))


class Monitor:
    """The monitor stage with its rule cache: recompiles when the store's rule version changes."""

    def __init__(self, store: MonitorStore, on_alert: Callable[[Alert], None] | None = None):
        self.store = store
        self.on_alert = on_alert  # queue delivery (the Celery task); None: kept in `queued` for the runner
        self.queued: list[str] = []
        self._matcher: Matcher | None = None
        self._version: int | None = None

    def matcher(self) -> Matcher:
        """The compiled rules, recompiled only when rules changed."""
        version = self.store.version()
        if self._matcher is None or version != self._version:
            self._matcher, self._version = Matcher(self.store.rules()), version
        return self._matcher

    def observe(self, article: Article, now: float | None = None, rerun: bool = False) -> list[Alert]:
        """Run the monitor stage on a stored article and hand new alerts with a webhook on (`rerun`: see `monitor`)."""
        matcher = self.matcher()
        if not matcher.rules and not matcher.broken:
            return []
        alerts = monitor(article, matcher, self.store, now, rerun)
        self._disable_broken(matcher)
        for alert in alerts:
            if alert.delivery.state != DeliveryState.pending:
                continue
            if self.on_alert is not None:
                self.on_alert(alert)
            else:
                self.queued.append(alert.id)
        return alerts

    def _disable_broken(self, matcher: Matcher) -> None:
        """Record the error of each rule that could not be parsed or evaluated (disabling it)."""
        while matcher.broken:
            broken = matcher.broken.pop()
            disable_rule(self.store, broken.rule, broken.error)

    def take_queued(self) -> list[str]:
        """Alert ids waiting for delivery (embedded mode), emptying the queue."""
        queued, self.queued = self.queued, []
        return queued
