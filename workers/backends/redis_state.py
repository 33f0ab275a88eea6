"""Redis implementations of DedupIndex and StateStore, shared by every worker.

Key layout (``p`` is ``Settings.redis_prefix``); every worker and tool uses exactly this:

==================================  =====================================================
``p:dedup:hash:<body_hash>``        string: canonical id registered for that body
``p:dedup:fp:<article_id>``         string: Fingerprint JSON
``p:dedup:band:<band>``             set: canonical ids with that LSH band (copies never)
``p:story:<story_id>``              string: StoryRecord JSON
``p:stories``                       sorted set: story id scored by its time (epoch seconds)
``p:outcome:latest``                hash: input → latest outcome
``p:outcomes``                      hash: outcome → number of inputs whose latest is that
``p:failed``                        hash: failed id → FailedInput JSON (the quarantine)
==================================  =====================================================

Dedup and story keys expire after DEDUP_TTL_SECONDS (refreshed on every write), so the
index covers a sliding time window instead of growing forever. Outcomes and the
quarantine never expire: they are the record of what happened.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from typing import TypeVar

import redis

from schemas import FailedInput, InputResult, Reason, utcnow
from workers.backends import Fingerprint, StoryRecord
from workers.errors import TransientError

# Syndicated copies appear within hours to days of the original; reprints after a month are
# rare and cheap to index twice. 30 days keeps the LSH index to a month of news per worker fleet.
DEDUP_TTL_SECONDS = 30 * 24 * 3600

# KEYS[1] = hash key, KEYS[2] = fingerprint key, KEYS[3..] = band keys (only for a canonical).
# ARGV[1] = canonical id, ARGV[2] = fingerprint JSON, ARGV[3] = TTL seconds.
# The first body registered under a hash wins; the fingerprint is stored only by the winner,
# so a racing duplicate leaves no trace. Runs alone on the server: atomic across workers.
_CLAIM_SCRIPT = """
local winner = redis.call('GET', KEYS[1])
if not winner then
  winner = ARGV[1]
  redis.call('SET', KEYS[1], winner, 'EX', ARGV[3])
else
  redis.call('EXPIRE', KEYS[1], ARGV[3])
end
if winner == ARGV[1] then
  redis.call('SET', KEYS[2], ARGV[2], 'EX', ARGV[3])
  for i = 3, #KEYS do
    redis.call('SADD', KEYS[i], ARGV[1])
    redis.call('EXPIRE', KEYS[i], ARGV[3])
  end
end
return winner
"""

# KEYS[1] = input → latest outcome hash, KEYS[2] = counts hash; ARGV[1] = input, ARGV[2] = outcome.
# Counting the latest outcome per input (not every event) matches the embedded store: a re-run
# moves an input from `indexed` to `unchanged` instead of counting it twice.
_RECORD_SCRIPT = """
local old = redis.call('HGET', KEYS[1], ARGV[1])
if old == ARGV[2] then return 0 end
if old then redis.call('HINCRBY', KEYS[2], old, -1) end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('HINCRBY', KEYS[2], ARGV[2], 1)
return 1
"""

T = TypeVar("T")


def _translate_errors(method: Callable[..., T]) -> Callable[..., T]:
    """Turn Redis connection trouble into TransientError so the runner retries instead of quarantining."""

    @functools.wraps(method)
    def wrapper(*args, **kwargs) -> T:
        try:
            return method(*args, **kwargs)
        except (redis.ConnectionError, redis.TimeoutError, redis.BusyLoadingError) as exc:
            raise TransientError(f"redis unavailable: {exc}", Reason.service_unavailable) from exc

    return wrapper


def _text(value: bytes | str | None) -> str | None:
    """Decode a Redis reply, whichever ``decode_responses`` the client was built with."""
    return value.decode("utf-8") if isinstance(value, bytes) else value


def _epoch(moment: datetime) -> float:
    """Epoch seconds of a datetime; a naive one is taken as UTC (never as local time)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.timestamp()


class _RedisKeys:
    """A Redis client plus the shared key layout under one prefix."""

    def __init__(self, client: redis.Redis, prefix: str = "kliping"):
        self._redis = client
        self._prefix = prefix

    def key(self, *parts: str) -> str:
        """A key under the prefix (see the module docstring for the layout)."""
        return ":".join((self._prefix, *parts))


