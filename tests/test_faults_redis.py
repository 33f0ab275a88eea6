"""Fault injection on Redis (broker, results and shared state): a restart during ingestion.

The restarted server is a private redis-server of this test (never the shared one on 6379),
with the append-only file production uses. `kliping health` must see workers that answer but do
not consume. `pytest -s` prints the scenario's row of the fault table.
"""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.faults import (
    FINISH_TIMEOUT,
    HOOK_PATH,
    SLOW_SECONDS,
    add_rule,
    article_html,
    assert_exactly_once,
    expected_alerts,
    finished,
    hook,  # noqa: F401 - fixture
    in_flight,
    report,
    wait_until,
    write_articles,
)
from tests.support.redis_server import PrivateRedis
from tests.support.workers import celery_worker, wait_for_workers, worker_env
from tests.test_distributed import distributed_settings  # noqa: F401 - fixture
from workers.runtime.celery_app import INGEST_QUEUE
from workers.runtime.health import check_consuming
from workers.runtime.producer import producer_app, submit
from workers.runtime.wiring import redis_client
from workers.settings import PROJECT_ROOT, Settings

BATCH = 100
OUTAGE_SECONDS = 3.0  # Redis stays down this long (a container restart)
PRODUCER_PAUSE = 0.02  # seconds between two submissions
VISIBILITY_TIMEOUT = 90  # seconds; see private_settings


@pytest.fixture
def private_settings(
    distributed_settings: Settings, tmp_path: Path
) -> Iterator[tuple[Settings, PrivateRedis]]:  # noqa: F811
    """The test deployment on a private Redis that the test may restart."""
    with PrivateRedis(tmp_path / "redis") as server:
        # A message the worker had reserved but not started when Redis went stays in Redis's unacked
        # hash and comes back after the visibility timeout (workers/runtime/kombu_fix.py): shorter
        # than the default hour so that path completes within the test, longer than any task here.
        update = {"redis_url": server.url, "task_max_retries": 3, "visibility_timeout": VISIBILITY_TIMEOUT}
        yield distributed_settings.model_copy(update=update), server


def _health(settings: Settings) -> subprocess.CompletedProcess:
    """Run `kliping health` as an operator (or docker's healthcheck) would."""
    return subprocess.run(
        [sys.executable, "-m", "workers.cli", "health"],
        cwd=PROJECT_ROOT,
        env=worker_env(settings),
        capture_output=True,
        text=True,
        timeout=60,
    )


def _consuming(settings: Settings) -> bool:
    """True when the health check's consumption probe passes."""
    try:
        check_consuming(settings, redis_client(settings))
        return True
    except Exception:  # noqa: BLE001 - unhealthy, for whatever reason
        return False


def test_redis_restart_during_ingestion(private_settings, tmp_path: Path, hook):  # noqa: F811
    settings, server = private_settings
    files = write_articles(tmp_path / "batch", BATCH)
    slow = write_articles(tmp_path / "slow", 1, seed=21)[0]
    hook.route("/slow", article_html(slow), delay=SLOW_SECONDS)
    add_rule(settings, hook.url(HOOK_PATH))
    inputs = [*map(str, files[: BATCH // 4]), hook.url("/slow"), *map(str, files[BATCH // 4 :])]
    task_ids: list[str] = []
    redis_down = threading.Event()

    def produce() -> None:  # the second half is published while Redis is down: submit must retry, not drop
        for n, ref in enumerate(inputs):
            if n == len(inputs) // 2:
                redis_down.wait(FINISH_TIMEOUT)
            task_ids.extend(submit([ref], settings))
            time.sleep(PRODUCER_PAUSE)

    with celery_worker(settings, tmp_path / "w0.log", "faults-w0", concurrency=2) as worker:
        wait_for_workers(settings, 1, worker)
        producer = threading.Thread(target=produce)
        producer.start()
        # Redis goes while a task is mid-fetch: when it comes to write, Redis is gone.
        wait_until(lambda: hook.hits("/slow") == 1, FINISH_TIMEOUT, "the slow page being fetched")
        lost = in_flight(settings)
        server.stop()
        down_at = time.monotonic()
        redis_down.set()
        unhealthy = _health(settings)
        assert unhealthy.returncode == 1 and "unhealthy" in unhealthy.stdout, unhealthy.stdout
        time.sleep(max(0.0, OUTAGE_SECONDS - (time.monotonic() - down_at)))
        server.start()
        up_at = time.monotonic()
        consuming_after = wait_until(lambda: _consuming(settings), FINISH_TIMEOUT, "workers consuming again")
        wait_until(
            lambda: finished(settings, list(lost)) == len(lost),
            FINISH_TIMEOUT,
            "tasks in flight at the restart",
        )
        recovery = time.monotonic() - up_at
        producer.join(timeout=FINISH_TIMEOUT)
        assert not producer.is_alive() and len(task_ids) == len(inputs)  # every submission went through
        counts = assert_exactly_once(settings, task_ids, inputs, hook, expected_alerts(BATCH) + 1)
        healthy = _health(settings)
        assert healthy.returncode == 0, healthy.stdout
        assert worker.alive()
    print(
        f"\nRedis restart: down {up_at - down_at:.1f} s; workers consuming {consuming_after:.1f} s after it was back; "
        f"{len(lost)} tasks in flight at the stop"
    )
    report(
        f"Redis restarted during ingestion ({up_at - down_at:.0f} s down, AOF)", len(inputs), counts, recovery
    )


def test_health_sees_a_worker_that_answers_but_does_not_consume(
    distributed_settings: Settings, tmp_path: Path
):  # noqa: F811
    settings = distributed_settings
    with celery_worker(settings, tmp_path / "w0.log", "faults-w0") as worker:
        wait_for_workers(settings, 1, worker)
        assert _health(settings).returncode == 0
        control = producer_app(settings).control
        control.cancel_consumer(INGEST_QUEUE, reply=True)  # alive, answers pings, takes nothing
        submit([str(write_articles(tmp_path / "batch", 1)[0])], settings)
        stuck = _health(settings)
        assert stuck.returncode == 1 and "none consumes the ingest queue" in stuck.stdout, stuck.stdout
        control.add_consumer(INGEST_QUEUE, reply=True)
        assert _health(settings).returncode == 0
