"""The Celery app of the distributed mode, configured from Settings for at-least-once processing.

Workers start with ``celery -A workers.runtime.celery_app worker -Q ingest`` (``kliping worker``).
Every task is idempotent (deterministic ids, upserts), so redelivery is safe and preferred
to loss: tasks are acknowledged only after they finish, and a task whose worker died is
requeued.
"""

from __future__ import annotations

from typing import Any

from celery import Celery, signals

from workers.runtime import kombu_fix, lease
from workers.runtime.redis_conn import (
    BROKER_HEALTH_CHECK_SECONDS,
    REDIS_SOCKET_TIMEOUT,
    broker_url,
    keepalive_options,
    sentinel_options,
)
from workers.settings import Settings, get_settings

INGEST_QUEUE = "ingest"
# Task names are wire names (queued messages carry them): they keep the module path they were born with.
INGEST_BATCH_TASK = "workers.tasks.ingest_batch"  # inputs in batches: one bulk index write per task
DELIVER_TASK = "workers.tasks.deliver_alert"  # webhook delivery of one alert (same queue: one worker kind)

# The soft limit fires this long before the hard one, so a slow input is quarantined with
# its reason (SoftTimeLimitExceeded is an ordinary exception to the pipeline) instead of the
# worker process being killed.
SOFT_LIMIT_MARGIN_SECONDS = 15
# Longest countdown a retry can wait (backoff_delay's cap): a retried task sits unacknowledged
# on a worker until then (its lease renewed meanwhile, workers/runtime/lease.py).
MAX_RETRY_DELAY_SECONDS = 300
# A task not acknowledged within the visibility timeout of its last renewal is redelivered to
# another worker. Every worker renews the messages it holds (workers/runtime/lease.py), so a live
# task is never redelivered however long it runs or waits for its retry countdown, and the timeout
# only sets how soon a dead worker's tasks come back: a minute (it was an hour, issue 18).
# Recycle worker processes now and then, a safety net against memory a library keeps (the
# per-word caches of the enrich stage, once the climb: workers/enrich/tokens.py, are full within
# 1,000 articles; ops/benchmark_pipeline.py measures the slope). 200 tasks: up to 10,000 articles
# in batches of 50; a new process costs well under a second (models are loaded before the fork).
MAX_TASKS_PER_CHILD = 200
RESULT_EXPIRES_SECONDS = 24 * 3600

POLL_FEEDS_TASK = "workers.tasks.poll_feeds"
# Beat asks for a feed poll this often; each feed's own (adaptive) next_poll decides whether
# it is fetched, so this only bounds how late a due feed can be. A minute keeps the "new
# articles within minutes" promise at one cheap Redis pass per tick. Two beats are safe: the
# task takes a Redis lock, so only one poll runs at a time.
POLL_FEEDS_EVERY_SECONDS = 60.0
BEAT_SCHEDULE: dict[str, dict[str, Any]] = {
    "poll-feeds": {
        "task": POLL_FEEDS_TASK,
        "schedule": POLL_FEEDS_EVERY_SECONDS,
        "options": {"queue": INGEST_QUEUE, "expires": POLL_FEEDS_EVERY_SECONDS},
    },
}


