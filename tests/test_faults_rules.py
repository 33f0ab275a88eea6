"""A rule can no longer halt ingestion (issue 18, item 5): one parser, one depth limit, broken rules disabled.

`NOT ` × 990 and 400 nested parentheses used to be accepted by `rules add` and then fail every
article with a RecursionError while also storing it (stored and quarantined at once). Now
`rules add` and `search` refuse them with the parser's message; a rule stored before (or one that
cannot be evaluated at match time) is disabled with its error, shown by `rules list`, and no
article is failed by it.
"""

from __future__ import annotations

import json
import sys

import pytest

from schemas import Outcome
from schemas.monitor import Rule
from tests.support.cli import kliping
from workers.monitor.match import CompiledRule
from workers.monitor.query import MAX_QUERY_DEPTH, Not, Term
from workers.runtime.embedded import run
from workers.runtime.wiring import embedded_context, monitor_store
from workers.settings import Settings

NOTS = "NOT " * 990 + "x"
PARENS = "(" * 400 + "x" + ")" * 400
NESTED = f"nested deeper than {MAX_QUERY_DEPTH} levels"


@pytest.mark.slow
@pytest.mark.parametrize(
    "query", [NOTS, PARENS, "-(" * 400 + "x" + ")" * 400], ids=["not", "parens", "signs"]
)
def test_rules_add_and_search_refuse_deep_queries_clearly(tmp_path, query):
    data = tmp_path / "data"
    # `--`: a query starting with '-' is no option
    for args in (
        ("rules", "add", "poison", "--", query),
        ("search", "--", query),
        ("rules", "test", "--", query),
    ):
        done = kliping(data, *args)
        assert done.returncode == 2, (args[0], done.stdout, done.stderr)
        assert (
            NESTED in done.stderr and "Traceback" not in done.stderr and "RecursionError" not in done.stderr
        )
    assert kliping(data, "rules", "list", "--json").stdout == ""


@pytest.mark.slow
def test_a_stored_poison_rule_is_disabled_and_never_fails_an_article(tmp_path):
    data = tmp_path / "data"
    settings = Settings(data_dir=data, redis_url=None, elasticsearch_url=None)
    store = monitor_store(settings)
    store.add_rule(Rule(name="poison", query=NOTS))  # stored before the limit existed
    store.add_rule(Rule(name="parens", query=PARENS))
    assert kliping(data, "rules", "add", "kursk", "Kursk").returncode == 0

    ingested = kliping(data, "ingest", "--json", "seeds/")
    assert ingested.returncode == 0, ingested.stderr
    outcomes = [json.loads(line)["outcome"] for line in ingested.stdout.splitlines()]
    assert len(outcomes) == 5 and set(outcomes) <= {"indexed", "copy"}, outcomes
    assert kliping(data, "failed", "--json").stdout == ""  # nothing quarantined: stored, only stored

    rules = {
        r["name"]: r for r in map(json.loads, kliping(data, "rules", "list", "--json").stdout.splitlines())
    }
    assert NESTED in rules["poison"]["error"] and NESTED in rules["parens"]["error"]
    assert rules["kursk"]["error"] is None
    listed = kliping(data, "rules", "list").stdout
    assert "poison" in listed and "disabled" in listed and NESTED in listed
    assert (
        json.loads(kliping(data, "alerts", "--json").stdout.splitlines()[0])["rule"] == "kursk"
    )  # the others go on

    replaced = kliping(data, "rules", "add", "poison", "Kursk")  # fixing it by name enables it again
    assert replaced.returncode == 0
    rules = {
        r["name"]: r for r in map(json.loads, kliping(data, "rules", "list", "--json").stdout.splitlines())
    }
    assert rules["poison"]["error"] is None


def test_a_rule_that_fails_at_match_time_is_disabled_and_the_article_stored_once(tmp_path, seed_paths):
    settings = Settings(data_dir=tmp_path / "data", redis_url=None, elasticsearch_url=None)
    ctx = embedded_context(settings)
    store = ctx.monitor.store
    store.add_rule(Rule(name="deep", query="NOT zzzz"))  # a candidate for every article
    store.add_rule(Rule(name="kursk", query="kursk"))
    matcher = ctx.monitor.matcher()
    # a tree no parse can build any more (deeper than the recursion limit): evaluating it raises
    deep: Not | Term = Term(("zzzz",), exact=False)
    for _ in range(sys.getrecursionlimit() + 100):
        deep = Not(deep)
    number = next(n for n, c in enumerate(matcher.rules) if c.rule.name == "deep")
    matcher.rules[number] = CompiledRule(matcher.rules[number].rule, deep)

    results = list(run([str(p) for p in seed_paths], ctx))
    assert {r.outcome for r in results} <= {Outcome.indexed, Outcome.copy} and len(results) == 5
    assert ctx.state.failed() == []  # no article both stored and quarantined
    assert sum(1 for _ in ctx.index.iter_articles()) == 5
    disabled = store.rule("deep")
    assert disabled is not None and disabled.error is not None and "RecursionError" in disabled.error
    assert store.rule("kursk").error is None and [a.rule for a in store.alerts()] == ["kursk"]
