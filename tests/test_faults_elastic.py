"""Fault injection on Elasticsearch: the cluster gone for a while, then back; a cluster answering 429.

A fault-injecting proxy (tests/support/es_proxy.py) sits between the workers and osmem: `down`
drops every connection, `reject_item` answers chosen writes with 429. Real Celery workers, the
test Redis. Every test asserts exact counts; `pytest -s` prints each scenario's fault-table row.
"""

from __future__ import annotations

import os
import time
import uuid
import warnings
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from schemas import Outcome
from schemas.elastic import index_template
from tests.support.es_proxy import EsProxy, start_proxy
from tests.support.faults import (
    HOOK_PATH,
    add_rule,
    expected_alerts,
    finished_inputs,
    hook,  # noqa: F401 - fixture
    hook_posts,
    report,
    tally,
    wait_until,
    write_articles,
)
from tests.support.osmem import osmem_template
from tests.support.workers import celery_worker, wait_for_workers
from tests.test_distributed import distributed_settings  # noqa: F401 - fixture
from tests.test_elastic import LIVE, _article
from workers.backends.elastic.index import BULK_RETRIES, SINGLE_NODE_RETRIES, ElasticIndex, make_client
from workers.backends.redis.metrics import RedisMetrics
from workers.errors import BackendUnavailable, TransientError
from workers.retry import may_retry
from workers.runtime.producer import follow, submit
from workers.settings import Settings, get_settings

BATCH = 60
# How long the cluster stays away: the minute with KLIPING_TEST_OUTAGE_SECONDS=60; shorter
# by default to keep the suite's run time reasonable (the code path is the same: attempts are
# refused, retried with backoff and counted while it is down; 10 s already spans several retries).
OUTAGE_SECONDS = float(os.environ.get("KLIPING_TEST_OUTAGE_SECONDS", "10"))
FINISH_TIMEOUT = 300.0  # a guard, not a measurement: backoff after an outage plus a busy 2-core machine


@pytest.fixture
def proxy(es_url) -> Iterator[EsProxy]:
    """The fault-injecting proxy in front of the test cluster."""
    with start_proxy(es_url) as running:
        yield running


@pytest.fixture
def flaky_settings(distributed_settings: Settings, proxy: EsProxy) -> Settings:  # noqa: F811
    """The test deployment, its Elasticsearch reached through the fault proxy."""
    return distributed_settings.model_copy(update={"elasticsearch_url": proxy.url})


def _metrics(settings: Settings) -> RedisMetrics:
    return RedisMetrics(redis.Redis.from_url(settings.redis_url), settings.redis_prefix)


def _retries(settings: Settings) -> int:
    """Retries the workers counted (all reasons)."""
    return sum(_metrics(settings).snapshot("ingest").retries.values())


def _doc_writes(proxy: EsProxy) -> Counter:
    """Document writes per id that reached the proxy, single or bulk items (refused ones included)."""
    writes = Counter(
        r.path.split("?")[0].rsplit("/", 1)[1]
        for r in proxy.faults.log
        if r.method in ("PUT", "POST") and "/_doc/" in r.path
    )
    writes.update(doc_id for r in proxy.faults.log for doc_id in r.bulk_ids)
    return writes


def test_cluster_down_then_back_loses_nothing(flaky_settings: Settings, proxy: EsProxy, tmp_path: Path, hook):  # noqa: F811
    inputs = write_articles(tmp_path / "batch", BATCH)
    add_rule(flaky_settings, hook.url(HOOK_PATH))
    with celery_worker(flaky_settings, tmp_path / "worker.log", concurrency=2) as worker:
        wait_for_workers(flaky_settings, 1)
        task_ids = submit([str(p) for p in inputs], flaky_settings)
        wait_until(
            lambda: finished_inputs(flaky_settings, task_ids) >= BATCH // 4,
            FINISH_TIMEOUT,
            "a quarter of the batch",
        )

        proxy.faults.down = True
        down_at = time.monotonic()
        done_before = finished_inputs(flaky_settings, task_ids)
        retries_before = _retries(flaky_settings)
        time.sleep(OUTAGE_SECONDS)
        _ready, waiting_retry = _metrics(flaky_settings).queue_depth("ingest")
        proxy.faults.down = False
        up_at = time.monotonic()

        results = list(follow(task_ids, flaky_settings, timeout=FINISH_TIMEOUT))
        recovered = time.monotonic() - up_at
        # Read once every outcome is in: an attempt whose requests were refused just before the
        # cluster came back may record its retry after that moment (a read then missed it: 50
        # requests for 22 retries). Every retry since the outage began is one of its attempts.
        retries_during = _retries(flaky_settings) - retries_before
        assert worker.alive()

    assert done_before < BATCH, "the outage began after the batch was done: nothing was tested"
    assert waiting_retry > 0  # the queue-depth metric sees the tasks held for their retry countdown
    assert Counter(r.outcome for r in results) == {Outcome.indexed: BATCH}, [
        r for r in results if r.outcome != Outcome.indexed
    ]
    wait_until(lambda: len(hook_posts(hook)) >= expected_alerts(BATCH), 60, "webhook deliveries")
    counts = tally(flaky_settings, hook_posts(hook))
    assert counts.indexed == counts.distinct_ids == counts.inputs_indexed == BATCH
    assert counts.duplicates == 0
    assert counts.alerts == counts.posts == counts.alert_ids_posted == expected_alerts(BATCH)

    # No retry storm: every request the dead cluster saw belongs to a retried task attempt (at most
    # the client's own few immediate retries each), not to a loop hammering it.
    dropped = [r for r in proxy.faults.requests(down_at, up_at) if r.dropped]
    assert retries_during > 0 and dropped
    # + the attempts running when the outage began and when it ended (concurrency 2 each): measured,
    # the refused requests were 2 per retry plus 2 to 6.
    attempts = retries_during + 2 * 2
    assert len(dropped) <= attempts * (SINGLE_NODE_RETRIES + 1), (len(dropped), retries_during)
    print(
        f"\noutage {OUTAGE_SECONDS:.0f} s: {len(dropped)} requests refused "
        f"({len(dropped) / OUTAGE_SECONDS:.1f}/s), {retries_during} task retries, {done_before} done before"
    )
    report(f"Elasticsearch down {OUTAGE_SECONDS:.0f} s", BATCH, counts, recovered)


