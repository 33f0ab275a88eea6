"""The distributed path end to end: a real Celery worker process, Redis, and osmem via the proxy."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from schemas import Outcome
from schemas.elastic import template_mappings
from tests.support.osmem import set_up_index
from tests.support.workers import worker_env as _worker_env  # test_dedupe_concurrency imports it from here
from workers.backends.elastic.index import ElasticIndex, make_client
from workers.backends.redis.state import RedisStateStore
from workers.runtime.producer import batches, follow, ping, submit
from workers.settings import PROJECT_ROOT, Settings

SEEDS = PROJECT_ROOT / "seeds"
# The first task imports the NLP stack and sets up the index; later ones take well under a second.
FOLLOW_TIMEOUT = 180.0


@pytest.fixture
def distributed_settings(tmp_path: Path, redis_url, redis_prefix, es_url) -> Iterator[Settings]:
    """Settings of this test's deployment: its own Redis prefix (broker included) and index alias."""
    settings = Settings(
        redis_url=redis_url,
        redis_prefix=redis_prefix,
        elasticsearch_url=es_url,
        elasticsearch_index=f"kliping-test-{uuid.uuid4().hex[:8]}",
        data_dir=tmp_path / "data",
        task_max_retries=1,
        fetch_allow_private=True,
        # `kliping worker` waits the whole soft shutdown on SIGTERM even when idle
        # (worker_enable_soft_shutdown_on_idle): 3 s instead of 10 s for each worker a test stops.
        worker_shutdown_timeout=3.0,
    )
    set_up_index(settings)  # the `es-setup` step: workers only check that the alias exists
    yield settings
    if os.environ.get("KLIPING_TEST_ELASTICSEARCH_URL"):  # osmem clones vanish by themselves
        make_client(settings).indices.delete(index=f"{settings.elasticsearch_index}-*")


