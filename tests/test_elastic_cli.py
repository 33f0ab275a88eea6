"""The command line over Elasticsearch: seeds run through the distributed Context, then kliping queries them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from schemas import Outcome
from schemas.elastic import index_template
from tests.support.osmem import osmem_template
from tests.test_elastic import LIVE
from workers.backends.elastic.index import ElasticIndex, make_client
from workers.runtime.embedded import process_with_retries
from workers.runtime.wiring import distributed_context
from workers.settings import PROJECT_ROOT, Settings


@pytest.fixture
def deployment(tmp_path: Path, redis_url, redis_prefix, es_url, seed_paths):
    """(settings, context, environment for `kliping`) of a distributed deployment holding the five seeds."""
    settings = Settings(
        redis_url=redis_url,
        redis_prefix=redis_prefix,
        elasticsearch_url=es_url,
        elasticsearch_index=f"kliping-cli-{uuid.uuid4().hex[:8]}",
        data_dir=tmp_path / "data",
    )
    if not LIVE:  # first index created without the stemmers osmem lacks (tests/support/osmem.py)
        ElasticIndex(make_client(settings), settings.elasticsearch_index).setup(
            osmem_template(index_template(settings.elasticsearch_index))
        )
    ctx = distributed_context(settings)
    results = [process_with_retries(str(path), ctx) for path in seed_paths]
    assert [r.outcome for r in results] == [Outcome.indexed] * 5, results
    ctx.index.refresh()
    env = {k: v for k, v in os.environ.items() if not k.startswith("KLIPING_")}
    env.update(
        KLIPING_REDIS_URL=redis_url,
        KLIPING_REDIS_PREFIX=redis_prefix,
        KLIPING_ELASTICSEARCH_URL=es_url,
        KLIPING_ELASTICSEARCH_INDEX=settings.elasticsearch_index,
        KLIPING_DATA_DIR=str(settings.data_dir),
    )
    yield settings, ctx, env
    if LIVE:
        ctx.index.client.indices.delete(index=f"{settings.elasticsearch_index}-*")


def _kliping(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    """Run the real `kliping` command line."""
    return subprocess.run(
        [sys.executable, "-m", "workers.cli", *args],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=180,
    )


def _ids(env: dict[str, str], *args: str) -> set[str]:
    """The ids `kliping search --json …` prints."""
    done = _kliping(env, "search", "--json", *args)
    assert done.returncode in (0, 1), done.stderr
    return {json.loads(line)["id"] for line in done.stdout.splitlines()}


@pytest.mark.slow
def test_cli_search_filters_export_stats_show_through_elasticsearch(deployment):
    _settings, ctx, env = deployment
    articles = {a.id: a for a in ctx.index.iter_articles()}
    assert len(articles) == 5

    assert _ids(env, "Kursk") == set(articles)
    assert (
        _ids(env, "--source", "Pantau")
        == {i for i, a in articles.items() if a.source.name == "Pantau"}
        != set()
    )
    kim = {i for i, a in articles.items() if any(e.name == "Kim Jong Un" for e in a.entities)}
    assert kim and _ids(env, "--entity", "Kim Jong Un") == kim
    negative = {i for i, a in articles.items() if a.sentiment and a.sentiment.label.value == "negative"}
    assert negative and _ids(env, "--sentiment", "negative") == negative
    assert _ids(env, "gempa bumi") == set()

    exported = _kliping(env, "export")
    assert exported.returncode == 0, exported.stderr
    assert {json.loads(line)["id"] for line in exported.stdout.splitlines()} == set(articles)

    stats = _kliping(env, "stats", "--json")
    assert stats.returncode == 0, stats.stderr
    figures = json.loads(stats.stdout)
    assert figures["articles"] == 5 and figures["copies"] == 0 and figures["outcomes"] == {"indexed": 5}

    some_id, some = next(iter(articles.items()))
    shown = _kliping(env, "show", some_id)
    assert shown.returncode == 0 and some.title in shown.stdout
    assert _kliping(env, "show", "no-such-id").returncode == 1


@pytest.mark.slow
def test_replay_is_unchanged_and_a_copy_updates_its_canonical(deployment, seed_paths, tmp_path):
    _settings, ctx, env = deployment
    again = [process_with_retries(str(path), ctx) for path in seed_paths]
    assert [r.outcome for r in again] == [Outcome.unchanged] * 5
    ctx.index.refresh()
    assert ctx.index.count() == 5

    # A reprint of the SeaPRwire release (as in tests/test_pipeline.py) is a copy of seed 004.
    original = next((PROJECT_ROOT / "seeds").glob("004_*.txt")).read_text(encoding="utf-8")
    reprint = tmp_path / "reprint.txt"
    reprint.write_text(
        "Putin berterima kasih kepada Korea Utara\n\n" + original.replace("(SeaPRwire) – ", "MOSKOW - "),
        encoding="utf-8",
    )
    result = process_with_retries(str(reprint), ctx)
    assert result.outcome == Outcome.copy, result.reason

    shown = _kliping(env, "show", "--json", result.canonical_id)
    assert shown.returncode == 0, shown.stderr
    dedup = json.loads(shown.stdout)["dedup"]
    assert dedup["copy_count"] == 1 and [c["id"] for c in dedup["copies"]] == [result.id]
    stats = json.loads(_kliping(env, "stats", "--json").stdout)
    assert stats["articles"] == 6 and stats["copies"] == 1
    assert process_with_retries(str(reprint), ctx).outcome == Outcome.unchanged  # a replayed copy too
    ctx.index.refresh()
    assert ctx.index.count() == 6


def test_health_says_to_run_es_setup_when_the_alias_is_missing(tmp_path, redis_url, redis_prefix, es_url):
    env = {k: v for k, v in os.environ.items() if not k.startswith("KLIPING_")}
    env.update(
        KLIPING_REDIS_URL=redis_url,
        KLIPING_REDIS_PREFIX=redis_prefix,
        KLIPING_ELASTICSEARCH_URL=es_url,
        KLIPING_ELASTICSEARCH_INDEX=f"kliping-unset-{uuid.uuid4().hex[:8]}",
        KLIPING_DATA_DIR=str(tmp_path / "data"),
    )
    health = _kliping(env, "health")
    assert health.returncode == 1
    line = next(line for line in health.stdout.splitlines() if line.startswith("elasticsearch:"))
    assert "unhealthy" in line and "kliping es setup" in line
