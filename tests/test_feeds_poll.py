"""The poll stage against a real local HTTP server, with the SQLite and the Redis feed stores."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import redis

from schemas.feeds import Feed, FeedKind
from tests.support.feed_site import ARTICLES, fixture_text, serve_site
from tests.support.fetching import make_fetcher, make_settings, server  # noqa: F401 - fixtures
from workers.backends.feed_state import RedisFeedStore, SqliteFeedStore, redis_lock
from workers.feeds.poll import (
    MAX_FACTOR,
    MIN_FACTOR,
    error_delay,
    next_interval,
    poll_due,
    poll_feed,
)

T0 = datetime(2025, 4, 26, 2, 0, tzinfo=UTC)


class Collector:
    """An ingest callable that records what it was handed."""

    def __init__(self) -> None:
        self.batches: list[list[str]] = []
        self.listed: dict[str, datetime] = {}

    def __call__(self, urls: list[str], listed: dict[str, datetime]) -> None:
        self.batches.append(list(urls))
        self.listed.update(listed)

    @property
    def urls(self) -> list[str]:
        return [url for batch in self.batches for url in batch]


@pytest.fixture(params=["sqlite", "redis"])
def store(request, tmp_path):
    """Each FeedStore implementation on a fresh place."""
    if request.param == "sqlite":
        sqlite_store = SqliteFeedStore(tmp_path / "kliping.sqlite3")
        yield sqlite_store
        sqlite_store.close()
    else:
        client = redis.Redis.from_url(request.getfixturevalue("redis_url"), decode_responses=True)
        yield RedisFeedStore(client, request.getfixturevalue("redis_prefix"))
        client.close()


def test_new_items_then_nothing_new_with_conditional_get(server, make_fetcher, store):
    serve_site(server)
    fetch = make_fetcher().feed
    feed = Feed(url=server.url("/feed.xml"), every_seconds=600)
    store.add(feed)
    ingest = Collector()

    first = poll_due(store, fetch, ingest, now=T0)
    assert [r.error for r in first] == [None]
    assert sorted(ingest.urls) == sorted(server.url(path) for path in ARTICLES)
    state = store.state(feed.url)
    assert (state.kind, state.etag, state.error_streak, state.last_new_item) == (
        FeedKind.rss,
        '"feed-v1"',
        0,
        T0,
    )
    assert state.next_poll == T0 + timedelta(seconds=600 * 0.5)  # busy feed: polled sooner

    assert poll_due(store, fetch, ingest, now=T0 + timedelta(seconds=60)) == []  # not due yet
    second = poll_due(store, fetch, ingest, now=T0 + timedelta(hours=1))
    assert second[0].new_urls == [] and len(ingest.batches) == 1
    assert server.requests[-1].headers["if-none-match"] == '"feed-v1"'

    # a server ignoring the validator sends the same items again: still nothing new
    serve_site(server, etag=None)
    third = poll_feed(feed, store, fetch, ingest, now=T0 + timedelta(hours=2))
    assert third.new_urls == [] and not third.not_modified and len(ingest.batches) == 1
    assert store.state(feed.url).last_new_item == T0


def test_feed_served_as_html_is_still_a_feed(server, make_fetcher, store):
    serve_site(server)
    server.route("/rss", fixture_text("rss2.xml", server))  # text/html, as some CMSs send it
    feed = Feed(url=server.url("/rss"))
    ingest = Collector()
    assert poll_feed(feed, store, make_fetcher().feed, ingest, now=T0).error is None
    assert len(ingest.urls) == 3 and store.state(feed.url).kind == FeedKind.rss


def test_304_not_modified(server, make_fetcher, store):
    serve_site(server)
    feed = Feed(url=server.url("/feed.xml"))
    store.add(feed)
    fetch = make_fetcher().feed
    poll_feed(feed, store, fetch, Collector(), now=T0)
    server.route("/feed.xml", status=304, content_type=None)
    report = poll_feed(feed, store, fetch, Collector(), now=T0 + timedelta(hours=1))
    assert report.not_modified and report.error is None
    assert store.state(feed.url).etag == '"feed-v1"'  # validators kept for the next poll


def test_last_modified_is_sent_back(server, make_fetcher, store):
    serve_site(server, etag=None)
    stamp = "Sat, 26 Apr 2025 02:00:00 GMT"
    server.route(
        "/feed.xml",
        fixture_text("rss2.xml", server),
        content_type="application/rss+xml",
        headers={"Last-Modified": stamp},
    )
    feed = Feed(url=server.url("/feed.xml"))
    fetch = make_fetcher().feed
    poll_feed(feed, store, fetch, Collector(), now=T0)
    poll_feed(feed, store, fetch, Collector(), now=T0 + timedelta(hours=1))
    feed_hits = [hit for hit in server.requests if hit.path == "/feed.xml"]
    assert "if-modified-since" not in feed_hits[0].headers
    assert feed_hits[1].headers["if-modified-since"] == stamp and "if-none-match" not in feed_hits[1].headers


def test_sitemap_index_walks_children(server, make_fetcher, store):
    serve_site(server)
    feed = Feed(url=server.url("/sitemap_index.xml"))
    store.add(feed)
    ingest = Collector()
    report = poll_feed(feed, store, make_fetcher().feed, ingest, now=T0)
    assert report.error is None and store.state(feed.url).kind == FeedKind.sitemap_index
    assert ingest.urls == [
        server.url(p)
        for p in (
            "/berita/2025/04/26/banjir-bandung-selatan",
            "/berita/2025/04/26/harga-cabai-turun",
            "/berita/2025/03/30/mudik-lebaran",
            "/berita/2025/03/28/tarif-tol-naik",
        )
    ]


def test_homepage_discovery_via_link_and_robots(server, make_fetcher, store):
    serve_site(server)
    server.route(
        "/robots.txt",
        f"User-agent: *\nDisallow: /cari\nSitemap: {server.url('/sitemap-news.xml')}\n",
        content_type="text/plain",
    )
    feed = Feed(url=server.url("/"))
    store.add(feed)
    ingest = Collector()
    report = poll_feed(feed, store, make_fetcher().feed, ingest, now=T0)
    assert report.error is None and store.state(feed.url).kind == FeedKind.homepage
    assert sorted(ingest.urls) == sorted(server.url(path) for path in ARTICLES)
    assert server.hits("/feed.xml") == 1 and server.hits("/sitemap-news.xml") == 1


def test_malformed_feed_records_error_streak(server, make_fetcher, store):
    # entity declarations are the breakage refused on purpose (everything else is repaired)
    server.route("/rusak.xml", fixture_text("billion_laughs.xml"), content_type="application/rss+xml")
    serve_site(server)
    broken, good = Feed(url=server.url("/rusak.xml"), every_seconds=60), Feed(url=server.url("/feed.xml"))
    store.add(broken)
    store.add(good)
    ingest = Collector()
    reports = {r.url: r for r in poll_due(store, make_fetcher().feed, ingest, now=T0)}
    assert "entit" in reports[broken.url].error and reports[good.url].error is None
    assert len(ingest.urls) == 3  # the broken feed did not stop the good one
    state = store.state(broken.url)
    assert state.error_streak == 1 and state.next_poll == T0 + timedelta(seconds=60)
    poll_feed(broken, store, make_fetcher().feed, ingest, now=T0 + timedelta(minutes=5))
    state = store.state(broken.url)
    assert state.error_streak == 2 and state.next_poll == T0 + timedelta(minutes=5, seconds=120)


def test_feed_on_private_address_refused_by_default(server, make_fetcher, store):
    serve_site(server)
    feed = Feed(url=server.url("/feed.xml"))
    store.add(feed)
    ingest = Collector()
    report = poll_feed(feed, store, make_fetcher(fetch_allow_private=False).feed, ingest, now=T0)
    assert "blocked_address" in report.error and ingest.urls == [] and server.requests == []
    assert store.state(feed.url).error_streak == 1


def test_ingest_failure_leaves_items_unseen(server, make_fetcher, store):
    serve_site(server)
    feed = Feed(url=server.url("/feed.xml"))
    store.add(feed)

    def broken_queue(urls, listed):
        raise ConnectionError("broker down")

    report = poll_feed(feed, store, make_fetcher().feed, broken_queue, now=T0)
    assert "broker down" in report.error
    ingest = Collector()
    poll_feed(feed, store, make_fetcher().feed, ingest, now=T0 + timedelta(hours=1))
    assert len(ingest.urls) == 3  # handed on once the queue is back


def test_store_add_list_remove(store):
    store.add(Feed(url="https://a.example.id/rss", name="a"))
    store.add(Feed(url="https://b.example.id/rss"))
    store.mark_seen("https://a.example.id/rss", ["https://a.example.id/1"])
    assert [f.url for f in store.feeds()] == ["https://a.example.id/rss", "https://b.example.id/rss"]
    assert store.remove("a").url == "https://a.example.id/rss"
    assert store.remove("nope") is None
    assert [f.url for f in store.feeds()] == ["https://b.example.id/rss"]
    assert store.unseen("https://a.example.id/rss", ["https://a.example.id/1"]) == ["https://a.example.id/1"]


def test_adaptive_interval_bounds():
    assert next_interval(600, None, True) == 300
    assert next_interval(600, 600 * MIN_FACTOR, True) == 600 * MIN_FACTOR
    assert next_interval(600, 600 * MAX_FACTOR, False) == 600 * MAX_FACTOR
    assert [error_delay(60, n) for n in (1, 2, 3)] == [60, 120, 240]
    assert error_delay(600, 40) == 24 * 3600


def test_redis_lock_allows_one_holder(redis_url, redis_prefix):
    client = redis.Redis.from_url(redis_url, decode_responses=True)
    key = f"{redis_prefix}:lock:poll-feeds"
    with redis_lock(client, key, 60_000) as first:
        with redis_lock(client, key, 60_000) as second:
            assert first and not second
        assert client.get(key)  # the loser did not release the holder's lock
    assert client.get(key) is None
    client.close()


def test_poll_locked_skips_while_another_poll_runs(server, redis_url, redis_prefix):
    from workers.runtime.feeds import POLL_LOCK_NAME, poll_locked

    serve_site(server)
    client = redis.Redis.from_url(redis_url, decode_responses=True)
    settings = make_settings(redis_prefix=redis_prefix)
    RedisFeedStore(client, redis_prefix).add(Feed(url=server.url("/feed.xml")))
    ingest = Collector()
    with redis_lock(client, f"{redis_prefix}:{POLL_LOCK_NAME}", 60_000):
        assert poll_locked(client, settings, ingest) is None
    assert server.hits("/feed.xml") == 0
    reports = poll_locked(client, settings, ingest)
    assert len(reports) == 1 and len(ingest.urls) == 3
    client.close()


def test_distributed_poll_queues_new_items_once(server, redis_url, redis_prefix, capsys):
    from workers.cli.feed_poll import _poll_distributed

    serve_site(server)
    settings = make_settings(
        redis_url=redis_url, elasticsearch_url="http://127.0.0.1:9", redis_prefix=redis_prefix
    )
    client = redis.Redis.from_url(redis_url, decode_responses=True)
    store = RedisFeedStore(client, redis_prefix)
    store.add(Feed(url=server.url("/feed.xml")))
    assert _poll_distributed(settings, force=False) == 0
    assert "queued 3 new items" in capsys.readouterr().out
    assert _poll_distributed(settings, force=True) == 0
    assert "queued 0 new items" in capsys.readouterr().out
    assert store.state(server.url("/feed.xml")).items_seen == 3
    client.close()
