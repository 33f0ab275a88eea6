"""RedisDedupIndex and RedisStateStore against a real Redis server."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
import redis

from schemas import FailedInput, InputResult, Outcome, Reason
from workers.backends.redis.state import (
    BAND_PERIOD_SECONDS,
    BAND_PERIODS,
    DEDUP_TTL_SECONDS,
    RedisDedupIndex,
    RedisStateStore,
)
from workers.ports import Fingerprint, StoryRecord

BANDS = ["0:aa", "1:bb", "2:cc"]


@pytest.fixture
def client(redis_url):
    """A text-mode client on the test Redis, as the workers build it."""
    conn = redis.Redis.from_url(redis_url, decode_responses=True)
    yield conn
    conn.close()


@pytest.fixture
def dedup(client, redis_prefix) -> RedisDedupIndex:
    """A dedup index under this test's prefix."""
    return RedisDedupIndex(client, redis_prefix)


@pytest.fixture
def state(client, redis_prefix) -> RedisStateStore:
    """A state store under this test's prefix."""
    return RedisStateStore(client, redis_prefix)


def _fp(article_id: str, body_hash: str = "h1", canonical_id: str | None = None) -> Fingerprint:
    """A fingerprint; a canonical unless `canonical_id` names another article."""
    return Fingerprint(
        article_id=article_id,
        canonical_id=canonical_id or article_id,
        body_hash=body_hash,
        signature=[1, 2, 3, 4],
        shingles=40,
        outlet="Pantau",
    )


def test_claim_registers_a_canonical_with_its_bands_and_ttl(dedup, client, redis_prefix):
    assert dedup.register(_fp("a1"), BANDS).winner == "a1"
    assert dedup.find_exact("h1") == "a1"
    assert dedup.fingerprint("a1") == _fp("a1")
    assert dedup.candidates(BANDS[:1]) == {"a1"}
    assert dedup.candidates(["9:zz"]) == set()
    assert 0 < client.ttl(f"{redis_prefix}:dedup:hash:h1") <= DEDUP_TTL_SECONDS
    band_keys = list(client.scan_iter(f"{redis_prefix}:dedup:b:*"))
    assert len(band_keys) == len(BANDS)  # one bucket hash per band here
    assert all(0 < client.ttl(key) <= BAND_PERIODS * BAND_PERIOD_SECONDS for key in band_keys)


def test_claim_is_atomic_when_two_workers_race_the_same_body(dedup, redis_url, redis_prefix):
    # Each thread has its own connection, like two worker processes.
    racers = [RedisDedupIndex(redis.Redis.from_url(redis_url), redis_prefix) for _ in range(2)]
    barrier = threading.Barrier(2)
    winners: dict[str, str] = {}

    def race(index: RedisDedupIndex, article_id: str) -> None:
        barrier.wait()
        winners[article_id] = index.register(_fp(article_id, body_hash="same"), BANDS).winner

    threads = [threading.Thread(target=race, args=(racers[i], f"racer{i}")) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(set(winners.values())) == 1
    winner = winners["racer0"]
    loser = "racer1" if winner == "racer0" else "racer0"
    assert dedup.candidates(BANDS) == {winner}
    assert dedup.fingerprint(loser) is None  # the loser left no trace


def test_copies_are_stored_but_never_join_the_bands(dedup):
    dedup.register(_fp("canon"), BANDS)
    copy = _fp("copy", body_hash="h2", canonical_id="canon")
    assert dedup.register(copy, BANDS).winner == "canon"
    assert dedup.fingerprint("copy") == copy
    assert dedup.find_exact("h2") == "canon"
    assert dedup.candidates(BANDS) == {"canon"}


def test_story_lookup_keeps_to_its_window_oldest_first(dedup):
    now = datetime.now(UTC)
    terms = ["kursk", "jakarta", "korut"]
    dedup.put_story(StoryRecord(story_id="new", terms=["kursk"], published_at=now))
    dedup.put_story(StoryRecord(story_id="old", terms=["jakarta"], published_at=now - timedelta(days=10)))
    dedup.put_story(StoryRecord(story_id="mid", terms=["korut"], published_at=now - timedelta(days=1)))
    assert [s.story_id for s in dedup.stories_sharing(terms, now - timedelta(days=3), 1)] == ["mid", "new"]
    dedup.put_story(
        StoryRecord(story_id="mid", terms=["korut", "rusia"], published_at=now - timedelta(days=1))
    )
    assert dedup.stories_sharing(terms, now - timedelta(days=2), 1)[0].terms == ["korut", "rusia"]
    assert dedup.stories_sharing(terms, now + timedelta(days=1), 1) == []


def test_outcome_counts_follow_the_latest_outcome_of_each_input(state):
    state.record(InputResult(input="a.txt", outcome=Outcome.indexed))
    state.record(InputResult(input="b.txt", outcome=Outcome.indexed))
    assert state.outcome_counts() == {"indexed": 2}
    state.record(InputResult(input="a.txt", outcome=Outcome.unchanged))
    state.record(InputResult(input="a.txt", outcome=Outcome.unchanged))
    assert state.outcome_counts() == {"indexed": 1, "unchanged": 1}


def test_quarantine_round_trip(state):
    failed = FailedInput(id="f1", input="http://example.com/x", reason=Reason.timeout, error="read timed out")
    state.quarantine(failed)
    assert state.failed() == [failed]
    state.quarantine(failed)  # a replay that failed again
    assert state.failed()[0].attempts == 2
    state.release("f1")
    assert state.failed() == []


@pytest.mark.slow
def test_an_unreachable_redis_is_a_transient_error():
    from workers.errors import TransientError

    dead = redis.Redis(host="127.0.0.1", port=1, socket_connect_timeout=0.2)
    with pytest.raises(TransientError):
        RedisStateStore(dead, "x").outcome_counts()


def test_a_body_whose_owner_expired_can_be_claimed_again(dedup, client, redis_prefix):
    dedup.register(_fp("gone"), BANDS)
    client.delete(f"{redis_prefix}:dedup:f:gone")  # what the TTL does after the window
    assert dedup.register(_fp("fresh"), BANDS).winner == "fresh"
    assert dedup.find_exact("h1") == "fresh"


def test_back_filled_stories_do_not_trim_each_other(dedup):
    # Articles older than the window (a back-fill) must still find each other's stories.
    long_ago = datetime.now(UTC) - timedelta(seconds=3 * DEDUP_TTL_SECONDS)
    dedup.put_story(StoryRecord(story_id="first", terms=["kursk"], published_at=long_ago))
    dedup.put_story(
        StoryRecord(story_id="later", terms=["kursk"], published_at=long_ago + timedelta(hours=2))
    )
    found = dedup.stories_sharing(["kursk"], long_ago - timedelta(days=1), 1)
    assert [s.story_id for s in found] == ["first", "later"]
