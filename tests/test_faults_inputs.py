"""Bad inputs in one batch with good ones: each ends skipped or failed with its reason, the good are indexed.

The corpus (tests/support/bad_inputs.py) is built by the test: truncated and malformed HTML,
invalid and mislabelled encodings, zero-byte and 50 MB responses and files, binary served as
text/html, XML bombs and broken feeds, a 2-million-character line, pages without text, a front
page, strings that are not URLs. It runs through the embedded runner and a real Celery worker;
the quarantine is listed and replayed with `kliping failed` / `kliping retry`.
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from schemas import InputResult, Outcome
from schemas.feeds import Feed
from tests.support.bad_inputs import Case, as_html, bad_cases, good_cases
from tests.support.faults import report, tally, write_articles
from tests.support.feed_site import ARTICLES, FEEDS, serve_site
from tests.support.http_server import FixtureServer
from tests.support.workers import celery_worker, wait_for_workers, worker_env
from tests.test_distributed import distributed_settings  # noqa: F401 - fixture
from workers.backends.elastic.index import ElasticIndex, make_client
from workers.backends.redis.metrics import RedisMetrics
from workers.backends.redis.state import RedisStateStore
from workers.observe import TRACE_FIELDS
from workers.pipeline import failed_id
from workers.runtime.embedded import run
from workers.runtime.feeds import poll_once
from workers.runtime.producer import follow, submit
from workers.runtime.wiring import embedded_context, feed_store
from workers.settings import PROJECT_ROOT, Settings

GOOD = 10
FOLLOW_TIMEOUT = 300.0  # a guard: the first task loads the NLP stack on a busy machine


@pytest.fixture
def server() -> Iterator[FixtureServer]:
    """The local web server the corpus is served from."""
    with FixtureServer() as running:
        yield running


@pytest.fixture
def corpus(server: FixtureServer, tmp_path: Path) -> list[Case]:
    """Bad and good inputs, shuffled together (deterministically)."""
    folder = tmp_path / "corpus"
    folder.mkdir()
    cases = bad_cases(server, folder) + good_cases(server, folder, GOOD)
    random.Random(5).shuffle(cases)
    return cases


def _check(cases: list[Case], results: list[InputResult]) -> None:
    """Each input ended once, with the expected outcome and reason."""
    by_input = {r.input: r for r in results}
    assert len(results) == len(by_input) == len(cases)
    wrong = []
    for case in cases:
        result = by_input.get(case.input) or by_input.get(os.path.abspath(case.input))
        reason = (result.reason or "").split(":", 1)[0] if result else None
        if result is None or result.outcome != case.outcome or (case.reason and reason != case.reason.value):
            wrong.append(
                (case.name, result.outcome.value if result else None, result.reason if result else None)
            )
    assert not wrong, wrong


def _expected(cases: list[Case]) -> Counter:
    return Counter(case.outcome for case in cases)


def kliping(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    """Run the `kliping` command in a subprocess with this environment."""
    return subprocess.run(
        [sys.executable, "-m", "workers.cli", *args],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_embedded_batch_of_bad_inputs_then_failed_and_retry(
    corpus: list[Case], server: FixtureServer, tmp_path: Path
):
    settings = Settings(
        data_dir=tmp_path / "data",
        redis_url=None,
        elasticsearch_url=None,
        fetch_allow_private=True,
        fetch_host_interval=0.0,
    )
    ctx = embedded_context(settings)
    results = list(run([case.input for case in corpus], ctx))

    _check(corpus, results)
    assert Counter(r.outcome for r in results) == _expected(corpus)
    assert ctx.index.count() == _expected(corpus)[Outcome.indexed] == GOOD + 2  # two recovered encodings
    failed = {item.input: item.reason for item in ctx.state.failed()}
    assert failed == {case.input: case.reason for case in corpus if case.outcome is Outcome.failed}

    env = {k: v for k, v in os.environ.items() if not k.startswith("KLIPING_")}
    env.update(
        KLIPING_DATA_DIR=str(settings.data_dir),
        KLIPING_FETCH_ALLOW_PRIVATE="true",
        KLIPING_FETCH_HOST_INTERVAL="0",
    )
    listed = kliping(env, "failed", "--json")
    assert listed.returncode == 0, listed.stderr
    items = [json.loads(line) for line in listed.stdout.splitlines()]
    assert {item["input"]: item["reason"] for item in items} == {k: v.value for k, v in failed.items()}
    assert all(item["error"] and item["attempts"] == 1 for item in items)

    # The site fixes the page that was too large: replaying that one id indexes it and empties its slot.
    huge = next(case for case in corpus if case.name == "50 MB response")
    server.route("/bad/huge", as_html(write_articles(tmp_path / "fixed", 1, seed=99)[0]))
    replayed = kliping(env, "retry", failed_id(huge.input), "--json")
    assert replayed.returncode == 0, replayed.stdout + replayed.stderr
    assert [json.loads(line)["outcome"] for line in replayed.stdout.splitlines()] == ["indexed"]
    again = kliping(env, "retry", "--all", "--json")
    assert again.returncode == 1  # the rest still fail, each with its reason
    outcomes = Counter(json.loads(line)["outcome"] for line in again.stdout.splitlines())
    assert outcomes == {"failed": len(failed) - 1}
    remaining = [json.loads(line) for line in kliping(env, "failed", "--json").stdout.splitlines()]
    assert len(remaining) == len(failed) - 1 and huge.input not in {item["input"] for item in remaining}
    assert all(item["attempts"] == 2 for item in remaining)


def test_feed_bombs_and_broken_feeds_do_not_stop_a_good_feed(server: FixtureServer, tmp_path: Path):
    settings = Settings(
        data_dir=tmp_path / "data",
        redis_url=None,
        elasticsearch_url=None,
        fetch_allow_private=True,
        fetch_host_interval=0.0,
    )
    serve_site(server)
    server.route("/bomb.xml", (FEEDS / "billion_laughs.xml").read_bytes(), content_type="application/rss+xml")
    # an unclosed tag is repaired now; a document that is no feed at all stays an error
    server.route(
        "/broken.xml", "<?xml version='1.0'?><catatan><isi/></catatan>", content_type="application/rss+xml"
    )
    store = feed_store(settings)
    for path in ("/bomb.xml", "/broken.xml", "/feed.xml"):
        store.add(Feed(url=server.url(path)))
    ctx = embedded_context(settings)
    results: list[InputResult] = []
    reports = {r.url: r for r in poll_once(settings, lambda urls, listed: results.extend(run(urls, ctx)))}

    assert (
        "malformed" in reports[server.url("/bomb.xml")].error
        and "entit" in reports[server.url("/bomb.xml")].error
    )
    assert "malformed" in reports[server.url("/broken.xml")].error
    assert reports[server.url("/feed.xml")].error is None
    assert Counter(r.outcome for r in results) == {Outcome.indexed: len(ARTICLES)}


def test_celery_worker_batch_of_bad_inputs(
    distributed_settings: Settings,
    corpus: list[Case],
    server: FixtureServer,  # noqa: F811
    tmp_path: Path,
):
    settings = distributed_settings
    log_path = tmp_path / "worker.log"
    with celery_worker(settings, log_path, concurrency=2, KLIPING_FETCH_HOST_INTERVAL="0") as worker:
        wait_for_workers(settings, 1)
        started = time.monotonic()
        task_ids = submit([case.input for case in corpus], settings)
        results = list(follow(task_ids, settings, timeout=FOLLOW_TIMEOUT))
        elapsed = time.monotonic() - started
        assert worker.alive() and len(worker.children()) == 2  # no pool process was lost

    _check(corpus, results)
    expected = _expected(corpus)
    counts = tally(settings)
    assert counts.indexed == counts.distinct_ids == expected[Outcome.indexed] and counts.duplicates == 0
    report(f"bad inputs ({len(corpus) - GOOD} bad, {GOOD} good)", len(corpus), counts, elapsed)
    index = ElasticIndex(make_client(settings), settings.elasticsearch_index)
    client = redis.Redis.from_url(settings.redis_url)
    state = RedisStateStore(client, settings.redis_prefix)
    assert len(state.failed()) == expected[Outcome.failed]

    # Metrics: every input counted once, at the stage it ended in; the quarantine size matches.
    snap = RedisMetrics(client, settings.redis_prefix).snapshot("ingest")
    by_outcome: Counter = Counter()
    for (_stage, outcome, _reason), count in snap.outcomes.items():
        by_outcome[Outcome(outcome)] += count
    assert by_outcome == expected
    assert snap.quarantined == expected[Outcome.failed]
    assert snap.queue_ready == 0
    assert snap.outcomes.get(("load", "failed", "too_large")) == 2  # the 50 MB response and file
    assert (
        snap.outcomes.get(("index", "indexed", "none"), 0)
        + snap.outcomes.get(("monitor", "indexed", "none"), 0)
        == expected[Outcome.indexed]
    )
    assert snap.latency["clean"]["count"] >= expected[Outcome.indexed]

    # Logs: JSON lines; one outcome line per input, naming the input, its quarantine id and the stage.
    lines = [json.loads(line) for line in log_path.read_text().splitlines() if line.startswith("{")]
    assert lines and all(set(TRACE_FIELDS) <= set(line) for line in lines)
    outcome_lines = [line for line in lines if line["logger"] == "workers.pipeline" and "outcome" in line]
    assert Counter(line["outcome"] for line in outcome_lines) == {k.value: v for k, v in expected.items()}
    assert all(line["input_id"] == failed_id(line["input"]) and line["stage"] for line in outcome_lines)
    assert all(line["article_id"] for line in outcome_lines if line["outcome"] == "indexed")
    # Celery's own "Task … succeeded" line: one per batch task (its inputs' results are in the message).
    succeeded = [
        line for line in lines if line["logger"] == "celery.app.trace" and " succeeded in " in line["message"]
    ]
    assert sorted(line["message"].split("[", 1)[1].split("]", 1)[0] for line in succeeded) == sorted(task_ids)

    # `kliping retry ID` replays a quarantined input in the distributed mode too, once its page is fixed.
    huge = next(case for case in corpus if case.name == "50 MB response")
    server.route("/bad/huge", as_html(write_articles(tmp_path / "fixed", 1, seed=99)[0]))
    replayed = kliping(
        worker_env(settings, KLIPING_FETCH_HOST_INTERVAL="0"), "retry", failed_id(huge.input), "--json"
    )
    assert replayed.returncode == 0, replayed.stdout + replayed.stderr
    assert [json.loads(line)["outcome"] for line in replayed.stdout.splitlines()] == ["indexed"]
    assert len(state.failed()) == expected[Outcome.failed] - 1
    index.refresh()
    assert index.count() == expected[Outcome.indexed] + 1
