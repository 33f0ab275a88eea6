"""Fixtures for fetch tests: a fixture server, fetchers on test settings, a recording limiter."""

from __future__ import annotations

import socket

import pytest

from tests.support.http_server import FixtureServer
from workers.fetch.fetcher import Fetcher
from workers.settings import Settings

PAGE = "<!doctype html><html><head><title>Pasukan Korea Utara</title></head><body><p>Kursk — Moskow</p></body></html>"


class RecordingLimiter:
    """A RateLimiter that records calls instead of sleeping."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, float]] = []

    def wait(self, host: str, min_interval: float) -> None:
        """Record the call; never blocks."""
        self.calls.append((host, min_interval))


def make_settings(**overrides: object) -> Settings:
    """Settings for fetching from the local fixture server: loopback allowed, no interval, short timeouts."""
    values: dict[str, object] = dict(
        fetch_allow_private=True,
        fetch_host_interval=0.0,
        fetch_connect_timeout=2.0,
        fetch_read_timeout=2.0,
        redis_url=None,
        elasticsearch_url=None,
    )
    values.update(overrides)
    return Settings(**values)


def free_port() -> int:
    """A local port nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def server():
    """A running FixtureServer."""
    with FixtureServer() as srv:
        yield srv


@pytest.fixture
def make_fetcher():
    """Factory of Fetchers on make_settings(**overrides); closed after the test."""
    fetchers: list[Fetcher] = []

    def make(limiter=None, client=None, **overrides: object) -> Fetcher:
        fetcher = Fetcher(make_settings(**overrides), limiter=limiter, client=client)
        fetchers.append(fetcher)
        return fetcher

    yield make
    for fetcher in fetchers:
        fetcher.close()


@pytest.fixture
def fetch(make_fetcher):
    """A Fetcher on the default test settings."""
    return make_fetcher()
