"""Several workers, one host: the spacing the server observes never falls below the configured interval.

Each "worker" is a separate Fetcher with its own RedisRateLimiter on its own Redis client (as
separate worker processes would have), all sharing one key prefix, run in parallel threads
against one FixtureServer. The server records when each request arrived.
"""

from __future__ import annotations

import itertools
import threading

import pytest

from tests.support import redis_server
from tests.support.fetching import PAGE
from tests.support.http_server import FixtureServer
from workers.fetch.fetcher import Fetcher, RedisRateLimiter
from workers.settings import Settings

INTERVAL = 0.3
# A worker's request leaves a little after its slot starts (thread wake-up, connection reuse),
# so one arrival may come late and the next on time: the gap can fall that much short.
TOLERANCE = 0.05
WORKERS = 4
PAGES_EACH = 3


@pytest.fixture
def clients():
    """One Redis client per worker, and a key prefix only this test uses (deleted afterwards)."""
    with redis_server.clients_sharing_prefix(WORKERS) as made:
        yield made


@pytest.mark.slow
def test_workers_sharing_redis_never_hit_one_host_closer_than_the_interval(clients):
    redis_clients, prefix = clients
    settings = Settings(
        fetch_allow_private=True,
        fetch_host_interval=INTERVAL,
        respect_robots=False,
        fetch_connect_timeout=5.0,
        fetch_read_timeout=5.0,
        redis_url=None,
        elasticsearch_url=None,
    )
    errors: list[Exception] = []

    with FixtureServer() as server:
        paths = [f"/berita/{n}" for n in range(WORKERS * PAGES_EACH)]
        for path in paths:
            server.route(path, PAGE)
        fetchers = [Fetcher(settings, RedisRateLimiter(client, prefix)) for client in redis_clients]
        start = threading.Barrier(WORKERS)

        def work(fetcher: Fetcher, mine: list[str]) -> None:
            try:
                start.wait(timeout=10)  # all workers ask for their first slot at once
                for path in mine:
                    assert fetcher(server.url(path)).status == 200
            except Exception as exc:  # noqa: BLE001 - surfaced in the main thread below
                errors.append(exc)

        threads = [threading.Thread(target=work, args=(f, paths[i::WORKERS])) for i, f in enumerate(fetchers)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        for fetcher in fetchers:
            fetcher.close()
        arrivals = sorted(hit.at for hit in server.requests)

    assert not errors, errors
    assert len(arrivals) == WORKERS * PAGES_EACH  # every page fetched once, nothing else (no robots.txt)
    gaps = [later - earlier for earlier, later in itertools.pairwise(arrivals)]
    assert min(gaps) >= INTERVAL - TOLERANCE, [round(g, 3) for g in gaps]
