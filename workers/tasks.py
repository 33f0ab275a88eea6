"""Celery tasks: thin wrappers that validate, run the pipeline and hand the outcome on.

Transient errors retry with backoff and jitter up to ``task_max_retries``, then the input is
quarantined like any other failure. Every outcome is returned as InputResult JSON.
"""

from __future__ import annotations

import logging
import threading
import time

import httpx
import redis
from celery import Task, signals

from schemas import InputResult, Reason
from schemas.monitor import DeliveryState
from workers import pipeline
from workers.backends.distributed import distributed_context
from workers.celery_app import DELIVER_TASK, INGEST_TASK, MAX_RETRY_DELAY_SECONDS, app
from workers.errors import BackendUnavailable, TransientError
from workers.fetch import backoff_delay
from workers.monitor.deliver import attempt as delivery_attempt
from workers.monitor.deliver import give_up, is_retryable, lease_left
from workers.observe import count_retry, tracing
from workers.settings import get_settings

log = logging.getLogger(__name__)

_context: pipeline.Context | None = None
_context_lock = threading.Lock()


def worker_context() -> pipeline.Context:
    """The distributed Context of this worker process, built on first use (after the fork)."""
    global _context
    with _context_lock:
        if _context is None:
            _context = distributed_context(get_settings())
        return _context


def _invalid(input_ref: object, ctx: pipeline.Context) -> InputResult:
    """Quarantine an input that is not a usable reference (not a non-empty string)."""
    ref = input_ref if isinstance(input_ref, str) else repr(input_ref)
    result = pipeline.fail(ref, Reason.invalid_input, f"not an input reference: {ref!r}", ctx.state)
    ctx.state.record(result)
    return result


def may_retry(exc: TransientError, attempt: int, first_failure: float, now: float | None = None) -> bool:
    """Whether a transient error is retried: outages of our services for a time, other errors a number of times."""
    settings = get_settings()
    if isinstance(exc, BackendUnavailable):
        return (time.time() if now is None else now) - first_failure < settings.outage_retry_seconds
    return attempt < settings.task_max_retries


@app.task(name=INGEST_TASK, bind=True, max_retries=None)
def ingest(self: Task, input_ref: str, first_failure: float | None = None) -> dict:
    """Run one input (a file path or URL) through the pipeline; return its InputResult as JSON."""
    ref = str(input_ref)
    with tracing(ref, pipeline.failed_id(ref)):  # the task's own log lines carry the input and stage too
        try:
            ctx = worker_context()  # inside the try: a cluster still starting up is a transient error too
            if not isinstance(input_ref, str) or not input_ref.strip():
                return _invalid(input_ref, ctx).model_dump(mode="json")
            result = pipeline.process(input_ref, ctx)
        except TransientError as exc:
            attempt = self.request.retries
            first_failure = first_failure or time.time()
            if may_retry(exc, attempt, first_failure):
                delay = backoff_delay(attempt, cap=MAX_RETRY_DELAY_SECONDS, retry_after=exc.retry_after)
                log.info("retrying in %.1f s (attempt %d): %s", delay, attempt + 1, exc)
                count_retry(_context.metrics if _context else None, exc.reason)
                raise self.retry(exc=exc, countdown=delay, kwargs={"first_failure": first_failure})
            # Out of retries: quarantine (if the state store itself is down, the task fails loudly instead).
            result = pipeline.give_up(input_ref, exc, worker_context(), attempts=attempt + 1)
        return result.model_dump(mode="json")


_stamps: redis.Redis | None = None


@signals.task_prerun.connect
def _stamp_consumed(**_: object) -> None:
    """Tell `kliping health` this worker is taking tasks (a stamp in Redis; never fails the task)."""
    global _stamps
    from workers.backends.distributed import redis_client
    from workers.health import mark_consumed

    settings = get_settings()
    try:
        _stamps = _stamps or redis_client(settings)
        mark_consumed(_stamps, settings.redis_prefix)
    except (redis.RedisError, ValueError) as exc:  # the task itself reports a Redis outage
        log.debug("health stamp not written: %s", exc)


_webhooks: httpx.Client | None = None
# Seconds a webhook may take to answer before the attempt counts as failed and is retried.
WEBHOOK_TIMEOUT_SECONDS = 10.0


@app.task(name=DELIVER_TASK, bind=True, max_retries=None)
def deliver_alert(self: Task, alert_id: str) -> dict:
    """POST one alert to its rule's webhook; retried with backoff; a delivered alert is never sent again."""
    global _webhooks
    with _context_lock:
        if _webhooks is None:
            _webhooks = httpx.Client(timeout=WEBHOOK_TIMEOUT_SECONDS)
    try:
        ctx = worker_context()
        assert ctx.monitor is not None
        delivery = delivery_attempt(alert_id, ctx.monitor.store, _webhooks)
    except (redis.ConnectionError, redis.TimeoutError, TransientError) as exc:
        # Redis (the alert and its state) is restarting: the delivery waits, it is not dropped.
        raise self.retry(exc=exc, countdown=backoff_delay(self.request.retries, cap=MAX_RETRY_DELAY_SECONDS))
    if delivery.state == DeliveryState.sending:
        # Another sender holds it, or died holding it (SIGKILL mid-POST): look again when its lease
        # ends, without counting this as a failed attempt, so the alert is resent, never given up.
        raise self.retry(countdown=lease_left(delivery) + 1.0)
    if is_retryable(delivery):  # a failed attempt that may succeed later
        attempt = max(0, delivery.attempts - 1)  # POSTs made, not task runs: waits on a lease do not count
        if attempt < get_settings().task_max_retries:
            raise self.retry(countdown=backoff_delay(attempt, cap=MAX_RETRY_DELAY_SECONDS))
        delivery = give_up(alert_id, ctx.monitor.store)
    return delivery.model_dump(mode="json")


@app.task(name="workers.tasks.poll_feeds")
def poll_feeds() -> dict:
    """One pass over the due feeds (beat schedules it); new item URLs are queued for ingest. One poll at a time."""
    from workers.backends.distributed import redis_client
    from workers.distributed import submit
    from workers.feeds.service import poll_locked

    settings = get_settings()
    reports = poll_locked(redis_client(settings), settings, lambda urls: submit(urls, settings))
    if reports is None:
        return {"skipped": "another feed poll holds the lock"}
    return {"feeds": len(reports), "new": sum(len(r.new_urls) for r in reports),
            "errors": sum(1 for r in reports if r.error)}
