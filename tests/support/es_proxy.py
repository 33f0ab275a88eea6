"""A header-normalising reverse proxy in front of osmem-server (test-only), with fault injection.

The official Elasticsearch 8 client sends ``application/vnd.elasticsearch+json;
compatible-with=8`` media types, which osmem refuses. The proxy rewrites them to the
plain types so production code (and real worker subprocesses) use the PLAIN client
against the proxy URL.

Faults (``proxy.faults``): ``down`` drops every connection unanswered (a cluster gone away);
``reject_item(doc_id)`` answers a bulk item, or a single-document write, with 429 instead of
forwarding it (a busy cluster); ``forbid(method, path)`` answers 403 ``security_exception`` as a
secured cluster does to a key without the privilege (osmem has no security).
``faults.log`` records every request for the assertions.
"""

from __future__ import annotations

import http.client
import json
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

_COMPATIBLE = re.compile(
    r"application/vnd\.elasticsearch\+(x-ndjson|json)\s*(;\s*compatible-with\s*=\s*\d+)?"
)
_HOP_BY_HOP = {
    "connection",
    "keep-alive",
    "transfer-encoding",
    "te",
    "trailer",
    "upgrade",
    "proxy-connection",
}


def normalise_media_type(value: str) -> str:
    """``application/vnd.elasticsearch+json; compatible-with=8`` → ``application/json`` (ndjson alike)."""
    return _COMPATIBLE.sub(lambda m: f"application/{m.group(1)}", value)


_REJECTED = {"type": "es_rejected_execution_exception", "reason": "rejected execution (queue full)"}


def _forbidden(method: str, path: str) -> bytes:
    """The body of Elasticsearch's 403 to an API key lacking a privilege."""
    reason = f"action [{method} {path}] is unauthorized for API key id [test] of user [kliping_worker]"
    cause = {"type": "security_exception", "reason": reason}
    return json.dumps({"error": {"root_cause": [cause], **cause}, "status": 403}).encode("utf-8")


_DOC_WRITE = re.compile(r"^/[^/]+/(?:_doc|_create)/([^/?]+)")


@dataclass
class Request:
    """One request the proxy saw."""

    method: str
    path: str
    at: float  # time.monotonic()
    dropped: bool = False  # answered by the `down` fault (connection closed)
    bulk_ids: list[str] = field(default_factory=list)  # document ids of a bulk request, as sent
    rejected: list[str] = field(default_factory=list)  # ids answered 429 by the proxy


@dataclass
class Faults:
    """What the proxy breaks, switchable while it runs; and what it saw."""

    down: bool = False
    reject_item: Callable[[str], bool] = lambda doc_id: False
    forbid: Callable[[str, str], bool] = lambda method, path: False
    log: list[Request] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, request: Request) -> None:
        """Append to the log (thread-safe)."""
        with self.lock:
            self.log.append(request)

    def requests(self, since: float = 0.0, until: float = float("inf")) -> list[Request]:
        """Requests seen in [since, until) (monotonic times)."""
        with self.lock:
            return [r for r in self.log if since <= r.at < until]


def _split_bulk(body: bytes) -> list[tuple[str, list[str]]]:
    """(document id, its ndjson lines) per item of a bulk body (a delete has no source line)."""
    lines = [line for line in body.decode("utf-8").splitlines() if line.strip()]
    items, n = [], 0
    while n < len(lines):
        op, meta = next(iter(json.loads(lines[n]).items()))
        size = 1 if op == "delete" else 2
        items.append((str(meta.get("_id")), lines[n : n + size]))
        n += size
    return items


