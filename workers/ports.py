"""Ports: the protocols (and their small value types) the stages and the pipeline use.

Backends (workers.backends.*) implement them, one implementation per mode (embedded,
distributed); workers.runtime.wiring picks them. Stages never know which one they got.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator
from contextlib import AbstractContextManager
from datetime import datetime
from typing import Protocol

from pydantic import BaseModel, Field

from schemas import Article, CopyRef, FailedInput, InputResult, SentimentLabel
from schemas.feeds import Feed, FeedState
from schemas.monitor import Alert, Delivery, Rule


class SearchQuery(BaseModel):
    """A search over stored articles (the `kliping search` options)."""

    text: str | None = None
    entity: str | None = None
    source: str | None = None
    since: datetime | None = None  # dated_at from this moment on
    until: datetime | None = None  # dated_at before this moment
    sentiment: SentimentLabel | None = None
    story_id: str | None = None  # the articles of one story (dedup.story_id)
    limit: int = 20


class Fingerprint(BaseModel):
    """What the dedup index keeps per article, so candidates are verified, not trusted."""

    article_id: str
    canonical_id: str
    body_hash: str
    signature: list[int]
    shingles: int  # number of distinct shingles (for containment estimates)
    outlet: str | None = None
    url: str | None = None
    published_at: datetime | None = None
    is_original: bool = False  # wire/press-release original (dateline or wire marker)


class Claim(BaseModel):
    """Result of registering a fingerprint: exactly one of the fields says what happened."""

    winner: str | None = None  # registered: the canonical id that holds this body
    candidates: list[str] = Field(default_factory=list)  # not registered: new band neighbours to verify first
    moved_to: str | None = None  # not registered: the canonical was re-pointed to this id
    gone: bool = False  # not registered: the canonical's fingerprint has expired


class StoryRecord(BaseModel):
    """A story (event cluster) the story index knows: its id, terms and time."""

    story_id: str
    terms: list[str] = Field(default_factory=list)
    title: str = ""
    published_at: datetime | None = None
    # The story's size class (dedupe.stories.term_class): its term-index keys are term_class + term, so a
    # lookup can skip more of the commonest terms for classes that need more shared terms.
    term_class: str = ""

    def index_terms(self) -> list[str]:
        """The term-index keys of this story: its distinct terms, prefixed with its size class."""
        return [self.term_class + term for term in dict.fromkeys(self.terms)]


def add_copy_ref(article: Article, ref: CopyRef) -> bool:
    """Record a copy on a canonical held in memory; False when it was already recorded."""
    if article.dedup is None or any(copy.id == ref.id for copy in article.dedup.copies):
        return False
    article.dedup.copies.append(ref)
    article.dedup.copy_count = len(article.dedup.copies)
    return True


class ArticleIndex(Protocol):
    """Where articles are stored and searched (SQLite FTS or Elasticsearch)."""

    def get(self, article_id: str) -> Article | None:
        """The stored article, or None."""

    def put(self, article: Article) -> None:
        """Create or replace the article (deterministic id)."""

    def add_copy(self, canonical_id: str, ref: CopyRef) -> None:
        """Record a copy on its canonical."""

    def search(self, query: SearchQuery) -> list[Article]:
        """Articles matching the query, best first."""

    def ids_starting(self, prefix: str, limit: int = 10) -> list[str]:
        """Stored article ids beginning with `prefix`, sorted (at most `limit`)."""

    def iter_articles(self) -> Iterator[Article]:
        """Every stored article."""

    def count(self) -> int:
        """Number of stored articles."""


class DedupIndex(Protocol):
    """Shared near-duplicate and story index (SQLite tables or Redis keys)."""

    def find_exact(self, body_hash: str) -> str | None:
        """Canonical id of an identical body."""

    def candidates(self, bands: list[str]) -> set[str]:
        """Canonical ids sharing an LSH band."""

    def fingerprint(self, article_id: str) -> Fingerprint | None:
        """The stored fingerprint."""

    def register(self, fp: Fingerprint, bands: list[str], seen: Collection[str] | None = None) -> Claim:
        """Register atomically; a canonical re-checks its bands against `seen`."""

    def repoint(self, fp: Fingerprint, old_id: str, bands: list[str], old_bands: list[str]) -> Claim:
        """Make fp the canonical of old_id's group."""

    def members(self, canonical_id: str) -> list[Fingerprint]:
        """Fingerprints of a canonical's copies."""

    def stories_sharing(
        self,
        terms: list[str],
        since: datetime,
        min_shared: int,
        until: datetime | None = None,
        others: Collection[str] = (),
        total: int = 0,
    ) -> list[StoryRecord]:
        """Stories of `since` to `until` (None: no end) with at least `min_shared` of the terms
        (and `total` of the terms and `others` together)."""

    def story_term_counts(
        self, terms: list[str], since: datetime, until: datetime | None, cap: int
    ) -> dict[str, int]:
        """How many stories each term-index key is in, to skip the commonest terms first: of the window
        (counting may stop at `cap`) or of all times; any counts keep lookups exact, only their cost varies."""

    def put_story(self, story: StoryRecord) -> None:
        """Create or refresh a story."""

    def story_lock(self) -> AbstractContextManager[None]:
        """Held while a canonical finds its story or creates one: atomic across processes and workers."""


