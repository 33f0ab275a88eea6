"""Fault injection on the workers: SIGKILL mid-batch, SIGTERM mid-work, a task delivered twice.

Real Celery workers (`kliping worker` subprocesses), the test Redis, osmem behind the proxy. Every
test asserts exact counts: documents in the index == distinct inputs, no duplicate ids, one alert
per matching story, each POSTed to the webhook. `pytest -s` prints each scenario's row of the fault table.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.support.faults import (
    FINISH_TIMEOUT,
    HOOK_PATH,
    SLOW_SECONDS,
    Tally,
    add_rule,
    article_html,
    assert_exactly_once,
    expected_alerts,
    finished,
    finished_inputs,
    hook,  # noqa: F401 - fixture
    in_flight,
    report,
    wait_until,
    write_articles,
)
from tests.support.workers import CeleryProcess, celery_worker, start_worker, wait_for_workers
from tests.test_distributed import distributed_settings  # noqa: F401 - fixture
from workers.runtime.celery_app import INGEST_BATCH_TASK, INGEST_QUEUE
from workers.runtime.producer import producer_app, submit
from workers.settings import Settings

BATCH = 200  # the "at least 200 articles"
# Short enough that the test sees the tasks of a dead worker come back (production: an hour).
TEST_VISIBILITY_TIMEOUT = 8


@pytest.fixture
def fault_settings(distributed_settings: Settings) -> Iterator[Settings]:  # noqa: F811
    """The test deployment with a short visibility timeout and soft shutdown."""
    yield distributed_settings.model_copy(
        update={
            "visibility_timeout": TEST_VISIBILITY_TIMEOUT,
            "worker_shutdown_timeout": 3.0,
            "task_max_retries": 3,
        }
    )


def _batch_with_fault(
    settings: Settings, tmp_path: Path, server, fault: Callable[[CeleryProcess], list[CeleryProcess]]
) -> tuple[Tally, float]:
    """Ingest BATCH articles on a 2-process worker, inject `fault` a third of the way in; counts and recovery seconds.

    Recovery: from the fault until every task that was in flight (unacknowledged) at that moment has finished.
    """
    inputs = write_articles(tmp_path / "batch", BATCH)
    add_rule(settings, server.url(HOOK_PATH))
    workers = [start_worker(settings, tmp_path / "w0.log", "faults-w0", concurrency=2)]
    try:
        wait_for_workers(settings, 1, workers[0])
        task_ids = submit([str(p) for p in inputs], settings)
        wait_until(
            lambda: finished_inputs(settings, task_ids) >= BATCH // 3, FINISH_TIMEOUT, "a third of the batch"
        )
        lost = list(in_flight(settings))
        assert lost, "nothing in flight to lose"
        faulted_at = time.monotonic()
        workers += fault(workers[0])
        wait_until(
            lambda: finished(settings, lost) == len(lost), FINISH_TIMEOUT, "the tasks in flight at the fault"
        )
        recovery = time.monotonic() - faulted_at
        counts = assert_exactly_once(settings, task_ids, inputs, server, expected_alerts(BATCH))
        assert workers[-1].alive()
    finally:
        for worker in workers:
            worker.stop()
    return counts, recovery


def test_sigkill_of_a_pool_process_mid_batch(fault_settings: Settings, tmp_path: Path, hook):  # noqa: F811
    def kill_child(worker: CeleryProcess) -> list[CeleryProcess]:
        worker.kill_child()  # its task is rejected and requeued (reject_on_worker_lost); the parent forks a new child
        return []

    counts, recovery = _batch_with_fault(fault_settings, tmp_path, hook, kill_child)
    report("SIGKILL of one pool process mid-batch", BATCH, counts, recovery)


def test_sigkill_of_the_whole_worker_then_restart(fault_settings: Settings, tmp_path: Path, hook):  # noqa: F811
    def kill_and_restart(worker: CeleryProcess) -> list[CeleryProcess]:
        worker.kill()  # nobody is left to requeue: its tasks come back after the visibility timeout
        return [start_worker(fault_settings, tmp_path / "w1.log", "faults-w1", concurrency=2)]

    counts, recovery = _batch_with_fault(fault_settings, tmp_path, hook, kill_and_restart)
    report(
        f"SIGKILL of the whole worker, restarted (visibility timeout {TEST_VISIBILITY_TIMEOUT} s)",
        BATCH,
        counts,
        recovery,
    )


def test_sigterm_finishes_or_requeues_in_flight_tasks(fault_settings: Settings, tmp_path: Path, hook):  # noqa: F811
    # Redelivery by timeout must not blur what the shutdown requeued: no visibility timeout here.
    fault_settings = fault_settings.model_copy(update={"visibility_timeout": 300})
    files = write_articles(tmp_path / "batch", 40)
    slow = write_articles(tmp_path / "slow", 1, seed=12)[0]
    hook.route("/slow", article_html(slow), delay=SLOW_SECONDS)
    add_rule(fault_settings, hook.url(HOOK_PATH))
    inputs = [hook.url("/slow"), *map(str, files)]
    first = start_worker(fault_settings, tmp_path / "w0.log", "faults-w0", concurrency=2)
    second = None
    try:
        wait_for_workers(fault_settings, 1, first)
        # One process takes the slow page (a task of its own), the other the files (batches of 10).
        task_ids = submit(inputs[:1], fault_settings) + submit(inputs[1:], fault_settings)
        wait_until(
            lambda: finished_inputs(fault_settings, task_ids) >= 10 and hook.hits("/slow") == 1,
            FINISH_TIMEOUT,
            "ten files done while the slow page is being fetched",
        )
        in_flight_at_stop = in_flight(fault_settings)
        stopped_at = time.monotonic()
        first.terminate()  # docker stop: soft shutdown, then the unfinished task is requeued
        first.process.wait(timeout=fault_settings.worker_shutdown_timeout + 30)  # a guard, not a measurement
        shutdown_seconds = time.monotonic() - stopped_at
        assert (
            finished(fault_settings, task_ids[:1]) == 0
        )  # the slow task did not finish: it was requeued ...
        second = start_worker(fault_settings, tmp_path / "w1.log", "faults-w1", concurrency=2)
        wait_until(
            lambda: finished(fault_settings, list(in_flight_at_stop)) == len(in_flight_at_stop),
            FINISH_TIMEOUT,
            "the tasks in flight at SIGTERM",
        )
        recovery = time.monotonic() - stopped_at
        assert hook.hits("/slow") == 2  # ... and run again by the new worker
        counts = assert_exactly_once(fault_settings, task_ids, inputs, hook, expected_alerts(len(files)) + 1)
    finally:
        first.stop()
        if second is not None:
            second.stop()
    assert "Soft Shutdown" in first.log_path.read_text(errors="replace")
    print(
        f"\nSIGTERM: worker exited {shutdown_seconds:.1f} s after the signal "
        f"(soft shutdown {fault_settings.worker_shutdown_timeout:.0f} s)"
    )
    report("SIGTERM mid-work (soft shutdown 3 s), new worker", len(inputs), counts, recovery)


def test_same_task_delivered_twice_gives_one_document_and_one_alert(
    fault_settings: Settings, tmp_path: Path, hook
):  # noqa: F811
    files = write_articles(tmp_path / "batch", 20)
    slow = write_articles(tmp_path / "slow", 1, seed=15)[0]
    hook.route("/slow", article_html(slow), delay=SLOW_SECONDS)
    add_rule(fault_settings, hook.url(HOOK_PATH))
    inputs = [hook.url("/slow"), *map(str, files)]
    with celery_worker(fault_settings, tmp_path / "w0.log", "faults-w0", concurrency=2) as worker:
        wait_for_workers(fault_settings, 1, worker)
        started = time.monotonic()
        celery = producer_app(fault_settings)
        # Every message is published twice, same id: the slow page's two copies run at once in the
        # two processes (a live task is no longer redelivered by the visibility timeout: its worker
        # renews it, tests/test_faults_leases.py), the files' one after the other.
        task_ids = []
        for path in inputs:
            task_id = str(uuid.uuid4())
            for _ in range(2):
                celery.send_task(INGEST_BATCH_TASK, args=[[path]], task_id=task_id, queue=INGEST_QUEUE)
            task_ids.append(task_id)
        counts = assert_exactly_once(fault_settings, task_ids, inputs, hook, expected_alerts(len(files)) + 1)
        wait_until(lambda: hook.hits("/slow") >= 2, FINISH_TIMEOUT, "the slow page's second run")
        recovery = time.monotonic() - started
        assert hook.hits("/slow") == 2  # it really ran twice
        assert counts.posts == counts.alerts  # two runs, one alert, one POST
    report(
        "same task delivered twice (visibility timeout 8 s; duplicated messages)",
        len(inputs),
        counts,
        recovery,
    )


def test_recovery_settings_reach_celery():
    from workers.runtime.celery_app import PUBLISH_RETRY_POLICY, celery_config

    settings = Settings(
        redis_url="redis://localhost:6379/0", visibility_timeout=8, worker_shutdown_timeout=3.0
    )
    config = celery_config(settings)
    transport = config["broker_transport_options"]
    assert transport["visibility_timeout"] == 8
    assert transport["unacked_restore_interval"] == 1 and transport["unacked_restore_throttle"] == 1
    assert config["worker_soft_shutdown_timeout"] == 3.0
    assert config["task_publish_retry"] and config["task_publish_retry_policy"] == PUBLISH_RETRY_POLICY
    assert config["broker_connection_max_retries"] is None and config["result_backend_always_retry"]
    default = celery_config(Settings(redis_url="redis://localhost:6379/0"))["broker_transport_options"]
    assert default["visibility_timeout"] == 60 and default["unacked_restore_interval"] == 6
