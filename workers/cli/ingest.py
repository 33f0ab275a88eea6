"""`kliping ingest`: files, directories and URLs, in process or queued for the workers."""

from __future__ import annotations

import argparse
import time
from collections.abc import Iterator

from schemas import InputResult, utcnow
from schemas.monitor import Alert
from workers.cli import views
from workers.cli.common import err, exit_code, finish, follow_results, out, store_context
from workers.load import expand_inputs, is_url
from workers.settings import Settings

INGEST_EPILOG = """In the distributed mode (KLIPING_REDIS_URL and KLIPING_ELASTICSEARCH_URL set) the inputs are
queued for the workers, and the settings of fetching and cleaning (KLIPING_FETCH_*, e.g.
KLIPING_FETCH_ALLOW_PRIVATE, KLIPING_RESPECT_ROBOTS, KLIPING_USER_AGENT, KLIPING_RAW_RETENTION_DAYS,
...) are the ones the workers were started with, not this shell's. Exit status: 0 when every
input ended indexed, copy, unchanged or skipped; 1 when one failed or was not found; 130 on Ctrl-C
(after the partial summary)."""


def cmd_ingest(args: argparse.Namespace, settings: Settings) -> int:
    """Ingest files, directories and URLs; print a summary or JSON lines."""
    inputs = expand_inputs(args.inputs)
    if not inputs:
        err.print(
            "[red]nothing to ingest:[/] no .txt/.html files (or .txt.gz/.html.gz) found in the given paths"
        )
        return 2
    started = time.perf_counter()
    shown: list[str] = []  # article ids of the inputs, in order (embedded: for --show)
    from workers.runtime.wiring import queues_inputs

    if queues_inputs(settings):
        from workers.runtime.producer import follow, submit

        task_ids = submit(inputs, settings)
        _warn_without_workers(settings)
        if not args.wait:
            err.print(
                f"queued {views.plural(len(inputs), 'input')} in {views.plural(len(task_ids), 'task')}; "
                "watch them with `kliping stats`, or queue and follow in one go with "
                "`kliping ingest --wait PATH_OR_URL …`",
                highlight=False,
            )
            return 0
        results: Iterator[InputResult] = follow(task_ids, settings, timeout=args.timeout)
        ctx = None
    else:
        from workers.runtime.embedded import run

        ctx = store_context(settings)
        run_started = utcnow()
        results = _remember_ids(run(inputs, ctx), shown)
    slow = ctx is None or any(is_url(ref) for ref in inputs)  # queued, or fetched: say it is working
    counts, problems, interrupted = follow_results(results, len(inputs), args.json, slow)
    named = set(args.inputs)  # a path or URL the user typed; not a file met inside a named folder
    if args.json:
        return 130 if interrupted else exit_code(counts, problems, named)
    code = finish(counts, problems, interrupted, len(inputs), started, "ingest", named)
    if ctx is not None and ctx.monitor is not None:
        _say_alerts(ctx.monitor.store.alerts(since=run_started))
    if args.show and ctx is not None and not interrupted:
        articles = [a for a in map(ctx.index.get, dict.fromkeys(shown)) if a is not None]
        views.print_articles(out, articles, title="the articles of these inputs, as stored")
    return code


def _remember_ids(results: Iterator[InputResult], ids: list[str]) -> Iterator[InputResult]:
    """Pass the results on, noting the article id of each (for --show)."""
    for result in results:
        if result.id:
            ids.append(result.id)
        yield result


def _say_alerts(alerts: list[Alert]) -> None:
    """After an embedded run: the alerts it raised, and the webhook deliveries that failed."""
    if not alerts:
        return
    failed = [a for a in alerts if a.delivery.state.value == "failed"]
    line = f"{views.plural(len(alerts), 'new alert')} (`kliping alerts` lists them)"
    if failed:
        line += (
            f"; [red]{views.plural(len(failed), 'webhook delivery', 'webhook deliveries')} failed[/]"
            f" ({failed[0].delivery.error}): `kliping alerts --deliver` sends again"
        )
    err.print(line, highlight=False)


def _warn_without_workers(settings: Settings) -> None:
    """Say so when no worker consumes the ingest queue: queued inputs would wait silently."""
    from workers.runtime.health import consumers

    try:
        answering = consumers(settings, timeout=1.0)
    except Exception as exc:  # the warning is advice: never fail a submission over it
        err.print(f"[yellow]could not ask the workers ({type(exc).__name__})[/]")
        return
    if not any(answering.values()):
        err.print(
            "[yellow]no worker is consuming the ingest queue:[/] the inputs wait in Redis until one "
            "starts (`kliping worker`)",
            highlight=False,
        )


def add_ingest_parser(sub: argparse._SubParsersAction) -> None:
    """`ingest`."""
    p = sub.add_parser(
        "ingest",
        help="ingest files (.txt, .html, also .gz), directories and URLs",
        description="Ingest files (.txt, .html and .htm, also gzip-compressed: .html.gz), directories and URLs.",
        epilog=INGEST_EPILOG,
    )
    p.add_argument(
        "inputs", nargs="+", metavar="PATH_OR_URL", help="files, directories (recursively) and URLs"
    )
    p.add_argument("--json", action="store_true", help="one JSON object per input instead of the summary")
    p.add_argument(
        "--show",
        action="store_true",
        help="then show the articles these inputs gave, as stored (embedded mode)",
    )
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