class StateStore(Protocol):
    """Outcomes and the quarantine."""

    def record(self, result: InputResult) -> None:
        """Remember an input's outcome."""

    def quarantine(self, failed: FailedInput) -> None:
        """Keep a failed input for replay."""

    def release(self, failed_id: str) -> None:
        """Drop an input from the quarantine."""

    def failed(self) -> list[FailedInput]:
        """Quarantined inputs."""

    def outcome_counts(self) -> dict[str, int]:
        """Counts by outcome over all recorded inputs."""


class MonitorStore(Protocol):
    """Rules, alerts (claimed once), deliveries and hourly counts."""

    def add_rule(self, rule: Rule) -> None:
        """Create or replace a rule."""

    def remove_rule(self, name: str) -> bool:
        """Drop a rule; False when unknown."""

    def rules(self) -> list[Rule]:
        """Every rule, by name."""

    def rule(self, name: str) -> Rule | None:
        """One rule, or None."""

    def version(self) -> int:
        """A number that changes whenever rules change (recompile when it does)."""

    def claim_alert(self, alert: Alert) -> bool:
        """Create the alert once; False when it already exists."""

    def attach(self, alert_id: str, article_id: str) -> None:
        """Attach a copy or later article to an alert."""

    def get_alert(self, alert_id: str) -> Alert | None:
        """One alert with its attachments and delivery."""

    def alerts(self, since: datetime | None = None) -> list[Alert]:
        """Alerts, oldest first."""

    def set_delivery(self, alert_id: str, delivery: Delivery) -> None:
        """Record the delivery state."""

    def swap_delivery(self, alert_id: str, expected: Delivery, new: Delivery) -> bool:
        """Record `new` only if the stored state is still `expected` (compare-and-set)."""

    def hit(self, rule: str, hour: int) -> int:
        """Count one matching article in an hour (epoch hours); the new count."""

    def hourly_counts(self, rule: str, hours: list[int]) -> list[int]:
        """Counts of the given hours."""


class FeedStore(Protocol):
    """Where feeds, their state and their seen item URLs persist."""

    def add(self, feed: Feed) -> None:
        """Register (or update) a feed."""

    def remove(self, url_or_name: str) -> Feed | None:
        """Forget a feed, its state and seen URLs; the removed feed, or None if unknown."""

    def feeds(self) -> list[Feed]:
        """Every registered feed."""

    def state(self, url: str) -> FeedState:
        """The state of a feed (a fresh one when never polled)."""

    def save_state(self, state: FeedState) -> None:
        """Persist a feed's state."""

    def unseen(self, url: str, items: list[str]) -> list[str]:
        """The item URLs this feed has not handed on yet, in the given order."""

    def mark_seen(self, url: str, items: Iterable[str]) -> None:
        """Remember item URLs as handed on."""
