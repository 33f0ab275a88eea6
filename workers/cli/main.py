"""The `kliping` command line: the parser of every command group, and the entry point."""

from __future__ import annotations

import argparse
import logging
from collections.abc import Iterable

from workers.cli.common import err
from workers.cli.feeds import add_feeds_parser
from workers.cli.ingest import add_ingest_parser
from workers.cli.monitor import add_monitor_parsers
from workers.cli.quarantine import add_quarantine_parsers
from workers.cli.query import add_query_parsers
from workers.cli.service import add_service_parsers
from workers.cli.status import add_status_parsers
from workers.settings import get_settings


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every sub-command."""
    parser = argparse.ArgumentParser(
        prog="kliping", description="Media-monitoring ingestion: fetch, clean, dedup, enrich, index."
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug messages")
    sub = parser.add_subparsers(dest="command", required=True)
    # the order of the groups is the order of `kliping --help`
    add_ingest_parser(sub)
    add_query_parsers(sub)
    add_quarantine_parsers(sub)
    add_service_parsers(sub)
    add_monitor_parsers(sub)
    add_status_parsers(sub)
    add_feeds_parser(sub)  # feeds add|list|remove|poll
    return parser


def main(argv: Iterable[str] | None = None) -> int:
    """Entry point of the `kliping` command."""
    args = build_parser().parse_args(list(argv) if argv is not None else None)
    settings = get_settings()
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.WARNING, format="%(levelname)s %(name)s: %(message)s"
    )
    if not args.verbose:  # the client logs every retry with a traceback; our errors say it once
        logging.getLogger("elastic_transport").setLevel(logging.CRITICAL)
    try:
        return args.func(args, settings)
    except KeyboardInterrupt:
        err.print("[yellow]interrupted[/]")
        return 130
    except (ValueError, OSError) as exc:
        err.print(f"[red]error:[/] {exc}")
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
