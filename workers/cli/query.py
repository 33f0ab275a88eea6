"""Reading the store: `kliping export`, `search`, `show`, `stats`."""

from __future__ import annotations

import argparse
import json
import sys

from schemas import SentimentLabel
from workers.cli import views
from workers.cli.common import err, out, parse_since, store_context
from workers.ports import SearchQuery
from workers.settings import Settings


def cmd_export(args: argparse.Namespace, settings: Settings) -> int:
    """Every stored article as one JSON object per line."""
    ctx = store_context(settings)
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
    hits = store_context(settings).index.search(query)
    if args.json:
        for article in hits:
            print(views.article_line(article))
    else:
        views.print_articles(out, hits, title=f"{len(hits)} articles")
    return 0 if hits else 1


def cmd_show(args: argparse.Namespace, settings: Settings) -> int:
    """One article in full."""
    article = store_context(settings).index.get(args.id)
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
    ctx = store_context(settings)
    stats = views.stats_of(ctx.index.iter_articles(), ctx.state.outcome_counts())
    if args.json:
        print(json.dumps(stats, ensure_ascii=False))
    else:
        out.print(f"[bold]{stats['articles']} articles[/] ({stats['copies']} syndicated copies)")
        for table in views.stats_tables(stats):
            out.print(table)
    return 0


def add_query_parsers(sub: argparse._SubParsersAction) -> None:
    """`export`, `search`, `show`, `stats`."""
    p = sub.add_parser("export", help="every stored article as JSON lines")
    p.add_argument("-o", "--output", help="write to a file instead of standard output")
    p.set_defaults(func=cmd_export)

    p = sub.add_parser("search", help="search stored articles")
    p.add_argument("query", nargs="?", default="", help='words, "phrases", AND/OR/NOT')
    p.add_argument("--entity", help="articles naming this person, organisation or place (name or alias)")
    p.add_argument("--source")
    p.add_argument("--since", type=parse_since)
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
