"""The `kliping` command line."""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import time
from collections import Counter
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime

from rich.console import Console
from rich.logging import RichHandler
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from schemas import InputResult, Outcome, Reason, SentimentLabel
from workers import views
from workers.backends import SearchQuery
from workers.load import expand_inputs
from workers.monitor.query import QueryError
from workers.settings import Settings, get_settings

# Show a progress bar from this many inputs up (a handful finish before a bar would be useful).
PROGRESS_FROM = 10
# `kliping show` takes an id from this many characters up (ids are 16 hex digits; git-like).
MIN_ID_PREFIX = 4

out = Console(soft_wrap=True)
err = Console(stderr=True)
# Libraries that log page-level trouble the outcome already reports ("discarding data: None"):
# quiet unless --verbose, so their lines never land in the progress bar.
NOISY_LOGGERS = ("trafilatura", "htmldate", "courlan", "justext", "charset_normalizer")


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


def _follow(
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


def exit_code(counts: Counter, problems: list[InputResult]) -> int:
    """1 when an input failed or was not found (a typo in a path, an unknown id), else 0."""
    missing = any((r.reason or "").startswith(Reason.not_found.value) for r in problems)
    return 1 if counts.get(Outcome.failed) or missing else 0


def _finish(
    counts: Counter, problems: list[InputResult], interrupted: bool, total: int, started: float, verb: str
) -> int:
    """Print the (partial) summary of a run; its exit code."""
    seconds = time.perf_counter() - started
    out.print(views.summary_table(counts, seconds, problems, total=total, verb=verb))
    if interrupted:
        err.print(f"[yellow]interrupted[/] after {views.plural(sum(counts.values()), 'input')}")
        return 130
    return exit_code(counts, problems)


def _warn_without_workers(settings: Settings) -> None:
    """Say so when no worker consumes the ingest queue: queued inputs would wait silently."""
    from workers.health import consumers

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
        from workers.runner import run

        ctx = _context(settings)
        results = run(inputs, ctx)
    counts, problems, interrupted = _follow(results, len(inputs), args.json)
    if args.json:
        return 130 if interrupted else exit_code(counts, problems)
    code = _finish(counts, problems, interrupted, len(inputs), started, "ingest")
    if args.show and ctx is not None and not interrupted:
        views.print_articles(out, ctx.index.iter_articles(), title="stored articles")
    return code


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
        text=" ".join(args.query) or None,
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
        views.print_articles(out, hits, title=views.plural(len(hits), "article"))
    return 0 if hits else 1


def resolve_id(index, ref: str) -> tuple[str | None, list[str]]:
    """The stored id a reference names (an id, or the start of one); else None and the candidates."""
    if index.get(ref) is not None:
        return ref, [ref]
    found = index.ids_starting(ref, limit=10) if len(ref) >= MIN_ID_PREFIX else []
    return (found[0] if len(found) == 1 else None), found


def cmd_show(args: argparse.Namespace, settings: Settings) -> int:
    """One article in full (its id, or the first characters of it)."""
    index = _context(settings).index
    article_id, candidates = resolve_id(index, args.id)
    if article_id is None:
        if candidates:
            err.print(
                f"[red]{args.id} is the start of several ids:[/] {', '.join(candidates)}", highlight=False
            )
        else:
            err.print(f"[red]no article with id {args.id}[/]", highlight=False)
        return 1
    article = index.get(article_id)
    assert article is not None
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
        copies = views.plural(stats["copies"], "syndicated copy", "syndicated copies")
        out.print(f"[bold]{views.plural(stats['articles'], 'article')}[/] ({copies})")
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
    if args.action == "test":
        return _rules_test(args, settings, store)
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


def _rules_test(args: argparse.Namespace, settings: Settings, store) -> int:
    """Which stored articles a saved rule (by name) or a query would match."""
    from schemas.monitor import Rule
    from workers.monitor.preview import preview

    saved = store.rule(args.rule)
    rule = saved or Rule(name="(query)", query=args.rule)
    result = preview(_context(settings).index, rule, saved=saved is not None, limit=args.limit)
    if args.json:
        for article, _terms in result.matches:
            print(views.article_line(article))
        return 0 if result.matches else 1
    what = f"rule {rule.name}: {rule.query}" if saved else f"query {rule.query}"
    out.print(what, highlight=False)
    if not result.matches:
        out.print("no stored article would match")
        return 1
    count = len(result.matches)
    shown = f" (the first {args.limit})" if count >= args.limit else ""
    out.print(f"{views.plural(count, 'stored article')} would match{shown}:", highlight=False)
    views.print_articles(out, [article for article, _ in result.matches])
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
    counts, problems, _ = _follow(iter(results), len(results), args.json)
    if not args.json:
        out.print(views.summary_table(counts, 0.0, problems, verb="retry"))
    return exit_code(counts, problems)


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
    counts, problems, interrupted = _follow(iter(results), len(results), args.json)
    if args.json:
        return 130 if interrupted else exit_code(counts, problems)
    return _finish(counts, problems, interrupted, len(results), started, "reextract")


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


def cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    """Serve the local web view until Ctrl-C."""
    from workers.backends.monitor_state import monitor_store
    from workers.web.desk import Desk
    from workers.web.server import make_server

    server = make_server(Desk(_context(settings).index, monitor_store(settings)), args.host, args.port)
    host, port = server.server_address[:2]
    mode = "Elasticsearch" if settings.distributed else f"the embedded store {settings.db_path}"
    print(f"serving the Kliping web view of {mode} on http://{host}:{port}/ (Ctrl-C stops)", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


INGEST_EPILOG = """In the distributed mode (KLIPING_REDIS_URL and KLIPING_ELASTICSEARCH_URL set) the inputs are
queued for the workers, and the settings of fetching and cleaning (KLIPING_FETCH_*, e.g.
KLIPING_FETCH_ALLOW_PRIVATE, KLIPING_RESPECT_ROBOTS, KLIPING_USER_AGENT, KLIPING_RAW_RETENTION_DAYS,
...) are the ones the workers were started with, not this shell's. Exit status: 0 when every
input ended indexed, copy, unchanged or skipped; 1 when one failed or was not found; 130 on Ctrl-C
(after the partial summary)."""


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every sub-command."""
    parser = argparse.ArgumentParser(
        prog="kliping", description="Media-monitoring ingestion: fetch, clean, dedup, enrich, index."
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug messages")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND", help="what to do")

    p = sub.add_parser(
        "ingest",
        help="ingest files (.txt, .html), directories and URLs",
        description="Ingest files (.txt, .html), directories and URLs.",
        epilog=INGEST_EPILOG,
    )
    p.add_argument(
        "inputs", nargs="+", metavar="PATH_OR_URL", help="files, directories (recursively) and URLs"
    )
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
    p.add_argument(
        "query",
        nargs="*",
        help='words, "phrases", AND/OR/NOT, -word, korup*, title:/text:, parentheses (quotes optional)',
    )
    p.add_argument("--entity", help="only articles mentioning this entity (canonical name or alias)")
    p.add_argument("--source", help="only articles of this outlet (name or domain)")
    p.add_argument("--since", type=_parse_since, help="only articles dated from this day on (YYYY-MM-DD)")
    p.add_argument("--sentiment", choices=[label.value for label in SentimentLabel], help="only this tone")
    p.add_argument("--limit", type=int, default=20, help="at most this many articles (default 20)")
    p.add_argument("--json", action="store_true", help="one JSON object per article")
    p.set_defaults(func=cmd_search)

    p = sub.add_parser("show", help="one article in full")
    p.add_argument("id", help=f"the article's id, or its first {MIN_ID_PREFIX} or more characters")
    p.add_argument("--json", action="store_true", help="the article as JSON")
    p.set_defaults(func=cmd_show)

    p = sub.add_parser("stats", help="counts by outcome, source, language; top entities")
    p.add_argument("--json", action="store_true", help="the counts as one JSON object")
    p.set_defaults(func=cmd_stats)

    p = sub.add_parser("failed", help="list quarantined inputs")
    p.add_argument("--json", action="store_true", help="one JSON object per input")
    p.set_defaults(func=cmd_failed)

    p = sub.add_parser("retry", help="replay quarantined inputs")
    p.add_argument("ids", nargs="*", metavar="ID", help="ids shown by `kliping failed`")
    p.add_argument("--all", action="store_true", help="every quarantined input")
    p.add_argument("--json", action="store_true", help="one JSON object per input instead of the summary")
    p.set_defaults(func=cmd_retry)

    p = sub.add_parser(
        "reextract", help="clean and store again from the archived raw responses (no fetching)"
    )
    p.add_argument(
        "refs", nargs="*", metavar="ID_OR_INPUT", help="article ids, the article's URL, fetched URLs or paths"
    )
    p.add_argument("--all", action="store_true", help="every archived input")
    p.add_argument("--json", action="store_true", help="one JSON object per input instead of the summary")
    p.set_defaults(func=cmd_reextract)

    p = sub.add_parser("archive", help="raw archive maintenance: prune (delete entries past the retention)")
    archive = p.add_subparsers(dest="action", required=True, metavar="ACTION", help="prune")
    archive.add_parser(
        "prune",
        help="delete archived raw documents older than KLIPING_RAW_RETENTION_DAYS",
        description="Delete archived raw documents older than KLIPING_RAW_RETENTION_DAYS.",
    )
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
    es = p.add_subparsers(dest="action", required=True, metavar="ACTION", help="setup or reindex")
    es.add_parser(
        "setup",
        help="install the ILM policy, index template and write alias (idempotent)",
        description="Install the ILM policy, the index template and the write alias (idempotent).",
    )
    r = es.add_parser(
        "reindex",
        help="re-send every stored article into a fresh index and move the alias",
        description="Re-send every stored article into a fresh index (new mappings) and move the alias.",
    )
    r.add_argument(
        "--from-embedded", action="store_true", help="re-send the embedded store's articles instead"
    )
    p.set_defaults(func=cmd_es, from_embedded=False)

    from workers.kibana import DEFAULT_KIBANA_URL, SAVED_OBJECTS

    p = sub.add_parser(
        "kibana",
        help="Kibana: import the data view, dashboard and saved searches (setup, or its alias import)",
    )
    p.add_argument(
        "action", choices=["setup", "import"], help="setup (or its alias import): import the objects"
    )
    p.add_argument("--url", default=DEFAULT_KIBANA_URL, help=f"Kibana URL (default {DEFAULT_KIBANA_URL})")
    p.add_argument(
        "--file", default=str(SAVED_OBJECTS), help="saved objects ndjson (default ops/kibana/kliping.ndjson)"
    )
    p.add_argument("--api-key", default=None, help="Kibana API key, when security is on")
    p.set_defaults(func=cmd_kibana)

    p = sub.add_parser("rules", help="standing monitoring queries: add, list, test, remove")
    rules = p.add_subparsers(dest="action", required=True, metavar="ACTION", help="setup or reindex")
    r = rules.add_parser(
        "add", help='add or replace a rule: NAME QUERY (words, "phrases", AND/OR/NOT, parentheses)'
    )
    r.add_argument("name", help="the rule's name (adding a name again replaces the rule)")
    r.add_argument("query", help="the query, in the language of `kliping search`")
    r.add_argument("--entity", default=None, help="only articles mentioning this entity")
    r.add_argument("--source", default=None, help="only articles of this outlet (name or domain)")
    r.add_argument(
        "--sentiment",
        choices=[label.value for label in SentimentLabel],
        default=None,
        help="only articles of this tone",
    )
    r.add_argument("--webhook", default=None, help="POST each alert as JSON to this URL")
    r.add_argument("--spike", action="store_true", help="also alert when the rule's hourly volume spikes")
    r = rules.add_parser("list", help="list rules")
    r.add_argument("--json", action="store_true", help="one JSON object per rule")
    r = rules.add_parser(
        "test",
        help="which stored articles a rule (by name) or a query would match",
        description="Which stored articles a saved rule (by name, with its filters) or a query would match.",
    )
    r.add_argument("rule", metavar="NAME_OR_QUERY", help="a saved rule's name, or a query to try")
    r.add_argument("--limit", type=int, default=50, help="at most this many articles (default 50)")
    r.add_argument("--json", action="store_true", help="one JSON object per matching article")
    r = rules.add_parser("remove", help="remove a rule")
    r.add_argument("name", help="the rule's name")
    p.set_defaults(func=cmd_rules)

    p = sub.add_parser("alerts", help="alerts raised by the rules, with delivery state and failures")
    p.add_argument("--since", type=_parse_since, default=None, help="only alerts created since (ISO date)")
    p.add_argument("--deliver", action="store_true", help="first deliver alerts still pending (with retries)")
    p.add_argument("--json", action="store_true", help="one JSON object per alert")
    p.set_defaults(func=cmd_alerts)

    p = sub.add_parser(
        "metrics", help="serve Prometheus metrics (outcomes, stage latency, queue depth, retries, quarantine)"
    )
    p.add_argument("--host", default="0.0.0.0", help="address to listen on (default all)")
    p.add_argument("--port", type=int, default=None, help="port (default KLIPING_METRICS_PORT, 9108)")
    p.set_defaults(func=cmd_metrics)

    p = sub.add_parser("health", help="check the store, broker and workers; non-zero exit when unhealthy")
    p.set_defaults(func=cmd_health)

    p = sub.add_parser(
        "serve",
        help="the local web view: search, stories, entities, alerts, charts",
        description="Serve the local web view (the embedded store, or Elasticsearch in the distributed mode).",
    )
    p.add_argument(
        "--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1: this machine)"
    )
    p.add_argument("--port", type=int, default=8765, help="port (default 8765; 0: any free port)")
    p.set_defaults(func=cmd_serve)

    from workers.feeds.commands import add_feeds_parser

    add_feeds_parser(sub)  # feeds add|list|remove|poll
    return parser


def configure_logging(verbose: bool) -> None:
    """Log lines go through the error console (above a progress bar, never into it); libraries'
    page-level warnings only with --verbose (the outcome of each input already reports them)."""
    handler = RichHandler(console=err, show_time=False, show_path=False, markup=False)
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
    args = build_parser().parse_args(list(argv) if argv is not None else None)
    settings = get_settings()
    configure_logging(args.verbose)
    try:
        return args.func(args, settings)
    except KeyboardInterrupt:
        err.print("[yellow]interrupted[/]")
        return 130
    except BrokenPipeError:
        return _quiet_broken_pipe()
    except QueryError as exc:
        err.print(f"[red]error:[/] cannot read the query: {exc}", highlight=False)
        return 2
    except (ValueError, OSError) as exc:
        err.print(f"[red]error:[/] {exc}", highlight=False)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
