"""Webhook delivery on a real local HTTP server: retried, and exactly one accepted POST per alert."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time

import httpx
import pytest
import redis

from schemas.monitor import Alert, DeliveryState, Rule, alert_id
from tests.support.http_server import FixtureServer
from tests.test_distributed import _follow_all, distributed_settings, worker  # noqa: F401 - shared fixtures
from workers.backends.monitor_state import RedisMonitorStore, SqliteMonitorStore
from workers.monitor.deliver import DELIVERY_RETRIES, attempt, deliver
from workers.runtime.celery_app import DELIVER_TASK
from workers.runtime.embedded import run
from workers.runtime.producer import producer_app, submit
from workers.runtime.wiring import embedded_context
from workers.settings import PROJECT_ROOT

# How long the test waits for the worker's delivery task (its first retry waits up to 1 s).
DELIVERY_WAIT_SECONDS = 120.0


@pytest.fixture
def server():
    with FixtureServer() as running:
        yield running


def _posts(server: FixtureServer, path: str = "/hook"):
    return [hit for hit in server.requests if hit.path == path and hit.method == "POST"]


def test_webhook_retried_after_500_and_never_sent_twice(settings, seed_paths, server):
    server.route("/hook", body="ok", content_type="text/plain", statuses=[500], status=200)
    ctx = embedded_context(settings)
    store = ctx.monitor.store
    store.add_rule(Rule(name="kursk", query='kursk AND "korea utara"', webhook=server.url("/hook")))
    list(run([str(p) for p in seed_paths], ctx))  # delivers at the end of the run

    [alert] = store.alerts()
    posts = _posts(server)
    assert len(posts) == 2  # the 500, then the accepted retry
    assert {p.headers["idempotency-key"] for p in posts} == {alert.id}
    body = json.loads(posts[1].body)
    assert body["rule"] == "kursk" and body["title"] == alert.title and body["url"] == alert.url
    assert body["outlet"] == alert.outlet and body["sentiment"] == alert.sentiment.value
    assert set(body["matched_terms"]) == {"kursk", '"korea utara"'}
    delivered = store.get_alert(alert.id).delivery
    assert delivered.state == DeliveryState.delivered and delivered.attempts == 2 and delivered.status == 200

    with httpx.Client() as client:  # a redelivered task / a second run: nothing more is sent
        assert deliver(alert.id, store, client).state == DeliveryState.delivered
    list(run([str(p) for p in seed_paths], ctx))
    assert len(_posts(server)) == 2


def test_delivery_failures_are_recorded(settings, seed_paths, server):
    server.route("/down", status=503, content_type="text/plain")
    server.route("/gone", status=410, content_type="text/plain")
    ctx = embedded_context(settings)
    store = ctx.monitor.store
    queued = []
    store.add_rule(Rule(name="down", query="kursk", webhook=server.url("/down")))
    store.add_rule(Rule(name="gone", query="kursk", webhook=server.url("/gone")))
    store.add_rule(Rule(name="unreachable", query="kursk", webhook="http://127.0.0.1:9/nothing"))
    ctx.monitor.on_alert = queued.append  # deliver by hand below, without real backoff sleeps
    list(run([str(seed_paths[0])], ctx))
    assert len(queued) == 3 and not server.requests
    with httpx.Client(timeout=5) as client:
        by_rule = {a.rule: a for a in store.alerts()}
        down = deliver(by_rule["down"].id, store, client, retries=2, sleep=lambda s: None)
        gone = deliver(by_rule["gone"].id, store, client, retries=2, sleep=lambda s: None)
        unreachable = deliver(by_rule["unreachable"].id, store, client, retries=1, sleep=lambda s: None)
        assert deliver(by_rule["gone"].id, store, client).state == DeliveryState.failed  # final: not resent
    assert len(_posts(server, "/down")) == 3  # first attempt + 2 retries
    assert down.state == DeliveryState.failed and down.error == "HTTP 503"
    assert gone.state == DeliveryState.failed and "410" in gone.error and gone.attempts == 1
    assert len(_posts(server, "/gone")) == 1  # a permanent 4xx is not retried (nor resent)
    assert unreachable.state == DeliveryState.failed and "ConnectError" in unreachable.error


@pytest.mark.parametrize("backend", ["sqlite", "redis"])
def test_concurrent_senders_post_once(backend, tmp_path, server, request):
    server.route("/slow", body="ok", content_type="text/plain", delay=0.5)  # both senders overlap
    if backend == "sqlite":
        stores = [SqliteMonitorStore(tmp_path / "m.sqlite3") for _ in range(2)]
    else:
        url, prefix = request.getfixturevalue("redis_url"), request.getfixturevalue("redis_prefix")
        stores = [
            RedisMonitorStore(redis.Redis.from_url(url, decode_responses=True), prefix) for _ in range(2)
        ]
    stores[0].add_rule(Rule(name="r", query="kursk", webhook=server.url("/slow")))
    alert = Alert(id=alert_id("r", "s"), rule="r", story_id="s", article_id="a", title="Kursk")
    assert stores[0].claim_alert(alert)
    with httpx.Client(timeout=5) as first, httpx.Client(timeout=5) as second:
        threads = [
            threading.Thread(target=attempt, args=(alert.id, store, client))
            for store, client in zip(stores, (first, second), strict=False)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert len(_posts(server, "/slow")) == 1
    assert stores[1].get_alert(alert.id).delivery.state == DeliveryState.delivered


@pytest.mark.slow
def test_cli_shows_failures_and_redelivers(tmp_path, server):
    def kliping(*args: str) -> subprocess.CompletedProcess:
        env = {k: v for k, v in os.environ.items() if not k.startswith("KLIPING_")}
        env["KLIPING_DATA_DIR"] = str(tmp_path / "data")
        env["KLIPING_FETCH_ALLOW_PRIVATE"] = "true"  # the receiver is on loopback
        return subprocess.run(
            [sys.executable, "-m", "workers.cli", *args],
            cwd=PROJECT_ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )

    route = server.route("/hook", status=503, content_type="text/plain")
    assert kliping("rules", "add", "kursk", "Kursk", "--webhook", server.url("/hook")).returncode == 0
    assert kliping("ingest", "seeds/001_821b5704207c4569.txt").returncode == 0  # delivers at the end: 503s
    [failed] = [json.loads(line) for line in kliping("alerts", "--json").stdout.splitlines()]
    assert failed["delivery"]["state"] == "failed" and failed["delivery"]["error"] == "HTTP 503"
    assert failed["delivery"]["attempts"] == len(_posts(server)) == 1 + DELIVERY_RETRIES
    listed = kliping("alerts").stdout
    assert "failed" in listed and "HTTP 503" in listed

    route.status = 200  # the receiver is fixed: --deliver retries the failed alert, once
    assert "delivered" in kliping("alerts", "--deliver").stdout
    assert "delivered" in kliping("alerts", "--deliver").stdout
    assert len(_posts(server)) == 2 + DELIVERY_RETRIES
    assert {p.headers["idempotency-key"] for p in _posts(server)} == {failed["id"]}


@pytest.mark.slow
def test_celery_task_delivers_once_even_when_redelivered(distributed_settings, worker, server):  # noqa: F811
    server.route("/hook", body="ok", content_type="text/plain", statuses=[500], status=200)
    client = redis.Redis.from_url(distributed_settings.redis_url, decode_responses=True)
    store = RedisMonitorStore(client, distributed_settings.redis_prefix)
    store.add_rule(Rule(name="kursk", query="kursk", webhook=server.url("/hook")))
    seed = sorted((PROJECT_ROOT / "seeds").glob("000_*.txt"))
    _follow_all(submit([str(p) for p in seed], distributed_settings), distributed_settings, worker)
    [alert] = store.alerts()
    deadline = time.monotonic() + DELIVERY_WAIT_SECONDS
    while store.get_alert(alert.id).delivery.state != DeliveryState.delivered and time.monotonic() < deadline:
        time.sleep(0.2)
    assert store.get_alert(alert.id).delivery.state == DeliveryState.delivered
    assert len(_posts(server)) == 2  # 500, then the retried task's accepted POST

    again = producer_app(distributed_settings).send_task(DELIVER_TASK, args=[alert.id])  # a redelivered task
    assert again.get(timeout=DELIVERY_WAIT_SECONDS)["state"] == "delivered"
    assert len(_posts(server)) == 2
    assert {p.headers["idempotency-key"] for p in _posts(server)} == {alert.id}
