"""Celery tasks: thin wrappers that validate, run the pipeline and hand the outcome on.

Ingest runs in batch tasks (``ingest_batch``): their inputs' index writes go in one bulk request.
Transient errors retry with backoff and jitter (an outage of our own services for
``outage_retry_seconds``, a site's error ``task_max_retries`` times), then the input is quarantined
like any other failure. Every outcome is returned as InputResult JSON.
"""

from __future__ import annotations

import dataclasses
import functools
import gc
import logging
import threading
import time
from collections.abc import Callable

import redis
from celery import Task, signals

from schemas import InputResult, Outcome, Reason
from schemas.monitor import DeliveryState
from workers import pipeline
from workers.backends.elastic.buffered import BufferedIndex
from workers.backends.elastic.client import TRANSIENT_STATUS
from workers.errors import BackendUnavailable, TransientError
from workers.feeds.listed import parse_listed
from workers.fetch.webhook import WebhookClient
from workers.monitor.deliver import WEBHOOK_TIMEOUT_SECONDS, give_up, is_retryable, lease_left
from workers.monitor.deliver import attempt as delivery_attempt
from workers.observe import count_retry
from workers.retry import backoff_delay, may_retry
from workers.runtime.celery_app import DELIVER_TASK, INGEST_BATCH_TASK, MAX_RETRY_DELAY_SECONDS, app
from workers.runtime.feeds import with_listed_dates
from workers.runtime.memory import release_freed_memory
from workers.runtime.poison import (
    MAX_BATCH_STARTS,
    QuarantiningTask,
    clear_starts,
    count_start,
    drop_killer,
    mark_running,
    refused,
)
from workers.runtime.wiring import distributed_context
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


# A batch stops taking inputs after this share of the task time limit, stores what it has and
# goes on in a new run of the same task (same id: the producer still follows it), so a batch of
# slow URLs never reaches the time limit. 300 s × 0.25: 75 s, a slow page's worth of inputs.
BATCH_TIME_BUDGET_SHARE = 0.25


@app.task(name=INGEST_BATCH_TASK, bind=True, max_retries=None, base=QuarantiningTask)
def ingest_batch(
    self: Task,
    input_refs: list,
    done: list[dict] | None = None,
    attempt: int = 0,
    first_failure: float | None = None,
    listed: dict | None = None,
) -> list[dict]:
    """Run a batch of inputs through the pipeline with one bulk index write; return their InputResults as JSON.

    `done` carries the results of earlier runs of this task (a continuation, or a retry of the
    inputs that met a transient error); ids are deterministic, so a re-run batch changes nothing twice.
    """
    if not isinstance(input_refs, list | tuple):  # a string is one input, not one per character
        return refused(input_refs, worker_context().state)
    task_id, retries = self.request.id, self.request.retries
    starts = count_start(task_id, retries)
    try:
        refs, done = list(input_refs), list(done or [])
        if starts > MAX_BATCH_STARTS:  # every run so far killed its process: stop the loop
            refs, gone = drop_killer(refs, starts - 1, task_id, retries, worker_context().state)
            done += gone
            if not refs:
                return done
        on_input = functools.partial(mark_running, task_id, retries)
        return _ingest(self, refs, done, attempt, first_failure, listed, on_input)
    finally:
        clear_starts(task_id, retries)


def _ingest(
    self: Task,
    input_refs: list,
    done: list[dict] | None,
    attempt: int,
    first_failure: float | None,
    listed: dict | None,
    on_input: Callable[[str], None],
) -> list[dict]:
    """The body of ingest_batch (`on_input` is told each input as its run starts on it)."""
    done = list(done or [])
    refs = [ref if isinstance(ref, str) else repr(ref) for ref in input_refs]
    try:
        ctx = with_listed_dates(worker_context(), parse_listed(listed))  # feed dates → RawDocument.listed_at
    except TransientError as exc:
        return _retry_or_give_up(self, refs, exc, done, attempt, first_failure)
    batch = _Batch(ctx, on_input)
    rest = batch.run(refs, input_refs)
    try:
        stored = batch.store()
    except TransientError as exc:  # nothing of this run is stored: all of it runs again
        return _retry_or_give_up(self, refs, exc, done, attempt, first_failure)
    done += [result.model_dump(mode="json") for result in stored]
    if batch.retry:
        assert batch.error is not None
        return _retry_or_give_up(
            self, batch.retry + rest, batch.error, done, attempt, first_failure, give_up=batch.retry
        )
    if rest:
        log.info("batch continues with %d inputs after %d", len(rest), len(stored))
        raise self.retry(
            args=[rest],
            kwargs={"done": done, "attempt": attempt, "first_failure": first_failure, "listed": listed},
            countdown=0,
        )
    return done


