"""Fetch stage: one polite, bounded HTTP GET per URL, turned into a RawDocument.

Politeness: robots.txt (``workers.fetch.robots``), a per-host minimum interval shared by
all workers (``workers.fetch.ratelimit``), a User-Agent naming Kliping and a contact URL.
Safety: http(s) only, no private/loopback/link-local/multicast/reserved addresses on
any redirect hop, size and type limits, timeouts on every read and on the whole body.
The fetcher never sleeps to retry: it raises TransientError and the runner retries
with :func:`workers.retry.backoff_delay`.

Binary content served as text (NUL bytes, control characters) is a
``PermanentError(bad_encoding)``: the server lies about its content, which is worth
seeing in the quarantine rather than counted away as a skip; a real image or PDF with
an honest Content-Type is a ``SkipInput(unsupported_type)``.

Known limit: the host is resolved and checked, then httpx resolves it again to
connect, so a DNS-rebinding host could swap in a private address in between.
"""

from __future__ import annotations

import email.utils
import ipaddress
import logging
import re
import socket
import time
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

import httpx

from schemas import RawDocument, Reason
from workers.errors import PermanentError, SkipInput, TransientError
from workers.fetch.encoding import Decoded, decode_text
from workers.fetch.ratelimit import LocalRateLimiter, RateLimiter, RedisRateLimiter
from workers.fetch.robots import RobotsCache
from workers.settings import Settings

log = logging.getLogger(__name__)

__all__ = [
    "Decoded",
    "Fetcher",
    "LocalRateLimiter",
    "RateLimiter",
    "RedisRateLimiter",
    "decode_text",
    "is_public_address",
    "parse_retry_after",
    "parse_url",
]

