"""A real local HTTP server for tests: fixture routes on 127.0.0.1, a random port, one thread per request.

with FixtureServer() as server:
    server.route("/a", body="<html>…</html>", content_type="text/html; charset=utf-8")
    server.route("/old", status=301, headers={"Location": "/a"})
    fetch(server.url("/old"))
    assert server.hits("/a") == 1
    server.route("/hook", statuses=[500], status=200)   # a webhook receiver failing once
"""

from __future__ import annotations

import gzip
import sys
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import brotli


@dataclass
class Route:
    """What the server answers on one path."""

    status: int = 200
    body: bytes = b""
    content_type: str | None = "text/html; charset=utf-8"
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  # seconds before the status line (read timeout tests)
    chunked: bool = False  # Transfer-Encoding: chunked, no Content-Length
    chunk_size: int = 8192
    trickle: float = 0.0  # seconds between chunks (slow-body tests); implies chunked
    gzip: bool = False  # Content-Encoding: gzip
    brotli: bool = False  # Content-Encoding: br
    statuses: list[int] = field(default_factory=list)  # answered first, one per request (500 then `status`)
    header_drip: float = 0.0  # seconds between bytes of the status line and headers (a deadline test)


@dataclass
class Hit:
    """One request the server received."""

    path: str
    headers: dict[str, str]
    at: float  # time.monotonic()
    method: str = "GET"
    body: bytes = b""  # request body (POST)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive and chunked bodies, like real servers
    server: _Server

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        self._serve(b"")

    def do_POST(self) -> None:  # noqa: N802 - http.server's naming (webhook receivers)
        length = int(self.headers.get("Content-Length") or 0)
        self._serve(self.rfile.read(length) if length else b"")

    do_PUT = do_POST  # noqa: N815 - http.server's naming (API stand-ins: ops/elasticsearch/security.sh)

    def _serve(self, body: bytes) -> None:
        headers = {k.lower(): v for k, v in self.headers.items()}
        self.server.record(Hit(self.path, headers, time.monotonic(), self.command, body))
        route = self.server.routes.get(self.path.split("?", 1)[0]) or Route(404, b"not found", "text/plain")
        try:
            self._answer(route, self.server.next_status(route))
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up on purpose (size limit, timeout)

    def _answer(self, route: Route, status: int) -> None:
        if route.delay:
            time.sleep(route.delay)
        if route.header_drip:
            self._drip_headers(route, status)
            return
        body, encoding = route.body, None
        if route.gzip:
            body, encoding = gzip.compress(route.body), "gzip"
        elif route.brotli:
            body, encoding = brotli.compress(route.body), "br"
        self.send_response(status)
        if route.content_type is not None:
            self.send_header("Content-Type", route.content_type)
        if encoding:
            self.send_header("Content-Encoding", encoding)
        for name, value in route.headers.items():
            self.send_header(name, value)
        if route.chunked or route.trickle:
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for start in range(0, len(body), route.chunk_size):
                chunk = body[start : start + route.chunk_size]
                self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                self.wfile.flush()
                if route.trickle:
                    time.sleep(route.trickle)
            self.wfile.write(b"0\r\n\r\n")
        else:
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    def _drip_headers(self, route: Route, status: int) -> None:
        """Status line and headers one byte at a time (each byte inside any read timeout), then the body."""
        head = f"HTTP/1.1 {status} OK\r\nContent-Type: {route.content_type}\r\n"
        head += "".join(f"{k}: {v}\r\n" for k, v in route.headers.items())
        head += f"Content-Length: {len(route.body)}\r\n\r\n"
        for byte in head.encode("latin-1"):
            self.wfile.write(bytes([byte]))
            self.wfile.flush()
            time.sleep(route.header_drip)
        self.wfile.write(route.body)

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - keep test output quiet
        pass


class _Server(ThreadingHTTPServer):
    daemon_threads = True  # a handler still sleeping must not block shutdown
    block_on_close = False

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.routes: dict[str, Route] = {}
        self.requests: list[Hit] = []
        self._lock = threading.Lock()

    def handle_error(self, request: object, client_address: object) -> None:
        if not isinstance(sys.exc_info()[1], ConnectionError):  # clients hanging up is normal here
            super().handle_error(request, client_address)

    def record(self, hit: Hit) -> None:
        with self._lock:
            self.requests.append(hit)

    def next_status(self, route: Route) -> int:
        with self._lock:
            return route.statuses.pop(0) if route.statuses else route.status


class FixtureServer:
    """A threaded HTTP server on 127.0.0.1 serving the routes it is given; a context manager."""

    def __init__(self) -> None:
        self._server = _Server()
        # a short poll interval: shutdown() waits up to one interval
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True)

    def __enter__(self) -> FixtureServer:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def start(self) -> None:
        """Serve in a background thread."""
        self._thread.start()

    def stop(self) -> None:
        """Stop serving and free the port."""
        self._server.shutdown()
        self._server.server_close()

    @property
    def port(self) -> int:
        """The port the server listens on."""
        return self._server.server_address[1]

    def url(self, path: str = "/") -> str:
        """Absolute URL of a path on this server."""
        return f"http://127.0.0.1:{self.port}{path}"

    def route(self, path: str, body: bytes | str = b"", **options: object) -> Route:
        """Serve `body` (str is UTF-8 encoded) on `path`; options are Route fields."""
        data = body.encode("utf-8") if isinstance(body, str) else body
        route = Route(body=data, **options)  # type: ignore[arg-type]
        self._server.routes[path] = route
        return route

    def redirect(self, path: str, location: str, status: int = 302) -> Route:
        """Answer `path` with a redirect to `location`."""
        return self.route(path, status=status, content_type=None, headers={"Location": location})

    @property
    def requests(self) -> list[Hit]:
        """Every request received so far, in order."""
        return list(self._server.requests)

    def hits(self, path: str) -> int:
        """How many requests `path` received (query string ignored)."""
        return sum(1 for hit in self._server.requests if hit.path.split("?", 1)[0] == path)