class _Batch:
    """One run of a batch task: its inputs through the pipeline over a BufferedIndex, then one flush."""

    def __init__(self, ctx: pipeline.Context, on_input: Callable[[str], None] = lambda ref: None):
        self.ctx = ctx
        self.on_input = on_input  # told each input before its stages run (the suspect if the process dies)
        self.buffered = BufferedIndex(ctx.index)  # type: ignore[arg-type]  # a worker's index is an ElasticIndex
        self.results: list[InputResult] = []
        self.retry: list[str] = []  # inputs that met a transient error: run again after a backoff
        self.error: TransientError | None = None

    def run(self, refs: list[str], given: list) -> list[str]:
        """Process the inputs until the time budget is spent; the ones left for a continuation.

        Every input is loaded and cleaned first, then their articles are looked up in one request
        ("unchanged?"), then each is stored in turn (dedupe, enrich, index; a copy later in the
        batch sees the articles stored before it).
        """
        batch_ctx = dataclasses.replace(self.ctx, index=self.buffered)
        stop_at = time.monotonic() + BATCH_TIME_BUDGET_SHARE * get_settings().task_time_limit
        prepared: list[pipeline.Prepared | InputResult] = []
        rest: list[str] = []
        for n, (ref, original) in enumerate(zip(refs, given, strict=False)):
            if prepared and time.monotonic() > stop_at:
                rest = refs[n:]
                break
            self.on_input(ref)
            try:
                prepared.append(
                    _invalid(original, self.ctx)
                    if not _is_ref(original)
                    else pipeline.prepare(ref, batch_ctx)
                )
            except BackendUnavailable as exc:  # our own service is down: the others would only hammer it
                return self._give_back(prepared, refs[n:], exc)
            except TransientError as exc:  # this input's site: the others may be fine
                self.retry.append(ref)
                self.error = exc
        try:
            self.buffered.prefetch(
                [p.article.id for p in prepared if isinstance(p, pipeline.Prepared) and p.article]
            )
        except BackendUnavailable as exc:
            return self._give_back(prepared, [], exc, rest)
        for n, item in enumerate(prepared):
            if isinstance(item, InputResult):
                self.results.append(item)
                continue
            self.on_input(item.input_ref)
            try:
                self.results.append(pipeline.complete(item, batch_ctx))
            except BackendUnavailable as exc:
                return self._give_back(prepared[n:], [], exc, rest)
            except TransientError as exc:
                self.retry.append(item.input_ref)
                self.error = exc
        return rest

    def _give_back(
        self,
        prepared: list[pipeline.Prepared | InputResult],
        unread: list[str],
        exc: TransientError,
        rest: list[str] | None = None,
    ) -> list[str]:
        """Our own service is down: the inputs not stored yet run again after a backoff (no continuation)."""
        self.results += [item for item in prepared if isinstance(item, InputResult)]
        self.retry += [item.input_ref for item in prepared if isinstance(item, pipeline.Prepared)]
        self.retry += unread + (rest or [])
        self.error = exc
        return []

    def store(self) -> list[InputResult]:
        """Flush the batch's writes; the final results (an item the index refused for good is quarantined)."""
        self.on_input("")  # no input's stages: a crash in the flush is the whole batch's
        flushed = self.buffered.flush()
        refused = {failure.id: failure for failure in flushed.failures}
        stored = []
        for result in self.results:
            failure = refused.get(result.id or "")
            if failure is None or result.outcome not in (Outcome.indexed, Outcome.copy):
                stored.append(result)
            elif failure.status in TRANSIENT_STATUS:  # still refused after the bulk helper's own retries
                self.retry.append(result.input)
                self.error = BackendUnavailable(
                    f"elasticsearch refused {failure.id}: {failure.status}", Reason.service_unavailable
                )
            else:  # the index will never take this document: quarantine it like a failed single write
                stored.append(
                    pipeline.fail(
                        result.input,
                        Reason.internal_error,
                        f"index refused {failure.id}: {failure.status} {failure.error}",
                        self.ctx.state,
                    )
                )
                self.ctx.state.record(stored[-1])
        try:
            for copy in flushed.unlinked:  # its canonical was in another worker's batch: it may be stored now
                pipeline.settle_copy(copy, self.ctx.index)
            for canonical in flushed.canonicals:  # a copy in another batch may have missed it until now
                pipeline.settle_late_copies(canonical, self.ctx.index, self.ctx.dedup)
        except TransientError as exc:  # everything is stored; only a link waits for a later copy or re-run
            log.warning("copies not linked to their canonical yet: %s", exc)
        return stored