@pytest.fixture
def worker(distributed_settings: Settings, tmp_path: Path) -> Iterator[subprocess.Popen]:
    """A real Celery worker (prefork, one child) on this test's broker prefix; always stopped."""
    log_path = tmp_path / "worker.log"
    command = [
        sys.executable,
        "-m",
        "celery",
        "-A",
        "workers.runtime.celery_app",
        "worker",
        "-Q",
        "ingest",
        "-c",
        "1",
        "--pool",
        "prefork",
        "--loglevel",
        "INFO",
        "-n",
        f"{distributed_settings.redis_prefix}@%h",
        "--without-gossip",
        "--without-mingle",
        "--without-heartbeat",
    ]
    with open(log_path, "wb") as log:
        # Its own process group: teardown can stop the pool children with the main process.
        process = subprocess.Popen(
            command,
            cwd=PROJECT_ROOT,
            env=_worker_env(distributed_settings),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        yield process
    finally:
        process.terminate()  # warm shutdown
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        # pytest shows this only when the test failed: the worker's side of the story.
        print(log_path.read_text(errors="replace")[-8000:])


def _follow_all(task_ids: list[str], settings: Settings, worker: subprocess.Popen) -> list:
    """Every result of the tasks; fails fast if the worker died."""
    try:
        return list(follow(task_ids, settings, timeout=FOLLOW_TIMEOUT))
    finally:
        assert worker.poll() is None, "the worker died"


@pytest.mark.slow
def test_seeds_through_celery_worker(distributed_settings: Settings, worker):
    task_ids = submit([str(SEEDS)], distributed_settings)  # a directory: expanded by the producer
    assert len(task_ids) == 5  # a small job is spread: a task per seed (ingest_min_tasks); pairs below
    results = _follow_all(task_ids, distributed_settings, worker)
    assert sorted(r.input for r in results) == sorted(str(p) for p in SEEDS.glob("*.txt"))
    assert Counter(r.outcome for r in results) == {Outcome.indexed: 5}, results

    index = ElasticIndex(make_client(distributed_settings), distributed_settings.elasticsearch_index)
    index.refresh()
    assert index.count() == 5
    concrete = list(index.client.indices.get_alias(name=index.alias))
    assert [index.client.indices.get_mapping(index=name)[name]["mappings"] for name in concrete] == [
        template_mappings()
    ]
    articles = list(index.iter_articles())
    assert all(a.dedup.is_canonical and a.dedup.canonical_id == a.id for a in articles)
    assert len({a.dedup.story_id for a in articles}) == 1

    # Again in batches of two (three tasks): every input still has its outcome.
    in_pairs = distributed_settings.model_copy(update={"ingest_batch_size": 2, "ingest_min_tasks": 1})
    task_ids = submit([str(p) for p in sorted(SEEDS.glob("*.txt"))], in_pairs)
    assert len(task_ids) == 3
    again = _follow_all(task_ids, distributed_settings, worker)
    assert Counter(r.outcome for r in again) == {Outcome.unchanged: 5}, again
    state = RedisStateStore(
        redis.Redis.from_url(distributed_settings.redis_url), distributed_settings.redis_prefix
    )
    assert state.outcome_counts() == {"unchanged": 5}
    assert any(name.startswith(distributed_settings.redis_prefix) for name in ping(distributed_settings))


@pytest.mark.parametrize(
    ("count", "most", "min_tasks", "sizes"),
    [
        (400, 50, 8, [50] * 8),  # a big job: full batches
        (1000, 50, 8, [50] * 20),
        (30, 50, 8, [4] * 6 + [3] * 2),  # a feed poll: spread over eight tasks, sizes within one
        (5, 50, 8, [1] * 5),  # fewer inputs than tasks: one each
        (7, 3, 1, [3, 2, 2]),
        (0, 50, 8, []),
    ],
)
def test_submissions_are_split_into_even_batches(count, most, min_tasks, sizes):
    refs = [f"in{n}" for n in range(count)]
    split = batches(refs, most, min_tasks)
    assert [len(b) for b in split] == sizes
    assert [ref for batch in split for ref in batch] == refs  # every input once, in order


@pytest.mark.slow
def test_transient_errors_retry_then_quarantine(distributed_settings: Settings, worker):
    url = "http://127.0.0.1:9/unreachable"  # the discard port: connection refused
    [result] = _follow_all(submit([url], distributed_settings), distributed_settings, worker)
    assert result.outcome == Outcome.failed and result.input == url
    state = RedisStateStore(
        redis.Redis.from_url(distributed_settings.redis_url), distributed_settings.redis_prefix
    )
    [failed] = state.failed()
    assert failed.input == url and failed.attempts == 2  # one try plus task_max_retries=1


def test_celery_config_is_reliable_and_json_only():
    from workers.runtime.celery_app import celery_config, visibility_timeout

    settings = Settings(redis_url="redis://localhost:6379/0", redis_prefix="k", task_time_limit=600)
    config = celery_config(settings)
    assert config["task_acks_late"] and config["task_reject_on_worker_lost"]
    assert config["worker_prefetch_multiplier"] == 1
    assert config["accept_content"] == ["json"] and config["task_serializer"] == "json"
    assert config["task_soft_time_limit"] < config["task_time_limit"] == 600
    # Leases are renewed (workers/runtime/lease.py): the timeout need not outlast the time limit.
    assert config["broker_transport_options"]["visibility_timeout"] == visibility_timeout(settings) == 60
    assert config["broker_transport_options"]["global_keyprefix"] == "k:celery:"


def test_worker_main_process_loads_models_and_freezes_them_before_forking():
    import gc

    from workers.enrich.gazetteer import gazetteer
    from workers.enrich.lexicon import _lexicon
    from workers.enrich.sentiment_model import model
    from workers.runtime.tasks import _warm_up_before_fork

    gazetteer.cache_clear()
    _lexicon.cache_clear()
    model.cache_clear()
    try:
        _warm_up_before_fork()
        assert gazetteer.cache_info().currsize == 1 and _lexicon.cache_info().currsize == 1
        assert model.cache_info().currsize == 1  # the sentiment model too
        assert gc.get_freeze_count() > 10_000  # the gazetteer alone is more objects than that
    finally:
        gc.unfreeze()
