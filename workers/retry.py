"""The one retry policy: backoff with full jitter, and which transient errors may be retried.

Used by the fetcher (Retry-After), the embedded runner (in process), the Celery tasks and webhook delivery.
"""

from __future__ import annotations

import random
import time

from workers.errors import BackendUnavailable, TransientError
from workers.settings import Settings


def backoff_delay(
    attempt: int, base: float = 1.0, cap: float = 300.0, retry_after: float | None = None
) -> float:
    """Seconds to wait before retry number `attempt` (0-based): full jitter, or the server's Retry-After."""
    if retry_after is not None:
        # honour the server, plus up to `base` s of jitter so workers do not return in a herd
        return min(cap, max(0.0, retry_after) + random.uniform(0.0, base))
    ceiling = min(cap, base * 2.0 ** min(max(attempt, 0), 64))  # min(): no float overflow
    return random.uniform(0.0, ceiling)


def may_retry(
    exc: TransientError, attempt: int, first_failure: float, settings: Settings, now: float | None = None
) -> bool:
    """Whether a transient error is retried: outages of our services for a time, other errors a number of times."""
    if isinstance(exc, BackendUnavailable):
        return (time.time() if now is None else now) - first_failure < settings.outage_retry_seconds
    return attempt < settings.task_max_retries
