"""Fetching: the fetcher (one polite, guarded GET per URL), robots.txt, per-host rate limits, text decoding."""

from workers.fetch.fetcher import (
    ACCEPTED_TYPES,
    FEED_TYPES,
    HTML_TYPES,
    Decoded,
    Fetcher,
    LocalRateLimiter,
    RateLimiter,
    RedisRateLimiter,
    decode_text,
    is_public_address,
    parse_retry_after,
    parse_url,
)
from workers.retry import backoff_delay

__all__ = [
    "ACCEPTED_TYPES",
    "FEED_TYPES",
    "HTML_TYPES",
    "Decoded",
    "Fetcher",
    "LocalRateLimiter",
    "RateLimiter",
    "RedisRateLimiter",
    "backoff_delay",
    "decode_text",
    "is_public_address",
    "parse_retry_after",
    "parse_url",
]
