"""The embedded runner: the pipeline in process, one input after another (and re-extraction from the archive)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import replace
from pathlib import Path

from schemas import InputResult, Outcome
from workers.clean import article_id
from workers.errors import SkipInput, TransientError
from workers.load import is_url
from workers.monitor import Monitor
from workers.monitor.deliver import WEBHOOK_TIMEOUT_SECONDS, deliver
from workers.observe import count_retry, tracing
from workers.pipeline import Context, failed_id, give_up, process
from workers.ports import MonitorStore
from workers.retry import backoff_delay
from workers.runtime.memory import RELEASE_EVERY_INPUTS, release_freed_memory
from workers.settings import Settings

# Transient errors (a host down, 503) are retried this many times in process before the input
# is quarantined; the distributed mode retries longer through Celery.
EMBEDDED_RETRIES = 2


def process_with_retries(
    input_ref: str, ctx: Context, retries: int = EMBEDDED_RETRIES, sleep: Callable[[float], None] = time.sleep
) -> InputResult:
    """Process one input, retrying transient errors with backoff, then quarantining them."""
    with tracing(input_ref, failed_id(input_ref)):  # one trace over the attempts: the give-up names the stage
        for attempt in range(retries + 1):
            try:
                return process(input_ref, ctx)
            except TransientError as exc:
                if attempt == retries:
                    return give_up(input_ref, exc, ctx, attempts=attempt + 1)
                count_retry(ctx.metrics, exc.reason)
                sleep(backoff_delay(attempt, base=0.5, cap=10.0, retry_after=exc.retry_after))
    raise AssertionError("unreachable")


def run(inputs: Iterable[str], ctx: Context) -> Iterator[InputResult]:
    """Process inputs one by one, yielding each outcome as it is decided."""
    for n, input_ref in enumerate(inputs, start=1):
        yield process_with_retries(input_ref, ctx)
        if n % RELEASE_EVERY_INPUTS == 0:
            release_freed_memory()
    if ctx.monitor is not None:
        deliver_queued(ctx.monitor, ctx.settings)


def deliver_queued(monitor: Monitor, settings: Settings) -> None:
    """Deliver the alerts queued during a run, synchronously, each with retries and backoff."""
    deliver_alerts(monitor.take_queued(), monitor.store, settings)


def deliver_alerts(alert_ids: list[str], store: MonitorStore, settings: Settings) -> None:
    """Deliver alerts one by one with retries (already delivered ones are skipped by `deliver`).

    Through the fetch guard: a webhook on a private address is refused unless fetch_allow_private.
    """
    if not alert_ids:
        return
    # only when there are alerts to deliver: a run without them never imports httpx
    from workers.fetch.webhook import WebhookClient

    with WebhookClient(settings, WEBHOOK_TIMEOUT_SECONDS) as client:
        for alert_id in alert_ids:
            deliver(alert_id, store, client)


def _archived(url: str, ctx: Context) -> bool:
    """True when the archive holds an entry for the URL (an unreadable one too: reextract reports it)."""
    try:
        return ctx.archive is not None and ctx.archive.get(url) is not None
    except SkipInput:
        return True


def _input_of(ref: str, ctx: Context) -> str:
    """The archived input a reference names: an article id, or the article's own (canonical) URL,
    becomes the input it came from (the URL fetched); a fetched URL and a path stay as given."""
    if Path(ref).exists() or (is_url(ref) and _archived(ref, ctx)):
        return ref
    article = ctx.index.get(article_id(ref) if is_url(ref) else ref)
    return article.input if article is not None else ref


def reextract(ctx: Context, refs: Iterable[str] | None = None) -> Iterator[InputResult]:
    """Clean and store inputs again from their archived raw documents (all when `refs` is None); no fetching."""
    if ctx.archive is None:
        raise ValueError("the raw archive is disabled (KLIPING_RAW_RETENTION_DAYS=0)")
    # URLs are read from the archive instead of the network and not archived again, so a
    # re-extraction does not extend their retention.
    replay = replace(ctx, fetch=ctx.archive.load, archive=None)
    if refs is not None:
        yield from run([_input_of(ref, ctx) for ref in refs], replay)
        return
    entries = list(ctx.archive.entries())
    for entry in entries:
        if entry.problem is not None:  # its input is unknown: report the file itself
            result = InputResult(input=str(entry.path), outcome=Outcome.skipped, reason=entry.problem)
            ctx.state.record(result)
            yield result
    yield from run([e.input for e in entries if e.input is not None], replay)
