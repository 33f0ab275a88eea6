"""Pydantic models for everything that crosses a stage, task or storage boundary.

Messages are JSON (``model_dump(mode="json")``), never pickle. The Elasticsearch
template in ``schemas/elasticsearch/`` mirrors :class:`Article` (checked by a test).
"""

from __future__ import annotations

import enum
from datetime import UTC, datetime

from pydantic import BaseModel, ConfigDict, Field, model_validator


def utcnow() -> datetime:
    """Current time, timezone-aware UTC."""
    return datetime.now(UTC)


class Outcome(str, enum.Enum):
    """How one input ended. Every input ends in exactly one of these."""

    indexed = "indexed"
    copy = "copy"
    unchanged = "unchanged"
    skipped = "skipped"
    failed = "failed"


class Reason(str, enum.Enum):
    """Why an input was skipped or failed: a small fixed set so counts aggregate."""

    # skipped: not an article, or not ours to take
    not_found = "not_found"
    unsupported_type = "unsupported_type"
    no_text = "no_text"
    too_short = "too_short"
    not_article = "not_article"
    robots_disallowed = "robots_disallowed"
    blocked_address = "blocked_address"
    gone = "gone"
    # failed: quarantined, replayable
    too_large = "too_large"
    bad_encoding = "bad_encoding"
    malformed = "malformed"
    http_error = "http_error"
    unreachable = "unreachable"
    timeout = "timeout"
    invalid_input = "invalid_input"
    service_unavailable = "service_unavailable"
    internal_error = "internal_error"


class Scope(str, enum.Enum):
    """Reach of an outlet, as Indonesian monitoring tools label it (Jenis Media)."""

    lokal = "lokal"
    nasional = "nasional"
    internasional = "internasional"


class SourceKind(str, enum.Enum):
    """What sort of publisher a source is."""

    news = "news"
    wire = "wire"
    press_release = "press_release"


class Source(BaseModel):
    """The outlet an article came from (profile from the source registry)."""

    name: str
    domain: str | None = None
    scope: Scope | None = None
    kind: SourceKind = SourceKind.news
    country: str | None = None
    known: bool = False  # True when the registry knows this outlet


class RawDocument(BaseModel):
    """What a loader or fetcher produced: decoded text plus where it came from."""

    input: str  # the path or URL as the user gave it
    url: str | None = None  # requested URL (None for local files)
    final_url: str | None = None  # after redirects
    status: int | None = None
    content_type: str  # "text/html" or "text/plain"
    headers: dict[str, str] = Field(default_factory=dict)
    text: str
    fetched_at: datetime = Field(default_factory=utcnow)
    listed_at: datetime | None = None  # the date a feed item or sitemap entry gave the URL


class DateSource(str, enum.Enum):
    """Where an article's date (``Article.dated_at``) came from."""

    page = "page"  # the page's metadata or a date stamp shown on it (HTML)
    json_ld = "json-ld"  # the page's JSON-LD datePublished
    text = "text"  # a date line in a plain text's header ("Senin, 28 April 2025 21:14 WIB")
    dateline = "dateline"  # the dateline of the first paragraph ("Jakarta, 28 April 2025 - …")
    feed = "feed"  # the date a feed item or sitemap entry gave the URL (RawDocument.listed_at)
    first_seen = "first_seen"  # the source states none: when Kliping first saw the article


class EntityType(str, enum.Enum):
    """Entity classes used by monitoring dashboards."""

    PERSON = "PERSON"
    ORGANIZATION = "ORGANIZATION"
    LOCATION = "LOCATION"


class SentimentLabel(str, enum.Enum):
    """Three-way news sentiment."""

    negative = "negative"
    neutral = "neutral"
    positive = "positive"


class Sentiment(BaseModel):
    """Sentiment of an article, or the tone toward one entity: label, signed score in [-1, 1], confidence in [0, 1].

    The trained model's confidence is a calibrated probability (of labels given 0.8, about 80 % are right on
    its held-out headlines); score is P(positive) - P(negative).
    """

    label: SentimentLabel = SentimentLabel.neutral
    score: float = 0.0
    confidence: float = 0.0


