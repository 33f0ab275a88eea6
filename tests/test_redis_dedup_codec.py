"""The compact Redis dedup layout: packed fingerprints, binary band entries, bulk registration."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
import redis

from workers.backends.redis.dedup_codec import (
    BAND_BUCKET_HEX,
    BAND_FIELD_BYTES,
    band_token,
    pack_fingerprint,
    unpack_fingerprint,
)
from workers.backends.redis.state import RedisDedupIndex
from workers.dedupe import NUM_PERM, bands
from workers.ports import Fingerprint

HEX_IDS = ["0123456789abcdef", "fedcba9876543210", "00000000000000ff"]
SIGNATURE = [(i * 2654435761) % 2**32 for i in range(NUM_PERM)]


def _fp(article_id: str, canonical_id: str | None = None, **extra) -> Fingerprint:
    extra.setdefault("body_hash", f"hash-{article_id}")
    return Fingerprint(
        article_id=article_id,
        canonical_id=canonical_id or article_id,
        signature=SIGNATURE,
        shingles=120,
        **extra,
    )


@pytest.fixture
def dedup(redis_url, redis_prefix):
    """A dedup index on a text-mode client, as the workers build it."""
    client = redis.Redis.from_url(redis_url, decode_responses=True)
    yield RedisDedupIndex(client, redis_prefix)
    client.close()


@pytest.mark.parametrize(
    "published_at",
    [
        None,
        datetime(2025, 4, 28, 9, 30, 15, 123456, tzinfo=UTC),
        datetime(2025, 4, 28, 16, 30, tzinfo=timezone(timedelta(hours=7))),
        datetime(2025, 4, 28, 9, 30),  # naive stays naive
    ],
)
def test_packed_fingerprint_round_trips_every_field(published_at):
    fp = _fp(
        "0123456789abcdef",
        canonical_id="fedcba9876543210",
        outlet="KOMPAS.com",
        url="https://www.kompas.com/read/2025/04/28/x",
        published_at=published_at,
        is_original=True,
    )
    back = unpack_fingerprint(fp.article_id, pack_fingerprint(fp))
    assert back == fp
    if published_at is not None:
        assert back.published_at.utcoffset() == published_at.utcoffset()  # same offset, or both naive


def test_packed_fingerprint_keeps_none_apart_from_empty():
    for outlet, url in [(None, None), ("", ""), ("Pantau", None)]:
        fp = _fp("a1", outlet=outlet, url=url)
        assert unpack_fingerprint("a1", pack_fingerprint(fp)) == fp


def test_a_packed_fingerprint_is_the_signature_plus_a_little():
    fp = _fp(
        "0123456789abcdef",
        outlet="Tribunnews",
        url="https://www.tribunnews.com/internasional/2025/04/28/korut",
    )
    assert len(pack_fingerprint(fp)) < NUM_PERM * 4 + 150


def test_band_token_is_a_hex_bucket_and_a_short_raw_field():
    token = band_token("3:0a1b2c3d4e5f")
    assert len(token) == BAND_BUCKET_HEX + BAND_FIELD_BYTES
    int(token[:BAND_BUCKET_HEX], 16)
    assert band_token("3:0a1b2c3d4e5f") == token != band_token("4:0a1b2c3d4e5f")


def test_hex_ids_are_stored_as_eight_bytes_and_read_back(dedup, redis_url, redis_prefix):
    keys = bands(SIGNATURE)
    for article_id in HEX_IDS:
        dedup.register(_fp(article_id), keys)
    dedup.register(_fp("not-hex"), keys)
    assert dedup.candidates(keys) == {*HEX_IDS, "not-hex"}
    raw = redis.Redis.from_url(redis_url)
    token = band_token(keys[0])
    [bucket] = list(raw.scan_iter(f"{redis_prefix}:dedup:b:*:{token[:BAND_BUCKET_HEX].decode()}"))
    value = raw.hget(bucket, token[BAND_BUCKET_HEX:])
    assert len(value) == 3 * (1 + 8) + 1 + len("not-hex")
    assert raw.object("encoding", bucket) == b"listpack"
    raw.close()


def test_a_repoint_takes_the_old_canonical_out_of_the_bands(dedup):
    old, new = HEX_IDS[:2]
    keys = bands(SIGNATURE)
    dedup.register(_fp(old), keys)
    dedup.register(_fp(HEX_IDS[2], canonical_id=old), [])
    claim = dedup.repoint(_fp(new), old, keys, keys)
    assert claim.winner == new
    assert dedup.candidates(keys) == {new}
    assert dedup.fingerprint(old).canonical_id == new
    assert dedup.fingerprint(HEX_IDS[2]).canonical_id == new
    assert dedup.find_exact(f"hash-{old}") == new
    assert {m.article_id for m in dedup.members(new)} == {old, HEX_IDS[2]}


def test_register_many_writes_what_register_writes(dedup, redis_url, redis_prefix):
    keys = bands(SIGNATURE)
    winners = dedup.register_many(
        [(_fp(article_id), keys) for article_id in HEX_IDS[:2]] + [(_fp("dup", body_hash="x"), keys)]
    )
    assert winners == HEX_IDS[:2] + ["dup"]
    assert dedup.candidates(keys) == {*HEX_IDS[:2], "dup"}
    assert dedup.fingerprint(HEX_IDS[0]) == _fp(HEX_IDS[0])
