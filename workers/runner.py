"""The embedded runner: the pipeline in process over the local SQLite store."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator

import httpx

from schemas import InputResult
from workers.archive import raw_archive
from workers.backends.embedded import EmbeddedStore
from workers.backends.monitor_state import MonitorStore, SqliteMonitorStore
from workers.errors import TransientError
from workers.fetch import Fetcher, LocalRateLimiter, backoff_delay
from workers.memory import RELEASE_EVERY_INPUTS, release_freed_memory
from workers.monitor import Monitor
from workers.monitor.deliver import deliver
from workers.observe import count_retry, tracing
from workers.pipeline import Context, failed_id, give_up, process
from workers.settings import Settings
from workers.sources import SourceRegistry

# Transient errors (a host down, 503) are retried this many times in process before the input
# is quarantined; the distributed mode retries longer through Celery.
EMBEDDED_RETRIES = 2
# A webhook that has not answered in this long is down; the delivery is retried with backoff.
WEBHOOK_TIMEOUT_SECONDS = 10.0


def embedded_context(settings: Settings) -> Context:
    """A Context over the embedded store (articles, dedup index and state in one SQLite file)."""
    store = EmbeddedStore(settings.db_path)
    return Context(
        settings=settings,
        registry=SourceRegistry.load(settings.sources_file),
        index=store,
        dedup=store,
        state=store,
        fetch=Fetcher(settings, LocalRateLimiter()),
        monitor=Monitor(SqliteMonitorStore(settings.db_path)),
        archive=raw_archive(settings),
    )


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
        deliver_queued(ctx.monitor)


def deliver_queued(monitor: Monitor) -> None:
    """Deliver the alerts queued during a run, synchronously, each with retries and backoff."""
    deliver_alerts(monitor.take_queued(), monitor.store)


def deliver_alerts(alert_ids: list[str], store: MonitorStore) -> None:
    """Deliver alerts one by one with retries (already delivered ones are skipped by `deliver`)."""
    if not alert_ids:
        return
    with httpx.Client(timeout=WEBHOOK_TIMEOUT_SECONDS) as client:
        for alert_id in alert_ids:
            deliver(alert_id, store, client)
