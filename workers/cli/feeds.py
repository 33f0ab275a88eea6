"""`kliping feeds add|list|remove|poll`: the feed sub-commands (wired into workers/cli/)."""

from __future__ import annotations

import argparse
import re
from typing import TYPE_CHECKING

from workers.cli import views
from workers.cli.common import err, out
from workers.cli.feed_poll import cmd_poll, when_text
from workers.settings import Settings

if TYPE_CHECKING:  # imported by the commands that use them: `kliping --help` and `ingest` do without
    from workers.ports import FeedStore

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhd]?)\s*$", re.IGNORECASE)


def _store(settings: Settings) -> FeedStore:
    """The feed store of the configured mode (wiring imported late: it loads the pipeline)."""
    from workers.runtime.wiring import feed_store

    return feed_store(settings)


def parse_every(value: str) -> int:
    """A polling interval: seconds, or a number with s/m/h/d (`90`, `10m`, `1h`); at least one second."""
    match = _DURATION.match(value)
    if not match:
        raise argparse.ArgumentTypeError(f"not a duration (e.g. 90, 10m, 1h): {value!r}")
    seconds = int(float(match.group(1)) * _UNITS[(match.group(2) or "s").lower()])
    if seconds < 1:
        raise argparse.ArgumentTypeError("the interval must be at least 1 second")
    return seconds


def _every(seconds: float) -> str:
    for unit in ("d", "h", "m"):
        if seconds >= _UNITS[unit] and seconds % _UNITS[unit] == 0:
            return f"{int(seconds // _UNITS[unit])}{unit}"
    return f"{int(seconds)}s"


def cmd_add(args: argparse.Namespace, settings: Settings) -> int:
    """Register a feed, sitemap or homepage URL (a URL already registered keeps its name)."""
    from schemas.feeds import Feed
    from workers.feeds.urls import canonicalize

    url = canonicalize(args.url)
    if url is None:
        err.print(f"[red]not an http(s) URL:[/] {args.url}")
        return 2
    store = _store(settings)
    known = next((feed for feed in store.feeds() if feed.url == url), None)
    if known is not None and args.name and known.name and known.name != args.name:
        err.print(
            f"[red]{url} is already registered as {known.name!r}[/]: remove it first "
            f"(`kliping feeds remove {known.name}`) to register it under another name",
            highlight=False,
        )
        return 1
    name = args.name or (known.name if known else None)
    store.add(Feed(url=url, name=name, every_seconds=args.every))
    verb = "updated" if known else "added"
    out.print(
        f"{verb} {url} (every {_every(args.every)}); poll it with `kliping feeds poll --once`",
        highlight=False,
    )
    _warn_if_refused(url, settings)
    return 0


def _warn_if_refused(url: str, settings: Settings) -> None:
    """Say at once when the fetch guard will refuse every poll of the feed (kept: the polling side may allow it)."""
    from schemas import Reason
    from workers.errors import KlipingError
    from workers.fetch.guard import check_address, parse_url

    try:
        check_address(parse_url(url), settings.fetch_allow_private)
    except KlipingError as exc:
        private = exc.reason == Reason.blocked_address
        hint = " (KLIPING_FETCH_ALLOW_PRIVATE=true, for the process that polls, allows such addresses)"
        err.print(
            f"[yellow]polls of this feed will fail while this holds:[/] {exc}{hint if private else ''}",
            highlight=False,
        )


def cmd_list(args: argparse.Namespace, settings: Settings) -> int:
    """Registered feeds with their last poll, last new item and error streak (one block per feed)."""
    store = _store(settings)
    feeds = store.feeds()
    for feed in feeds:
        state = store.state(feed.url)
        # a URL on a line of its own, never wrapped, so it can be copied whole at any terminal width
        out.print(f"[bold]{feed.name or '-'}[/]  {feed.url}", highlight=False, soft_wrap=True)
        facts = [
            f"every {_every(feed.every_seconds)}",
            state.kind.value if state.kind else "kind unknown",
            f"last poll {when_text(state.last_poll)}",
            f"last new item {when_text(state.last_new_item)}",
            f"next poll {when_text(state.next_poll) if state.next_poll else 'now'}",
        ]
        if state.error_streak:
            facts.append(f"[red]{views.plural(state.error_streak, 'error')} in a row[/]")
        out.print("    " + " · ".join(facts), highlight=False)
        if state.last_error:
            out.print(f"    [red]last error:[/] {state.last_error}", highlight=False, soft_wrap=True)
    if not feeds:
        out.print("no feeds; add one with `kliping feeds add URL`")
    return 0


def cmd_remove(args: argparse.Namespace, settings: Settings) -> int:
    """Forget a feed (by URL or name), its state and its seen items."""
    from workers.feeds.urls import canonicalize

    store = _store(settings)
    feed = store.remove(args.feed) or store.remove(canonicalize(args.feed) or args.feed)
    if feed is None:
        err.print(f"[red]no feed {args.feed}[/]")
        return 1
    out.print(f"removed {feed.url}", highlight=False)
    return 0


def add_feeds_parser(sub: argparse._SubParsersAction) -> None:
    """Add `kliping feeds …` to the command line."""
    feeds = sub.add_parser("feeds", help="register feeds, sitemaps and homepages; poll them for new articles")
    actions = feeds.add_subparsers(
        dest="feeds_command", required=True, metavar="ACTION", help="add, list, remove or poll"
    )
    p = actions.add_parser("add", help="register a feed (RSS/Atom), sitemap (index) or homepage URL")
    p.add_argument("url", help="the feed, sitemap or homepage URL")
    p.add_argument(
        "--every", type=parse_every, default=600, help="polling interval: 90, 10m, 1h (default 10m)"
    )
    p.add_argument("--name", help="a short name for list/remove (a registered URL keeps the name it has)")
    p.set_defaults(func=cmd_add)
    p = actions.add_parser("list", help="feeds with last poll, last new item and error streak")
    p.set_defaults(func=cmd_list)
    p = actions.add_parser("remove", help="forget a feed (URL or name)")
    p.add_argument("feed", metavar="URL_OR_NAME", help="the feed's URL or name")
    p.set_defaults(func=cmd_remove)
    p = actions.add_parser("poll", help="poll due feeds and ingest their new items")
    p.add_argument("--once", action="store_true", help="one pass, then exit (default: loop until Ctrl-C)")
    p.add_argument("--force", action="store_true", help="poll every feed, due or not")
    p.set_defaults(func=cmd_poll)
