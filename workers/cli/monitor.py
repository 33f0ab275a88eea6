"""Standing queries and their alerts: `kliping rules`, `alerts`."""

from __future__ import annotations

import argparse

from schemas import SentimentLabel
from schemas.monitor import Rule
from workers.cli import views
from workers.cli.common import err, out, parse_since, positive_int, store_context
from workers.settings import Settings


def escape(text: str) -> str:
    """rich's markup escape (rich imported when a rule is printed)."""
    from rich.markup import escape as rich_escape

    return rich_escape(text)


def cmd_rules(args: argparse.Namespace, settings: Settings) -> int:
    """Add, list or remove standing rules (monitoring queries)."""
    from workers.monitor import parse
    from workers.runtime.wiring import monitor_store

    store = monitor_store(settings)
    if args.action == "add":
        parse(args.query)  # refuse a malformed query now, not at the first article
        if args.webhook is not None and not _webhook_allowed(args.webhook, settings):
            return 2
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
    rules = store.rules()
    if not rules and not args.json:
        out.print("no rules; add one with `kliping rules add NAME QUERY`")
    for rule in rules:
        if args.json:
            print(rule.model_dump_json())
            continue
        filters = _filters(rule, webhook=True)
        disabled = f"  [red]disabled: {escape(rule.error)}[/]" if rule.error else ""
        out.print(
            f"{escape(rule.name)}  {escape(rule.query)}  {escape(filters)}{'  --spike' if rule.spike else ''}{disabled}",
            highlight=False,
        )
    return 0


def _webhook_allowed(url: str, settings: Settings) -> bool:
    """Check a webhook as every delivery will (http(s), a public address); say why when refused."""
    from workers.errors import KlipingError
    from workers.fetch.webhook import check_webhook

    try:
        check_webhook(url, settings)
    except KlipingError as exc:
        err.print(
            f"[red]webhook refused:[/] {escape(str(exc))} (webhooks pass the same address guard as "
            "fetching; KLIPING_FETCH_ALLOW_PRIVATE=1 allows private addresses)",
            highlight=False,
        )
        return False
    return True


def _filters(rule: Rule, webhook: bool = False) -> str:
    """A rule's filters as the options that set them: ``--entity X --sentiment negative``."""
    pairs = [("entity", rule.entity), ("source", rule.source), ("sentiment", rule.sentiment)]
    if webhook:
        pairs.append(("webhook", rule.webhook))
    return " ".join(f"--{k} {v.value if hasattr(v, 'value') else v}" for k, v in pairs if v)


def _rules_test(args: argparse.Namespace, settings: Settings, store) -> int:
    """Which stored articles a saved rule (by name) or a query would match."""
    from workers.monitor import parse
    from workers.monitor.preview import preview

    saved = store.rule(args.rule)
    rule = saved or Rule(name="(query)", query=args.rule)
    if saved is not None and saved.error:
        err.print(f"[red]rule {escape(saved.name)} is disabled:[/] {escape(saved.error)}")
        return 2
    parse(rule.query)  # a query the language refuses: say why (exit 2), not "no match"
    result = preview(store_context(settings).index, rule, saved=saved is not None, limit=args.limit)
    if args.json:
        for article, _terms in result.matches:
            print(views.article_line(article))
        return 0 if result.matches else 1
    what = f"rule {rule.name}: {rule.query} {_filters(rule)}".rstrip() if saved else f"query {rule.query}"
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
    from workers.runtime.wiring import monitor_store

    store = monitor_store(settings)
    alerts = store.alerts(since=args.since)
    if args.deliver:  # e.g. after an interrupted run, or a webhook that was down
        from workers.monitor.deliver import reopen
        from workers.runtime.embedded import deliver_alerts

        for alert in alerts:
            reopen(alert.id, store)
        deliver_alerts(
            [a.id for a in alerts if a.delivery.state.value in ("pending", "sending", "failed")],
            store,
            settings,
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


def add_monitor_parsers(sub: argparse._SubParsersAction) -> None:
    """`rules` (add, list, test, remove), `alerts`."""
    p = sub.add_parser("rules", help="standing monitoring queries: add, list, test, remove")
    rules = p.add_subparsers(dest="action", required=True, metavar="ACTION", help="add, list, test or remove")
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
        help="the article's sentiment; with --entity, the tone toward that entity",
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
    r.add_argument("--limit", type=positive_int, default=50, help="at most this many articles (default 50)")
    r.add_argument("--json", action="store_true", help="one JSON object per matching article")
    r = rules.add_parser("remove", help="remove a rule")
    r.add_argument("name", help="the rule's name")
    p.set_defaults(func=cmd_rules)

    p = sub.add_parser("alerts", help="alerts raised by the rules, with delivery state and failures")
    p.add_argument("--since", type=parse_since, default=None, help="only alerts created since (ISO date)")
    p.add_argument("--deliver", action="store_true", help="first deliver alerts still pending (with retries)")
    p.add_argument("--json", action="store_true", help="one JSON object per alert")
    p.set_defaults(func=cmd_alerts)
