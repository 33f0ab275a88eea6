"""Fetching: the fetcher (one polite, guarded GET per URL), robots.txt, per-host rate limits, text decoding.

The names are loaded on first use (PEP 562): importing ``workers.fetch.encoding`` to read a local
file must not import httpx (and through httpcore, trio when installed): ~0.1 s of a start.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
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
    "LazyFetcher",
    "LocalRateLimiter",
    "RateLimiter",
    "RedisRateLimiter",
    "backoff_delay",
    "decode_text",
    "is_public_address",
    "parse_retry_after",
    "parse_url",
]


def __getattr__(name: str) -> Any:
    if name == "backoff_delay":
        return importlib.import_module("workers.retry").backoff_delay
    if name == "LazyFetcher":
        return importlib.import_module("workers.fetch.lazy").LazyFetcher
    if name in __all__:
        return getattr(importlib.import_module("workers.fetch.fetcher"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
