"""What the command modules share: the consoles, the mode's Context, --since dates, and following results."""

from __future__ import annotations

import argparse
import time
from collections import Counter
from collections.abc import Collection, Iterator
from datetime import UTC, datetime, timedelta

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from schemas import InputResult, Outcome, Reason
from workers.cli import views
from workers.settings import Settings

# Show a progress bar from this many inputs up (a handful finish before a bar would be useful).
PROGRESS_FROM = 10
# `kliping show` takes an id from this many characters up (ids are 16 hex digits; git-like).
MIN_ID_PREFIX = 4

out = Console(soft_wrap=True)
err = Console(stderr=True)
# Libraries that log page-level trouble the outcome already reports ("discarding data: None"):
# quiet unless --verbose, so their lines never land in the progress bar.
NOISY_LOGGERS = ("trafilatura", "htmldate", "courlan", "justext", "charset_normalizer")


def store_context(settings: Settings):
    """The Context of the configured mode (embedded unless Redis and Elasticsearch are set)."""
    from workers.runtime.wiring import context

    return context(settings)


def parse_since(value: str) -> datetime:
    """A --since value: an ISO date or datetime (UTC when no zone is given)."""
    try:
        when = datetime.fromisoformat(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not an ISO date (YYYY-MM-DD[THH:MM]): {value!r}") from exc
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def parse_until(value: str) -> datetime:
    """An --until value: an ISO datetime, or a date meaning up to the end of that day (UTC when no zone is given)."""
    when = parse_since(value)
    return when + timedelta(days=1) if len(value.strip()) == len("YYYY-MM-DD") else when


def follow_results(
    results: Iterator[InputResult], total: int, as_json: bool
) -> tuple[Counter, list[InputResult], bool]:
    """Consume results: print JSON lines or advance a progress bar (with an ETA).

    Returns the counts, the problems and whether Ctrl-C stopped it (the counts are then partial).
    """
    counts: Counter = Counter()
    problems: list[InputResult] = []
    show_bar = not as_json and total >= PROGRESS_FROM and err.is_terminal
    progress = Progress(
        TextColumn("[bold]ingest"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("eta"),
        TimeRemainingColumn(),
        TextColumn("{task.description}"),
        console=err,
        disable=not show_bar,
    )
    interrupted = False
    with progress:
        task = progress.add_task("", total=total)
        try:
            for result in results:
                counts[result.outcome] += 1
                if result.outcome in (Outcome.skipped, Outcome.failed):
                    problems.append(result)
                if as_json:
                    print(views.result_line(result), flush=True)
                progress.update(task, advance=1, description=result.outcome.value)
        except KeyboardInterrupt:
            interrupted = True
    return counts, problems, interrupted


def exit_code(counts: Counter, problems: list[InputResult], named: Collection[str] | None = None) -> int:
    """1 when an input failed or one the user named was not found (a typo in a path, an unknown id),
    else 0. With `named`, only those inputs count as named: a dangling link met inside a folder is
    skipped as not found without failing the run."""
    missing = any(
        (r.reason or "").startswith(Reason.not_found.value) and (named is None or r.input in named)
        for r in problems
    )
    return 1 if counts.get(Outcome.failed) or missing else 0


def finish(
    counts: Counter,
    problems: list[InputResult],
    interrupted: bool,
    total: int,
    started: float,
    verb: str,
    named: Collection[str] | None = None,
) -> int:
    """Print the (partial) summary of a run; its exit code."""
    seconds = time.perf_counter() - started
    out.print(views.summary_table(counts, seconds, problems, total=total, verb=verb))
    if interrupted:
        err.print(f"[yellow]interrupted[/] after {views.plural(sum(counts.values()), 'input')}")
        return 130
    return exit_code(counts, problems, named)
