"""The producer side of the distributed mode: submit inputs to the workers and follow the outcomes."""

from __future__ import annotations

import math
import os
from collections.abc import Iterator
from datetime import datetime
from functools import lru_cache

from celery import Celery
from celery.exceptions import TimeoutError as CeleryTimeoutError
from celery.result import AsyncResult

from schemas import InputResult, Outcome, Reason
from workers.load import expand_inputs, is_url
from workers.runtime.celery_app import INGEST_BATCH_TASK, INGEST_QUEUE, make_app
from workers.settings import Settings

FOLLOW_POLL_SECONDS = 0.2  # one MGET per poll over the pending results


@lru_cache(maxsize=4)
def _app(settings_json: str) -> Celery:
    """A producer app per settings (cached: it owns connection pools)."""
    return make_app(Settings.model_validate_json(settings_json), set_as_current=False)


def producer_app(settings: Settings) -> Celery:
    """The Celery app a producer uses to reach the workers configured by these settings."""
    return _app(settings.model_dump_json())


def _portable(ref: str) -> str:
    """A local file as an absolute path, so a worker with another working directory finds it too."""
    return ref if is_url(ref) or not os.path.exists(ref) else os.path.abspath(ref)


def batches(refs: list[str], most: int, min_tasks: int) -> list[list[str]]:
    """`refs` in batches of at most `most`, at least `min_tasks` of them when there are as many refs, sizes within one."""
    if not refs:
        return []
    tasks = max(math.ceil(len(refs) / most), min(len(refs), min_tasks))
    size, extra = divmod(len(refs), tasks)
    bounds = [0]
    for n in range(tasks):
        bounds.append(bounds[-1] + size + (1 if n < extra else 0))
    return [refs[start:end] for start, end in zip(bounds, bounds[1:], strict=False)]


def submit(inputs: list[str], settings: Settings, listed: dict[str, datetime] | None = None) -> list[str]:
    """Queue the inputs (directories expanded here) in batch tasks (`batches`); the task ids in order.

    `listed` carries the date a feed gave a URL; it travels with the URL's batch as `listed`.
    """
    refs = [_portable(ref) for ref in expand_inputs(inputs)]
    celery = producer_app(settings)
    task_ids = []
    with celery.producer_or_acquire() as producer:  # one broker connection for the whole batch
        for batch in batches(refs, settings.ingest_batch_size, settings.ingest_min_tasks):
            dates = {ref: listed[ref].isoformat() for ref in batch if listed and ref in listed}
            kwargs = {"listed": dates} if dates else None
            task = celery.send_task(
                INGEST_BATCH_TASK, args=[batch], kwargs=kwargs, queue=INGEST_QUEUE, producer=producer
            )
            task_ids.append(task.id)
    return task_ids


def _results(task_id: str, meta: dict) -> list[InputResult]:
    """The InputResults of a finished batch task; for a task that crashed, `failed` outcomes for its open inputs."""
    if meta.get("status") == "SUCCESS":
        return [InputResult.model_validate(item) for item in meta["result"]]
    refs = (meta.get("args") or [[task_id]])[0]
    error = meta.get("result") or {}
    detail = (
        f"{error.get('exc_type', 'error')}: {error.get('exc_message', '')}"
        if isinstance(error, dict)
        else str(error)
    )
    done = [InputResult.model_validate(item) for item in (meta.get("kwargs") or {}).get("done") or []]
    return done + [
        InputResult(input=str(ref), outcome=Outcome.failed, reason=f"{Reason.internal_error.value}: {detail}")
        for ref in refs
    ]


def follow(task_ids: list[str], settings: Settings, timeout: float | None = None) -> Iterator[InputResult]:
    """Yield the InputResults of each task as it completes; TimeoutError if some are still running at `timeout` s."""
    if not task_ids:
        return
    backend = producer_app(settings).backend
    try:
        for task_id, meta in backend.get_many(set(task_ids), timeout=timeout, interval=FOLLOW_POLL_SECONDS):
            yield from _results(task_id, meta)
    except CeleryTimeoutError as exc:
        raise TimeoutError(f"some of {len(task_ids)} tasks did not finish within {timeout} s") from exc


def forget(task_ids: list[str], settings: Settings) -> None:
    """Drop the stored results of tasks whose outcomes have been read."""
    celery = producer_app(settings)
    for task_id in task_ids:
        AsyncResult(task_id, app=celery).forget()


def ping(settings: Settings, timeout: float = 2.0) -> list[str]:
    """Names of the workers that answered a broadcast ping within `timeout` seconds."""
    replies = producer_app(settings).control.ping(timeout=timeout) or []
    return sorted(name for reply in replies for name in reply)
