"""The distributed Context: Redis for shared state and rate limits, Elasticsearch for articles."""

from __future__ import annotations

import redis

from workers.archive import raw_archive
from workers.backends.elastic import ElasticIndex, make_client
from workers.backends.monitor_state import RedisMonitorStore
from workers.backends.redis_metrics import RedisMetrics
from workers.backends.redis_state import RedisDedupIndex, RedisStateStore
from workers.fetch import Fetcher, RedisRateLimiter
from workers.monitor import Monitor
from workers.pipeline import Context
from workers.settings import Settings
from workers.sources import SourceRegistry

# Redis calls are short; a worker stuck on a dead connection should fail fast and retry the task.
REDIS_SOCKET_TIMEOUT = 10.0
REDIS_HEALTH_CHECK_SECONDS = 30


def redis_client(settings: Settings) -> redis.Redis:
    """A Redis client for Kliping's shared state (text replies, health-checked connections)."""
    if not settings.redis_url:
        raise ValueError("KLIPING_REDIS_URL is not set")
    return redis.Redis.from_url(
        settings.redis_url,
        decode_responses=True,
        socket_timeout=REDIS_SOCKET_TIMEOUT,
        socket_connect_timeout=REDIS_SOCKET_TIMEOUT,
        health_check_interval=REDIS_HEALTH_CHECK_SECONDS,
        retry_on_timeout=True,
    )


def elastic_index(settings: Settings) -> ElasticIndex:
    """The article index behind the configured alias (not set up: call ``setup()`` once)."""
    return ElasticIndex(make_client(settings), settings.elasticsearch_index)


def distributed_context(settings: Settings) -> Context:
    """A Context over Redis and Elasticsearch; installs the index template and first index if missing."""
    client = redis_client(settings)
    index = elastic_index(settings)
    index.setup()
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
    from workers.celery_app import DELIVER_TASK, app

    app.send_task(DELIVER_TASK, args=[alert.id])
