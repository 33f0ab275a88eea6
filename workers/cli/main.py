"""The `kliping` command line: the parser of every command group, and the entry point."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Iterable
from typing import NoReturn

from pydantic import ValidationError

from workers.cli.common import NOISY_LOGGERS, err, real_console
from workers.cli.feeds import add_feeds_parser
from workers.cli.ingest import add_ingest_parser
from workers.cli.monitor import add_monitor_parsers
from workers.cli.quarantine import add_quarantine_parsers
from workers.cli.query import add_query_parsers
from workers.cli.service import add_service_parsers
from workers.cli.status import add_status_parsers
from workers.cli.web import add_web_parser
from workers.settings import get_settings


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every sub-command."""
    parser = argparse.ArgumentParser(
        prog="kliping", description="Media-monitoring ingestion: fetch, clean, dedup, enrich, index."
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug messages")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND", help="what to do")
    # the order of the groups is the order of `kliping --help`
    add_ingest_parser(sub)
    add_query_parsers(sub)
    add_quarantine_parsers(sub)
    add_service_parsers(sub)
    add_monitor_parsers(sub)
    add_status_parsers(sub)
    add_feeds_parser(sub)  # feeds add|list|remove|poll
    add_web_parser(sub)
    return parser


def configure_logging(verbose: bool) -> None:
    """Log lines go through the error console (above a progress bar, never into it); libraries'
    page-level warnings only with --verbose (the outcome of each input already reports them)."""
    handler = ConsoleLogHandler()
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.WARNING,
        format="%(name)s: %(message)s",
        handlers=[handler],
        force=True,
    )
    # the Elasticsearch client logs every retry with a traceback; our errors say it once
    logging.getLogger("elastic_transport").setLevel(logging.NOTSET if verbose else logging.CRITICAL)
    for name in NOISY_LOGGERS:
        logging.getLogger(name).setLevel(logging.NOTSET if verbose else logging.ERROR)


class ConsoleLogHandler(logging.Handler):
    """Log records through rich's handler on the error console, made at the first record (rich is
    not imported at start-up: most runs log nothing)."""

    def __init__(self) -> None:
        super().__init__()
        self._target: logging.Handler | None = None

    @property
    def target(self) -> logging.Handler:
        """The RichHandler that prints the records."""
        if self._target is None:
            from rich.logging import RichHandler

            self._target = RichHandler(
                console=real_console(err), show_time=False, show_path=False, markup=False
            )
            self._target.setFormatter(self.formatter)
        return self._target

    def setFormatter(self, fmt: logging.Formatter | None) -> None:  # noqa: N802 - logging's name
        """Set the format here and on the target once it exists."""
        super().setFormatter(fmt)
        if self._target is not None:
            self._target.setFormatter(fmt)

    def emit(self, record: logging.LogRecord) -> None:
        """Hand the record to the RichHandler."""
        self.target.handle(record)


def _query_error(exc: BaseException) -> bool:
    """True for the query language's error (its module is imported only by the commands that parse queries)."""
    query = sys.modules.get("workers.monitor.query")
    return query is not None and isinstance(exc, query.QueryError)


def _quiet_broken_pipe() -> int:
    """The reader went away (`kliping export | head`): stop quietly, as Unix tools do."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())  # Python's exit flush must not fail again
    except (OSError, ValueError):
        pass
    return 0


def main(argv: Iterable[str] | None = None) -> int:
    """Entry point of the `kliping` command."""
    parser = build_parser()
    arguments = list(argv) if argv is not None else sys.argv[1:]
    if not arguments:  # `kliping` alone: what it can do, not just "COMMAND is required"
        parser.print_help()
        return 2
    args = parser.parse_args(arguments)
    try:
        settings = get_settings()
    except ValidationError as exc:  # a KLIPING_* variable (or .env line) that does not parse
        for problem in exc.errors():
            if not problem["loc"]:  # a check across settings: its message names them
                err.print(f"[red]bad settings:[/] {problem['msg']}", highlight=False)
                continue
            name = "KLIPING_" + "_".join(str(part) for part in problem["loc"]).upper()
            err.print(f"[red]bad setting[/] {name}={problem['input']!r}: {problem['msg']}", highlight=False)
        return 2
    configure_logging(args.verbose)
    try:
        return args.func(args, settings)
    except KeyboardInterrupt:
        err.print("[yellow]interrupted[/]")
        return 130
    except BrokenPipeError:
        return _quiet_broken_pipe()
    except (ValueError, OSError) as exc:
        if _query_error(exc):
            err.print(f"[red]error:[/] cannot read the query: {exc}", highlight=False)
            return 2
        err.print(f"[red]error:[/] {exc}", highlight=False)
        return 2


def run() -> NoReturn:
    """The console script (and `python -m workers.cli`): main, then leave without interpreter teardown."""
    from workers.cli.process_exit import exit_now

    try:
        code = main()
    except SystemExit as done:  # argparse's --help and usage errors
        if not isinstance(done.code, int | None):
            raise
        code = done.code or 0
    exit_now(code)


if __name__ == "__main__":
    run()
