"""Fault injection on Redis behind Sentinel: the master is lost mid-ingest and the replica takes over.

A master, its replica and a Sentinel (tests/support/sentinel.py) on private ports; the deployment
knows only the Sentinel (KLIPING_REDIS_SENTINELS): the Celery broker, the result backend and
Kliping's state client all ask it for the master. The master is SIGKILLed while a task is
mid-fetch and half the inputs are still to be submitted; every input must end indexed exactly once
and every alert be raised and POSTed once. `pytest -s` prints the scenario's row of the fault table.

Before the kill the test waits until the replica has every write so far (WAIT): replication is
asynchronous, and a write the master acknowledged in its last milliseconds but never passed on is
lost with it (ops/README.md says so); this test checks the failover itself, not that window.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

from tests.support.faults import (
    FINISH_TIMEOUT,
    HOOK_PATH,
    SLOW_SECONDS,
    add_rule,
    article_html,
    assert_exactly_once,
    expected_alerts,
    hook,  # noqa: F401 - fixture
    hook_posts,
    in_flight,
    report,
    tally,
    wait_until,
    write_articles,
)
from tests.support.sentinel import SentinelGroup
from tests.support.workers import celery_worker, wait_for_workers
from tests.test_distributed import distributed_settings  # noqa: F401 - fixture
from tests.test_faults_redis import _health
from workers.backends.redis.metrics import RedisMetrics
from workers.runtime.celery_app import INGEST_QUEUE
from workers.runtime.producer import submit
from workers.runtime.wiring import redis_client
from workers.settings import Settings

BATCH = 60
PRODUCER_PAUSE = 0.02  # seconds between two submissions (one task each)
# A task whose acknowledgement died with the master comes back after this (production: an hour).
# A live task redelivered on a busy machine is only a wasted re-run (`unchanged`).
VISIBILITY_TIMEOUT = 20


def test_sentinel_failover_during_ingestion(distributed_settings: Settings, tmp_path: Path, hook):  # noqa: F811
    files = write_articles(tmp_path / "batch", BATCH)
    slow = write_articles(tmp_path / "slow", 1, seed=21)[0]
    hook.route("/slow", article_html(slow), delay=SLOW_SECONDS)
    inputs = [*map(str, files[: BATCH // 4]), hook.url("/slow"), *map(str, files[BATCH // 4 :])]
    task_ids: list[str] = []
    first_half_sent, master_killed = threading.Event(), threading.Event()

    def produce() -> None:  # the second half is published while the master is gone: submit retries
        for n, ref in enumerate(inputs):
            if n == len(inputs) // 2:
                first_half_sent.set()
                master_killed.wait(FINISH_TIMEOUT)
            task_ids.extend(submit([ref], settings))
            time.sleep(PRODUCER_PAUSE)

    with SentinelGroup(tmp_path / "redis") as group:
        update = {**group.settings_update(), "task_max_retries": 3, "visibility_timeout": VISIBILITY_TIMEOUT}
        settings = distributed_settings.model_copy(update=update)
        add_rule(settings, hook.url(HOOK_PATH))
        with celery_worker(settings, tmp_path / "w0.log", "sentinel-w0", concurrency=2) as worker:
            wait_for_workers(settings, 1, worker)
            producer = threading.Thread(target=produce)
            producer.start()
            # The master goes while a task is mid-fetch: when it comes to write, the master is gone.
            wait_until(lambda: hook.hits("/slow") == 1, FINISH_TIMEOUT, "the slow page being fetched")
            assert first_half_sent.wait(FINISH_TIMEOUT)
            group.wait_replicated()
            stranded = in_flight(settings)
            old_port = group.kill_master()
            killed_at = time.monotonic()
            master_killed.set()
            failover = group.wait_for_failover(old_port, FINISH_TIMEOUT)
            producer.join(timeout=FINISH_TIMEOUT)
            assert not producer.is_alive() and len(task_ids) == len(inputs)  # every submission went through
            counts = assert_exactly_once(settings, task_ids, inputs, hook, expected_alerts(BATCH) + 1)
            recovery = time.monotonic() - killed_at
            # The messages whose acknowledgement was lost with the master come back after the
            # visibility timeout and re-run: still one document per input, one alert per story.
            depth = RedisMetrics(redis_client(settings), settings.redis_prefix).queue_depth
            wait_until(lambda: depth(INGEST_QUEUE) == (0, 0), FINISH_TIMEOUT, "the broker drained")
            after = tally(settings, hook_posts(hook))
            assert (after.indexed, after.duplicates, after.alerts) == (len(inputs), 0, counts.alerts)
            assert group.master_port() != old_port
            healthy = _health(settings)  # `kliping health` through the Sentinel
            assert healthy.returncode == 0, healthy.stdout
            assert worker.alive()
    print(
        f"\nSentinel failover: new master {failover:.1f} s after the kill; {len(stranded)} tasks in flight at the kill; "
        f"all {len(inputs)} inputs ended {recovery:.1f} s after it"
    )
    report("Redis master killed, Sentinel failover to the replica", len(inputs), counts, recovery)
