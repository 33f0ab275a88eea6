"""Redis implementations of DedupIndex and StateStore, shared by every worker.

Key layout (``p`` is ``Settings.redis_prefix``); every worker and tool uses exactly this:

==================================  =====================================================
``p:dedup:hash:<body_hash>``        string: canonical id registered for that body
``p:dedup:f:<article_id>``          string: packed Fingerprint (redis_dedup_codec: canonical id,
                                    body hash, outlet, url, flags, date, uint32 signature)
``p:dedup:b:<period>:<bucket>``     hash: LSH band entries whose digest falls in that bucket
                                    (field: 3 more digest bytes) → packed canonical ids (copies never)
``p:dedup:group:<canonical_id>``    set: ids of the canonical's copies
``p:story:<story_id>``              string: StoryRecord JSON
``p:stories``                       sorted set: story id scored by its time (epoch seconds)
``p:stories:term:<term>``           sorted set: ids of the stories with that term, scored alike
``p:outcome:latest``                hash: input → latest outcome
``p:outcomes``                      hash: outcome → number of inputs whose latest is that
``p:failed``                        hash: failed id → FailedInput JSON (the quarantine)
==================================  =====================================================

Dedup and story keys expire after DEDUP_TTL_SECONDS (refreshed on every write), so the
index covers a sliding time window instead of growing forever. Band entries live in small
hashes (Redis keeps a hash under 512 short fields as one listpack: ~16 bytes an entry instead of
~200 for a key holding a set), written in the current BAND_PERIOD_SECONDS period and read over
the last BAND_PERIODS periods; a period's hashes expire whole once the window has passed them.
Values are bytes (ops/benchmark_dedup.py measures ~2 KB per indexed document); fingerprints are
read with NEVER_DECODE, so a client built with ``decode_responses=True`` works as well. (An index
written by the older JSON layout, ``p:dedup:fp:*`` and per-band keys, is simply not seen: its
bodies are free to claim again and its keys expire with the window.) Outcomes
and the quarantine never expire: they are the record of what happened.
"""

from __future__ import annotations

import contextlib
import functools
import time
from collections.abc import Callable, Collection, Iterable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar, overload

import redis
from redis.client import NEVER_DECODE

from schemas import FailedInput, InputResult, Reason, utcnow
from workers.backends.redis.dedup_codec import band_token, pack_fingerprint, unpack_fingerprint
from workers.backends.redis.dedup_scripts import (  # noqa: F401 - the window constants are part of this module's API
    BAND_PERIOD_SECONDS,
    BAND_PERIODS,
    CANDIDATES_SCRIPT,
    CLAIM_SCRIPT,
    DEDUP_TTL_SECONDS,
    REPOINT_SCRIPT,
    STORIES_SHARING_SCRIPT,
)
from workers.errors import BackendUnavailable
from workers.load import input_key
from workers.ports import Claim, Fingerprint, StoryRecord

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
# The story lock: held a few milliseconds (a canonical's story lookups); expires by itself after
# STORY_LOCK_SECONDS if its worker dies holding it; a worker waits STORY_LOCK_WAIT_SECONDS for it,
# then the input is retried like any Redis trouble.
STORY_LOCK_SECONDS, STORY_LOCK_WAIT_SECONDS = 10, 30


def _translate_errors(method: Callable[..., T]) -> Callable[..., T]:
    """Turn Redis connection trouble into BackendUnavailable (a TransientError) so the runner retries instead of quarantining."""

    @functools.wraps(method)
    def wrapper(*args: Any, **kwargs: Any) -> T:
        try:
            return method(*args, **kwargs)
        except (redis.ConnectionError, redis.TimeoutError, redis.BusyLoadingError) as exc:
            raise BackendUnavailable(f"redis unavailable: {exc}", Reason.service_unavailable) from exc

    return wrapper


@overload
def _text(value: bytes | str) -> str: ...
@overload
def _text(value: None) -> None: ...
def _text(value: bytes | str | None) -> str | None:
    """Decode a Redis reply, whichever ``decode_responses`` the client was built with."""
    return value.decode("utf-8") if isinstance(value, bytes) else value


