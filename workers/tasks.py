"""Celery tasks: thin wrappers that validate, run the pipeline and hand the outcome on.

Transient errors retry with backoff and jitter up to ``task_max_retries``, then the input is
quarantined like any other failure. Every outcome is returned as InputResult JSON.
"""

from __future__ import annotations

import logging
import threading

from celery import Task

from schemas import InputResult, Reason
from workers import pipeline
from workers.backends.distributed import distributed_context
from workers.celery_app import INGEST_TASK, MAX_RETRY_DELAY_SECONDS, app
from workers.errors import TransientError
from workers.fetch import backoff_delay
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


@app.task(name=INGEST_TASK, bind=True, max_retries=None)
def ingest(self: Task, input_ref: str) -> dict:
    """Run one input (a file path or URL) through the pipeline; return its InputResult as JSON."""
    try:
        ctx = worker_context()  # inside the try: a cluster still starting up is a transient error too
        if not isinstance(input_ref, str) or not input_ref.strip():
            return _invalid(input_ref, ctx).model_dump(mode="json")
        result = pipeline.process(input_ref, ctx)
    except TransientError as exc:
        attempt = self.request.retries
        if attempt < get_settings().task_max_retries:
            delay = backoff_delay(attempt, cap=MAX_RETRY_DELAY_SECONDS, retry_after=exc.retry_after)
            log.info("retrying %s in %.1f s (attempt %d): %s", input_ref, delay, attempt + 1, exc)
            raise self.retry(exc=exc, countdown=delay)
        # Out of retries: quarantine (if the state store itself is down, the task fails loudly instead).
        ctx = worker_context()
        result = pipeline.fail(input_ref, exc.reason, str(exc), ctx.state, attempts=attempt + 1)
        ctx.state.record(result)
    return result.model_dump(mode="json")
