"""Wiring: the one place that knows the mode and builds the backends for it.

Embedded: one SQLite file holds articles, dedup index, state, rules and feeds. Distributed: Redis
for shared state and rate limits, Elasticsearch for articles, Celery workers run the inputs.
Nothing else reads ``settings.distributed``: callers ask for a Context, a store, or whether
inputs are queued.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from workers.backends.archive import raw_archive
from workers.backends.feed_state import SqliteFeedStore
from workers.backends.monitor_state import SqliteMonitorStore
from workers.backends.sqlite.store import EmbeddedStore
from workers.fetch.lazy import LazyFetcher
from workers.monitor import Monitor
from workers.pipeline import Context
from workers.ports import FeedStore, MonitorStore
from workers.settings import Settings
from workers.sources import SourceRegistry

if TYPE_CHECKING:  # the distributed mode's clients are imported when it is used: the embedded
    # mode starts without redis and elasticsearch (about 0.3 s of imports)
    import redis

    from workers.backends.elastic.index import ElasticIndex
    from workers.fetch.fetcher import Fetcher


def queues_inputs(settings: Settings) -> bool:
    """True in the distributed mode: inputs are queued for Celery workers instead of run in this process."""
    return settings.distributed


def context(settings: Settings) -> Context:
    """The Context of the configured mode (embedded unless Redis and Elasticsearch are set)."""
    return distributed_context(settings) if settings.distributed else embedded_context(settings)


def embedded_context(settings: Settings) -> Context:
    """A Context over the embedded store (articles, dedup index and state in one SQLite file)."""
    store = EmbeddedStore(settings.db_path)
    return Context(
        settings=settings,
        registry=SourceRegistry.load(settings.sources_file),
        index=store,
        dedup=store,
        state=store,
        fetch=LazyFetcher(settings),  # a run over files never imports httpx
        monitor=Monitor(SqliteMonitorStore(settings.db_path)),
        archive=raw_archive(settings),
    )


def monitor_store(settings: Settings) -> MonitorStore:
    """The MonitorStore of the configured mode (Redis when distributed, else the embedded SQLite file)."""
    if settings.distributed:
        from workers.backends.monitor_state import RedisMonitorStore

        return RedisMonitorStore(redis_client(settings), settings.redis_prefix)
    return SqliteMonitorStore(settings.db_path)


def feed_store(settings: Settings) -> FeedStore:
    """The FeedStore of the configured mode: Redis when distributed, else the embedded SQLite file."""
    if settings.distributed:
        from workers.backends.feed_state import RedisFeedStore

        return RedisFeedStore(redis_client(settings), settings.redis_prefix)
    return SqliteFeedStore(settings.db_path)


def feed_fetcher(settings: Settings) -> Fetcher:
    """A Fetcher for feeds: the per-host limit is shared through Redis when distributed."""
    from workers.fetch.fetcher import Fetcher, LocalRateLimiter, RedisRateLimiter

    if settings.distributed:
        return Fetcher(settings, RedisRateLimiter(redis_client(settings), settings.redis_prefix))
    return Fetcher(settings, LocalRateLimiter())


def redis_client(settings: Settings) -> redis.Redis:
    """A Redis client for Kliping's shared state: KLIPING_REDIS_URL's server, or the Sentinels' master."""
    from workers.runtime import redis_conn

    return redis_conn.redis_client(settings)


def elastic_index(settings: Settings) -> ElasticIndex:
    """The article index behind the configured alias (not set up: call ``setup()`` once)."""
    from workers.backends.elastic.index import ElasticIndex, make_client

    return ElasticIndex(make_client(settings), settings.elasticsearch_index)


def distributed_context(settings: Settings) -> Context:
    """A Context over Redis and Elasticsearch; the index must be set up (`kliping es setup`): only checked here."""
    from workers.backends.monitor_state import RedisMonitorStore
    from workers.backends.redis.metrics import RedisMetrics
    from workers.backends.redis.state import RedisDedupIndex, RedisStateStore
    from workers.fetch.fetcher import Fetcher, RedisRateLimiter

    client = redis_client(settings)
    index = elastic_index(settings)
    # Read-only: workers hold a key that may write articles, not install templates (ops/README.md).
    index.check()
    return Context(
        settings=settings,
        registry=SourceRegistry.load(settings.sources_file),
        index=index,
        dedup=RedisDedupIndex(client, settings.redis_prefix),
        state=RedisStateStore(client, settings.redis_prefix),
        fetch=Fetcher(settings, RedisRateLimiter(client, settings.redis_prefix)),
        monitor=Monitor(RedisMonitorStore(client, settings.redis_prefix), on_alert=_enqueue_delivery),
        archive=raw_archive(settings),  # data_dir is one volume shared by the workers (compose: /data)
        metrics=RedisMetrics(client, settings.redis_prefix),
    )


def _enqueue_delivery(alert) -> None:
    """Queue the webhook delivery of a new alert as its own task (retried and idempotent there)."""
    # the worker's own app (configured from its settings); imported late: Celery is not needed to build a Context
    from workers.runtime.celery_app import DELIVER_TASK, app

    app.send_task(DELIVER_TASK, args=[alert.id])
