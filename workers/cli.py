"""The `kliping` command line."""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from collections import Counter
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from schemas import InputResult, Outcome, SentimentLabel
from workers import views
from workers.backends import SearchQuery
from workers.load import expand_inputs
from workers.settings import Settings, get_settings

# Show a progress bar from this many inputs up (a handful finish before a bar would be useful).
PROGRESS_FROM = 10

out = Console(soft_wrap=True)
err = Console(stderr=True)


def _context(settings: Settings):
    """The Context of the configured mode (embedded unless Redis and Elasticsearch are set)."""
    if settings.distributed:
        from workers.backends.distributed import distributed_context

        return distributed_context(settings)
    from workers.runner import embedded_context

    return embedded_context(settings)


def _parse_since(value: str) -> datetime:
    """A --since value: an ISO date or datetime (UTC when no zone is given)."""
    try:
        when = datetime.fromisoformat(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not an ISO date (YYYY-MM-DD[THH:MM]): {value!r}") from exc
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def _follow(results: Iterator[InputResult], total: int, as_json: bool) -> tuple[Counter, list[InputResult]]:
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


def cmd_ingest(args: argparse.Namespace, settings: Settings) -> int:
    """Ingest files, directories and URLs; print a summary or JSON lines."""
    inputs = expand_inputs(args.inputs)
    if not inputs:
        err.print("[red]nothing to ingest:[/] no .txt/.html files found in the given paths")
        return 2
    started = time.perf_counter()
    if settings.distributed:
        from workers.distributed import follow, submit

        task_ids = submit(inputs, settings)
        if not args.wait:
            err.print(
                f"queued {len(inputs)} inputs in {len(task_ids)} tasks; follow them with `kliping ingest --wait` or `kliping stats`"
            )
            return 0
        results: Iterator[InputResult] = follow(task_ids, settings, timeout=args.timeout)
        ctx = None
    else:
        from workers.runner import run

        ctx = _context(settings)
        results = run(inputs, ctx)
    counts, problems = _follow(results, len(inputs), args.json)
    if not args.json:
        out.print(views.summary_table(counts, time.perf_counter() - started, problems))
        if args.show and ctx is not None:
            views.print_articles(out, ctx.index.iter_articles(), title="stored articles")
    return 1 if counts.get(Outcome.failed) else 0


def cmd_export(args: argparse.Namespace, settings: Settings) -> int:
    """Every stored article as one JSON object per line."""
    ctx = _context(settings)
    stream = open(args.output, "w", encoding="utf-8") if args.output else sys.stdout
    try:
        for article in ctx.index.iter_articles():
            stream.write(views.article_line(article) + "\n")
    finally:
        if args.output:
            stream.close()
    return 0


def cmd_search(args: argparse.Namespace, settings: Settings) -> int:
    """Search stored articles."""
    query = SearchQuery(
        text=args.query or None,
        entity=args.entity,
        source=args.source,
        since=args.since,
        sentiment=SentimentLabel(args.sentiment) if args.sentiment else None,
        limit=args.limit,
    )
    hits = _context(settings).index.search(query)
    if args.json:
        for article in hits:
            print(views.article_line(article))
    else:
        views.print_articles(out, hits, title=f"{len(hits)} articles")
    return 0 if hits else 1


def cmd_show(args: argparse.Namespace, settings: Settings) -> int:
    """One article in full."""
    article = _context(settings).index.get(args.id)
    if article is None:
        err.print(f"[red]no article with id {args.id}[/]")
        return 1
    if args.json:
        print(views.article_line(article))
    else:
        views.show_article(out, article)
    return 0


def cmd_stats(args: argparse.Namespace, settings: Settings) -> int:
    """Counts by outcome, source, language and the top entities."""
    ctx = _context(settings)
    stats = views.stats_of(ctx.index.iter_articles(), ctx.state.outcome_counts())
    if args.json:
        print(json.dumps(stats, ensure_ascii=False))
    else:
        out.print(f"[bold]{stats['articles']} articles[/] ({stats['copies']} syndicated copies)")
        for table in views.stats_tables(stats):
            out.print(table)
    return 0


def cmd_rules(args: argparse.Namespace, settings: Settings) -> int:
    """Add, list or remove standing rules (monitoring queries)."""
    from schemas.monitor import Rule
    from workers.backends.monitor_state import monitor_store
    from workers.monitor import parse

    store = monitor_store(settings)
    if args.action == "add":
        parse(args.query)  # refuse a malformed query now, not at the first article
        rule = Rule(
            name=args.name,
            query=args.query,
            entity=args.entity,
            source=args.source,
            sentiment=args.sentiment,
            webhook=args.webhook,
            spike=args.spike,
        )
        store.add_rule(rule)
        out.print(f"rule {rule.name} saved", highlight=False)
        return 0
    if args.action == "remove":
        if store.remove_rule(args.name):
            out.print(f"rule {args.name} removed", highlight=False)
            return 0
        err.print(f"no rule named {args.name!r}")
        return 1
    for rule in store.rules():
        if args.json:
            print(rule.model_dump_json())
            continue
        filters = " ".join(
            f"--{k} {v.value if hasattr(v, 'value') else v}"
            for k, v in (
                ("entity", rule.entity),
                ("source", rule.source),
                ("sentiment", rule.sentiment),
                ("webhook", rule.webhook),
            )
            if v
        )
        out.print(f"{rule.name}  {rule.query}  {filters}{'  --spike' if rule.spike else ''}", highlight=False)
    return 0


def cmd_alerts(args: argparse.Namespace, settings: Settings) -> int:
    """List alerts with their delivery state (and last delivery error)."""
    from workers.backends.monitor_state import monitor_store

    store = monitor_store(settings)
    alerts = store.alerts(since=args.since)
    if args.deliver:  # e.g. after an interrupted run, or a webhook that was down
        from workers.monitor.deliver import reopen
        from workers.runner import deliver_alerts

        for alert in alerts:
            reopen(alert.id, store)
        deliver_alerts(
            [a.id for a in alerts if a.delivery.state.value in ("pending", "sending", "failed")], store
        )
        alerts = store.alerts(since=args.since)
    for alert in alerts:
        if args.json:
            print(alert.model_dump_json())
            continue
        d = alert.delivery
        state = {"delivered": "green", "failed": "red"}.get(d.state.value, "yellow")
        error = f" {d.error}" if d.error else ""
        out.print(
            f"{alert.created_at:%Y-%m-%d %H:%M}  {alert.rule}  {alert.kind.value}  {alert.outlet or '-'}  {alert.title}"
            f"  +{len(alert.attached)}  [{state}]{d.state.value}[/] ×{d.attempts}{error}",
            highlight=False,
        )
    if not alerts and not args.json:
        out.print("no alerts")
    return 0


def cmd_failed(args: argparse.Namespace, settings: Settings) -> int:
    """List quarantined inputs."""
    items = _context(settings).state.failed()
    for item in items:
        if args.json:
            print(item.model_dump_json())
        else:
            out.print(
                f"{item.id}  {item.input}  [red]{item.reason.value}[/] ×{item.attempts}  {item.error.splitlines()[0] if item.error else ''}",
                highlight=False,
            )
    if not items and not args.json:
        out.print("no failed inputs")
    return 0


def cmd_retry(args: argparse.Namespace, settings: Settings) -> int:
    """Replay quarantined inputs (one id, or all); released from quarantine when they succeed."""
    ctx = _context(settings)
    items = [i for i in ctx.state.failed() if args.all or i.id in args.ids]
    if not items:
        err.print("nothing to retry")
        return 1
    from workers.runner import run

    results = []
    for item, result in zip(items, run([i.input for i in items], ctx)):
        if result.outcome != Outcome.failed:
            ctx.state.release(item.id)
        results.append(result)
    counts, problems = _follow(iter(results), len(results), args.json)
    if not args.json:
        out.print(views.summary_table(counts, 0.0, problems))
    return 1 if counts.get(Outcome.failed) else 0


def cmd_reextract(args: argparse.Namespace, settings: Settings) -> int:
    """Clean and store inputs again from their archived raw responses (no fetching)."""
    if not args.all and not args.refs:
        err.print("name articles (ID, URL or path) or give --all")
        return 2
    ctx = _context(settings)
    if ctx.archive is None:
        err.print("[red]the raw archive is disabled[/] (KLIPING_RAW_RETENTION_DAYS=0)")
        return 2
    from workers.archive import reextract

    started = time.perf_counter()
    results = list(reextract(ctx, None if args.all else args.refs))
    if not results:
        err.print(f"nothing archived under {ctx.archive.root}")
        return 1
    counts, problems = _follow(iter(results), len(results), args.json)
    if not args.json:
        table = views.summary_table(counts, time.perf_counter() - started, problems)
        table.title = f"kliping reextract: {len(results)} inputs in {time.perf_counter() - started:.2f} s"
        out.print(table)
    return 1 if counts.get(Outcome.failed) else 0


def cmd_archive(args: argparse.Namespace, settings: Settings) -> int:
    """Raw archive maintenance: delete entries older than KLIPING_RAW_RETENTION_DAYS."""
    from workers.archive import RawArchive, archive_root

    # built directly, not with raw_archive(): with retention 0 a prune empties the archive
    archive = RawArchive(archive_root(settings), settings.raw_retention_days)
    deleted = archive.prune()
    out.print(
        f"pruned {deleted} raw documents older than {settings.raw_retention_days} days from {archive.root}",
        highlight=False,
    )
    return 0


def cmd_worker(args: argparse.Namespace, settings: Settings) -> int:
    """Start a Celery worker with the project's configuration."""
    import os

    from workers.celery_app import SIGTERM_REMAP, app

    os.environ.setdefault(
        *SIGTERM_REMAP
    )  # read when the worker starts: SIGTERM → soft shutdown, then requeue

    argv = ["worker", "-Q", "ingest", "--loglevel", settings.log_level]
    if settings.worker_concurrency:
        argv += ["--concurrency", str(settings.worker_concurrency)]
    app.worker_main(argv + args.extra)
    return 0


def cmd_beat(args: argparse.Namespace, settings: Settings) -> int:
    """Start the Celery beat scheduler."""
    from workers.celery_app import app

    settings.data_dir.mkdir(parents=True, exist_ok=True)  # beat keeps its schedule file there
    app.start(["beat", "--loglevel", settings.log_level, *args.extra])
    return 0


def cmd_es(args: argparse.Namespace, settings: Settings) -> int:
    """Elasticsearch maintenance: install templates and alias, or re-send stored articles."""
    if not settings.elasticsearch_url:
        err.print("[red]KLIPING_ELASTICSEARCH_URL is not set[/]")
        return 2
    from workers.backends.elastic import ElasticIndex, make_client

    index = ElasticIndex(make_client(settings), settings.elasticsearch_index)
    index.setup()
    if args.action == "setup":
        out.print(f"templates and alias {settings.elasticsearch_index} are in place")
        return 0
    if args.from_embedded:
        from workers.runner import embedded_context

        source = embedded_context(settings).index
        failures = index.put_many(source.iter_articles())
        out.print(f"re-sent {source.count()} articles from the embedded store, {len(failures)} failed")
    else:
        new, old, failures = index.reindex()
        if not failures:
            out.print(
                f"re-sent {index.count()} articles into {new}; alias {index.alias} moved from {', '.join(old) or 'nothing'}"
            )
            if old:
                out.print(f"old indices kept until you delete them: DELETE /{','.join(old)}", highlight=False)
    for failure in failures[:20]:
        err.print(f"[red]failed[/] {failure.id}: {failure.status} {failure.error}", highlight=False)
    return 1 if failures else 0


def cmd_kibana(args: argparse.Namespace, settings: Settings) -> int:
    """Import the dashboards, visualizations, saved searches and data view into Kibana."""
    from pathlib import Path

    import httpx

    from workers.kibana import KibanaImportError, import_saved_objects

    try:
        count = import_saved_objects(args.url, Path(args.file), api_key=args.api_key)
    except (KibanaImportError, httpx.HTTPError) as exc:
        err.print(f"[red]Kibana import failed:[/] {exc}", highlight=False)
        return 1
    out.print(
        f"imported {count} saved objects into {args.url}; open {args.url.rstrip('/')}/app/dashboards#/view/kliping-monitoring"
    )
    return 0


def _check(checks: dict[str, str], name: str, probe) -> bool:
    """Run one health probe; record "ok: …" or "unhealthy: …" under its name."""
    try:
        checks[name] = f"ok: {probe()}"
        return True
    except Exception as exc:  # report, do not crash: this is a health check
        checks[name] = f"unhealthy: {type(exc).__name__}: {exc}"
        return False


def cmd_health(args: argparse.Namespace, settings: Settings) -> int:
    """Check the configured backends (and, distributed, that workers consume tasks); non-zero when unhealthy."""
    checks: dict[str, str] = {}
    if settings.distributed:
        from workers.backends.distributed import elastic_index, redis_client
        from workers.health import check_consuming

        results = [
            _check(checks, "redis", lambda: f"ping {redis_client(settings).ping()}"),
            _check(checks, "elasticsearch", lambda: f"{elastic_index(settings).count()} articles"),
            _check(checks, "workers", lambda: check_consuming(settings, redis_client(settings))),
        ]
    else:
        from workers.backends.embedded import EmbeddedStore

        results = [
            _check(
                checks,
                "store",
                lambda: f"{EmbeddedStore(settings.db_path).count()} articles in {settings.db_path}",
            )
        ]
    for name, state in checks.items():
        out.print(f"{name}: {state}", highlight=False)
    return 0 if all(results) else 1


def cmd_metrics(args: argparse.Namespace, settings: Settings) -> int:
    """Serve Prometheus metrics of the distributed mode (read from Redis on each scrape) until stopped."""
    if not settings.redis_url:
        err.print("[red]KLIPING_REDIS_URL is not set[/]: metrics are kept in Redis by the workers")
        return 2
    from workers.metrics import serve

    port = args.port or settings.metrics_port
    serve(settings, args.host, port)
    out.print(f"serving Kliping metrics on http://{args.host}:{port}/metrics", highlight=False)
    while True:
        time.sleep(3600)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every sub-command."""
    parser = argparse.ArgumentParser(
        prog="kliping", description="Media-monitoring ingestion: fetch, clean, dedup, enrich, index."
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug messages")
    sub = parser.add_subparsers(dest="command", required=True)

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

    p = sub.add_parser("export", help="every stored article as JSON lines")
    p.add_argument("-o", "--output", help="write to a file instead of standard output")
    p.set_defaults(func=cmd_export)

    p = sub.add_parser("search", help="search stored articles")
    p.add_argument("query", nargs="?", default="", help='words, "phrases", AND/OR/NOT')
    p.add_argument("--entity", help="articles naming this person, organisation or place (name or alias)")
    p.add_argument("--source")
    p.add_argument("--since", type=_parse_since)
    p.add_argument(
        "--sentiment",
        choices=[label.value for label in SentimentLabel],
        help="the article's sentiment; with --entity, the tone toward that entity"
        " (from the sentences that mention it)",
    )
    p.add_argument("--limit", type=int, default=20)
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_search)

    p = sub.add_parser("show", help="one article in full")
    p.add_argument("id")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_show)

    p = sub.add_parser("stats", help="counts by outcome, source, language; top entities")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_stats)

    p = sub.add_parser("failed", help="list quarantined inputs")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_failed)

    p = sub.add_parser("retry", help="replay quarantined inputs")
    p.add_argument("ids", nargs="*", metavar="ID")
    p.add_argument("--all", action="store_true")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_retry)

    p = sub.add_parser(
        "reextract", help="clean and store again from the archived raw responses (no fetching)"
    )
    p.add_argument("refs", nargs="*", metavar="ID_OR_INPUT")
    p.add_argument("--all", action="store_true", help="every archived input")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_reextract)

    p = sub.add_parser("archive", help="raw archive maintenance: prune (delete entries past the retention)")
    p.add_argument("action", choices=["prune"])
    p.set_defaults(func=cmd_archive)

    for name, func, text in (
        ("worker", cmd_worker, "start a Celery worker"),
        ("beat", cmd_beat, "start the Celery beat scheduler"),
    ):
        # Every argument is Celery's (`kliping worker -c 4 -n w1@%h`, `--help` included): with no
        # option prefix of its own, argparse hands even a leading `-c` to the remainder.
        p = sub.add_parser(name, help=text, prefix_chars="+", add_help=False)
        p.add_argument("extra", nargs=argparse.REMAINDER, help="further Celery options")
        p.set_defaults(func=func)

    p = sub.add_parser(
        "es",
        help="Elasticsearch: setup (templates, ILM, alias) or reindex (stored articles into a fresh index)",
    )
    p.add_argument("action", choices=["setup", "reindex"])
    p.add_argument(
        "--from-embedded", action="store_true", help="reindex: re-send the embedded store's articles instead"
    )
    p.set_defaults(func=cmd_es)

    from workers.kibana import DEFAULT_KIBANA_URL, SAVED_OBJECTS

    p = sub.add_parser(
        "kibana",
        help="Kibana: import the data view, dashboard and saved searches (setup, or its alias import)",
    )
    p.add_argument("action", choices=["setup", "import"])
    p.add_argument("--url", default=DEFAULT_KIBANA_URL, help=f"Kibana URL (default {DEFAULT_KIBANA_URL})")
    p.add_argument(
        "--file", default=str(SAVED_OBJECTS), help="saved objects ndjson (default ops/kibana/kliping.ndjson)"
    )
    p.add_argument("--api-key", default=None, help="Kibana API key, when security is on")
    p.set_defaults(func=cmd_kibana)

    p = sub.add_parser("rules", help="standing monitoring queries: add, list, remove")
    rules = p.add_subparsers(dest="action", required=True)
    r = rules.add_parser(
        "add", help='add or replace a rule: NAME QUERY (words, "phrases", AND/OR/NOT, parentheses)'
    )
    r.add_argument("name")
    r.add_argument("query")
    r.add_argument("--entity", default=None, help="only articles mentioning this entity")
    r.add_argument("--source", default=None, help="only articles of this outlet (name or domain)")
    r.add_argument("--sentiment", choices=[label.value for label in SentimentLabel], default=None)
    r.add_argument("--webhook", default=None, help="POST each alert as JSON to this URL")
    r.add_argument("--spike", action="store_true", help="also alert when the rule's hourly volume spikes")
    r = rules.add_parser("list", help="list rules")
    r.add_argument("--json", action="store_true")
    r = rules.add_parser("remove", help="remove a rule")
    r.add_argument("name")
    p.set_defaults(func=cmd_rules)

    p = sub.add_parser("alerts", help="alerts raised by the rules, with delivery state and failures")
    p.add_argument("--since", type=_parse_since, default=None, help="only alerts created since (ISO date)")
    p.add_argument("--deliver", action="store_true", help="first deliver alerts still pending (with retries)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_alerts)

    p = sub.add_parser(
        "metrics", help="serve Prometheus metrics (outcomes, stage latency, queue depth, retries, quarantine)"
    )
    p.add_argument("--host", default="0.0.0.0", help="address to listen on (default all)")
    p.add_argument("--port", type=int, default=None, help="port (default KLIPING_METRICS_PORT, 9108)")
    p.set_defaults(func=cmd_metrics)

    p = sub.add_parser("health", help="check the store, broker and workers; non-zero exit when unhealthy")
    p.set_defaults(func=cmd_health)

    from workers.feeds.commands import add_feeds_parser

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