# How often each worker sweeps Redis for unacknowledged tasks past the visibility timeout (a
# worker that died holding them): at most this many seconds, and a tenth of the timeout when it
# is set lower, so recovery takes about the timeout and not kombu's default 100 s sweep.
MAX_RESTORE_SWEEP_SECONDS = 10
# A producer (or a retrying task) publishing while Redis restarts retries this often, this many
# seconds apart at most: ~60 s of outage are absorbed instead of an input being lost.
PUBLISH_RETRIES, PUBLISH_RETRY_MAX_INTERVAL = 30, 2.0
PUBLISH_RETRY_POLICY = {
    "max_retries": PUBLISH_RETRIES,
    "interval_start": 0.2,
    "interval_step": 0.5,
    "interval_max": PUBLISH_RETRY_MAX_INTERVAL,
}
# The same wait when a worker's producer channel must be opened again (kombu's default_channel):
# kombu gives that only the 4 s connect timeout and raises a library error the publish retries
# above do not catch, so a task retrying during a longer restart was rejected and its input lost
# (tests/test_faults_redis.py under load: Redis away 20 s, the retry's publish gave up after 6 s).
# The worker's app only: producers and `kliping health` keep the short timeout and report at once.
WORKER_CHANNEL_RETRY = {
    "connect_retries_timeout": 60.0,
    "interval_start": PUBLISH_RETRY_POLICY["interval_start"],
    "interval_step": PUBLISH_RETRY_POLICY["interval_step"],
    "interval_max": PUBLISH_RETRY_MAX_INTERVAL,
}
# SIGTERM starts a cold shutdown with a soft phase (billiard reads this before Celery starts):
# running tasks get `worker_shutdown_timeout` seconds, then the unfinished ones are requeued at
# once, instead of a warm shutdown that waits up to the hard time limit and is then SIGKILLed by
# the container runtime, leaving its tasks for the visibility timeout.
SIGTERM_REMAP = ("REMAP_SIGTERM", "SIGQUIT")
RESULT_STORE_RETRIES = 30  # with Celery's backoff capped at 10 s: about five minutes of outage


def visibility_timeout(settings: Settings) -> int:
    """Seconds after its holder's last renewal before an unacknowledged task is redelivered."""
    return settings.visibility_timeout or lease.DEFAULT_VISIBILITY_TIMEOUT_SECONDS


