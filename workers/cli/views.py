"""How the command line shows things: tables for people, JSON lines for programs."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable
from typing import TYPE_CHECKING

from schemas import Article, Entity, InputResult, Outcome

if TYPE_CHECKING:  # rich is imported when a table is drawn: `--json` runs and the first input do without it
    from rich.console import Console
    from rich.table import Table

OUTCOME_STYLE = {
    Outcome.indexed: "green",
    Outcome.copy: "cyan",
    Outcome.unchanged: "dim",
    Outcome.skipped: "yellow",
    Outcome.failed: "red",
}


def result_line(result: InputResult) -> str:
    """One `--json` line of `kliping ingest`."""
    return json.dumps(
        {
            "input": result.input,
            "outcome": result.outcome.value,
            "id": result.id,
            "canonical_id": result.canonical_id,
            "reason": result.reason,
        },
        ensure_ascii=False,
    )


def article_line(article: Article) -> str:
    """One line of `kliping export`: the article model as JSON."""
    return article.model_dump_json()


def plural(count: int, word: str, words: str | None = None) -> str:
    """ "1 article", "2 articles" (`words` for an irregular plural)."""
    return f"{count} {word if count == 1 else words or word + 's'}"


def summary_table(
    counts: Counter,
    seconds: float,
    problems: list[InputResult],
    total: int | None = None,
    verb: str = "ingest",
) -> Table:
    """The end-of-run summary: counts by outcome, time, and what was skipped or failed.

    With `total` larger than the inputs done (an interrupted run), the title says "N of M inputs".
    """
    from rich.table import Table

    done = sum(counts.values())
    inputs = (
        f"{done} of {plural(total, 'input')}" if total is not None and total > done else plural(done, "input")
    )
    table = Table(title=f"kliping {verb}: {inputs} in {seconds:.2f} s", title_justify="left")
    table.add_column("outcome")
    table.add_column("count", justify="right")
    for outcome in Outcome:
        table.add_row(f"[{OUTCOME_STYLE[outcome]}]{outcome.value}[/]", str(counts.get(outcome, 0)))
    if problems:
        table.caption = "\n".join(_problem_lines(problems))
        table.caption_justify = "left"
    return table


PROBLEMS_SHOWN = 20


def _problem_lines(problems: list[InputResult]) -> list[str]:
    """What was skipped or failed (the first 20), and what to do about the common cases."""
    lines = [f"{r.outcome.value}: {r.input} — {r.reason}" for r in problems[:PROBLEMS_SHOWN]]
    if len(problems) > PROBLEMS_SHOWN:
        lines.append(
            f"… and {len(problems) - PROBLEMS_SHOWN} more (--json gives every input's outcome; "
            "`kliping failed` lists the quarantined ones)"
        )
    if any(
        r.input.startswith(("http://", "https://")) and (r.reason or "").startswith("blocked_address")
        for r in problems
    ):
        lines.append(
            "private and loopback addresses are refused: KLIPING_FETCH_ALLOW_PRIVATE=true allows them"
        )
    if any(_looks_like_a_feed(r) for r in problems):
        lines.append(
            "a feed or sitemap? `kliping feeds add URL` registers it, `kliping feeds poll` ingests its items"
        )
    return lines


def _looks_like_a_feed(result: InputResult) -> bool:
    """A URL skipped for its XML type: most likely a feed or sitemap named to `ingest`."""
    reason = result.reason or ""
    return reason.startswith("unsupported_type") and any(kind in reason for kind in ("xml", "rss", "atom"))


def _entities_cell(article: Article, limit: int) -> str:
    return ", ".join(f"{e.display_name or e.name} ({e.type.value[0]})" for e in article.entities[:limit])


def _dedup_cell(article: Article) -> str:
    dedup = article.dedup
    if dedup is None:
        return ""
    if not dedup.is_canonical:
        return f"copy of {dedup.canonical_id} ({dedup.method.value if dedup.method else '?'})"
    return f"story {dedup.story_id}" + (f", {dedup.copy_count} copies" if dedup.copy_count else "")


def date_cell(article: Article) -> str:
    """The article's date and where it came from: ``2025-04-28 21:14 +0700 (page)``."""
    if article.dated_at is None:
        return "undated"
    source = article.date_source.value if article.date_source else "?"
    return f"{article.dated_at.strftime('%Y-%m-%d %H:%M %z')} ({source})"


