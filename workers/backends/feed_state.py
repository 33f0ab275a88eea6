"""Feed state: registered feeds, what polling learnt about them, and the item URLs already seen.

Two implementations of one protocol: ``SqliteFeedStore`` (embedded mode; its own tables in the
embedded SQLite file) and ``RedisFeedStore`` (distributed mode). Redis keys (``p`` = prefix):

================================  ==============================================
``p:feeds``                       hash: feed URL → Feed JSON
``p:feed:state``                  hash: feed URL → FeedState JSON
``p:feed:seen:<sha1(feed url)>``  set: canonical item URLs already handed on
``p:lock:poll-feeds``             string: token of the poll holding the lock
================================  ==============================================
"""

from __future__ import annotations

import hashlib
import secrets
import sqlite3
import threading
import weakref
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

from schemas.feeds import Feed, FeedState
from workers.ports import FeedStore  # noqa: F401 - the protocol these implement

_SCHEMA = """
PRAGMA journal_mode = WAL;
CREATE TABLE IF NOT EXISTS feeds (url TEXT PRIMARY KEY, name TEXT, data TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS feed_state (url TEXT PRIMARY KEY, data TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS feed_seen (feed TEXT NOT NULL, url TEXT NOT NULL, PRIMARY KEY (feed, url));
"""

# Compare-and-delete: only the holder of the token may release the lock.
_RELEASE = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end"


class SqliteFeedStore:
    """FeedStore in the embedded SQLite file (own connection, own tables)."""

    def __init__(self, path: Path | str):
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(str(path), check_same_thread=False, timeout=30.0)
        # closed (WAL checkpointed) when the store goes or at exit, also on the CLI's exit without teardown
        weakref.finalize(self, self._db.close)
        self._lock = threading.Lock()
        self._db.executescript(_SCHEMA)

    def add(self, feed: Feed) -> None:
        """Register (or update) a feed."""
        with self._lock, self._db:
            self._db.execute(
                "INSERT OR REPLACE INTO feeds VALUES (?, ?, ?)", (feed.url, feed.name, feed.model_dump_json())
            )

    def remove(self, url_or_name: str) -> Feed | None:
        """Forget a feed, its state and seen URLs; the removed feed, or None if unknown."""
        feed = _find(self.feeds(), url_or_name)
        if feed is not None:
            with self._lock, self._db:
                for table, column in (("feeds", "url"), ("feed_state", "url"), ("feed_seen", "feed")):
                    self._db.execute(f"DELETE FROM {table} WHERE {column} = ?", (feed.url,))
        return feed

    def feeds(self) -> list[Feed]:
        """Every registered feed, oldest first."""
        with self._lock:
            rows = self._db.execute("SELECT data FROM feeds").fetchall()
        return sorted((Feed.model_validate_json(r[0]) for r in rows), key=lambda f: f.added_at)

    def state(self, url: str) -> FeedState:
        """The state of a feed (a fresh one when never polled)."""
        with self._lock:
            row = self._db.execute("SELECT data FROM feed_state WHERE url = ?", (url,)).fetchone()
        return FeedState.model_validate_json(row[0]) if row else FeedState(url=url)

    def save_state(self, state: FeedState) -> None:
        """Persist a feed's state."""
        with self._lock, self._db:
            self._db.execute(
                "INSERT OR REPLACE INTO feed_state VALUES (?, ?)", (state.url, state.model_dump_json())
            )

    def unseen(self, url: str, items: list[str]) -> list[str]:
        """The item URLs this feed has not handed on yet, in the given order."""
        with self._lock:
            seen = {r[0] for r in self._db.execute("SELECT url FROM feed_seen WHERE feed = ?", (url,))}
        return [item for item in dict.fromkeys(items) if item not in seen]

    def mark_seen(self, url: str, items: Iterable[str]) -> None:
        """Remember item URLs as handed on."""
        with self._lock, self._db:
            self._db.executemany(
                "INSERT OR IGNORE INTO feed_seen VALUES (?, ?)", [(url, item) for item in items]
            )

    def close(self) -> None:
        """Close the connection."""
        self._db.close()


class RedisFeedStore:
    """FeedStore in Redis, shared by every worker and beat (client with decode_responses=True)."""

    def __init__(self, client, prefix: str = "kliping"):
        self._redis = client
        self._prefix = prefix

    def _seen_key(self, url: str) -> str:
        return f"{self._prefix}:feed:seen:{hashlib.sha1(url.encode('utf-8')).hexdigest()}"

    def add(self, feed: Feed) -> None:
        """Register (or update) a feed."""
        self._redis.hset(f"{self._prefix}:feeds", feed.url, feed.model_dump_json())

    def remove(self, url_or_name: str) -> Feed | None:
        """Forget a feed, its state and seen URLs; the removed feed, or None if unknown."""
        feed = _find(self.feeds(), url_or_name)
        if feed is not None:
            pipe = self._redis.pipeline()
            pipe.hdel(f"{self._prefix}:feeds", feed.url)
            pipe.hdel(f"{self._prefix}:feed:state", feed.url)
            pipe.delete(self._seen_key(feed.url))
            pipe.execute()
        return feed

    def feeds(self) -> list[Feed]:
        """Every registered feed, oldest first."""
        values = self._redis.hvals(f"{self._prefix}:feeds")
        return sorted((Feed.model_validate_json(v) for v in values), key=lambda f: f.added_at)

    def state(self, url: str) -> FeedState:
        """The state of a feed (a fresh one when never polled)."""
        data = self._redis.hget(f"{self._prefix}:feed:state", url)
        return FeedState.model_validate_json(data) if data else FeedState(url=url)

    def save_state(self, state: FeedState) -> None:
        """Persist a feed's state."""
        self._redis.hset(f"{self._prefix}:feed:state", state.url, state.model_dump_json())

    def unseen(self, url: str, items: list[str]) -> list[str]:
        """The item URLs this feed has not handed on yet, in the given order."""
        unique = list(dict.fromkeys(items))
        if not unique:
            return []
        flags = self._redis.smismember(self._seen_key(url), unique)
        return [item for item, seen in zip(unique, flags, strict=False) if not seen]

    def mark_seen(self, url: str, items: Iterable[str]) -> None:
        """Remember item URLs as handed on."""
        batch = list(items)
        if batch:
            self._redis.sadd(self._seen_key(url), *batch)


def _find(feeds: list[Feed], url_or_name: str) -> Feed | None:
    return next((f for f in feeds if url_or_name in (f.url, f.name)), None)


@contextmanager
def redis_lock(client, key: str, ttl_ms: int) -> Iterator[bool]:
    """Hold `key` for at most `ttl_ms` (SET NX PX with a token); yields False when another holder has it."""
    token = secrets.token_hex(16)
    acquired = bool(client.set(key, token, nx=True, px=ttl_ms))
    try:
        yield acquired
    finally:
        if acquired:
            client.eval(_RELEASE, 1, key, token)
