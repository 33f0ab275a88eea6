"""What the command modules share: the consoles, the mode's Context, --since dates, and following results."""

from __future__ import annotations

import argparse
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from schemas import InputResult, Outcome
from workers.cli import views
from workers.settings import Settings

# Show a progress bar from this many inputs up (a handful finish before a bar would be useful).
PROGRESS_FROM = 10

out = Console(soft_wrap=True)
err = Console(stderr=True)


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


def follow_results(
    results: Iterator[InputResult], total: int, as_json: bool
) -> tuple[Counter, list[InputResult]]:
    """Consume results: print JSON lines or advance a progress bar; return counts and problems."""
    counts: Counter = Counter()
    problems: list[InputResult] = []
    show_bar = not as_json and total >= PROGRESS_FROM and err.is_terminal
    progress = Progress(
        TextColumn("[bold]ingest"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("{task.description}"),
        console=err,
        disable=not show_bar,
    )
    with progress:
        task = progress.add_task("", total=total)
        for result in results:
            counts[result.outcome] += 1
            if result.outcome in (Outcome.skipped, Outcome.failed):
                problems.append(result)
            if as_json:
                print(views.result_line(result), flush=True)
            progress.update(task, advance=1, description=result.outcome.value)
    return counts, problems
