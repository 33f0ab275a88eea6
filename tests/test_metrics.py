"""Metrics: counters the workers keep in Redis, and `kliping metrics` serving them to Prometheus."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator

import httpx
import pytest
import redis
from prometheus_client.parser import text_string_to_metric_families

from schemas import FailedInput, InputResult, Outcome, Reason
from tests.support.fetching import free_port
from tests.support.workers import worker_env
from workers.backends.redis.metrics import RedisMetrics
from workers.backends.redis.state import RedisStateStore
from workers.observe import Stage, Trace
from workers.runtime.exporter import KlipingCollector
from workers.runtime.producer import submit
from workers.settings import PROJECT_ROOT, Settings

EXPORTER_START_TIMEOUT = 60.0  # a guard while the subprocess imports


@pytest.fixture
def settings(tmp_path, redis_url, redis_prefix) -> Settings:
    """A deployment on the test Redis under this test's prefix (no workers)."""
    return Settings(
        redis_url=redis_url,
        redis_prefix=redis_prefix,
        elasticsearch_url="http://127.0.0.1:9",
        data_dir=tmp_path / "data",
    )


@pytest.fixture
def metrics(settings: Settings) -> RedisMetrics:
    """The metrics store of the deployment."""
    return RedisMetrics(redis.Redis.from_url(settings.redis_url), settings.redis_prefix)


def _trace(stage: Stage, **seconds: float) -> Trace:
    return Trace(
        input="x", input_id="y", stage=stage, seconds={Stage(name): s for name, s in seconds.items()}
    )


def _record_sample(metrics: RedisMetrics) -> None:
    """Three inputs and two retries, as workers would record them."""
    metrics.record(
        _trace(Stage.monitor, load=0.002, clean=0.3, dedupe=0.004, enrich=0.05, index=0.02, monitor=0.0005),
        InputResult(input="a", outcome=Outcome.indexed, id="a1"),
    )
    metrics.record(
        _trace(Stage.clean, load=0.002, clean=0.08),
        InputResult(input="b", outcome=Outcome.skipped, reason="no_text: no article text found"),
    )
    metrics.record(
        _trace(Stage.load, load=0.7),
        InputResult(input="c", outcome=Outcome.failed, reason="too_large: body of 9 bytes"),
    )
    metrics.retry(Reason.service_unavailable)
    metrics.retry(Reason.service_unavailable)


def test_record_and_snapshot_exact_counts(settings: Settings, metrics: RedisMetrics):
    _record_sample(metrics)
    RedisStateStore(redis.Redis.from_url(settings.redis_url), settings.redis_prefix).quarantine(
        FailedInput(id="c", input="c", reason=Reason.too_large, error="body of 9 bytes")
    )
    snap = metrics.snapshot("ingest")
    assert snap.outcomes == {
        ("monitor", "indexed", "none"): 1,
        ("clean", "skipped", "no_text"): 1,
        ("load", "failed", "too_large"): 1,
    }
    assert snap.retries == {"service_unavailable": 2}
    assert (
        snap.latency["load"]["count"] == 3
        and snap.latency["load"]["0.005"] == 2
        and snap.latency["load"]["1.0"] == 1
    )
    assert snap.latency["clean"] == {"0.1": 1, "0.5": 1, "sum": pytest.approx(0.38), "count": 2}
    assert snap.quarantined == 1
    assert (snap.queue_ready, snap.queue_unacked) == (0, 0)


def test_queue_depth_counts_tasks_waiting_in_the_broker(settings: Settings, metrics: RedisMetrics, tmp_path):
    paths = []
    for n in range(7):
        paths.append(tmp_path / f"a{n}.txt")
        paths[-1].write_text("x", encoding="utf-8")
    # No worker runs: all seven stay queued, in tasks of three (the depth counts tasks).
    submit(
        [str(p) for p in paths], settings.model_copy(update={"ingest_batch_size": 3, "ingest_min_tasks": 1})
    )
    assert metrics.queue_depth("ingest") == (3, 0)


@pytest.fixture
def exporter(settings: Settings) -> Iterator[str]:
    """`kliping metrics` running as a subprocess; its /metrics URL."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "workers.cli", "metrics", "--host", "127.0.0.1", "--port", str(port)],
        cwd=PROJECT_ROOT,
        env=worker_env(settings),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}/metrics"
    try:
        started = time.monotonic()
        while True:
            try:
                httpx.get(url, timeout=1.0)
                break
            except httpx.TransportError:
                assert process.poll() is None, process.stdout.read().decode()
                assert time.monotonic() - started < EXPORTER_START_TIMEOUT, "exporter did not start"
                time.sleep(0.2)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)


def _samples(url: str) -> dict[tuple[str, tuple], float]:
    """(sample name, sorted labels) → value of one scrape."""
    text = httpx.get(url, timeout=5.0).text
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


@pytest.mark.slow
def test_exporter_serves_every_metric(settings: Settings, metrics: RedisMetrics, exporter: str, tmp_path):
    _record_sample(metrics)
    paths = [tmp_path / "queued-1.txt", tmp_path / "queued-2.txt"]  # one input named twice is queued once
    for path in paths:
        path.write_text("x", encoding="utf-8")
    submit([str(p) for p in paths], settings.model_copy(update={"ingest_batch_size": 1}))  # two tasks
    samples = _samples(exporter)

    assert samples[("kliping_up", ())] == 1
    assert (
        samples[("kliping_inputs_total", (("outcome", "skipped"), ("reason", "no_text"), ("stage", "clean")))]
        == 1
    )
    assert (
        samples[("kliping_inputs_total", (("outcome", "failed"), ("reason", "too_large"), ("stage", "load")))]
        == 1
    )
    assert (
        samples[("kliping_inputs_total", (("outcome", "indexed"), ("reason", "none"), ("stage", "monitor")))]
        == 1
    )
    assert samples[("kliping_retries_total", (("reason", "service_unavailable"),))] == 2
    assert samples[("kliping_stage_seconds_count", (("stage", "load"),))] == 3
    assert samples[("kliping_stage_seconds_bucket", (("le", "0.005"), ("stage", "load")))] == 2  # cumulative
    assert samples[("kliping_stage_seconds_bucket", (("le", "+Inf"), ("stage", "load")))] == 3
    assert samples[("kliping_queue_depth", (("queue", "ingest"), ("state", "ready")))] == 2
    assert samples[("kliping_queue_depth", (("queue", "ingest"), ("state", "unacked")))] == 0
    assert samples[("kliping_quarantine_size", ())] == 0


@pytest.mark.slow
def test_collector_reports_redis_down_instead_of_failing():
    unreachable = redis.Redis(host="127.0.0.1", port=free_port(), socket_connect_timeout=0.5)
    families = list(KlipingCollector(RedisMetrics(unreachable, "nowhere")).collect())
    assert [(f.name, [s.value for s in f.samples]) for f in families] == [("kliping_up", [0])]
