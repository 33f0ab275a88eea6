"""Pipeline metrics kept in Redis, so every worker process adds to one set of counters.

Counters survive worker restarts (Prometheus counters may only go up, and a recycled
prefork child must not reset them); ``kliping metrics`` reads them on each scrape.

==================================  =====================================================
``p:metrics:outcomes``              hash: ``stage|outcome|reason`` → inputs that ended there
``p:metrics:latency``               hash: ``stage|le`` → observations in that bucket (not
                                    cumulative), ``stage|sum`` and ``stage|count``
``p:metrics:retries``               hash: reason → retries of transient errors
``p:celery:<queue>``                list: ready tasks (Celery's; priorities as ``<queue>\\x06\\x16N``)
``p:celery:unacked``                hash: tasks delivered to a worker, not yet acknowledged
==================================  =====================================================
"""

from __future__ import annotations

import bisect
import math
from dataclasses import dataclass, field

from schemas import InputResult, Reason
from workers.backends.redis.state import _RedisKeys, _text
from workers.observe import Trace, reason_of

# Stage latency buckets (seconds): a cached dedup lookup takes ~1 ms, cleaning a page 10–500 ms,
# a fetch behind a per-host interval seconds; 300 s is the default task time limit.
LATENCY_BUCKETS = (
    0.001,
    0.005,
    0.01,
    0.025,
    0.05,
    0.1,
    0.25,
    0.5,
    1.0,
    2.5,
    5.0,
    10.0,
    30.0,
    60.0,
    300.0,
    math.inf,
)
# kombu's Redis transport keeps priority levels of a queue in lists named queue + this + level.
PRIORITY_SEPARATOR = "\x06\x16"
PRIORITY_LEVELS = (3, 6, 9)  # kombu's default priority steps besides 0 (the plain queue name)
NO_REASON = "none"


def bucket_label(seconds: float) -> str:
    """The label of the smallest bucket holding `seconds`."""
    bound = LATENCY_BUCKETS[bisect.bisect_left(LATENCY_BUCKETS, seconds)]
    return "+Inf" if math.isinf(bound) else repr(bound)


@dataclass
class MetricsSnapshot:
    """Everything the exporter serves, read from Redis in one pass."""

    outcomes: dict[tuple[str, str, str], int] = field(default_factory=dict)  # (stage, outcome, reason) → n
    latency: dict[str, dict[str, float]] = field(default_factory=dict)  # stage → {le…, sum, count}
    retries: dict[str, int] = field(default_factory=dict)
    queue_ready: int = 0
    queue_unacked: int = 0
    quarantined: int = 0


class RedisMetrics(_RedisKeys):
    """MetricsSink over Redis hashes (one round trip per input), and their reader."""

    def record(self, trace: Trace, result: InputResult) -> None:
        """Count the outcome at the stage it ended in, and each stage's latency."""
        reason = reason_of(result)
        stage = trace.stage.value if trace.stage else "load"
        pipe = self._redis.pipeline(transaction=False)
        pipe.hincrby(
            self.key("metrics", "outcomes"),
            f"{stage}|{result.outcome.value}|{reason.value if reason else NO_REASON}",
            1,
        )
        latency = self.key("metrics", "latency")
        for name, seconds in trace.seconds.items():
            pipe.hincrby(latency, f"{name.value}|{bucket_label(seconds)}", 1)
            pipe.hincrbyfloat(latency, f"{name.value}|sum", seconds)
            pipe.hincrby(latency, f"{name.value}|count", 1)
        pipe.execute()

    def retry(self, reason: Reason) -> None:
        """Count one retry of a transient error."""
        self._redis.hincrby(self.key("metrics", "retries"), reason.value, 1)

    def queue_depth(self, queue: str) -> tuple[int, int]:
        """(ready, unacknowledged) tasks of a Celery queue on this prefix's broker keys."""
        base = self.key("celery", queue)
        pipe = self._redis.pipeline(transaction=False)
        for name in (base, *(f"{base}{PRIORITY_SEPARATOR}{level}" for level in PRIORITY_LEVELS)):
            pipe.llen(name)
        pipe.hlen(self.key("celery", "unacked"))
        *ready, unacked = pipe.execute()
        return sum(ready), unacked

    def snapshot(self, queue: str) -> MetricsSnapshot:
        """Read every counter, the queue depth and the quarantine size."""
        snap = MetricsSnapshot()
        for name, value in self._redis.hgetall(self.key("metrics", "outcomes")).items():
            stage, outcome, reason = _text(name).split("|")
            snap.outcomes[(stage, outcome, reason)] = int(value)
        for name, value in self._redis.hgetall(self.key("metrics", "latency")).items():
            stage, part = _text(name).split("|")
            snap.latency.setdefault(stage, {})[part] = float(value)
        snap.retries = {
            _text(k): int(v) for k, v in self._redis.hgetall(self.key("metrics", "retries")).items()
        }
        snap.queue_ready, snap.queue_unacked = self.queue_depth(queue)
        snap.quarantined = self._redis.hlen(self.key("failed"))
        return snap
