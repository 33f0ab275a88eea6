"""Quarantine and replays: `kliping failed`, `retry`, `reextract`, `archive`."""

from __future__ import annotations

import argparse
import time

from schemas import Outcome
from workers.cli import views
from workers.cli.common import err, exit_code, finish, follow_results, out, store_context
from workers.settings import Settings


def cmd_failed(args: argparse.Namespace, settings: Settings) -> int:
    """List quarantined inputs."""
    items = store_context(settings).state.failed()
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
    if not args.all and not args.ids:
        err.print("name the ids `kliping failed` lists, or give --all")
        return 2
    ctx = store_context(settings)
    items = [i for i in ctx.state.failed() if args.all or i.id in args.ids]
    unknown = sorted(set(args.ids) - {i.id for i in items})
    for ref in unknown:
        err.print(
            f"[red]no quarantined input with id {ref}[/] (`kliping failed` lists them)", highlight=False
        )
    for item in [i for i in items if i.message is not None]:
        err.print(
            f"{item.id}: a malformed broker message, not an input: not replayed (`kliping failed --json` shows it)"
        )
    items = [i for i in items if i.message is None]
    if not items:
        err.print("nothing to retry")
        return 1
    started = time.perf_counter()
    from workers.runtime.embedded import run

    results = []
    for item, result in zip(items, run([i.input for i in items], ctx), strict=False):
        if result.outcome != Outcome.failed:
            ctx.state.release(item.id)
        results.append(result)
    counts, problems, _ = follow_results(iter(results), len(results), args.json)
    if not args.json:
        out.print(views.summary_table(counts, time.perf_counter() - started, problems, verb="retry"))
    return 1 if unknown else exit_code(counts, problems)


def cmd_reextract(args: argparse.Namespace, settings: Settings) -> int:
    """Clean and store inputs again from their archived raw responses (no fetching)."""
    if not args.all and not args.refs:
        err.print("name articles (ID, URL or path) or give --all")
        return 2
    ctx = store_context(settings)
    if ctx.archive is None:
        err.print("[red]the raw archive is disabled[/] (KLIPING_RAW_RETENTION_DAYS=0)")
        return 2
    from workers.runtime.embedded import reextract

    started = time.perf_counter()
    results = list(reextract(ctx, None if args.all else args.refs))
    if not results:
        err.print(f"nothing archived under {ctx.archive.root}")
        return 1
    counts, problems, interrupted = follow_results(iter(results), len(results), args.json)
    if args.json:
        return 130 if interrupted else exit_code(counts, problems)
    return finish(counts, problems, interrupted, len(results), started, "reextract")


def cmd_archive(args: argparse.Namespace, settings: Settings) -> int:
    """Raw archive maintenance: delete entries older than KLIPING_RAW_RETENTION_DAYS."""
    from workers.backends.archive import RawArchive, archive_root

    # built directly, not with raw_archive(): with retention 0 a prune empties the archive
    archive = RawArchive(archive_root(settings), settings.raw_retention_days)
    deleted = archive.prune()
    out.print(
        f"pruned {deleted} raw documents older than {settings.raw_retention_days} days from {archive.root}",
        highlight=False,
    )
    return 0


def add_quarantine_parsers(sub: argparse._SubParsersAction) -> None:
    """`failed`, `retry`, `reextract`, `archive`."""
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