def _is_ref(input_ref: object) -> bool:
    """True for a usable input reference: a non-empty string."""
    return isinstance(input_ref, str) and bool(input_ref.strip())


def _retry_or_give_up(
    self: Task,
    refs: list[str],
    exc: TransientError,
    done: list[dict],
    attempt: int,
    first_failure: float | None,
    give_up: list[str] | None = None,
) -> list[dict]:
    """Run `refs` again after a backoff while `exc` may pass; else quarantine `give_up` (default: all) and go on."""
    first_failure = first_failure or time.time()
    if may_retry(exc, attempt, first_failure, get_settings()):
        delay = backoff_delay(attempt, cap=MAX_RETRY_DELAY_SECONDS, retry_after=exc.retry_after)
        log.info("retrying %d inputs in %.1f s (attempt %d): %s", len(refs), delay, attempt + 1, exc)
        count_retry(_context.metrics if _context else None, exc.reason)
        raise self.retry(
            exc=exc,
            countdown=delay,
            args=[refs],
            kwargs={"done": done, "attempt": attempt + 1, "first_failure": first_failure},
        )
    # Out of retries: quarantine (if the state store itself is down, the task fails loudly instead).
    ctx = worker_context()
    gone = give_up if give_up is not None else refs
    done = done + [
        pipeline.give_up(ref, exc, ctx, attempts=attempt + 1).model_dump(mode="json") for ref in gone
    ]
    rest = [ref for ref in refs if ref not in gone]
    if rest:
        raise self.retry(
            args=[rest], kwargs={"done": done, "attempt": attempt, "first_failure": None}, countdown=0
        )
    return done


@signals.worker_init.connect
def _warm_up_before_fork(**_: object) -> None:
    """Load the models and word lists in the main process, then freeze them out of the garbage collector.

    Pool processes forked after this share those pages instead of each loading them on its first
    task (1-2 s), and the collector no longer walks the gazetteer's objects on every full collection,
    which would also copy their pages into every process.
    """
    from workers.clean import warm_up as warm_up_clean
    from workers.enrich import warm_up as warm_up_enrich

    warm_up_clean()
    warm_up_enrich()
    gc.collect()
    gc.freeze()


@signals.task_postrun.connect
def _release_memory_after_task(**_: object) -> None:
    """The batch's pages are freed: give their memory back (RSS stays near the process's working set)."""
    release_freed_memory()


_stamps: redis.Redis | None = None


@signals.task_prerun.connect
def _stamp_consumed(**_: object) -> None:
    """Tell `kliping health` this worker is taking tasks (a stamp in Redis; never fails the task)."""
    global _stamps
    from workers.runtime.health import mark_consumed
    from workers.runtime.wiring import redis_client

    settings = get_settings()
    try:
        _stamps = _stamps or redis_client(settings)
        mark_consumed(_stamps, settings.redis_prefix)
    except (redis.RedisError, ValueError) as exc:  # the task itself reports a Redis outage
        log.debug("health stamp not written: %s", exc)


_webhooks: WebhookClient | None = None  # through the fetch guard, on the worker's settings


@app.task(name=DELIVER_TASK, bind=True, max_retries=None, base=QuarantiningTask)
def deliver_alert(self: Task, alert_id: str) -> dict:
    """POST one alert to its rule's webhook; retried with backoff; a delivered alert is never sent again."""
    global _webhooks
    with _context_lock:
        if _webhooks is None:
            _webhooks = WebhookClient(get_settings(), WEBHOOK_TIMEOUT_SECONDS)
    try:
        ctx = worker_context()
        assert ctx.monitor is not None
        delivery = delivery_attempt(alert_id, ctx.monitor.store, _webhooks)
    except (redis.ConnectionError, redis.TimeoutError, TransientError) as exc:
        # Redis (the alert and its state) is restarting: the delivery waits, it is not dropped.
        raise self.retry(
            exc=exc, countdown=backoff_delay(self.request.retries, cap=MAX_RETRY_DELAY_SECONDS)
        ) from exc
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


@app.task(name="workers.tasks.poll_feeds", base=QuarantiningTask)
def poll_feeds() -> dict:
    """One pass over the due feeds (beat schedules it); new item URLs are queued for ingest. One poll at a time."""
    from workers.runtime.feeds import poll_locked
    from workers.runtime.producer import submit
    from workers.runtime.wiring import redis_client

    settings = get_settings()
    reports = poll_locked(
        redis_client(settings), settings, lambda urls, listed: submit(urls, settings, listed)
    )
    if reports is None:
        return {"skipped": "another feed poll holds the lock"}
    return {
        "feeds": len(reports),
        "new": sum(len(r.new_urls) for r in reports),
        "errors": sum(1 for r in reports if r.error),
    }
