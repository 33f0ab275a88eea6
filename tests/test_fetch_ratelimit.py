"""Per-host rate limiters: the in-process one and the Redis one shared by all workers."""

from __future__ import annotations

import threading
import time

import pytest
import redis

from schemas import Reason
from tests.support import redis_server
from workers.errors import TransientError
from workers.fetch.ratelimit import LocalRateLimiter, RedisRateLimiter

INTERVAL = 0.2
# sleep() may overshoot for one caller and not the next, so a gap can fall a little short
TOLERANCE = 0.05


class SleepRecorder:
    """Replaces time.sleep in the limiter module: records instead of waiting."""

    def __init__(self) -> None:
        self.sleeps: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.sleeps.append(seconds)


def hammer(limiters, host: str, calls_each: int) -> list[float]:
    """Call wait() from one thread per limiter; return the sorted times the calls were let through."""
    stamps: list[float] = []
    lock = threading.Lock()

    def worker(limiter) -> None:
        for _ in range(calls_each):
            limiter.wait(host, INTERVAL)
            with lock:
                stamps.append(time.monotonic())

    threads = [threading.Thread(target=worker, args=(limiter,)) for limiter in limiters]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return sorted(stamps)


def assert_spaced(stamps: list[float]) -> None:
    gaps = [b - a for a, b in zip(stamps, stamps[1:], strict=False)]
    assert gaps and min(gaps) >= INTERVAL - TOLERANCE, gaps


# --- LocalRateLimiter ----------------------------------------------------------------


def test_local_reserves_slots_per_host(monkeypatch):
    recorder = SleepRecorder()
    monkeypatch.setattr("workers.fetch.ratelimit.time.sleep", recorder)
    limiter = LocalRateLimiter()
    limiter.wait("kompas.com", 1.0)  # first call: no wait
    limiter.wait("detik.com", 1.0)  # another host: no wait
    limiter.wait("kompas.com", 1.0)  # ~1 s after the first
    limiter.wait("kompas.com", 1.0)  # the next slot again 1 s later
    assert len(recorder.sleeps) == 2
    assert 0.9 < recorder.sleeps[0] <= 1.0
    assert 1.9 < recorder.sleeps[1] <= 2.0


def test_local_zero_interval_never_sleeps(monkeypatch):
    recorder = SleepRecorder()
    monkeypatch.setattr("workers.fetch.ratelimit.time.sleep", recorder)
    limiter = LocalRateLimiter()
    for _ in range(5):
        limiter.wait("kompas.com", 0.0)
    assert recorder.sleeps == []


def test_local_spaces_out_threads():
    limiter = LocalRateLimiter()
    assert_spaced(hammer([limiter] * 3, "tempo.co", calls_each=2))


# --- RedisRateLimiter ----------------------------------------------------------------


@pytest.fixture
def redis_pair():
    """Two independent clients (as two workers would have) on the test Redis, and a fresh prefix."""
    with redis_server.clients_sharing_prefix(2) as made:
        yield made


def test_redis_limiters_share_spacing(redis_pair):
    clients, prefix = redis_pair
    limiters = [RedisRateLimiter(clients[0], prefix), RedisRateLimiter(clients[1], prefix)]
    assert_spaced(hammer(limiters, "antaranews.com", calls_each=3))


def test_redis_hosts_and_prefixes_are_independent(redis_pair, monkeypatch):
    clients, prefix = redis_pair
    recorder = SleepRecorder()
    monkeypatch.setattr("workers.fetch.ratelimit.time.sleep", recorder)
    limiter = RedisRateLimiter(clients[0], prefix)
    other_deployment = RedisRateLimiter(clients[1], prefix + "-other")
    limiter.wait("kompas.com", 5.0)
    limiter.wait("detik.com", 5.0)
    other_deployment.wait("kompas.com", 5.0)
    assert recorder.sleeps == []
    limiter.wait("kompas.com", 5.0)
    assert len(recorder.sleeps) == 1 and 4.5 < recorder.sleeps[0] <= 5.0


def test_redis_keys_expire(redis_pair):
    clients, prefix = redis_pair
    limiter = RedisRateLimiter(clients[0], prefix)
    limiter.wait("okezone.com", 2.0)
    ttl_ms = clients[0].pttl(limiter.key("okezone.com"))
    assert 0 < ttl_ms <= 2000 + 1000


@pytest.mark.slow
def test_redis_down_is_transient():
    dead = redis.Redis(host="127.0.0.1", port=1, socket_connect_timeout=0.2)
    with pytest.raises(TransientError) as exc:
        RedisRateLimiter(dead, "kliping-test").wait("kompas.com", 1.0)
    assert exc.value.reason is Reason.service_unavailable
