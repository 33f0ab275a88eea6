"""Compact binary encodings of the Redis dedup index: packed fingerprints and LSH band tokens.

Memory per indexed document is what limits the index (ops/benchmark_dedup.py measures it), so
the values Redis keeps are bytes, not JSON: a fingerprint is ~600 bytes instead of ~1 KB, a band
entry ~16 bytes instead of ~30.
"""

from __future__ import annotations

import hashlib
import struct
from datetime import UTC, datetime, timedelta, timezone

import numpy as np

from workers.ports import Fingerprint

# Band buckets: one hash per BAND_BUCKET_BITS-bit bucket of the band digest (band index mixed in,
# so all 64 bands share the buckets) and period. 2**18 buckets keep each hash under Redis's
# default 512-entry listpack limit (hash-max-listpack-entries) up to ~1.6 million canonicals a
# period (64 entries each: a mean of ~400, the fullest bucket below 512), and cost ~130 bytes of
# key overhead each (34 MB in all, 340 bytes a document at 100,000). Beyond that raise the bits.
BAND_BUCKET_BITS = 18
# Bytes of the band digest kept as the field inside a bucket: with the bucket, 42 bits tell two
# band values apart, so a million canonicals give a chance collision (one needless candidate,
# verified and dropped) in ~1 lookup in 60,000.
BAND_FIELD_BYTES = 3
BAND_BUCKET_HEX = (BAND_BUCKET_BITS + 3) // 4

# Packed fingerprint: "canonical_id\0body_hash\0outlet\0url\0" then _TAIL, then the signature as
# little-endian uint32. The Lua scripts read and rewrite only the first two fields.
_TAIL = struct.Struct("<BIqi")  # flags, shingles, published_at (µs since the epoch), its UTC offset (s)
_ORIGINAL, _PUBLISHED, _NAIVE, _OUTLET, _URL = 1, 2, 4, 8, 16
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def band_token(band: str) -> bytes:
    """The bucket (hex, the key's last part) and the field (raw bytes) of an LSH band, concatenated."""
    digest = hashlib.blake2b(band.encode("utf-8"), digest_size=3 + BAND_FIELD_BYTES).digest()
    bucket = int.from_bytes(digest[:3], "big") >> (24 - BAND_BUCKET_BITS)
    return f"{bucket:0{BAND_BUCKET_HEX}x}".encode("ascii") + digest[3:]


def pack_fingerprint(fp: Fingerprint) -> bytes:
    """A fingerprint as bytes (article id left out: it is the key)."""
    flags = (
        (_ORIGINAL if fp.is_original else 0)
        | (_OUTLET if fp.outlet is not None else 0)
        | (_URL if fp.url is not None else 0)
    )
    micros = offset = 0
    if fp.published_at is not None:
        flags |= _PUBLISHED
        moment = fp.published_at
        if moment.tzinfo is None:
            flags |= _NAIVE
            moment = moment.replace(tzinfo=UTC)
        offset = int(moment.utcoffset().total_seconds())  # type: ignore[union-attr]  # aware: set above
        micros = (moment - _EPOCH) // timedelta(microseconds=1)
    head = "\0".join((fp.canonical_id, fp.body_hash, fp.outlet or "", fp.url or "", "")).encode("utf-8")
    return (
        head
        + _TAIL.pack(flags, fp.shingles, micros, offset)
        + np.asarray(fp.signature, dtype="<u4").tobytes()
    )


def unpack_fingerprint(article_id: str, data: bytes) -> Fingerprint:
    """The Fingerprint of article_id from pack_fingerprint's bytes."""
    canonical_id, body_hash, outlet, url, rest = data.split(b"\0", 4)
    flags, shingles, micros, offset = _TAIL.unpack_from(rest)
    published_at = None
    if flags & _PUBLISHED:
        published_at = (_EPOCH + timedelta(microseconds=micros)).astimezone(
            timezone(timedelta(seconds=offset))
        )
        if flags & _NAIVE:
            published_at = published_at.replace(tzinfo=None)
    return Fingerprint(
        article_id=article_id,
        canonical_id=canonical_id.decode("utf-8"),
        body_hash=body_hash.decode("utf-8"),
        signature=np.frombuffer(rest[_TAIL.size :], dtype="<u4").tolist(),
        shingles=shingles,
        outlet=outlet.decode("utf-8") if flags & _OUTLET else None,
        url=url.decode("utf-8") if flags & _URL else None,
        published_at=published_at,
        is_original=bool(flags & _ORIGINAL),
    )
