"""The consumption probe of `kliping health` on the test Redis (the worker broadcast is stood in for)."""

from __future__ import annotations

import time

import pytest
import redis

from workers.runtime import health
from workers.runtime.celery_app import INGEST_QUEUE
from workers.settings import Settings


@pytest.fixture
def probe(redis_url, redis_prefix, monkeypatch):
    """Settings, a client, and one worker that answers and subscribes to the ingest queue."""
    monkeypatch.setattr(health, "consumers", lambda settings: {"w1@host": True})
    settings = Settings(redis_url=redis_url, redis_prefix=redis_prefix, task_time_limit=60)
    client = redis.Redis.from_url(redis_url, decode_responses=True)
    yield settings, client
    client.close()


def test_waiting_tasks_with_a_recent_start_are_healthy(probe):
    settings, client = probe
    assert "last task started never" in health.check_consuming(
        settings, client
    )  # idle, nothing waiting: fine
    client.lpush(f"{settings.redis_prefix}:celery:{INGEST_QUEUE}", "a task")
    health.mark_consumed(client, settings.redis_prefix)
    assert "1 ready" in health.check_consuming(settings, client)


def test_waiting_tasks_and_no_start_for_too_long_is_a_stall(probe):
    settings, client = probe
    client.lpush(f"{settings.redis_prefix}:celery:{INGEST_QUEUE}", "a task")
    with pytest.raises(RuntimeError, match="none started ever"):
        health.check_consuming(settings, client)
    health.mark_consumed(client, settings.redis_prefix, now=time.time() - health.stall_seconds(settings) - 1)
    with pytest.raises(RuntimeError, match="workers are not consuming"):
        health.check_consuming(settings, client)


def test_answering_without_consuming_is_unhealthy(probe, monkeypatch):
    settings, client = probe
    monkeypatch.setattr(health, "consumers", lambda settings: {"w1@host": False})
    with pytest.raises(RuntimeError, match="none consumes the ingest queue"):
        health.check_consuming(settings, client)
    monkeypatch.setattr(health, "consumers", lambda settings: {})
    with pytest.raises(RuntimeError, match="no worker answered"):
        health.check_consuming(settings, client)
