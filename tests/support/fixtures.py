"""Pytest fixtures for the distributed mode: osmem (+ header proxy) and Redis.

``tests/conftest.py`` imports this module's fixtures: ``osmem_url`` (a fresh osmem clone per
test), ``es_url`` (the same clone behind the compatible-with proxy: what production code and
worker subprocesses use), ``redis_url`` and ``redis_prefix`` (a unique key prefix, deleted
after the test).
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from tests.support import redis_server
from tests.support.es_proxy import start_proxy
from tests.support.osmem import clone, start_server


@pytest.fixture(scope="session")
def osmem_server():
    """One osmem-server per session (overrides the osmem plugin's, which enables Japanese)."""
    server = start_server()
    yield server
    server.close()


@pytest.fixture
def osmem_url(osmem_server) -> Iterator[str]:
    """URL of an empty osmem clone for this test (plain osmem: no header normalising)."""
    with clone(osmem_server) as cluster:
        yield cluster.url


@pytest.fixture
def es_url(request) -> Iterator[str]:
    """Elasticsearch URL for the plain client: a live cluster when configured, else osmem behind the proxy."""
    live = os.environ.get("KLIPING_TEST_ELASTICSEARCH_URL")
    if live:
        yield live
        return
    with start_proxy(request.getfixturevalue("osmem_url")) as proxy:
        yield proxy.url


@pytest.fixture(scope="session")
def redis_url() -> str:
    """URL of the test Redis (its own db, see tests/support/redis_server.py)."""
    return redis_server.redis_url()


@pytest.fixture
def redis_prefix(redis_url) -> Iterator[str]:
    """A key prefix unique to this test; its keys are deleted afterwards."""
    prefix = redis_server.unique_prefix()
    yield prefix
    redis_server.delete_prefix(redis_url, prefix)
