"""`kliping feeds add|list|remove|poll`: the feed sub-commands (wired into workers/cli.py)."""

from __future__ import annotations

import argparse
import re
import time
from collections import Counter
from datetime import datetime

from rich.console import Console
from rich.table import Table

from schemas import InputResult, Outcome, utcnow
from schemas.feeds import Feed, PollReport
from workers import views
from workers.backends.feed_state import feed_store
from workers.feeds.listed import with_listed_dates
from workers.feeds.urls import canonicalize
from workers.settings import Settings

# `feeds poll` without --once wakes this often to look for due feeds: each feed's own interval
# (at least a quarter of --every) decides whether it is fetched, so this only bounds lateness.
LOOP_SLEEP_SECONDS = 30.0
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhd]?)\s*$", re.IGNORECASE)

out = Console(soft_wrap=True)
err = Console(stderr=True)


def parse_every(value: str) -> int:
    """A polling interval: seconds, or a number with s/m/h/d (`90`, `10m`, `1h`); at least one second."""
    match = _DURATION.match(value)
    if not match:
        raise argparse.ArgumentTypeError(f"not a duration (e.g. 90, 10m, 1h): {value!r}")
    seconds = int(float(match.group(1)) * _UNITS[(match.group(2) or "s").lower()])
    if seconds < 1:
        raise argparse.ArgumentTypeError("the interval must be at least 1 second")
    return seconds


def _when(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S") if value else "never"


def _every(seconds: float) -> str:
    for unit in ("d", "h", "m"):
        if seconds >= _UNITS[unit] and seconds % _UNITS[unit] == 0:
            return f"{int(seconds // _UNITS[unit])}{unit}"
    return f"{int(seconds)}s"


def cmd_add(args: argparse.Namespace, settings: Settings) -> int:
    """Register a feed, sitemap or homepage URL."""
    url = canonicalize(args.url)
    if url is None:
        err.print(f"[red]not an http(s) URL:[/] {args.url}")
        return 2
    store = feed_store(settings)
    store.add(Feed(url=url, name=args.name, every_seconds=args.every))
    out.print(
        f"added {url} (every {_every(args.every)}); poll it with `kliping feeds poll --once`", highlight=False
    )
    return 0


def cmd_list(args: argparse.Namespace, settings: Settings) -> int:
    """Registered feeds with their last poll, last new item and error streak."""
    store = feed_store(settings)
    table = Table(title="feeds", title_justify="left")
    for column in (
        "name",
        "url",
        "every",
        "kind",
        "last poll",
        "last new item",
        "errors",
        "next poll",
        "last error",
    ):
        table.add_column(column, overflow="fold")
    feeds = store.feeds()
    for feed in feeds:
        state = store.state(feed.url)
        table.add_row(
            feed.name or "",
            feed.url,
            _every(feed.every_seconds),
            state.kind.value if state.kind else "",
            _when(state.last_poll),
            _when(state.last_new_item),
            str(state.error_streak),
            _when(state.next_poll) if state.next_poll else "now",
            state.last_error or "",
        )
    out.print(table if feeds else "no feeds; add one with `kliping feeds add URL`")
    return 0


def cmd_remove(args: argparse.Namespace, settings: Settings) -> int:
    """Forget a feed (by URL or name), its state and its seen items."""
    store = feed_store(settings)
    feed = store.remove(args.feed) or store.remove(canonicalize(args.feed) or args.feed)
    if feed is None:
        err.print(f"[red]no feed {args.feed}[/]")
        return 1
    out.print(f"removed {feed.url}", highlight=False)
    return 0


def _print_reports(reports: list[PollReport]) -> None:
    for report in reports:
        state = (
            f"[red]error: {report.error}[/]"
            if report.error
            else ("not modified" if report.not_modified else f"{len(report.new_urls)} new")
        )
        out.print(f"{report.url}: {state}", highlight=False)


def _poll_embedded(settings: Settings, force: bool) -> int:
    """One pass: new item URLs go through the embedded pipeline; summary table at the end."""
    from workers.feeds.service import poll_once
    from workers.runner import embedded_context, run

    ctx = embedded_context(settings)
    started, results = time.perf_counter(), list[InputResult]()

    def ingest(urls: list[str], listed: dict[str, datetime]) -> None:
        results.extend(run(urls, with_listed_dates(ctx, listed)))

    reports = poll_once(settings, ingest, force=force)
    _print_reports(reports)
    counts: Counter = Counter(r.outcome for r in results)
    problems: list[InputResult] = [r for r in results if r.outcome in (Outcome.skipped, Outcome.failed)]
    out.print(views.summary_table(counts, time.perf_counter() - started, problems))
    return 1 if counts.get(Outcome.failed) or any(r.error for r in reports) else 0


def _poll_distributed(settings: Settings, force: bool) -> int:
    """One pass under the poll lock: new item URLs are queued for the workers."""
    from workers.backends.distributed import redis_client
    from workers.distributed import submit
    from workers.feeds.service import poll_locked

    queued: list[str] = []

    def enqueue(urls: list[str], listed: dict[str, datetime]) -> None:
        submit(urls, settings, listed)
        queued.extend(urls)

    reports = poll_locked(redis_client(settings), settings, enqueue, force=force)
    if reports is None:
        err.print("another feed poll is running (beat or another `kliping feeds poll`); nothing done")
        return 0
    _print_reports(reports)
    out.print(f"queued {len(queued)} new items; follow them with `kliping stats`")
    return 1 if any(r.error for r in reports) else 0


def cmd_poll(args: argparse.Namespace, settings: Settings) -> int:
    """Poll due feeds once (--once) or forever until Ctrl-C."""
    poll = _poll_distributed if settings.distributed else _poll_embedded
    while True:
        status = poll(settings, args.force)
        if args.once:
            return status
        err.print(
            f"[dim]{_when(utcnow())} next look for due feeds in {LOOP_SLEEP_SECONDS:.0f} s (Ctrl-C stops)[/]"
        )
        time.sleep(LOOP_SLEEP_SECONDS)


def add_feeds_parser(sub: argparse._SubParsersAction) -> None:
    """Add `kliping feeds …` to the command line."""
    feeds = sub.add_parser("feeds", help="register feeds, sitemaps and homepages; poll them for new articles")
    actions = feeds.add_subparsers(dest="feeds_command", required=True)
    p = actions.add_parser("add", help="register a feed (RSS/Atom), sitemap (index) or homepage URL")
    p.add_argument("url")
    p.add_argument(
        "--every", type=parse_every, default=600, help="polling interval: 90, 10m, 1h (default 10m)"
    )
    p.add_argument("--name", help="a short name for list/remove")
    p.set_defaults(func=cmd_add)
    p = actions.add_parser("list", help="feeds with last poll, last new item and error streak")
    p.set_defaults(func=cmd_list)
    p = actions.add_parser("remove", help="forget a feed (URL or name)")
    p.add_argument("feed", metavar="URL_OR_NAME")
    p.set_defaults(func=cmd_remove)
    p = actions.add_parser("poll", help="poll due feeds and ingest their new items")
    p.add_argument("--once", action="store_true", help="one pass, then exit (default: loop until Ctrl-C)")
    p.add_argument("--force", action="store_true", help="poll every feed, due or not")
    p.set_defaults(func=cmd_poll)
