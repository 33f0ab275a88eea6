"""A workaround for kombu's Redis transport losing the worker when Redis restarts mid-task.

On a lost connection Celery closes the consumer's channel; the Redis channel drops its connection
pool and then tries to put its unacknowledged messages back on the queue, which builds a new pool
from ``self.connection.client`` — ``None`` by then. The AttributeError is not a connection error,
so nothing catches it: "Unrecoverable error", and the worker stops consuming for good (seen in
tests/test_faults_redis.py with kombu 5.7; the class of bug of celery/kombu#2007 and
celery/celery#8384). Raising a connection error instead lets Celery ignore it and reconnect; the
messages stay in Redis's `unacked` hash (kept by the append-only file) and come back by the task's
own retry or the visibility timeout — what would have happened had Redis been down for the restore.
"""

from __future__ import annotations

import redis
from kombu.transport import redis as kombu_redis

_original = kombu_redis.Channel._connparams


def _connparams(self, asynchronous: bool = False) -> dict:
    """kombu's connection parameters, or a connection error when the channel's connection is gone."""
    if self.connection is None or self.connection.client is None:
        raise redis.exceptions.ConnectionError("the broker connection was closed (Redis restarting?)")
    return _original(self, asynchronous=asynchronous)


def install() -> None:
    """Patch kombu's Redis channel once (idempotent)."""
    if kombu_redis.Channel._connparams is not _connparams:
        kombu_redis.Channel._connparams = _connparams  # type: ignore[method-assign]  # the patch