def celery_config(settings: Settings) -> dict[str, Any]:
    """The Celery configuration for these settings (broker and results on Redis, JSON only)."""
    broker = broker_url(settings)  # redis://, or sentinel:// URLs of every Sentinel
    # One prefix namespaces all of Kliping's keys, the broker's included: two deployments (or
    # two test runs) sharing a Redis never see each other's tasks.
    timeout = visibility_timeout(settings)
    transport = {
        "visibility_timeout": timeout,
        "global_keyprefix": f"{settings.redis_prefix}:celery:",
        "unacked_restore_interval": max(1, min(MAX_RESTORE_SWEEP_SECONDS, timeout // 10)),
        "unacked_restore_throttle": 1,  # the interval alone sets the sweep period
        # kombu waits forever on a synchronous command by default: a publish on a half-open
        # connection (a failover, a dropped NAT entry) would hang the producer or the task.
        "socket_timeout": REDIS_SOCKET_TIMEOUT,
        "socket_connect_timeout": REDIS_SOCKET_TIMEOUT,
        # Idle connections (a worker's pub/sub for control commands, a quiet producer pool) notice
        # a peer gone without a FIN after ~90 s of keepalive probes, not the kernel's two hours.
        "socket_keepalive": True,
        "socket_keepalive_options": keepalive_options(),
        # redis-py pings connections idle this long; kombu drops a BRPOP overdue by this much.
        "health_check_interval": BROKER_HEALTH_CHECK_SECONDS,
        **sentinel_options(settings),  # master_name (and the Sentinels' own options) with Sentinels
    }
    config: dict[str, Any] = {
        "broker_url": broker,
        "result_backend": broker,
        "broker_transport_options": transport,
        "result_backend_transport_options": dict(transport),
        "broker_connection_retry_on_startup": True,
        "broker_connection_max_retries": None,  # a worker waits for Redis to come back, however long
        "task_publish_retry": True,
        "task_publish_retry_policy": PUBLISH_RETRY_POLICY,
        # A result stored while Redis restarts is retried (backoff up to 10 s) instead of lost, so
        # `ingest --wait` still learns the outcome and the message is still acknowledged.
        "result_backend_always_retry": True,
        "result_backend_max_retries": RESULT_STORE_RETRIES,
        # The result backend's own connection options (it ignores the broker's): Celery's default
        # socket timeout is 120 s and no keepalive or health check.
        "redis_socket_timeout": REDIS_SOCKET_TIMEOUT,
        "redis_socket_connect_timeout": REDIS_SOCKET_TIMEOUT,
        "redis_socket_keepalive": True,
        "redis_backend_health_check_interval": BROKER_HEALTH_CHECK_SECONDS,
        "worker_soft_shutdown_timeout": settings.worker_shutdown_timeout,
        # Without it a worker holding only countdown retries (reserved, not yet running) skips the
        # soft shutdown and goes straight to the cold one, which may fail to requeue them (Celery's
        # docs); with it every SIGTERM waits worker_soft_shutdown_timeout, idle or not.
        "worker_enable_soft_shutdown_on_idle": True,
        # Stated because Celery 6 flips the default to True. A task that loses the broker mid-run
        # keeps running: its writes are idempotent, it retries itself if Redis is still away, and
        # the message it could not acknowledge comes back after the visibility timeout and ends
        # `unchanged`. Cancelling it would throw the work away and leave the message to the same
        # visibility timeout (the Redis transport cannot requeue without a connection).
        "worker_cancel_long_running_tasks_on_connection_loss": False,
        "task_serializer": "json",
        "result_serializer": "json",
        "accept_content": ["json"],
        "result_accept_content": ["json"],
        "task_acks_late": True,
        "task_reject_on_worker_lost": True,
        "worker_prefetch_multiplier": 1,  # a long task must not hold others hostage in a prefetch buffer
        "task_time_limit": settings.task_time_limit,
        "task_soft_time_limit": max(1, settings.task_time_limit - SOFT_LIMIT_MARGIN_SECONDS),
        "task_default_queue": INGEST_QUEUE,
        "task_routes": {
            INGEST_BATCH_TASK: {"queue": INGEST_QUEUE},
            DELIVER_TASK: {"queue": INGEST_QUEUE},
            POLL_FEEDS_TASK: {"queue": INGEST_QUEUE},
        },
        "task_track_started": True,
        "result_expires": RESULT_EXPIRES_SECONDS,
        "result_extended": True,  # results carry their args: `follow` can name the input of a crash
        "worker_max_tasks_per_child": MAX_TASKS_PER_CHILD,
        "worker_hijack_root_logger": False,
        # A malformed message is quarantined and rejected instead of stopping the worker (poison.py).
        "worker_consumer": "workers.runtime.poison:GuardedConsumer",
        "beat_schedule": BEAT_SCHEDULE,
        # Beat's state goes to the data dir: the working directory may be read-only (the image's /app).
        "beat_schedule_filename": str(settings.data_dir / "celerybeat-schedule"),
        "timezone": "UTC",
        "enable_utc": True,
    }
    if settings.worker_concurrency:
        config["worker_concurrency"] = settings.worker_concurrency
    return config


def make_app(settings: Settings, *, set_as_current: bool = True) -> Celery:
    """A Celery app configured from settings (the worker's, or a producer's for other settings)."""
    kombu_fix.install()  # a Redis restart must not stop a worker for good
    celery = Celery("kliping", include=["workers.runtime.tasks"], set_as_current=set_as_current)
    celery.conf.update(celery_config(settings))
    celery.steps["consumer"].add(lease.RenewLeases)  # a worker renews the messages it holds
    return celery


app = make_app(get_settings())  # the worker's and beat's (-A workers.runtime.celery_app)
app.conf.broker_transport_options = {**app.conf.broker_transport_options, **WORKER_CHANNEL_RETRY}


@signals.setup_logging.connect
def _configure_logging(loglevel: int | str | None = None, **_: Any) -> None:
    """Workers and beat log JSON lines with the input, article id and stage (KLIPING_LOG_JSON=false: text)."""
    from workers.observe import configure_logging

    settings = get_settings()
    configure_logging(loglevel or settings.log_level, json_lines=settings.log_json is not False)
