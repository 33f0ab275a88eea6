"""A fetcher made at the first URL: a run over local files never imports httpx or opens a client."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

from schemas import RawDocument
from workers.settings import Settings

if TYPE_CHECKING:
    from workers.fetch.fetcher import Fetcher, RateLimiter


class LazyFetcher:
    """Callable like a Fetcher (URL → RawDocument); builds the Fetcher on the first call.

    `limiter` makes the rate limiter (called once, then); None: the process-local one.
    """

    def __init__(self, settings: Settings, limiter: Callable[[], RateLimiter] | None = None):
        self._settings = settings
        self._limiter = limiter
        self._fetcher: Fetcher | None = None
        self._lock = threading.Lock()

    @property
    def fetcher(self) -> Fetcher:
        """The Fetcher (built now when not yet)."""
        with self._lock:
            if self._fetcher is None:
                from workers.fetch.fetcher import Fetcher, LocalRateLimiter

                limiter = self._limiter() if self._limiter is not None else LocalRateLimiter()
                self._fetcher = Fetcher(self._settings, limiter)
            return self._fetcher

    def __call__(self, url: str) -> RawDocument:
        """Fetch one URL (see Fetcher.__call__)."""
        return self.fetcher(url)

    def close(self) -> None:
        """Close the Fetcher's client, if one was made."""
        if self._fetcher is not None:
            self._fetcher.close()