def _bulk_answer(payload: bytes, order: list[str], rejected: set[str]) -> bytes:
    """The upstream bulk answer with a 429 item put back in place of each rejected one."""
    answer = json.loads(payload) if payload else {"took": 0, "items": []}
    items = iter(answer.get("items", []))
    merged = []
    for doc_id in order:
        if doc_id in rejected:
            merged.append({"index": {"_id": doc_id, "status": 429, "error": _REJECTED}})
        else:
            merged.append(next(items))
    answer["items"], answer["errors"] = merged, bool(rejected) or answer.get("errors", False)
    return json.dumps(answer).encode("utf-8")


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as the client's urllib3 pool expects
    # Headers and body go out in two writes: with Nagle on, the body waits for the client's
    # delayed ACK of the headers, 40 ms per request (measured: info() 44 ms through the proxy,
    # 0.6 ms direct), which made every Elasticsearch call of the distributed benchmark slow.
    disable_nagle_algorithm = True
    upstream: tuple[str, int]  # set on the subclass made per proxy
    faults: Faults

    def _forward(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else None
        seen = Request(self.command, self.path, time.monotonic())
        self.faults.record(seen)
        if self.faults.down:
            seen.dropped = True
            self.close_connection = True  # no answer at all: the client sees the connection drop
            return
        path = self.path.split("?")[0]
        if self.faults.forbid(self.command, path):
            return self._reply(
                403, "Forbidden", [("Content-Type", "application/json")], _forbidden(self.command, path)
            )
        order: list[str] = []
        if path.endswith("/_bulk") and body:
            items = _split_bulk(body)
            order = seen.bulk_ids = [doc_id for doc_id, _ in items]
            seen.rejected = [doc_id for doc_id in order if self.faults.reject_item(doc_id)]
            kept = [line for doc_id, lines in items if doc_id not in seen.rejected for line in lines]
            body = ("\n".join(kept) + "\n").encode("utf-8") if kept else None
            if body is None:
                return self._reply(200, "OK", [], _bulk_answer(b"", order, set(seen.rejected)))
        elif (
            (match := _DOC_WRITE.match(path))
            and self.command in ("PUT", "POST")
            and self.faults.reject_item(match.group(1))
        ):
            seen.rejected = [match.group(1)]
            error = json.dumps({"error": {"root_cause": [_REJECTED], **_REJECTED}, "status": 429}).encode(
                "utf-8"
            )
            return self._reply(429, "Too Many Requests", [("Content-Type", "application/json")], error)
        headers = {}
        for name, value in self.headers.items():
            lower = name.lower()
            if lower in _HOP_BY_HOP or lower in ("host", "content-length"):
                continue
            headers[name] = normalise_media_type(value) if lower in ("content-type", "accept") else value
        if body is not None:
            headers["Content-Length"] = str(len(body))
        conn = http.client.HTTPConnection(*self.upstream, timeout=120)
        try:
            conn.request(self.command, self.path, body=body, headers=headers)
            response = conn.getresponse()
            payload = response.read()
            if seen.rejected:
                payload = _bulk_answer(payload, order, set(seen.rejected))
            self._reply(response.status, response.reason, response.getheaders(), payload)
        except OSError as exc:
            self.send_error(502, f"upstream error: {exc}")
        finally:
            conn.close()

    def _reply(self, status: int, reason: str, headers: list[tuple[str, str]], payload: bytes) -> None:
        self.send_response(status, reason)
        for name, value in headers:
            if name.lower() in _HOP_BY_HOP or name.lower() == "content-length":
                continue
            self.send_header(name, value)
        # The client checks the product header; osmem may not send it.
        if not any(name.lower() == "x-elastic-product" for name, _ in headers):
            self.send_header("X-Elastic-Product", "Elasticsearch")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(payload)

    do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = do_PATCH = _forward

    def log_message(self, format: str, *args) -> None:  # noqa: A002 - stdlib signature
        pass  # quiet: pytest output stays readable


class EsProxy:
    """A running proxy: ``url`` is what clients use; ``close()`` stops it."""

    def __init__(self, upstream_url: str, host: str = "127.0.0.1", port: int = 0):
        parts = urlsplit(upstream_url)
        self.faults = Faults()
        handler = type(
            "_BoundHandler",
            (_Handler,),
            {"upstream": (parts.hostname, parts.port or 80), "faults": self.faults},
        )
        self._server = ThreadingHTTPServer((host, port), handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="es-proxy", daemon=True)
        self._thread.start()
        self.url = f"http://{host}:{self._server.server_address[1]}"

    def close(self) -> None:
        """Stop serving and release the port."""
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> EsProxy:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def start_proxy(upstream_url: str) -> EsProxy:
    """Start a proxy in front of ``upstream_url`` on a free local port."""
    return EsProxy(upstream_url)
