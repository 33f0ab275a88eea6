"""The Prometheus exporter of the distributed mode (``kliping metrics``).

It reads the counters every worker keeps in Redis (workers/backends/redis/metrics.py) and the
broker's queue on each scrape, so one exporter serves the whole cluster whatever the number of
workers, and a restarted worker loses no count.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator

from prometheus_client import start_http_server
from prometheus_client.core import (
    CollectorRegistry,
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
)
from prometheus_client.registry import Collector

from workers.backends.redis.metrics import LATENCY_BUCKETS, RedisMetrics, bucket_label
from workers.runtime.celery_app import INGEST_QUEUE
from workers.settings import Settings

log = logging.getLogger(__name__)


def _histogram(values: dict[str, float]) -> tuple[list[tuple[str, float]], float]:
    """Cumulative (le, count) pairs and the sum of one stage's stored (per-bucket) latency counts."""
    buckets, total = [], 0.0
    for bound in LATENCY_BUCKETS:
        label = bucket_label(bound)
        total += values.get(label, 0.0)
        buckets.append((label, total))
    return buckets, values.get("sum", 0.0)


class KlipingCollector(Collector):
    """Collects Kliping's metrics from Redis at scrape time."""

    def __init__(self, metrics: RedisMetrics, queue: str = INGEST_QUEUE):
        self._metrics = metrics
        self._queue = queue

    def collect(self) -> Iterator:
        """The metric families of one scrape (an unreachable Redis is reported as kliping_up 0)."""
        up = GaugeMetricFamily("kliping_up", "1 when the exporter could read Redis")
        try:
            snap = self._metrics.snapshot(self._queue)
        except Exception as exc:  # a scrape must answer even when Redis is down
            log.warning("metrics: cannot read Redis: %s", exc)
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        outcomes = CounterMetricFamily(
            "kliping_inputs",
            "inputs by the stage they ended in, outcome and reason",
            labels=["stage", "outcome", "reason"],
        )
        for labels, count in sorted(snap.outcomes.items()):
            outcomes.add_metric(list(labels), count)
        yield outcomes
        latency = HistogramMetricFamily(
            "kliping_stage_seconds", "time spent in each pipeline stage per input", labels=["stage"]
        )
        for stage, values in sorted(snap.latency.items()):
            buckets, total = _histogram(values)
            latency.add_metric([stage], buckets, total)
        yield latency
        retries = CounterMetricFamily("kliping_retries", "retries of transient errors", labels=["reason"])
        for reason, count in sorted(snap.retries.items()):
            retries.add_metric([reason], count)
        yield retries
        depth = GaugeMetricFamily(
            "kliping_queue_depth",
            "tasks waiting in the broker (ready) or delivered but "
            "not acknowledged (unacked: running, or waiting for a retry countdown)",
            labels=["queue", "state"],
        )
        depth.add_metric([self._queue, "ready"], snap.queue_ready)
        depth.add_metric([self._queue, "unacked"], snap.queue_unacked)
        yield depth
        quarantine = GaugeMetricFamily("kliping_quarantine_size", "failed inputs kept for `kliping retry`")
        quarantine.add_metric([], snap.quarantined)
        yield quarantine


def registry_for(settings: Settings) -> CollectorRegistry:
    """A registry holding only Kliping's collector for these settings."""
    from workers.runtime.wiring import redis_client

    registry = CollectorRegistry(auto_describe=False)
    registry.register(KlipingCollector(RedisMetrics(redis_client(settings), settings.redis_prefix)))
    return registry


def serve(settings: Settings, host: str, port: int) -> tuple[object, threading.Thread]:
    """Serve /metrics on host:port in a background thread; (server, thread)."""
    return start_http_server(port, addr=host, registry=registry_for(settings))
