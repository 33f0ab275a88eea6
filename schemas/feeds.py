"""Pydantic models of feed polling: registered feeds, their state, parsed items and poll reports."""

from __future__ import annotations

import enum
from datetime import datetime

from pydantic import BaseModel, Field

from schemas.models import utcnow


class FeedKind(str, enum.Enum):
    """What a polled URL turned out to be."""

    rss = "rss"  # RSS 0.9x / 2.0
    rdf = "rdf"  # RSS 1.0
    atom = "atom"
    sitemap = "sitemap"
    news_sitemap = "news_sitemap"
    sitemap_index = "sitemap_index"
    homepage = "homepage"  # an HTML page: its feeds are discovered and polled


class Feed(BaseModel):
    """A feed registered by an analyst (its configuration, not its state)."""

    url: str
    name: str | None = None
    every_seconds: int = 600
    added_at: datetime = Field(default_factory=utcnow)


class FeedState(BaseModel):
    """What polling has learnt about one feed; persisted between polls."""

    url: str
    kind: FeedKind | None = None
    etag: str | None = None
    last_modified: str | None = None
    last_poll: datetime | None = None
    last_new_item: datetime | None = None
    next_poll: datetime | None = None  # None: due now
    interval_seconds: float | None = None  # adaptive; starts at Feed.every_seconds
    error_streak: int = 0
    last_error: str | None = None
    items_seen: int = 0


class FeedItem(BaseModel):
    """One entry of a feed or sitemap, its URL already canonical."""

    url: str
    title: str | None = None
    published_at: datetime | None = None


class ParsedFeed(BaseModel):
    """A parsed feed: its kind, items, and further documents to poll (sitemap index children, discovered feeds)."""

    kind: FeedKind
    title: str | None = None
    items: list[FeedItem] = Field(default_factory=list)
    children: list[str] = Field(default_factory=list)
    # Items left out with their reason (a link that is no usable URL, such as http://[x/1); items
    # without any link are no articles and are not counted here.
    skipped: list[str] = Field(default_factory=list)


class PollReport(BaseModel):
    """The result of polling one feed once."""

    url: str
    new_urls: list[str] = Field(default_factory=list)
    skipped: list[str] = Field(default_factory=list)  # feed items left out, each with its reason
    not_modified: bool = False
    error: str | None = None
