"""Fetch stage: one polite, bounded HTTP GET per URL, turned into a RawDocument.

Politeness: robots.txt (``workers.fetch.robots``), a per-host minimum interval shared by
all workers (``workers.fetch.ratelimit``), a User-Agent naming Kliping and a contact URL.
Safety: http(s) only, no private/loopback/link-local/multicast/reserved addresses on
any redirect hop (``workers.fetch.guard``), size and type limits counted on the inflated body as
it is inflated (``workers.fetch.inflate``), a timeout on every read and one deadline for the whole
fetch, status line and headers included (``workers.fetch.transport``).
The fetcher never sleeps to retry: it raises TransientError and the runner retries
with :func:`workers.retry.backoff_delay`.

Binary content served as text (NUL bytes, control characters) is a
``PermanentError(bad_encoding)``: the server lies about its content, which is worth
seeing in the quarantine rather than counted away as a skip; a real image or PDF with
an honest Content-Type is a ``SkipInput(unsupported_type)``.
"""

from __future__ import annotations

import email.utils
import logging
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

import httpx

from schemas import RawDocument, Reason
from workers.errors import PermanentError, SkipInput, TransientError
from workers.fetch.encoding import Decoded, decode_text
from workers.fetch.guard import check_address, is_public_address, parse_url
from workers.fetch.inflate import PIECE, inflate
from workers.fetch.ratelimit import LocalRateLimiter, RateLimiter, RedisRateLimiter
from workers.fetch.robots import RobotsCache
from workers.fetch.transport import client as deadline_client
from workers.fetch.transport import deadline, paused, remaining
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
# A whole fetch (robots.txt, redirects, status line, headers, body) must end within this many read
# timeouts, whatever the server does: a page at a healthy pace takes a fraction of one; a server
# dripping its headers a byte at a time gets its outcome (a timeout) well within three.
FETCH_DEADLINE_READ_TIMEOUTS = 2.0
# A timeout this close to the fetch deadline is the deadline's (socket timeouts are clamped to it).
DEADLINE_SLACK_SECONDS = 0.1


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


def _sniff_type(body: bytes | bytearray) -> str | None:
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
        left = remaining()
        if left is not None and left <= DEADLINE_SLACK_SECONDS:
            # bytes kept coming, too slowly to ever make an answer: trying again right away
            # would hold a worker as long again (failed, replayable with `kliping retry`)
            raise PermanentError(
                f"no complete answer from {url} within the fetch deadline (sent too slowly)", Reason.timeout
            ) from exc
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
        # the deadline of a whole fetch holds with this client only (an injected one keeps its own timeouts)
        self._client = client or deadline_client(allow_private=settings.fetch_allow_private)
        self._deadline = FETCH_DEADLINE_READ_TIMEOUTS * settings.fetch_read_timeout
        # per request, not per client, so an injected client behaves the same
        self._headers = {"User-Agent": _user_agent(settings), "Accept": _ACCEPT}
        self._timeout = httpx.Timeout(settings.fetch_read_timeout, connect=settings.fetch_connect_timeout)
        self._robots = RobotsCache(self._load_robots, self._headers["User-Agent"])

    def __call__(self, url: str) -> RawDocument:
        """Fetch one page; raises SkipInput, PermanentError or TransientError instead of returning junk."""
        start = parse_url(url)
        with deadline(self._deadline):
            response = self._follow(start, check_robots=self._settings.respect_robots)
            try:
                return self._document(url, start, response)
            finally:
                response.close()

    def feed(self, url: str, etag: str | None = None, last_modified: str | None = None) -> RawDocument | None:
        """Fetch a feed or sitemap for polling: conditional, up to FEED_MAX_BYTES, a gzip file unpacked; None on 304."""
        with deadline(self._deadline):
            start, response = self._send_conditional(url, etag, last_modified)
            try:
                if response.status_code == 304:
                    return None
                _raise_for_status(response)
                media, charset = _media_type(response.headers.get("content-type"))
                if media and media not in ACCEPTED_TYPES | GZIP_TYPES:
                    raise SkipInput(f"unsupported content type {media} for a feed", Reason.unsupported_type)
                body: bytes | bytearray = self._read_body(response, FEED_MAX_BYTES)
            finally:
                response.close()
        if body[:2] == b"\x1f\x8b":  # a .xml.gz file (its Content-Encoding, if any, was undone already)
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
            check_address(url, self._settings.fetch_allow_private)
            interval = self._settings.fetch_host_interval
            if check_robots:
                interval = max(interval, self._robots.check(url))
            with paused():  # our own politeness wait is not the server's time
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

    def _read_body(self, response: httpx.Response, limit: int, truncate: bool = False) -> bytearray:
        """Read and inflate the body into one growing buffer, refusing (or cutting) it past `limit` bytes.

        Counted as it is inflated, piece by piece: a brotli or stacked-gzip bomb stops at the cap
        without ever being inflated whole. The fetch deadline bounds the time (workers.fetch.transport).
        """
        declared = response.headers.get("content-length", "")
        if not truncate and declared.isdigit() and int(declared) > limit:
            raise PermanentError(f"body of {declared} bytes exceeds {limit}", Reason.too_large)
        body = bytearray()
        encoding = response.headers.get("content-encoding")
        with _http_errors(response.url):
            # truncating: room for the piece that crosses the cap, which is then cut
            for piece in inflate(response.iter_raw(), encoding, limit + PIECE if truncate else limit):
                body += piece
                if truncate and len(body) >= limit:
                    del body[limit:]
                    break
        return body

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
