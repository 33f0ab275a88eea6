"""`kliping ingest`: files, directories and URLs, in process or queued for the workers."""

from __future__ import annotations

import argparse
import time
from collections.abc import Iterator

from schemas import InputResult, Outcome
from workers.cli import views
from workers.cli.common import err, follow_results, out, store_context
from workers.load import expand_inputs
from workers.settings import Settings


def cmd_ingest(args: argparse.Namespace, settings: Settings) -> int:
    """Ingest files, directories and URLs; print a summary or JSON lines."""
    inputs = expand_inputs(args.inputs)
    if not inputs:
        err.print("[red]nothing to ingest:[/] no .txt/.html files found in the given paths")
        return 2
    started = time.perf_counter()
    from workers.runtime.wiring import queues_inputs

    if queues_inputs(settings):
        from workers.runtime.producer import follow, submit

        task_ids = submit(inputs, settings)
        if not args.wait:
            err.print(
                f"queued {len(inputs)} inputs in {len(task_ids)} tasks; follow them with `kliping ingest --wait` or `kliping stats`"
            )
            return 0
        results: Iterator[InputResult] = follow(task_ids, settings, timeout=args.timeout)
        ctx = None
    else:
        from workers.runtime.embedded import run

        ctx = store_context(settings)
        results = run(inputs, ctx)
    counts, problems = follow_results(results, len(inputs), args.json)
    if not args.json:
        out.print(views.summary_table(counts, time.perf_counter() - started, problems))
        if args.show and ctx is not None:
            views.print_articles(out, ctx.index.iter_articles(), title="stored articles")
    return 1 if counts.get(Outcome.failed) else 0


def add_ingest_parser(sub: argparse._SubParsersAction) -> None:
    """`ingest`."""
    p = sub.add_parser("ingest", help="ingest files (.txt, .html), directories and URLs")
    p.add_argument("inputs", nargs="+", metavar="PATH_OR_URL")
    p.add_argument("--json", action="store_true", help="one JSON object per input instead of the summary")
    p.add_argument("--show", action="store_true", help="show the stored articles afterwards (embedded mode)")
    p.add_argument(
        "--wait", action="store_true", help="distributed mode: follow the queued inputs to the end"
    )
    p.add_argument(
        "--timeout",
        type=float,
        default=3600.0,
        help="distributed mode: give up waiting after this many seconds",
    )
    p.set_defaults(func=cmd_ingest)
