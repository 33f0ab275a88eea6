"""An HTTP client whose every socket operation honours one deadline for the whole fetch.

httpx bounds each read by the read timeout, not a response: a server sending its status line
and headers one byte a second, each byte inside the timeout, would hold a worker forever (the
body has its own checks, the headers had none). Here the network streams clamp the timeout of
each connect, TLS handshake, write and read to what is left of the deadline set by
:func:`deadline` around a fetch, and raise a timeout once it has passed: status line, headers,
body, redirects and the robots.txt fetched on the way all fit in it, whatever the server does.

The deadline is per thread (a worker thread fetches one URL at a time); outside :func:`deadline`
the streams behave like httpx's own. The backend also checks the address it connects to
(workers.fetch.guard), closing the window a DNS-rebinding host had between check and connect.
"""

from __future__ import annotations

import ssl
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

import httpcore
import httpx

from workers.fetch.guard import public_addresses

_local = threading.local()


@contextmanager
def deadline(seconds: float) -> Iterator[None]:
    """Everything sent and received inside must be done within `seconds` (an outer, earlier deadline wins)."""
    outer: float | None = getattr(_local, "at", None)
    at = time.monotonic() + seconds
    _local.at = at if outer is None else min(outer, at)
    try:
        yield
    finally:
        _local.at = outer


@contextmanager
def paused() -> Iterator[None]:
    """Time spent inside (our own rate-limit wait, not the server's doing) does not count against the deadline."""
    started = time.monotonic()
    try:
        yield
    finally:
        at = getattr(_local, "at", None)
        if at is not None:
            _local.at = at + (time.monotonic() - started)


def remaining() -> float | None:
    """Seconds left before the current deadline (None: no deadline)."""
    at = getattr(_local, "at", None)
    return None if at is None else at - time.monotonic()


def _clamp(timeout: float | None) -> float | None:
    left = remaining()
    if left is None:
        return timeout
    if left <= 0:
        raise httpcore.ReadTimeout("the fetch took longer than its deadline")
    return left if timeout is None else min(timeout, left)


class _Stream(httpcore.NetworkStream):
    """A network stream whose operations end by the deadline."""

    def __init__(self, inner: httpcore.NetworkStream):
        self._inner = inner

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._inner.read(max_bytes, _clamp(timeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._inner.write(buffer, _clamp(timeout))

    def close(self) -> None:
        self._inner.close()

    def start_tls(
        self, ssl_context: ssl.SSLContext, server_hostname: str | None = None, timeout: float | None = None
    ) -> httpcore.NetworkStream:
        return _Stream(self._inner.start_tls(ssl_context, server_hostname, _clamp(timeout)))

    def get_extra_info(self, info: str) -> Any:
        return self._inner.get_extra_info(info)


class _Backend(httpcore.NetworkBackend):
    """httpcore's synchronous backend, its streams wrapped in _Stream.

    Unless private addresses are allowed, a host is resolved and checked here (workers.fetch.guard)
    and the connection goes to an address that passed: the check before the request and the
    connection can no longer see two different answers (DNS rebinding).
    """

    def __init__(self, allow_private: bool) -> None:
        self._inner = httpcore.SyncBackend()
        self._allow_private = allow_private

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        if not self._allow_private:
            host = str(public_addresses(host)[0])
        return _Stream(self._inner.connect_tcp(host, port, _clamp(timeout), local_address, socket_options))

    def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Iterable[Any] | None = None
    ) -> httpcore.NetworkStream:
        return _Stream(self._inner.connect_unix_socket(path, _clamp(timeout), socket_options))

    def sleep(self, seconds: float) -> None:
        self._inner.sleep(seconds)


class _Transport(httpx.HTTPTransport):
    """httpx's transport over the deadline-aware backend (same pool settings as httpx's defaults)."""

    def __init__(self, allow_private: bool) -> None:
        super().__init__()
        # httpx builds its connection pool without a way to pass a network backend: build it again
        # with ours (tests/test_fetch_deadline.py fails if a new httpx stops using this pool).
        self._pool = httpcore.ConnectionPool(
            ssl_context=httpx.create_ssl_context(),
            max_connections=100,
            max_keepalive_connections=20,
            keepalive_expiry=5.0,
            network_backend=_Backend(allow_private),
        )


def client(timeout: httpx.Timeout | float | None = None, allow_private: bool = False) -> httpx.Client:
    """An httpx.Client whose requests honour :func:`deadline` and connect only to public addresses
    unless `allow_private` (no proxies from the environment: they would connect for us)."""
    return httpx.Client(transport=_Transport(allow_private), timeout=timeout, trust_env=False)
