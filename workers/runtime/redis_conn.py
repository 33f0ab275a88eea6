"""How Kliping reaches Redis: one server (``KLIPING_REDIS_URL``) or the master Redis Sentinels name.

The same choice serves all three clients: the Celery broker (kombu's ``redis://`` or ``sentinel://``
transport), the result backend (Celery's redis or sentinel backend) and Kliping's own state client
(``redis.Redis``, or ``redis.sentinel.Sentinel.master_for``). With Sentinels every client asks them
for the master whenever it (re)connects, and a connection to a demoted master fails (Sentinel
disconnects its clients; a write there answers READONLY, which redis-py turns into a connection
error), so after a failover the retries of each client land on the new master.

Redis Cluster is not supported: see ops/README.md (the multi-key Lua scripts would need hash tags).
"""

from __future__ import annotations

import socket
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from workers.settings import Settings

if TYPE_CHECKING:
    import redis

# Redis calls are short; a client stuck on a dead connection should fail fast and retry. Also the
# broker's and the result backend's timeout: without one, a publish or a result write on a
# half-open connection (a failover, a NAT or firewall dropping the flow) waits forever.
REDIS_SOCKET_TIMEOUT = 10.0
# redis-py pings a connection idle this long before using it again (the state client).
REDIS_HEALTH_CHECK_SECONDS = 30
# The broker's: also the period of kombu's checks of its BRPOP and pub/sub connections; a consumer
# on a half-open connection recovers within 1 + 2 × this many seconds (kombu 5.7's transport docs).
BROKER_HEALTH_CHECK_SECONDS = 10
# TCP keepalive probes on idle connections (Linux): a peer gone without a FIN is noticed after about
# 60 + 3 × 10 s instead of the kernel's default two hours.
KEEPALIVE_IDLE, KEEPALIVE_INTERVAL, KEEPALIVE_COUNT = 60, 10, 3
DEFAULT_SENTINEL_PORT = 26379


def keepalive_options() -> dict[int, int]:
    """socket_keepalive_options for redis-py where the platform has the TCP keepalive knobs."""
    names = {
        "TCP_KEEPIDLE": KEEPALIVE_IDLE,
        "TCP_KEEPINTVL": KEEPALIVE_INTERVAL,
        "TCP_KEEPCNT": KEEPALIVE_COUNT,
    }
    return {getattr(socket, name): value for name, value in names.items() if hasattr(socket, name)}


def sentinel_hosts(settings: Settings) -> list[tuple[str, int]]:
    """The Sentinels of ``KLIPING_REDIS_SENTINELS`` ("host:port,host:port"; port 26379 when left out)."""
    hosts = []
    for item in (settings.redis_sentinels or "").split(","):
        item = item.strip()
        if not item:
            continue
        host, colon, port = item.rpartition(":")
        if not colon or host.endswith(":"):  # no port given (a bare IPv6 address has colons too)
            host, port = item, ""
        hosts.append((host.strip("[]"), int(port) if port else DEFAULT_SENTINEL_PORT))
    return hosts


def _url_parts(settings: Settings) -> dict[str, Any]:
    """Database and credentials of KLIPING_REDIS_URL (the only parts of it used with Sentinels)."""
    from redis.connection import parse_url

    if not settings.redis_url:
        return {"db": 0}
    parts = parse_url(settings.redis_url)
    found = {key: parts[key] for key in ("username", "password") if parts.get(key)}
    return {"db": int(parts.get("db") or 0), **found}


def broker_url(settings: Settings) -> str:
    """The broker and result-backend URL: KLIPING_REDIS_URL, or ``sentinel://`` URLs of every Sentinel."""
    if not settings.redis_sentinels:
        return settings.redis_url or "redis://localhost:6379/0"
    parts = _url_parts(settings)
    user = quote(parts.get("username") or "", safe="")
    auth = f"{user}:{quote(parts['password'], safe='')}@" if parts.get("password") else ""
    # kombu and Celery take the master's credentials and database from the first URL, the
    # Sentinels' addresses from all of them.
    hosts = [(f"[{host}]" if ":" in host else host, port) for host, port in sentinel_hosts(settings)]
    return ";".join(f"sentinel://{auth}{host}:{port}/{parts['db']}" for host, port in hosts)


def sentinel_options(settings: Settings) -> dict[str, Any]:
    """Transport options naming the master (broker and result backend); empty without Sentinels."""
    if not settings.redis_sentinels:
        return {}
    options: dict[str, Any] = {"master_name": settings.redis_sentinel_master}
    sentinel_kwargs: dict[str, Any] = {"socket_timeout": REDIS_SOCKET_TIMEOUT}
    if settings.redis_sentinel_password:
        sentinel_kwargs["password"] = settings.redis_sentinel_password
    options["sentinel_kwargs"] = sentinel_kwargs
    return options


def redis_client(settings: Settings) -> redis.Redis:
    """A Redis client for Kliping's shared state (text replies, health-checked connections)."""
    import redis

    connection: dict[str, Any] = {
        "decode_responses": True,
        "socket_timeout": REDIS_SOCKET_TIMEOUT,
        "socket_connect_timeout": REDIS_SOCKET_TIMEOUT,
        "socket_keepalive": True,
        "socket_keepalive_options": keepalive_options(),
        "health_check_interval": REDIS_HEALTH_CHECK_SECONDS,
        "retry_on_timeout": True,
    }
    if settings.redis_sentinels:
        from redis.sentinel import Sentinel

        sentinels = Sentinel(
            sentinel_hosts(settings), sentinel_kwargs=sentinel_options(settings)["sentinel_kwargs"]
        )
        return sentinels.master_for(settings.redis_sentinel_master, **connection, **_url_parts(settings))
    if not settings.redis_url:
        raise ValueError("KLIPING_REDIS_URL (or KLIPING_REDIS_SENTINELS) is not set")
    return redis.Redis.from_url(settings.redis_url, **connection)