class Entity(BaseModel):
    """One entity in an article: canonical name, surface forms and where they occur."""

    name: str
    type: EntityType
    mentions: int = 1
    aliases: list[str] = Field(default_factory=list)
    positions: list[int] = Field(default_factory=list)  # character offsets in Article.text
    subtype: str | None = None  # e.g. country, province, city, regency
    # the name as the article's language writes it, when it is not the canonical ``name`` (one entity, one
    # canonical name: "Amerika Serikat" is displayed "United States" in an English article)
    display_name: str | None = None
    # the tone of the sentences that mention a person or organisation; None for places
    sentiment: Sentiment | None = None


class CopyRef(BaseModel):
    """A syndicated copy recorded on its canonical article."""

    id: str
    outlet: str | None = None
    url: str | None = None


class DedupMethod(str, enum.Enum):
    """How a copy was recognised."""

    exact = "exact"
    near = "near"
    containment = "containment"


class Dedup(BaseModel):
    """Dedup state of a stored article."""

    canonical_id: str
    is_canonical: bool = True
    story_id: str | None = None
    copies: list[CopyRef] = Field(default_factory=list)
    copy_count: int = 0
    method: DedupMethod | None = None  # set on copies
    similarity: float | None = None  # set on copies


class Article(BaseModel):
    """A cleaned (and later enriched) article: the unit stored and indexed."""

    model_config = ConfigDict(use_enum_values=False)

    id: str
    input: str
    url: str | None = None
    title: str
    text: str
    language: str | None = None
    published_at: datetime | None = None
    authors: list[str] = Field(default_factory=list)
    editors: list[str] = Field(default_factory=list)
    source: Source
    section: str | None = None
    tags: list[str] = Field(default_factory=list)
    image: str | None = None
    dateline: str | None = None
    content_hash: str
    fetched_at: datetime = Field(default_factory=utcnow)
    indexed_at: datetime | None = None
    entities: list[Entity] = Field(default_factory=list)
    sentiment: Sentiment | None = None
    keywords: list[str] = Field(default_factory=list)
    dedup: Dedup | None = None
    # When Kliping first saw the article (its first fetch or load; kept when the article is ingested
    # again), and the one date time filters, sorting, stories and dashboards use: published_at when the
    # source states one, else first_seen_at. Filled by the validator below, also for articles stored
    # before these fields existed (their first fetch then stands for first seen).
    first_seen_at: datetime | None = None
    dated_at: datetime | None = None
    date_source: DateSource | None = None

    @model_validator(mode="after")
    def _settle_dates(self) -> Article:
        self.settle_dates()
        return self

    def settle_dates(self, first_seen: datetime | None = None) -> None:
        """Fill first_seen_at (the earlier of the stored and `first_seen`), dated_at and date_source."""
        seen = [moment for moment in (self.first_seen_at, first_seen) if moment is not None]
        self.first_seen_at = min(seen, key=_utc) if seen else self.fetched_at
        if self.published_at is not None:
            self.dated_at = self.published_at
            if self.date_source in (None, DateSource.first_seen):
                self.date_source = DateSource.page  # stored before date_source existed
        else:
            self.dated_at = self.first_seen_at
            self.date_source = DateSource.first_seen


def _utc(moment: datetime) -> datetime:
    """A datetime comparable with aware ones (naive is read as UTC)."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


class DedupVerdict(BaseModel):
    """What the dedup stage decided for a new article."""

    is_copy: bool
    canonical_id: str
    method: DedupMethod | None = None
    similarity: float | None = None


class InputResult(BaseModel):
    """The recorded outcome of one input (one line of ``kliping ingest --json``)."""

    input: str
    outcome: Outcome
    id: str | None = None
    canonical_id: str | None = None
    reason: str | None = None  # Reason value, plus detail after ": "
    seconds: float | None = None


class FailedInput(BaseModel):
    """A quarantined input: enough to replay it."""

    id: str
    input: str
    reason: Reason
    error: str
    attempts: int = 1
    failed_at: datetime = Field(default_factory=utcnow)
    # A broker message that could not run (malformed, undecodable): its raw body. Not an input: not replayed.
    message: str | None = None
