"""Webhooks are outbound requests (issue 18, item 1): the fetch guard at `rules add` and at every delivery.

A loopback receiver stands for an internal service: refused unless KLIPING_FETCH_ALLOW_PRIVATE,
before any connection, with the refusal recorded on the alert; allowed explicitly, it is delivered.
"""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path

import httpx
import pytest
import redis

from schemas import Reason
from schemas.monitor import DeliveryState, Rule
from tests.support import cli
from tests.support.http_server import FixtureServer
from tests.support.workers import celery_worker, wait_for_workers
from tests.test_distributed import distributed_settings  # noqa: F401 - fixture
from tests.test_monitor_deliver import DELIVERY_WAIT_SECONDS
from workers.backends.monitor_state import RedisMonitorStore
from workers.errors import PermanentError, SkipInput
from workers.fetch.webhook import WebhookClient
from workers.monitor.deliver import deliver
from workers.runtime.embedded import run
from workers.runtime.producer import follow, submit
from workers.runtime.wiring import embedded_context
from workers.settings import PROJECT_ROOT, Settings

SEED = "seeds/001_821b5704207c4569.txt"  # matches `Kursk`


@pytest.fixture
def server():
    with FixtureServer() as running:
        running.route("/hook", body="ok", content_type="text/plain")
        yield running


def _posts(server: FixtureServer) -> list:
    return [hit for hit in server.requests if hit.method == "POST"]


def kliping(data: Path, *args: str, allow_private: bool = False) -> subprocess.CompletedProcess:
    return cli.kliping(data, *args, **({"fetch_allow_private": "true"} if allow_private else {}))


@pytest.mark.slow
def test_rules_add_refuses_what_the_guard_refuses(tmp_path, server):
    data = tmp_path / "data"
    for url in (
        server.url("/hook"),
        "http://169.254.169.254/latest/meta-data/",
        "http://10.0.0.1/hook",
        f"http://localhost:{server.port}/hook",
    ):
        refused = kliping(data, "rules", "add", "leak", "banjir", "--webhook", url)
        assert refused.returncode == 2, refused.stdout
        assert "webhook refused" in refused.stderr and "non-public address" in refused.stderr
        assert "Traceback" not in refused.stderr
    for url in ("file:///etc/passwd", "ftp://example.org/x", "gopher://127.0.0.1/"):
        refused = kliping(data, "rules", "add", "leak", "banjir", "--webhook", url, allow_private=True)
        assert refused.returncode == 2 and "not an http(s) URL" in refused.stderr, refused.stderr
    assert kliping(data, "rules", "list", "--json").stdout == ""  # nothing was stored
    assert server.requests == []  # and nothing contacted

    allowed = kliping(
        data, "rules", "add", "ok", "banjir", "--webhook", server.url("/hook"), allow_private=True
    )
    assert allowed.returncode == 0, allowed.stderr
    [rule] = [json.loads(line) for line in kliping(data, "rules", "list", "--json").stdout.splitlines()]
    assert rule["webhook"] == server.url("/hook")


@pytest.mark.slow
def test_every_delivery_passes_the_guard_and_records_its_outcome(tmp_path, server):
    # a rule stored before the check existed (or with private addresses allowed back then)
    data = tmp_path / "data"
    added = kliping(
        data, "rules", "add", "kursk", "Kursk", "--webhook", server.url("/hook"), allow_private=True
    )
    assert added.returncode == 0, added.stderr

    ingested = kliping(data, "ingest", "--json", SEED)  # private addresses not allowed now
    assert ingested.returncode == 0, ingested.stderr
    assert json.loads(ingested.stdout.splitlines()[0])["outcome"] == "indexed"  # the article is not at fault
    [alert] = [json.loads(line) for line in kliping(data, "alerts", "--json").stdout.splitlines()]
    delivery = alert["delivery"]
    assert delivery["state"] == "failed" and delivery["attempts"] == 1  # final: not retried
    assert delivery["error"].startswith("blocked_address:") and "non-public address" in delivery["error"]
    assert _posts(server) == []
    assert "blocked_address" in kliping(data, "alerts").stdout

    # allowed explicitly: the operator's --deliver sends it, once
    assert "delivered" in kliping(data, "alerts", "--deliver", allow_private=True).stdout
    assert "delivered" in kliping(data, "alerts", "--deliver", allow_private=True).stdout
    assert len(_posts(server)) == 1 and _posts(server)[0].headers["idempotency-key"] == alert["id"]


def test_a_non_http_webhook_fails_its_delivery_without_failing_the_article(tmp_path, seed_paths):
    settings = Settings(data_dir=tmp_path / "data", redis_url=None, elasticsearch_url=None)
    ctx = embedded_context(settings)
    store = ctx.monitor.store
    store.add_rule(Rule(name="leak", query="kursk", webhook="file:///etc/passwd"))
    results = list(run([str(seed_paths[1])], ctx))
    assert [r.outcome.value for r in results] == ["indexed"]
    [alert] = store.alerts()
    delivery = store.get_alert(alert.id).delivery
    assert delivery.state == DeliveryState.failed and delivery.error.startswith(
        "invalid_input: not an http(s) URL"
    )


