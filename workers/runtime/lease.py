"""Leases on held task messages: a dead worker's tasks come back in about a minute, a live one's never.

kombu's Redis transport emulates acknowledgements: a message a worker takes is written to the
``unacked`` hash and to the ``unacked_index`` sorted set with the time it was taken, and every
worker's sweep (``restore_visible``) puts back on the queue the ones taken more than the visibility
timeout ago. That time is never renewed, so the timeout had to outlast the longest task (an hour),
and a SIGKILLed worker's tasks waited an hour (issue 18). Here each worker renews, every
``renew_every`` seconds from a thread of its main process, the time of every message it holds
(``ZADD XX``: an acknowledged message is not brought back): a live worker's messages stay fresh
however long their task runs, a dead worker's age and are restored one visibility timeout (a minute
by default) after its last renewal.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

import redis
from celery import bootsteps

from workers.runtime.redis_conn import redis_client
from workers.settings import get_settings

log = logging.getLogger(__name__)

# The visibility timeout once leases are renewed: a dead worker's tasks come back after this (plus
# at most one restore sweep); a live worker must renew within it, so it renews RENEWALS_PER_TIMEOUT
# times a timeout (every 10 s at 60 s): a renewal thread stalled for most of a minute by a loaded
# machine still keeps its messages.
DEFAULT_VISIBILITY_TIMEOUT_SECONDS = 60
RENEWALS_PER_TIMEOUT = 6
UNACKED_INDEX = "unacked_index"  # kombu's key (Channel.unacked_index_key), under the global key prefix


def renew_every(visibility_timeout: float) -> float:
    """Seconds between two renewals of a worker's held messages for this visibility timeout."""
    return max(0.5, visibility_timeout / RENEWALS_PER_TIMEOUT)


def held_tags(consumer: Any) -> list[str]:
    """Delivery tags of the messages this worker's consumer holds unacknowledged (taken, not yet acked)."""
    task_consumer = getattr(consumer, "task_consumer", None)
    qos = getattr(getattr(task_consumer, "channel", None), "qos", None)
    delivered = getattr(qos, "_delivered", None)
    if not delivered:
        return []
    for _ in range(5):  # the consumer's thread may add or remove one while this one copies the keys
        try:
            return [str(tag) for tag in list(delivered)]
        except RuntimeError:
            continue
    return []


def renew(client: redis.Redis, key: str, tags: list[str], now: float | None = None) -> int:
    """Set the taken time of these held messages to now (only those still unacknowledged); how many."""
    if not tags:
        return 0
    stamp = time.time() if now is None else now
    return int(client.zadd(key, dict.fromkeys(tags, stamp), xx=True, ch=True) or 0)


class RenewLeases(bootsteps.StartStopStep):
    """Consumer bootstep: a daemon thread renewing the held messages' times in the unacked index."""

    requires = ("celery.worker.consumer.tasks:Tasks",)

    def __init__(self, parent: Any, **kwargs: Any):
        super().__init__(parent, **kwargs)
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()

    def start(self, parent: Any) -> None:
        if self._thread is not None and self._thread.is_alive():
            return  # a reconnect restarts the consumer's steps: the thread reads the new channel by itself
        options = parent.app.conf.broker_transport_options or {}
        timeout = float(options.get("visibility_timeout") or DEFAULT_VISIBILITY_TIMEOUT_SECONDS)
        key = f"{options.get('global_keyprefix', '')}{UNACKED_INDEX}"
        client = redis_client(get_settings())  # the broker's Redis (its Sentinels' master with Sentinels)
        self._stop.clear()
        self._thread = threading.Thread(
            target=self._run,
            args=(parent, client, key, renew_every(timeout)),
            name="kliping-leases",
            daemon=True,
        )
        self._thread.start()

    def shutdown(self, parent: Any) -> None:
        self._stop.set()

    def _run(self, parent: Any, client: redis.Redis, key: str, every: float) -> None:
        while not self._stop.wait(every):
            try:
                renew(client, key, held_tags(parent))
            except redis.RedisError as exc:  # Redis away: the sweep cannot run either; try again later
                log.warning("could not renew the held task messages: %s", exc)
            except Exception:  # never let the thread die: a silent stop would get live tasks redelivered
                log.exception("renewing the held task messages failed")
