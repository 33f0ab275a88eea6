"""The Celery app of the distributed mode, configured from Settings for at-least-once processing.

Workers start with ``celery -A workers.celery_app worker -Q ingest`` (``kliping worker``).
Every task is idempotent (deterministic ids, upserts), so redelivery is safe and preferred
to loss: tasks are acknowledged only after they finish, and a task whose worker died is
requeued.
"""

from __future__ import annotations

from typing import Any

from celery import Celery

from workers.settings import Settings, get_settings

INGEST_QUEUE = "ingest"
INGEST_TASK = "workers.tasks.ingest"
DELIVER_TASK = "workers.tasks.deliver_alert"  # webhook delivery of one alert (same queue: one worker kind)

# The soft limit fires this long before the hard one, so a slow input is quarantined with
# its reason (SoftTimeLimitExceeded is an ordinary exception to the pipeline) instead of the
# worker process being killed.
SOFT_LIMIT_MARGIN_SECONDS = 15
# Longest countdown a retry can wait (backoff_delay's cap): a retried task sits unacknowledged
# on a worker until then, so the visibility timeout must cover it too.
MAX_RETRY_DELAY_SECONDS = 300
# A task not acknowledged within the visibility timeout is redelivered to another worker.
# It must exceed the longest a task can legitimately stay unacknowledged (time limit plus
# retry countdown), with room to spare: a redelivery of a live task is wasted work.
MIN_VISIBILITY_TIMEOUT_SECONDS = 3600
# Recycle worker processes now and then: trafilatura/lxml keep memory they have touched.
MAX_TASKS_PER_CHILD = 1000
RESULT_EXPIRES_SECONDS = 24 * 3600

POLL_FEEDS_TASK = "workers.tasks.poll_feeds"
# Beat asks for a feed poll this often; each feed's own (adaptive) next_poll decides whether
# it is fetched, so this only bounds how late a due feed can be. A minute keeps the "new
# articles within minutes" promise at one cheap Redis pass per tick. Two beats are safe: the
# task takes a Redis lock, so only one poll runs at a time.
POLL_FEEDS_EVERY_SECONDS = 60.0
BEAT_SCHEDULE: dict[str, dict[str, Any]] = {
    "poll-feeds": {"task": POLL_FEEDS_TASK, "schedule": POLL_FEEDS_EVERY_SECONDS,
                   "options": {"queue": INGEST_QUEUE, "expires": POLL_FEEDS_EVERY_SECONDS}},
}


def visibility_timeout(settings: Settings) -> int:
    """Seconds before an unacknowledged task is redelivered: above every task time limit plus retry wait."""
    return max(MIN_VISIBILITY_TIMEOUT_SECONDS, 2 * (settings.task_time_limit + MAX_RETRY_DELAY_SECONDS))


def celery_config(settings: Settings) -> dict[str, Any]:
    """The Celery configuration for these settings (broker and results on Redis, JSON only)."""
    broker = settings.redis_url or "redis://localhost:6379/0"
    # One prefix namespaces all of Kliping's keys, the broker's included: two deployments (or
    # two test runs) sharing a Redis never see each other's tasks.
    transport = {
        "visibility_timeout": visibility_timeout(settings),
        "global_keyprefix": f"{settings.redis_prefix}:celery:",
    }
    config: dict[str, Any] = {
        "broker_url": broker,
        "result_backend": broker,
        "broker_transport_options": transport,
        "result_backend_transport_options": dict(transport),
        "broker_connection_retry_on_startup": True,
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
        "task_routes": {INGEST_TASK: {"queue": INGEST_QUEUE}, DELIVER_TASK: {"queue": INGEST_QUEUE},
                        POLL_FEEDS_TASK: {"queue": INGEST_QUEUE}},
        "task_track_started": True,
        "result_expires": RESULT_EXPIRES_SECONDS,
        "result_extended": True,  # results carry their args: `follow` can name the input of a crash
        "worker_max_tasks_per_child": MAX_TASKS_PER_CHILD,
        "worker_hijack_root_logger": False,
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
    celery = Celery("kliping", include=["workers.tasks"], set_as_current=set_as_current)
    celery.conf.update(celery_config(settings))
    return celery


app = make_app(get_settings())
