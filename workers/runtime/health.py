"""Are the workers consuming? The part of `kliping health` that a process check cannot see.

A worker can be alive and answer pings while taking no tasks (its consumer cancelled, a pool
wedged, a reconnect that never re-subscribed after Redis restarted). So the check asks three
things: which workers answer, which of them consume the ingest queue, and — when tasks are
waiting — whether any worker took one recently. Workers stamp ``<prefix>:health:consumed``
(epoch seconds) whenever they start a task.
"""

from __future__ import annotations

import time

import redis

from workers.backends.redis.metrics import RedisMetrics
from workers.runtime.celery_app import INGEST_QUEUE
from workers.settings import Settings

CONSUMED_KEY = "health:consumed"
# With tasks waiting, a healthy deployment starts one at least every task time limit (each busy
# process frees up by then, the hard limit kills it otherwise) plus this margin for the retry
# countdowns and restarts in between.
STALL_MARGIN_SECONDS = 60
INSPECT_TIMEOUT_SECONDS = 2.0


def mark_consumed(client: redis.Redis, prefix: str, now: float | None = None) -> None:
    """Record that a worker started a task now."""
    client.set(f"{prefix}:{CONSUMED_KEY}", repr(time.time() if now is None else now))


def stall_seconds(settings: Settings) -> float:
    """How long tasks may wait with none started before the workers count as not consuming."""
    return settings.task_time_limit + STALL_MARGIN_SECONDS


def consumers(settings: Settings, timeout: float = INSPECT_TIMEOUT_SECONDS) -> dict[str, bool]:
    """Each worker answering an inspect broadcast → whether it consumes the ingest queue."""
    from workers.runtime.producer import producer_app

    queues = producer_app(settings).control.inspect(timeout=timeout).active_queues() or {}
    return {
        name: any(q.get("name") == INGEST_QUEUE for q in subscribed) for name, subscribed in queues.items()
    }


def check_consuming(settings: Settings, client: redis.Redis, now: float | None = None) -> str:
    """A one-line summary when workers consume the ingest queue; RuntimeError saying why not."""
    answering = consumers(settings)
    if not answering:
        raise RuntimeError("no worker answered")
    taking = sorted(name for name, consumes in answering.items() if consumes)
    if not taking:
        raise RuntimeError(f"{len(answering)} workers answer but none consumes the {INGEST_QUEUE} queue")
    ready, unacked = RedisMetrics(client, settings.redis_prefix).queue_depth(INGEST_QUEUE)
    stamp = client.get(f"{settings.redis_prefix}:{CONSUMED_KEY}")
    idle = (time.time() if now is None else now) - float(stamp) if stamp else None
    if ready and (idle is None or idle > stall_seconds(settings)):
        since = "ever" if idle is None else f"for {idle:.0f} s"
        raise RuntimeError(f"{ready} tasks waiting and none started {since}: workers are not consuming")
    last = "never" if idle is None else f"{idle:.0f} s ago"
    return f"{', '.join(taking)} consuming; {ready} ready, {unacked} unacked; last task started {last}"