def print_articles(console: Console, articles: Iterable[Article], title: str = "") -> None:
    """A readable list of articles at any terminal width: one block per article."""
    if title:
        console.print(f"[bold]{title}[/]")
    for article in articles:
        sentiment = article.sentiment
        source = article.source
        facts = [
            source.name + (f" ({source.scope.value}, {source.kind.value})" if source.scope else ""),
            article.language or "?",
            date_cell(article),
            f"{sentiment.label.value} {sentiment.confidence:.0%}" if sentiment else "",
            _dedup_cell(article),
        ]
        console.print(f"[bold cyan]{article.id}[/]  [bold]{article.title}[/]", highlight=False)
        console.print("    " + " · ".join(f for f in facts if f), highlight=False)
        if article.entities:
            console.print("    " + _entities_cell(article, limit=6), highlight=False, style="dim")


def _entity_item(entity: Entity) -> str:
    """``Name [TYPE] ×mentions``, and the tone toward a person or organisation when it has one."""
    item = f"{entity.display_name or entity.name} [{entity.type.value}] ×{entity.mentions}"
    if entity.sentiment:
        item += f" tone {entity.sentiment.label.value} {entity.sentiment.confidence:.0%}"
    return item


def show_article(console: Console, article: Article) -> None:
    """Print one article in full, metadata first."""
    console.print(f"[bold]{article.title}[/]")
    meta = [
        f"id: {article.id}",
        f"input: {article.input}",
        f"url: {article.url or '-'}",
        f"outlet: {article.source.name} ({article.source.domain or '-'}, {article.source.scope.value if article.source.scope else '-'}, {article.source.kind.value})",
        f"published: {article.published_at.isoformat() if article.published_at else '-'}",
        f"first seen: {article.first_seen_at.isoformat() if article.first_seen_at else '-'}",
        f"dated: {date_cell(article)}",
        f"language: {article.language or '-'}",
        f"authors: {', '.join(article.authors) or '-'}",
        f"editors: {', '.join(article.editors) or '-'}",
    ]
    if article.sentiment:
        s = article.sentiment
        meta.append(f"sentiment: {s.label.value} (score {s.score:+.2f}, confidence {s.confidence:.0%})")
    if article.dedup:
        d = article.dedup
        meta.append(f"dedup: canonical {d.canonical_id}, story {d.story_id}, copies {d.copy_count}")
    console.print("\n".join(meta), highlight=False)
    if article.entities:
        console.print(
            "entities: " + "; ".join(_entity_item(e) for e in article.entities),
            highlight=False,
        )
    console.print()
    console.print(article.text, highlight=False)


def stats_of(articles: Iterable[Article], outcomes: dict[str, int]) -> dict:
    """Counts by outcome, source, language, sentiment and the top entities."""
    sources, languages, sentiments, entities = Counter[str](), Counter[str](), Counter[str](), Counter[str]()
    total = copies = 0
    for article in articles:
        total += 1
        copies += bool(article.dedup and not article.dedup.is_canonical)
        sources[article.source.name] += 1
        languages[article.language or "?"] += 1
        sentiments[article.sentiment.label.value if article.sentiment else "?"] += 1
        for entity in article.entities:
            entities[f"{entity.name} ({entity.type.value})"] += 1
    return {
        "articles": total,
        "copies": copies,
        "outcomes": outcomes,
        "sources": dict(sources.most_common()),
        "languages": dict(languages.most_common()),
        "sentiment": dict(sentiments.most_common()),
        "top_entities": dict(entities.most_common(15)),
    }


def stats_tables(stats: dict) -> list[Table]:
    """The `kliping stats` tables."""
    from rich.table import Table

    tables = []
    for key in ("outcomes", "sources", "languages", "sentiment", "top_entities"):
        table = Table(title=key.replace("_", " "), title_justify="left")
        table.add_column("value")
        table.add_column("count", justify="right")
        for value, count in stats[key].items():
            table.add_row(str(value), str(count))
        tables.append(table)
    return tables
