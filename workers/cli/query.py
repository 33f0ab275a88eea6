"""Reading the store: `kliping export`, `search`, `show`, `stats`."""

from __future__ import annotations

import argparse
import json
import sys

from schemas import SentimentLabel
from workers.cli import views
from workers.cli.common import MIN_ID_PREFIX, err, out, parse_since, parse_until, positive_int, store_context
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
    if args.since and args.until and args.since >= args.until:
        err.print("[red]--since is not before --until:[/] no date lies between them")
        return 2
    query = SearchQuery(
        text=" ".join(args.query) or None,
        entity=args.entity,
        source=args.source,
        since=args.since,
        until=args.until,
        sentiment=SentimentLabel(args.sentiment) if args.sentiment else None,
        limit=args.limit,
    )
    hits = store_context(settings).index.search(query)
    if args.json:
        for article in hits:
            print(views.article_line(article))
    else:
        title = views.plural(len(hits), "article")
        if hits and len(hits) == args.limit:  # there may be more: say how to see them
            title = f"the first {title} (--limit N for more)"
        views.print_articles(out, hits, title=title)
    return 0 if hits else 1


def resolve_id(index, ref: str) -> tuple[str | None, list[str]]:
    """The stored id a reference names (an id, or the start of one); else None and the candidates."""
    if index.get(ref) is not None:
        return ref, [ref]
    found = index.ids_starting(ref, limit=10) if len(ref) >= MIN_ID_PREFIX else []
    return (found[0] if len(found) == 1 else None), found


def cmd_show(args: argparse.Namespace, settings: Settings) -> int:
    """One article in full (its id, or the first characters of it)."""
    index = store_context(settings).index
    article_id, candidates = resolve_id(index, args.id)
    if article_id is None:
        if candidates:
            err.print(
                f"[red]{args.id} is the start of several ids:[/] {', '.join(candidates)}", highlight=False
            )
        else:
            short = (
                f" (give the id or its first {MIN_ID_PREFIX} or more characters)"
                if len(args.id) < MIN_ID_PREFIX
                else ""
            )
            err.print(f"[red]no article with id {args.id}[/]{short}", highlight=False)
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
    ctx = store_context(settings)
    stats = views.stats_of(ctx.index.iter_articles(), ctx.state.outcome_counts())
    if args.json:
        print(json.dumps(stats, ensure_ascii=False))
    else:
        copies = views.plural(stats["copies"], "syndicated copy", "syndicated copies")
        out.print(f"[bold]{views.plural(stats['articles'], 'article')}[/] ({copies})")
        if not stats["articles"] and not stats["outcomes"]:
            out.print("nothing ingested yet: `kliping ingest PATH_OR_URL…`", highlight=False)
            return 0
        for table in views.stats_tables(stats):
            out.print(table)
    return 0


def add_query_parsers(sub: argparse._SubParsersAction) -> None:
    """`export`, `search`, `show`, `stats`."""
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
    p.add_argument(
        "--since",
        type=parse_since,
        help="only articles dated from this day on (YYYY-MM-DD; published, else first seen)",
    )
    p.add_argument(
        "--until", type=parse_until, help="only articles dated up to this day (YYYY-MM-DD, inclusive)"
    )
    p.add_argument(
        "--sentiment",
        choices=[label.value for label in SentimentLabel],
        help="the article's sentiment; with --entity, the tone toward that entity"
        " (from the sentences that mention it)",
    )
    p.add_argument("--limit", type=positive_int, default=20, help="at most this many articles (default 20)")
    p.add_argument("--json", action="store_true", help="one JSON object per article")
    p.set_defaults(func=cmd_search)

    p = sub.add_parser("show", help="one article in full")
    p.add_argument("id", help=f"the article's id, or its first {MIN_ID_PREFIX} or more characters")
    p.add_argument("--json", action="store_true", help="the article as JSON")
    p.set_defaults(func=cmd_show)

    p = sub.add_parser("stats", help="counts by outcome, source, language; top entities")
    p.add_argument("--json", action="store_true", help="the counts as one JSON object")
    p.set_defaults(func=cmd_stats)
