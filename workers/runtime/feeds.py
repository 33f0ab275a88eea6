"""Feed polling runs: one pass over the due feeds of the configured mode, and the one-poll-at-a-time lock."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from datetime import datetime

from schemas.feeds import PollReport
from workers.backends.feed_state import RedisFeedStore, redis_lock
from workers.feeds.listed import stamped
from workers.feeds.poll import Ingest, poll_due
from workers.fetch.fetcher import Fetcher, RedisRateLimiter
from workers.pipeline import Context
from workers.runtime.wiring import feed_fetcher, feed_store
from workers.settings import Settings

POLL_LOCK_NAME = "lock:poll-feeds"


def poll_once(settings: Settings, ingest: Ingest, force: bool = False) -> list[PollReport]:
    """One pass over the due feeds of the configured mode."""
    with feed_fetcher(settings) as fetcher:
        return poll_due(feed_store(settings), fetcher.feed, ingest, force=force)


def poll_locked(client, settings: Settings, ingest: Ingest, force: bool = False) -> list[PollReport] | None:
    """One pass over the due feeds in Redis, unless another poll holds the lock (then None)."""
    # The lock lives as long as a task may (the hard time limit): a poll killed mid-way
    # frees it for the next beat tick instead of blocking polling forever.
    key = f"{settings.redis_prefix}:{POLL_LOCK_NAME}"
    with redis_lock(client, key, settings.task_time_limit * 1000) as held:
        if not held:
            return None
        store = RedisFeedStore(client, settings.redis_prefix)
        limiter = RedisRateLimiter(client, settings.redis_prefix)
        with Fetcher(settings, limiter) as fetcher:
            return poll_due(store, fetcher.feed, ingest, force=force)


def with_listed_dates(ctx: Context, listed: Mapping[str, datetime] | None) -> Context:
    """The pipeline context whose fetch stamps the feed dates of `listed` (the same context when none)."""
    return dataclasses.replace(ctx, fetch=stamped(ctx.fetch, listed)) if listed else ctx