class RedisDedupIndex(_RedisKeys):
    """DedupIndex over Redis keys: exact hashes, fingerprints, LSH bands and stories."""

    def __init__(self, client: redis.Redis, prefix: str = "kliping"):
        super().__init__(client, prefix)
        self._claim = client.register_script(_CLAIM_SCRIPT)

    @_translate_errors
    def find_exact(self, body_hash: str) -> str | None:
        """Canonical id registered for an identical body."""
        return _text(self._redis.get(self.key("dedup", "hash", body_hash)))

    @_translate_errors
    def candidates(self, bands: list[str]) -> set[str]:
        """Canonical ids sharing at least one LSH band (one SUNION round trip)."""
        if not bands:
            return set()
        members = self._redis.sunion([self.key("dedup", "band", band) for band in bands])
        return {_text(member) for member in members}

    @_translate_errors
    def fingerprint(self, article_id: str) -> Fingerprint | None:
        """The stored fingerprint of an article."""
        data = self._redis.get(self.key("dedup", "fp", article_id))
        return Fingerprint.model_validate_json(data) if data else None

    @_translate_errors
    def claim(self, fp: Fingerprint, bands: list[str]) -> str:
        """Register a fingerprint atomically; the first body registered under a hash wins."""
        keys = [self.key("dedup", "hash", fp.body_hash), self.key("dedup", "fp", fp.article_id)]
        if fp.canonical_id == fp.article_id:  # copies stay out of the bands: clusters never chain
            keys += [self.key("dedup", "band", band) for band in bands]
        winner = self._claim(keys=keys, args=[fp.canonical_id, fp.model_dump_json(), DEDUP_TTL_SECONDS])
        return _text(winner)

    @_translate_errors
    def stories_since(self, since: datetime) -> list[StoryRecord]:
        """Stories whose time is at or after `since`, oldest first."""
        ids = self._redis.zrangebyscore(self.key("stories"), _epoch(since), "+inf")
        if not ids:
            return []
        payloads = self._redis.mget([self.key("story", _text(story_id)) for story_id in ids])
        # A story whose key expired but whose sorted-set entry remains is simply gone.
        return [StoryRecord.model_validate_json(data) for data in payloads if data]

    @_translate_errors
    def put_story(self, story: StoryRecord) -> None:
        """Create or refresh a story; forget stories older than the dedup window."""
        at = _epoch(story.published_at or utcnow())
        horizon = _epoch(utcnow() - timedelta(seconds=DEDUP_TTL_SECONDS))
        pipe = self._redis.pipeline(transaction=True)
        pipe.set(self.key("story", story.story_id), story.model_dump_json(), ex=DEDUP_TTL_SECONDS)
        pipe.zadd(self.key("stories"), {story.story_id: at})
        # Keep the sorted set bounded by time; back-filled old stories still live until their key expires.
        pipe.zremrangebyscore(self.key("stories"), "-inf", min(horizon, at) - 1)
        pipe.expire(self.key("stories"), DEDUP_TTL_SECONDS)
        pipe.execute()


class RedisStateStore(_RedisKeys):
    """StateStore over Redis hashes: latest outcome per input, counts, and the quarantine."""

    def __init__(self, client: redis.Redis, prefix: str = "kliping"):
        super().__init__(client, prefix)
        self._record = client.register_script(_RECORD_SCRIPT)

    @_translate_errors
    def record(self, result: InputResult) -> None:
        """Remember the latest outcome of an input (counts follow atomically)."""
        self._record(keys=[self.key("outcome", "latest"), self.key("outcomes")], args=[result.input, result.outcome.value])

    @_translate_errors
    def quarantine(self, failed: FailedInput) -> None:
        """Keep a failed input for replay (attempts add up across replays)."""
        key = self.key("failed")

        def _update(pipe: redis.client.Pipeline) -> None:
            # WATCHed read-modify-write: two workers failing the same input cannot lose an attempt.
            previous = pipe.hget(key, failed.id)
            item = failed
            if previous:
                item = failed.model_copy(update={"attempts": FailedInput.model_validate_json(previous).attempts + 1})
            pipe.multi()
            pipe.hset(key, failed.id, item.model_dump_json())

        self._redis.transaction(_update, key)

    @_translate_errors
    def release(self, failed_id: str) -> None:
        """Drop an input from the quarantine."""
        self._redis.hdel(self.key("failed"), failed_id)

    @_translate_errors
    def failed(self) -> list[FailedInput]:
        """Quarantined inputs, oldest first."""
        items = [FailedInput.model_validate_json(data) for data in self._redis.hvals(self.key("failed"))]
        return sorted(items, key=lambda item: item.failed_at)

    @_translate_errors
    def outcome_counts(self) -> dict[str, int]:
        """Counts of the latest outcome of every input ever recorded (zero counts left out)."""
        counts = self._redis.hgetall(self.key("outcomes"))
        return {_text(outcome): int(n) for outcome, n in counts.items() if int(n) > 0}
