"""What the command modules share: the consoles, the mode's Context, --since dates, and following results."""

from __future__ import annotations

import argparse
import contextlib
import time
from collections import Counter
from collections.abc import Collection, Iterator
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, cast

from schemas import InputResult, Outcome, Reason
from workers.cli import views
from workers.settings import Settings

if TYPE_CHECKING:
    from rich.console import Console
    from rich.progress import Progress

# Show a progress bar from this many inputs up (a handful finish before a bar would be useful).
PROGRESS_FROM = 10
# `kliping show` takes an id from this many characters up (ids are 16 hex digits; git-like).
MIN_ID_PREFIX = 4


class LazyConsole:
    """A rich Console made on first use, standing in for it (``err.print(...)``).

    Importing rich costs ~50 ms of CPU: a `--json` run, `--help` and the first input of an ingest
    do without it. ``.console`` is the Console itself, for what needs one (a log handler, a bar).
    """

    def __init__(self, **options: Any):
        self._options = options
        self._console: Console | None = None

    @property
    def console(self) -> Console:
        """The Console (made now when not yet)."""
        if self._console is None:
            from rich.console import Console

            self._console = Console(**self._options)
        return self._console

    def __getattr__(self, name: str) -> Any:
        return getattr(self.console, name)


def real_console(console: Console) -> Console:
    """The Console behind `out` or `err` (a handler or a bar needs the object itself)."""
    return console.console if isinstance(console, LazyConsole) else console


# Typed as the Console they stand in for: every use is a Console's.
out: Console = cast("Console", LazyConsole(soft_wrap=True))
err: Console = cast("Console", LazyConsole(stderr=True))
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


def positive_int(value: str) -> int:
    """A count the user gives (--limit): a whole number of at least 1."""
    try:
        number = int(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not a whole number: {value!r}") from exc
    if number < 1:
        raise argparse.ArgumentTypeError(f"must be 1 or more: {value}")
    return number


def follow_results(
    results: Iterator[InputResult], total: int, as_json: bool, slow: bool = False
) -> tuple[Counter, list[InputResult], bool]:
    """Consume results: print JSON lines or advance a progress bar (with an ETA).

    The bar shows on a terminal from PROGRESS_FROM inputs on, or for any count when the inputs are
    `slow` (fetched URLs, queued tasks: one can take seconds, and silence looks like a hang).

    Returns the counts, the problems and whether Ctrl-C stopped it (the counts are then partial).
    """
    counts: Counter = Counter()
    problems: list[InputResult] = []
    show_bar = not as_json and (total >= PROGRESS_FROM or slow) and err.is_terminal
    progress = progress_bar() if show_bar else None
    interrupted = False
    with progress or contextlib.nullcontext():
        task = progress.add_task("", total=total) if progress else None
        try:
            for result in results:
                counts[result.outcome] += 1
                if result.outcome in (Outcome.skipped, Outcome.failed):
                    problems.append(result)
                if as_json:
                    print(views.result_line(result), flush=True)
                if progress and task is not None:
                    progress.update(task, advance=1, description=result.outcome.value)
        except KeyboardInterrupt:
            interrupted = True
    return counts, problems, interrupted


def progress_bar() -> Progress:
    """The ingest progress bar on the error console, with an ETA (rich is imported only for it)."""
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    return Progress(
        TextColumn("[bold]ingest"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("eta"),
        TimeRemainingColumn(),
        TextColumn("{task.description}"),
        console=real_console(err),
    )


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