def _epoch(moment: datetime) -> float:
    """Epoch seconds of a datetime; a naive one is taken as UTC (never as local time)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


def _period() -> int:
    """The current band period (BAND_PERIOD_SECONDS since the epoch)."""
    return int(time.time()) // BAND_PERIOD_SECONDS


def _claim_of(reply: list[str], self_id: str | None = None) -> Claim:
    """A Claim from a script reply ({'winner', id} | {'candidates', ids…} | {'moved', id} | {'gone'} | {'ok'})."""
    status, rest = reply[0], reply[1:]
    if status == "candidates":
        return Claim(candidates=rest)
    if status == "moved":
        return Claim(moved_to=rest[0])
    if status == "gone":
        return Claim(gone=True)
    return Claim(winner=rest[0] if rest else self_id)


class _RedisKeys:
    """A Redis client plus the shared key layout under one prefix."""

    def __init__(self, client: redis.Redis, prefix: str = "kliping"):
        self._redis = client
        self._prefix = prefix

    def key(self, *parts: str) -> str:
        """A key under the prefix (see the module docstring for the layout)."""
        return ":".join((self._prefix, *parts))


class RedisDedupIndex(_RedisKeys):
    """DedupIndex over Redis keys: exact hashes, fingerprints, LSH bands, groups and stories."""

    def __init__(self, client: redis.Redis, prefix: str = "kliping"):
        super().__init__(client, prefix)
        self._claim = client.register_script(CLAIM_SCRIPT)
        self._repoint = client.register_script(REPOINT_SCRIPT)
        self._candidates = client.register_script(CANDIDATES_SCRIPT)
        self._stories_sharing = client.register_script(STORIES_SHARING_SCRIPT)

    @_translate_errors
    def find_exact(self, body_hash: str) -> str | None:
        """Canonical id registered for an identical body."""
        return _text(self._redis.get(self.key("dedup", "hash", body_hash)))

    @_translate_errors
    def candidates(self, bands: list[str]) -> set[str]:
        """Canonical ids sharing at least one LSH band (one script call: every band of every period)."""
        if not bands:
            return set()
        tokens = [band_token(band) for band in bands]
        return {
            _text(member) for member in self._candidates(keys=[], args=[self._prefix, _period(), *tokens])
        }

    @_translate_errors
    def fingerprint(self, article_id: str) -> Fingerprint | None:
        """The stored fingerprint of an article."""
        data = self._redis.execute_command("GET", self.key("dedup", "f", article_id), **{NEVER_DECODE: True})
        return unpack_fingerprint(article_id, data) if data else None

    def _claim_call(self, fp: Fingerprint, bands: list[str], seen: Collection[str] | None) -> dict:
        """Keys and arguments of CLAIM_SCRIPT for fp (what every registration sends)."""
        keys = [
            self.key("dedup", "hash", fp.body_hash),
            self.key("dedup", "f", fp.article_id),
            self.key("dedup", "group", fp.canonical_id),
            self.key("dedup", "f", fp.canonical_id),
        ]
        own = (
            [band_token(band) for band in bands] if fp.canonical_id == fp.article_id else []
        )  # copies stay out of the bands: no chaining
        check = "1" if seen is not None else "0"
        args = [
            fp.canonical_id,
            pack_fingerprint(fp),
            DEDUP_TTL_SECONDS,
            fp.article_id,
            check,
            self._prefix,
            _period(),
            len(own),
            *own,
            *(seen or ()),
        ]
        return {"keys": keys, "args": args}

    @_translate_errors
    def register(self, fp: Fingerprint, bands: list[str], seen: Collection[str] | None = None) -> Claim:
        """Register atomically (see CLAIM_SCRIPT); a canonical with `seen` first re-checks its bands."""
        reply = self._claim(**self._claim_call(fp, bands, seen))
        return _claim_of([_text(item) for item in reply])

    @_translate_errors
    def register_many(self, entries: Iterable[tuple[Fingerprint, list[str]]]) -> list[str | None]:
        """Claim many fingerprints in one pipelined round trip (bulk loads); the winner of each, in order."""
        pipe = self._redis.pipeline(transaction=False)
        for fp, bands in entries:
            self._claim(**self._claim_call(fp, bands, None), client=pipe)
        return [_claim_of([_text(item) for item in reply]).winner for reply in pipe.execute()]

    @_translate_errors
    def repoint(self, fp: Fingerprint, old_id: str, bands: list[str], old_bands: list[str]) -> Claim:
        """Make fp the canonical of old_id's group atomically (see REPOINT_SCRIPT)."""
        keys = [
            self.key("dedup", "f", old_id),
            self.key("dedup", "f", fp.article_id),
            self.key("dedup", "group", old_id),
            self.key("dedup", "group", fp.article_id),
            self.key("dedup", "hash", fp.body_hash),
        ]
        tokens = [band_token(band) for band in (*bands, *old_bands)]
        args: list[bytes | str | int | float] = [
            fp.article_id,
            pack_fingerprint(fp),
            DEDUP_TTL_SECONDS,
            old_id,
            self._prefix,
            _period(),
            len(bands),
            *tokens,
        ]
        return _claim_of([_text(item) for item in self._repoint(keys=keys, args=args)], fp.article_id)

    @_translate_errors
    def members(self, canonical_id: str) -> list[Fingerprint]:
        """Fingerprints of a canonical's copies (one SMEMBERS and one MGET)."""
        ids = sorted(_text(m) for m in self._redis.smembers(self.key("dedup", "group", canonical_id)))
        if not ids:
            return []
        payloads = self._redis.execute_command(
            "MGET", *[self.key("dedup", "f", member) for member in ids], **{NEVER_DECODE: True}
        )
        return [unpack_fingerprint(member, data) for member, data in zip(ids, payloads, strict=False) if data]

    @_translate_errors
    @_translate_errors
    def stories_sharing(
        self,
        terms: list[str],
        since: datetime,
        min_shared: int,
        until: datetime | None = None,
        others: Collection[str] = (),
        total: int = 0,
    ) -> list[StoryRecord]:
        """Stories of `since` to `until` (None: no end) with at least `min_shared` of the terms, and
        `total` of the terms and `others` together, oldest first (one script, one MGET).

        Only the terms' sorted sets are read; each story found is tested for the others one by one.
        Stories written before the term index existed are not seen; they leave the window within days.
        """
        keys = [self.key("stories", "term", term) for term in dict.fromkeys(terms)]
        if not keys:
            return []
        extra = [self.key("stories", "term", term) for term in dict.fromkeys(others) if term not in terms]
        reply = self._stories_sharing(
            keys=keys + extra,
            args=[_epoch(since), _epoch(until) if until else "+inf", min_shared, len(keys), total],
        )
        found = sorted(
            (float(at), _text(story_id)) for story_id, at in zip(reply[::2], reply[1::2], strict=False)
        )  # time, then id
        if not found:
            return []
        payloads = self._redis.mget([self.key("story", story_id) for _, story_id in found])
        return [StoryRecord.model_validate_json(data) for data in payloads if data]

    @_translate_errors
    def story_term_counts(
        self, terms: list[str], since: datetime, until: datetime | None, cap: int
    ) -> dict[str, int]:
        """Stories of the window per term key (ZCOUNT: a logarithmic count, exact; `cap` unused)."""
        terms = list(dict.fromkeys(terms))
        pipe = self._redis.pipeline(transaction=False)
        for term in terms:
            pipe.zcount(self.key("stories", "term", term), _epoch(since), _epoch(until) if until else "+inf")
        return dict(zip(terms, pipe.execute(), strict=True))

    @contextlib.contextmanager
    def story_lock(self) -> Iterator[None]:
        """A Redis lock around finding and creating a story (a canonical's few lookups, milliseconds):
        two workers storing two reports of one event at once cannot both found a story."""
        lock = self._redis.lock(self.key("stories", "lock"), timeout=STORY_LOCK_SECONDS)
        try:
            acquired = lock.acquire(blocking_timeout=STORY_LOCK_WAIT_SECONDS)
        except redis.RedisError as exc:
            raise BackendUnavailable(f"redis unavailable: {exc}", Reason.service_unavailable) from exc
        if not acquired:
            raise BackendUnavailable("the story lock stayed taken", Reason.service_unavailable)
        try:
            yield
        finally:
            with contextlib.suppress(redis.RedisError):  # expired or Redis away: it times out by itself
                lock.release()

    @_translate_errors
    def put_story(self, story: StoryRecord) -> None:
        """Create or refresh a story; forget stories older than the dedup window."""
        at = _epoch(story.published_at or utcnow())
        horizon = _epoch(utcnow() - timedelta(seconds=DEDUP_TTL_SECONDS))
        pipe = self._redis.pipeline(transaction=True)
        pipe.set(self.key("story", story.story_id), story.model_dump_json(), ex=DEDUP_TTL_SECONDS)
        pipe.zadd(self.key("stories"), {story.story_id: at})
        # Keep the sorted set bounded by time; back-filled old stories still live until their key expires.
        # Only a live story trims: a back-filled one (older than the window) trimming below its own
        # time dropped the stories of the other back-filled articles before they could join them.
        if at >= horizon:
            pipe.zremrangebyscore(self.key("stories"), "-inf", horizon - 1)
        pipe.expire(self.key("stories"), DEDUP_TTL_SECONDS)
        for term in story.index_terms():  # the term index, bounded the same way
            key = self.key("stories", "term", term)
            pipe.zadd(key, {story.story_id: at})
            if at >= horizon:
                pipe.zremrangebyscore(key, "-inf", horizon - 1)
            pipe.expire(key, DEDUP_TTL_SECONDS)
        pipe.execute()


class RedisStateStore(_RedisKeys):
    """StateStore over Redis hashes: latest outcome per input, counts, and the quarantine."""

    def __init__(self, client: redis.Redis, prefix: str = "kliping"):
        super().__init__(client, prefix)
        self._record = client.register_script(_RECORD_SCRIPT)

    @_translate_errors
    def record(self, result: InputResult) -> None:
        """Remember the latest outcome of an input (counts follow atomically)."""
        self._record(
            keys=[self.key("outcome", "latest"), self.key("outcomes")],
            args=[input_key(result.input), result.outcome.value],
        )

    @_translate_errors
    def quarantine(self, failed: FailedInput) -> None:
        """Keep a failed input for replay (attempts add up across replays)."""
        key = self.key("failed")

        def _update(pipe: redis.client.Pipeline) -> None:
            # WATCHed read-modify-write: two workers failing the same input cannot lose an attempt.
            previous = pipe.hget(key, failed.id)
            item = failed
            if previous:
                item = failed.model_copy(
                    update={"attempts": FailedInput.model_validate_json(previous).attempts + 1}
                )
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
