"""`kliping feeds poll`: one pass over the due feeds, in process or queued for the workers."""

from __future__ import annotations

import argparse
import time
from collections import Counter
from datetime import datetime
from typing import TYPE_CHECKING

from schemas import InputResult, Outcome, utcnow
from workers.cli import views
from workers.cli.common import err, out
from workers.settings import Settings

if TYPE_CHECKING:
    from schemas.feeds import PollReport

# `feeds poll` without --once wakes this often to look for due feeds: each feed's own interval
# (at least a quarter of --every) decides whether it is fetched, so this only bounds lateness.
LOOP_SLEEP_SECONDS = 30.0
NOTHING_DUE = "no feed is due (`kliping feeds list` shows the next polls; --force polls every feed now)"


def when_text(value: datetime | None) -> str:
    """A feed time as the commands print it ("never" when unset)."""
    return value.strftime("%Y-%m-%d %H:%M:%S") if value else "never"


def _print_reports(reports: list[PollReport]) -> None:
    from rich.markup import escape

    for report in reports:
        state = (
            f"[red]error: {report.error}[/]"
            if report.error
            else ("not modified" if report.not_modified else f"{len(report.new_urls)} new")
        )
        if report.skipped:  # items left out of a feed that was read: said, with the first reason
            state += f", {len(report.skipped)} items skipped ({escape(report.skipped[0])})"
        out.print(f"{report.url}: {state}", highlight=False)
    if any((report.error or "").startswith("blocked_address") for report in reports):
        err.print("private and loopback addresses are refused: KLIPING_FETCH_ALLOW_PRIVATE=true allows them")


def _poll_embedded(settings: Settings, force: bool) -> int:
    """One pass: new item URLs go through the embedded pipeline; summary table at the end."""
    from workers.runtime.embedded import run
    from workers.runtime.feeds import poll_once, with_listed_dates
    from workers.runtime.wiring import embedded_context

    ctx = embedded_context(settings)
    started, results = time.perf_counter(), list[InputResult]()

    def ingest(urls: list[str], listed: dict[str, datetime]) -> None:
        results.extend(run(urls, with_listed_dates(ctx, listed)))

    reports = poll_once(settings, ingest, force=force)
    if not reports:
        err.print(NOTHING_DUE)
        return 0
    _print_reports(reports)
    counts: Counter = Counter(r.outcome for r in results)
    problems: list[InputResult] = [r for r in results if r.outcome in (Outcome.skipped, Outcome.failed)]
    if results:  # a pass that handed nothing on has no table to show
        out.print(views.summary_table(counts, time.perf_counter() - started, problems))
    return 1 if counts.get(Outcome.failed) or any(r.error for r in reports) else 0


def _poll_distributed(settings: Settings, force: bool) -> int:
    """One pass under the poll lock: new item URLs are queued for the workers."""
    from workers.runtime.feeds import poll_locked
    from workers.runtime.producer import submit
    from workers.runtime.wiring import redis_client

    queued: list[str] = []

    def enqueue(urls: list[str], listed: dict[str, datetime]) -> None:
        submit(urls, settings, listed)
        queued.extend(urls)

    reports = poll_locked(redis_client(settings), settings, enqueue, force=force)
    if reports is None:
        err.print("another feed poll is running (beat or another `kliping feeds poll`); nothing done")
        return 0
    if not reports:
        err.print(NOTHING_DUE)
        return 0
    _print_reports(reports)
    out.print(f"queued {len(queued)} new items; follow them with `kliping stats`")
    return 1 if any(r.error for r in reports) else 0


def cmd_poll(args: argparse.Namespace, settings: Settings) -> int:
    """Poll due feeds once (--once) or forever until Ctrl-C."""
    from workers.runtime.wiring import queues_inputs

    poll = _poll_distributed if queues_inputs(settings) else _poll_embedded
    while True:
        status = poll(settings, args.force)
        if args.once:
            return status
        err.print(
            f"[dim]{when_text(utcnow())} next look for due feeds in {LOOP_SLEEP_SECONDS:.0f} s (Ctrl-C stops)[/]"
        )
        time.sleep(LOOP_SLEEP_SECONDS)
