"""Two beat schedulers at once: every feed is still polled once per interval.

Two real `celery beat` processes tick every second (tests/support/fast_beat.py) against one worker
with two processes, so their poll tasks overlap; the feed answers slowly to widen the race. The
poll lock (workers/runtime/feeds.py) must let exactly one poll fetch a due feed.
"""

from __future__ import annotations

import time
from datetime import timedelta
from pathlib import Path

import redis

from schemas import utcnow
from schemas.feeds import Feed
from tests.support.faults import wait_until
from tests.support.feed_site import ARTICLES, serve_site
from tests.support.http_server import FixtureServer
from tests.support.workers import celery_worker, start_beat, wait_for_workers
from tests.test_distributed import distributed_settings  # noqa: F401 - fixture
from workers.backends.feed_state import RedisFeedStore
from workers.settings import Settings

FEED_SECONDS = 1.5  # the feed answers this slowly: two polls started a tick apart would overlap
EVERY_SECONDS = 3600  # the feed's interval: due once at the start, once more when the test says so
TICKS = 6  # beat ticks (seconds) watched per interval


def test_two_beats_poll_each_feed_once_per_interval(distributed_settings: Settings, tmp_path: Path):  # noqa: F811
    settings = distributed_settings
    store = RedisFeedStore(
        redis.Redis.from_url(settings.redis_url, decode_responses=True), settings.redis_prefix
    )
    with (
        FixtureServer() as site,
        celery_worker(settings, tmp_path / "w0.log", "beat-w0", concurrency=2) as worker,
    ):
        serve_site(site)
        site.route(
            "/feed.xml",
            site._server.routes["/feed.xml"].body,
            content_type="application/rss+xml",
            headers={"ETag": '"feed-v1"'},
            delay=FEED_SECONDS,
        )
        feed_url = site.url("/feed.xml")
        store.add(Feed(url=feed_url, every_seconds=EVERY_SECONDS))
        wait_for_workers(settings, 1, worker)
        beats = [start_beat(settings, tmp_path / f"beat{n}.log", "tests.support.fast_beat") for n in range(2)]
        try:
            wait_until(lambda: site.hits("/feed.xml") >= 1, 60, "the first poll")
            started = time.monotonic()
            time.sleep(TICKS)  # a dozen poll tasks from the two beats, each finding the feed polled
            assert site.hits("/feed.xml") == 1
            # under load the worker may still be fetching the items: wait for them, count them at the end
            wait_until(
                lambda: all(site.hits(path) >= 1 for path in ARTICLES), 60, "the items of the first poll"
            )

            state = store.state(feed_url)  # the interval has passed: the feed is due again
            state.next_poll = utcnow() - timedelta(seconds=1)
            store.save_state(state)
            wait_until(lambda: site.hits("/feed.xml") >= 2, 60, "the second poll")
            time.sleep(TICKS)
            assert site.hits("/feed.xml") == 2  # once per interval, not once per beat
            assert all(beat.alive() for beat in beats)
            articles = [site.hits(path) for path in ARTICLES]
        finally:
            for beat in beats:
                beat.stop()
    assert articles == [1, 1, 1]  # each new item handed on once
    feed_requests = [hit for hit in site.requests if hit.path == "/feed.xml"]
    assert feed_requests[1].headers.get("if-none-match") == '"feed-v1"'  # the second poll was conditional
    print(
        f"\nFAULT-ROW | two beat schedulers (1 s ticks, {2 * TICKS} s watched) | feed polls 2 in 2 intervals | "
        f"items queued once each (3) | watched for {time.monotonic() - started:.1f} s"
    )
