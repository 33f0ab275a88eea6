"""Per-host politeness: a minimum interval between two requests to one host.

Both limiters *reserve* the next free slot for a host and then sleep until it, so
concurrent callers queue up one interval apart instead of racing each other.
"""

from __future__ import annotations

import threading
import time
from typing import Protocol

from schemas import Reason
from workers.errors import TransientError

# Above this many tracked hosts the local limiter forgets hosts whose slot is past;
# keeps memory flat on a long crawl over many domains.
_LOCAL_PRUNE_AT = 10_000

# Redis keys outlive their slot by this margin so a slow caller still sees them.
_REDIS_KEY_MARGIN_MS = 1_000

# KEYS[1] = the host's key, ARGV[1] = interval in ms. Returns how many ms the
# caller must wait. Uses the Redis server clock so workers on different machines
# agree on time (their own clocks may drift). Atomic: Lua scripts run alone. Needs
# Redis >= 5 (TIME before a write is allowed since scripts replicate their effects).
_RESERVE_SCRIPT = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local interval = tonumber(ARGV[1])
local next_free = tonumber(redis.call('GET', KEYS[1]) or '0')
local slot = math.max(now, next_free)
redis.call('SET', KEYS[1], slot + interval, 'PX', slot + interval - now + tonumber(ARGV[2]))
return slot - now
"""


class RateLimiter(Protocol):
    """Blocks until a host may be hit again."""

    def wait(self, host: str, min_interval: float) -> None:
        """Block until `host` may receive a request, at least `min_interval` s after the previous one."""
        ...


class LocalRateLimiter:
    """In-process, thread-safe limiter (embedded mode)."""

    def __init__(self) -> None:
        self._next_free: dict[str, float] = {}
        self._lock = threading.Lock()

    def wait(self, host: str, min_interval: float) -> None:
        """Block until `host` may receive a request, at least `min_interval` s after the previous one."""
        with self._lock:
            now = time.monotonic()
            slot = max(now, self._next_free.get(host, 0.0))
            self._next_free[host] = slot + max(0.0, min_interval)
            if len(self._next_free) > _LOCAL_PRUNE_AT:
                self._prune(now)
        # sleep outside the lock: other hosts must not wait behind this one
        if slot > now:
            time.sleep(slot - now)

    def _prune(self, now: float) -> None:
        for host in [h for h, t in self._next_free.items() if t <= now]:
            del self._next_free[host]


class RedisRateLimiter:
    """Limiter shared by all workers through Redis: one atomic slot reservation per request."""

    def __init__(self, redis_client, prefix: str = "kliping") -> None:
        self._redis = redis_client
        self._prefix = prefix
        self._reserve = redis_client.register_script(_RESERVE_SCRIPT)

    def key(self, host: str) -> str:
        """The Redis key holding the next free slot of `host`."""
        return f"{self._prefix}:ratelimit:{host}"

    def wait(self, host: str, min_interval: float) -> None:
        """Block until `host` may receive a request, at least `min_interval` s after the previous one."""
        import redis  # only the distributed mode needs the client library

        interval_ms = max(0, round(min_interval * 1000))
        try:
            delay_ms = int(self._reserve(keys=[self.key(host)], args=[interval_ms, _REDIS_KEY_MARGIN_MS]))
        except redis.RedisError as exc:
            raise TransientError(f"rate limiter unavailable: {exc}", Reason.service_unavailable) from exc
        if delay_ms > 0:
            time.sleep(delay_ms / 1000)