def test_busy_cluster_429_resends_only_the_refused_writes(
    flaky_settings: Settings, proxy: EsProxy, tmp_path: Path
):  # noqa: F811
    inputs = write_articles(tmp_path / "batch", BATCH, seed=21)
    refused: set[str] = set()

    def every_third_once(doc_id: str) -> bool:
        """Refuse the first write of every third document (by id), as a cluster with a full queue would."""
        if doc_id in refused or int(doc_id[:8], 16) % 3:
            return False
        refused.add(doc_id)
        return True

    proxy.faults.reject_item = every_third_once
    with celery_worker(flaky_settings, tmp_path / "worker.log", concurrency=2) as worker:
        wait_for_workers(flaky_settings, 1)
        started = time.monotonic()
        results = list(
            follow(submit([str(p) for p in inputs], flaky_settings), flaky_settings, timeout=FINISH_TIMEOUT)
        )
        elapsed = time.monotonic() - started
        assert worker.alive()

    assert Counter(r.outcome for r in results) == {Outcome.indexed: BATCH}
    counts = tally(flaky_settings)
    assert counts.indexed == counts.distinct_ids == BATCH and counts.duplicates == 0
    writes = _doc_writes(proxy)
    assert refused and set(writes) == {r.id for r in results}
    # Only the refused documents were written again, each exactly once more; the others once. The
    # batches' bulk writes re-send refused items themselves (after a backoff): no task is retried.
    assert {doc_id: n for doc_id, n in writes.items() if n != 1} == {doc_id: 2 for doc_id in refused}
    assert _retries(flaky_settings) == 0
    report(f"Elasticsearch 429 on {len(refused)} writes", BATCH, counts, elapsed)


def test_bulk_429_resends_only_the_refused_items_with_backoff(proxy: EsProxy):
    alias = f"kliping-bulk-{uuid.uuid4().hex[:8]}"
    index = ElasticIndex(make_client(Settings(elasticsearch_url=proxy.url, elasticsearch_timeout=30)), alias)
    index.setup(None if LIVE else osmem_template(index_template(alias)))
    articles = [
        _article(f"doc{n:03d}", f"Judul {n}", f"Isi berita nomor {n} tentang harga beras.")
        for n in range(200)
    ]
    refusals: Counter = Counter()

    def busy(doc_id: str) -> bool:
        """Every fifth item refused on its first send, every tenth on its second too."""
        n = int(doc_id[3:])
        if n % 5 == 0 and refusals[doc_id] < (2 if n % 10 == 0 else 1):
            refusals[doc_id] += 1
            return True
        return False

    proxy.faults.reject_item = busy
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        failures = index.put_many(articles)

    bulks = [r for r in proxy.faults.log if r.bulk_ids]
    assert failures == []
    assert [len(r.bulk_ids) for r in bulks] == [200, 40, 20]  # each round re-sends only what was refused
    assert bulks[1].bulk_ids == [f"doc{n:03d}" for n in range(0, 200, 5)]
    assert bulks[2].bulk_ids == [f"doc{n:03d}" for n in range(0, 200, 10)]
    assert len(bulks) <= BULK_RETRIES + 1
    index.refresh()
    assert index.count() == 200
    gaps = [round(later.at - earlier.at, 2) for earlier, later in zip(bulks, bulks[1:], strict=False)]
    print(f"\nbulk of 200 with 40 then 20 refusals: 3 requests, waits between them {gaps} s")
    if LIVE:
        index.client.indices.delete(index=f"{alias}-*")


def test_outages_retry_for_a_time_other_errors_a_number_of_times():
    settings = get_settings()
    now = 1_000_000.0
    outage = BackendUnavailable("elasticsearch unavailable")
    assert may_retry(
        outage, attempt=50, first_failure=now - settings.outage_retry_seconds + 1, settings=settings, now=now
    )
    assert not may_retry(
        outage, attempt=0, first_failure=now - settings.outage_retry_seconds, settings=settings, now=now
    )
    site_down = TransientError("HTTP 503 from a site")
    assert may_retry(
        site_down, attempt=settings.task_max_retries - 1, first_failure=now, settings=settings, now=now
    )
    assert not may_retry(
        site_down, attempt=settings.task_max_retries, first_failure=now, settings=settings, now=now
    )