HTML_TYPES = frozenset({"text/html", "application/xhtml+xml"})
FEED_TYPES = frozenset({"application/rss+xml", "application/atom+xml", "application/xml", "text/xml"})
ACCEPTED_TYPES = HTML_TYPES | FEED_TYPES | {"text/plain"}
_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,text/plain;q=0.8,*/*;q=0.1"
_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_KEPT_HEADERS = ("content-type", "etag", "last-modified", "content-language")
ROBOTS_MAX_BYTES = 500 * 1024  # RFC 9309 §2.5: crawlers must parse at least 500 KiB
# Feeds and sitemaps: the sitemap protocol allows 50 MB uncompressed per file (news sitemaps of
# big outlets reach 18 MB); the page cap (fetch_max_bytes) would refuse them.
FEED_MAX_BYTES = 50 * 1024 * 1024
# A sitemap.xml.gz is served as a file, not with Content-Encoding: these types are unpacked here.
GZIP_TYPES = frozenset(
    {"application/x-gzip", "application/gzip", "application/x-gunzip", "application/octet-stream"}
)

_HOST_NOT_FOUND = frozenset({socket.EAI_NONAME, getattr(socket, "EAI_NODATA", socket.EAI_NONAME)})
_HOST = re.compile(
    r"^(?:[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?\.)*[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?\.?$"
)


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds from a Retry-After header (delta-seconds or HTTP date); None if absent or invalid."""
    if not value or not value.strip():
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


def is_public_address(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    """True unless the address is private, loopback, link-local, multicast, reserved or unspecified."""
    if isinstance(ip, ipaddress.IPv6Address):
        # IPv4 wrapped in IPv6 (::ffff:10.0.0.1, 2002:0a00:0001::) reaches the IPv4 host
        embedded = ip.ipv4_mapped or ip.sixtofour
        if embedded is not None:
            return is_public_address(embedded)
    blocked = (
        ip.is_private
        or ip.is_loopback
        or ip.is_link_local
        or ip.is_multicast
        or ip.is_reserved
        or ip.is_unspecified
    )
    return ip.is_global and not blocked


def parse_url(url: str) -> httpx.URL:
    """Parse an absolute http(s) URL (fragment dropped) or raise PermanentError(invalid_input)."""
    text = url.strip() if isinstance(url, str) else ""
    try:
        parsed = httpx.URL(text)
        port = parsed.port
    except (httpx.InvalidURL, TypeError, ValueError) as exc:
        raise PermanentError(f"not a URL: {url!r} ({exc})", Reason.invalid_input) from exc
    if parsed.scheme not in ("http", "https"):
        raise PermanentError(f"not an http(s) URL: {url!r}", Reason.invalid_input)
    host = parsed.raw_host.decode("ascii").lower()
    if not (_HOST.match(host) or _ip(host)) or (port is not None and not 0 < port < 65536):
        raise PermanentError(f"not a valid host in URL: {url!r}", Reason.invalid_input)
    return parsed.copy_with(fragment=None)


def _ip(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


def _media_type(header: str | None) -> tuple[str, str | None]:
    if not header:
        return "", None
    media, *params = header.split(";")
    charset = None
    for param in params:
        key, _, value = param.partition("=")
        if key.strip().lower() == "charset":
            charset = value.strip().strip("\"'")
    return media.strip().lower(), charset


def _sniff_type(body: bytes) -> str | None:
    head = body[:1024].lstrip().lower()
    if head.startswith(b"<!doctype html") or b"<html" in head:
        return "text/html"
    if head.startswith(b"<?xml") or b"<rss" in head or b"<feed" in head:
        return "application/xml"
    return None


def _gunzip(data: bytes | bytearray, limit: int) -> bytes:
    """Unpack a gzip file, refusing more than `limit` bytes of output (a gzip bomb stops at the cap)."""
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
    try:
        out = inflater.decompress(data, limit + 1)
    except zlib.error as exc:
        # a truncated .gz still yields what was unpacked before the cut
        raise PermanentError(f"broken gzip file: {exc}", Reason.malformed) from exc
    if len(out) > limit:
        raise PermanentError(f"gzip file unpacks to more than {limit} bytes", Reason.too_large)
    return out


def _raise_for_status(response: httpx.Response) -> None:
    status, url = response.status_code, response.url
    if 200 <= status < 300:
        return
    if status == 404:
        raise SkipInput(f"404 Not Found: {url}", Reason.not_found)
    if status == 410:
        raise SkipInput(f"410 Gone: {url}", Reason.gone)
    if status in (429, 503):
        retry_after = parse_retry_after(response.headers.get("retry-after"))
        raise TransientError(f"HTTP {status} from {url}", Reason.service_unavailable, retry_after)
    if status >= 500:
        raise TransientError(f"HTTP {status} from {url}", Reason.unreachable)
    raise PermanentError(f"HTTP {status} from {url}", Reason.http_error)


@contextmanager
def _http_errors(url: httpx.URL) -> Iterator[None]:
    """Map httpx exceptions to pipeline errors."""
    try:
        yield
    except httpx.TimeoutException as exc:
        raise TransientError(f"timeout fetching {url}: {type(exc).__name__}", Reason.timeout) from exc
    except httpx.DecodingError as exc:
        raise PermanentError(f"bad Content-Encoding from {url}: {exc}", Reason.bad_encoding) from exc
    except (httpx.UnsupportedProtocol, httpx.InvalidURL) as exc:
        raise PermanentError(f"cannot request {url}: {exc}", Reason.invalid_input) from exc
    except httpx.HTTPError as exc:
        raise TransientError(f"cannot reach {url}: {type(exc).__name__}: {exc}", Reason.unreachable) from exc


def _user_agent(settings: Settings) -> str:
    agent = settings.user_agent.strip()
    if "kliping" not in agent.lower():
        agent = f"Kliping {agent}"
    if settings.contact_url not in agent:
        agent = f"{agent} (+{settings.contact_url})"
    return agent


class Fetcher:
    """Fetches one URL per call into a RawDocument; reuses one HTTP client (thread-safe)."""

    def __init__(
        self, settings: Settings, limiter: RateLimiter | None = None, client: httpx.Client | None = None
    ):
        self._settings = settings
        self._limiter = limiter or LocalRateLimiter()
        self._owns_client = client is None
        self._client = client or httpx.Client()
        # per request, not per client, so an injected client behaves the same
        self._headers = {"User-Agent": _user_agent(settings), "Accept": _ACCEPT}
        self._timeout = httpx.Timeout(settings.fetch_read_timeout, connect=settings.fetch_connect_timeout)
        self._robots = RobotsCache(self._load_robots, self._headers["User-Agent"])

    def __call__(self, url: str) -> RawDocument:
        """Fetch one page; raises SkipInput, PermanentError or TransientError instead of returning junk."""
        start = parse_url(url)
        response = self._follow(start, check_robots=self._settings.respect_robots)
        try:
            return self._document(url, start, response)
        finally:
            response.close()

    def feed(self, url: str, etag: str | None = None, last_modified: str | None = None) -> RawDocument | None:
        """Fetch a feed or sitemap for polling: conditional, up to FEED_MAX_BYTES, a gzip file unpacked; None on 304."""
        start, response = self._send_conditional(url, etag, last_modified)
        try:
            if response.status_code == 304:
                return None
            _raise_for_status(response)
            media, charset = _media_type(response.headers.get("content-type"))
            if media and media not in ACCEPTED_TYPES | GZIP_TYPES:
                raise SkipInput(f"unsupported content type {media} for a feed", Reason.unsupported_type)
            body: bytes | bytearray = self._read_growing(response, FEED_MAX_BYTES)
        finally:
            response.close()
        if body[:2] == b"\x1f\x8b":  # a .xml.gz file (its Content-Encoding, if any, httpx undid already)
            body = _gunzip(body, FEED_MAX_BYTES)
            media, charset = "", None
        decoded = decode_text(body, charset, is_html=media != "text/plain")
        del body
        return RawDocument(
            input=url,
            url=str(start),
            final_url=str(response.url),
            status=response.status_code,
            content_type="text/html" if media in HTML_TYPES else (media or "application/xml"),
            headers={name: response.headers[name] for name in _KEPT_HEADERS if name in response.headers},
            text=decoded.text,
        )

    def _send_conditional(
        self, url: str, etag: str | None, last_modified: str | None
    ) -> tuple[httpx.URL, httpx.Response]:
        """GET with the validators of an earlier answer (If-None-Match, If-Modified-Since)."""
        validators = {"If-None-Match": etag, "If-Modified-Since": last_modified}
        start = parse_url(url)
        response = self._follow(
            start,
            check_robots=self._settings.respect_robots,
            extra={k: v for k, v in validators.items() if v},
        )
        return start, response

    def _read_growing(self, response: httpx.Response, limit: int) -> bytearray:
        """Like _read_body, into one growing buffer: a 50 MB sitemap costs 50 MB, not twice that."""
        declared = response.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            raise PermanentError(f"body of {declared} bytes exceeds {limit}", Reason.too_large)
        deadline = time.monotonic() + self._settings.fetch_read_timeout
        body = bytearray()
        with _http_errors(response.url):
            for chunk in response.iter_bytes():
                body += chunk
                if len(body) > limit:
                    raise PermanentError(f"body exceeds {limit} bytes", Reason.too_large)
                if time.monotonic() > deadline:
                    raise TransientError(f"body of {response.url} too slow", Reason.timeout)
        return body

    def close(self) -> None:
        """Release the HTTP connections (an injected client is left to its owner)."""
        if self._owns_client:
            self._client.close()

    def __enter__(self) -> Fetcher:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _follow(
        self, url: httpx.URL, check_robots: bool, extra: dict[str, str] | None = None
    ) -> httpx.Response:
        """Send GET, following redirects by hand so every hop passes the same checks."""
        for _ in range(self._settings.fetch_max_redirects + 1):
            self._check_address(url)
            interval = self._settings.fetch_host_interval
            if check_robots:
                interval = max(interval, self._robots.check(url))
            self._limiter.wait(url.host, interval)
            headers = {**self._headers, **extra} if extra else self._headers
            request = self._client.build_request("GET", url, headers=headers, timeout=self._timeout)
            with _http_errors(url):
                response = self._client.send(request, stream=True, follow_redirects=False)
            location = response.headers.get("location")
            if response.status_code not in _REDIRECTS or not location:
                return response
            response.close()
            try:
                url = parse_url(str(url.join(location)))
            except PermanentError as exc:
                raise PermanentError(
                    f"redirect from {url} to an invalid URL: {exc}", Reason.http_error
                ) from exc
        raise PermanentError(f"more than {self._settings.fetch_max_redirects} redirects", Reason.http_error)

    def _check_address(self, url: httpx.URL) -> None:
        """Refuse hosts that resolve to non-public addresses (SSRF guard) unless allowed."""
        if self._settings.fetch_allow_private:
            return
        host = url.raw_host.decode("ascii")
        literal = _ip(host)
        if literal is not None:
            addresses = [literal]
        else:
            try:
                infos = socket.getaddrinfo(host, None, type=socket.SOCK_STREAM)
            except (UnicodeError, OSError) as exc:
                if isinstance(exc, socket.gaierror) and exc.errno in _HOST_NOT_FOUND:
                    raise PermanentError(f"host not found: {host}", Reason.unreachable) from exc
                raise TransientError(f"cannot resolve {host}: {exc}", Reason.unreachable) from exc
            addresses = [ipaddress.ip_address(str(info[4][0]).split("%", 1)[0]) for info in infos]
        # every address must be public: one internal A record among public ones is enough to refuse
        blocked = [str(a) for a in addresses if not is_public_address(a)]
        if blocked or not addresses:
            raise SkipInput(f"{host} resolves to a non-public address {blocked}", Reason.blocked_address)

    def _read_body(self, response: httpx.Response, limit: int, truncate: bool = False) -> bytes:
        """Stream the (decompressed) body, refusing or cutting it past `limit` bytes."""
        declared = response.headers.get("content-length", "")
        if not truncate and declared.isdigit() and int(declared) > limit:
            raise PermanentError(f"body of {declared} bytes exceeds {limit}", Reason.too_large)
        # httpx's read timeout bounds each read only; a server trickling bytes could hold
        # a worker forever, so the whole body must arrive within the read timeout too
        deadline = time.monotonic() + self._settings.fetch_read_timeout
        chunks, size = [], 0
        with _http_errors(response.url):
            # counted after decompression: a small gzip bomb is caught like a big page
            for chunk in response.iter_bytes():
                chunks.append(chunk)
                size += len(chunk)
                if size > limit:
                    if truncate:
                        break
                    raise PermanentError(f"body exceeds {limit} bytes", Reason.too_large)
                if time.monotonic() > deadline:
                    raise TransientError(f"body of {response.url} too slow", Reason.timeout)
        return b"".join(chunks)[:limit]

    def _document(self, url: str, start: httpx.URL, response: httpx.Response) -> RawDocument:
        _raise_for_status(response)
        media, charset = _media_type(response.headers.get("content-type"))
        if media and media not in ACCEPTED_TYPES:
            raise SkipInput(f"unsupported content type {media}", Reason.unsupported_type)
        body = self._read_body(response, self._settings.fetch_max_bytes)
        media = media or _sniff_type(body) or ""
        if not media:
            raise SkipInput("no Content-Type and not recognisable as HTML or XML", Reason.unsupported_type)
        decoded = decode_text(body, charset, is_html=media != "text/plain")
        headers = {name: response.headers[name] for name in _KEPT_HEADERS if name in response.headers}
        headers["x-kliping-charset"] = decoded.charset
        headers["x-kliping-charset-source"] = decoded.source
        log.debug("fetched %s → %s (%d bytes, %s)", url, response.url, len(body), decoded.charset)
        content_type = "text/html" if media in HTML_TYPES else media
        return RawDocument(
            input=url,
            url=str(start),
            final_url=str(response.url),
            status=response.status_code,
            content_type=content_type,
            headers=headers,
            text=decoded.text,
        )

    def _load_robots(self, robots_url: str) -> str | None:
        """robots.txt text, None when unavailable (allow all); TransientError when unreachable."""
        response = self._follow(parse_url(robots_url), check_robots=False)
        try:
            if response.status_code == 429 or response.status_code >= 500:
                _raise_for_status(response)
            if not 200 <= response.status_code < 300:
                return None
            body = self._read_body(response, ROBOTS_MAX_BYTES, truncate=True)
        finally:
            response.close()
        return body.decode("utf-8", errors="replace")