def _settings(**overrides: object) -> Settings:
    return Settings(redis_url=None, elasticsearch_url=None, **overrides)


def test_loopback_allowed_explicitly_is_delivered(server):
    with WebhookClient(_settings(fetch_allow_private=True), 5.0) as client:
        assert client.post(server.url("/hook"), json={"a": 1}, headers={}).status_code == 200
    assert [json.loads(hit.body) for hit in _posts(server)] == [{"a": 1}]


def test_loopback_refused_when_not_allowed(server):
    with WebhookClient(_settings(), 5.0) as client:
        for url in (
            server.url("/hook"),
            f"http://localhost:{server.port}/hook",
            f"http://[::1]:{server.port}/",
        ):
            with pytest.raises(SkipInput) as caught:
                client.post(url, json={}, headers={})
            assert caught.value.reason is Reason.blocked_address
    assert server.requests == []


@pytest.mark.parametrize("target", ["http://127.0.0.1:{port}/hook", "http://10.1.2.3/", "file:///etc/passwd"])
def test_each_redirect_hop_is_checked(server, target):
    # a public IP literal needs no DNS; a mock transport plays that host and redirects inward
    seen: list[str] = []

    def public_host(request: httpx.Request) -> httpx.Response:
        seen.append(f"{request.method} {request.url}")
        return httpx.Response(307, headers={"Location": target.format(port=server.port)})

    with WebhookClient(
        _settings(), 5.0, http=httpx.Client(transport=httpx.MockTransport(public_host))
    ) as client:
        with pytest.raises((SkipInput, PermanentError)) as caught:
            client.post("http://93.184.216.34/hook", json={}, headers={})
    assert caught.value.reason in (Reason.blocked_address, Reason.invalid_input)
    assert seen == ["POST http://93.184.216.34/hook"]
    assert server.requests == []


def test_a_307_is_posted_again_and_a_302_is_the_answer(server):
    server.redirect("/moved", "/hook", status=307)
    server.redirect("/found", "/hook", status=302)
    with WebhookClient(_settings(fetch_allow_private=True), 5.0) as client:
        assert client.post(server.url("/moved"), json={"n": 1}, headers={}).status_code == 200
        assert client.post(server.url("/found"), json={"n": 2}, headers={}).status_code == 302
    assert [(hit.path, json.loads(hit.body)) for hit in _posts(server)] == [
        ("/moved", {"n": 1}),
        ("/hook", {"n": 1}),
        ("/found", {"n": 2}),
    ]


def test_a_refused_webhook_is_recorded_failed_not_retried(tmp_path, seed_paths, server):
    settings = Settings(data_dir=tmp_path / "data", redis_url=None, elasticsearch_url=None)
    ctx = embedded_context(settings)
    ctx.monitor.store.add_rule(Rule(name="r", query="kursk", webhook=server.url("/hook")))
    list(run([str(seed_paths[1])], ctx))
    [alert] = ctx.monitor.store.alerts()
    with WebhookClient(settings, 5.0) as client:
        delivery = deliver(alert.id, ctx.monitor.store, client, sleep=lambda _: None)
    assert delivery.state == DeliveryState.failed and delivery.attempts == 1
    assert _posts(server) == []


@pytest.mark.slow
def test_a_worker_refuses_a_private_webhook_and_records_it(distributed_settings, tmp_path, server):  # noqa: F811
    # the distributed runner: the worker's deliver task goes through the same guard
    client = redis.Redis.from_url(distributed_settings.redis_url, decode_responses=True)
    store = RedisMonitorStore(client, distributed_settings.redis_prefix)
    store.add_rule(Rule(name="kursk", query="kursk", webhook=server.url("/hook")))
    with celery_worker(
        distributed_settings, tmp_path / "w.log", KLIPING_FETCH_ALLOW_PRIVATE="false"
    ) as worker:
        wait_for_workers(distributed_settings, 1, worker)
        task_ids = submit([str(PROJECT_ROOT / SEED)], distributed_settings)
        [result] = list(follow(task_ids, distributed_settings, timeout=DELIVERY_WAIT_SECONDS))
        assert result.outcome.value == "indexed"
        [alert] = store.alerts()
        deadline = time.monotonic() + DELIVERY_WAIT_SECONDS
        while store.get_alert(alert.id).delivery.state != DeliveryState.failed:
            assert time.monotonic() < deadline, store.get_alert(alert.id).delivery
            time.sleep(0.2)
    delivery = store.get_alert(alert.id).delivery
    assert delivery.attempts == 1 and delivery.error.startswith("blocked_address:")
    assert _posts(server) == []
