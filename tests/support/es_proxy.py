"""A header-normalising reverse proxy in front of osmem-server (test-only).

The official Elasticsearch 8 client sends ``application/vnd.elasticsearch+json;
compatible-with=8`` media types, which osmem refuses. The proxy rewrites them to the
plain types so production code (and real worker subprocesses) use the PLAIN client
against the proxy URL.
"""

from __future__ import annotations

import http.client
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

_COMPATIBLE = re.compile(r"application/vnd\.elasticsearch\+(x-ndjson|json)\s*(;\s*compatible-with\s*=\s*\d+)?")
_HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade", "proxy-connection"}


def normalise_media_type(value: str) -> str:
    """``application/vnd.elasticsearch+json; compatible-with=8`` → ``application/json`` (ndjson alike)."""
    return _COMPATIBLE.sub(lambda m: f"application/{m.group(1)}", value)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as the client's urllib3 pool expects
    upstream: tuple[str, int]  # set on the subclass made per proxy

    def _forward(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else None
        headers = {}
        for name, value in self.headers.items():
            lower = name.lower()
            if lower in _HOP_BY_HOP or lower == "host":
                continue
            headers[name] = normalise_media_type(value) if lower in ("content-type", "accept") else value
        conn = http.client.HTTPConnection(*self.upstream, timeout=120)
        try:
            conn.request(self.command, self.path, body=body, headers=headers)
            response = conn.getresponse()
            payload = response.read()
            self.send_response(response.status, response.reason)
            for name, value in response.getheaders():
                if name.lower() in _HOP_BY_HOP or name.lower() == "content-length":
                    continue
                self.send_header(name, value)
            # The client checks the product header; osmem may not send it.
            if response.getheader("X-Elastic-Product") is None:
                self.send_header("X-Elastic-Product", "Elasticsearch")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(payload)
        except OSError as exc:
            self.send_error(502, f"upstream error: {exc}")
        finally:
            conn.close()

    do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = do_PATCH = _forward

    def log_message(self, format: str, *args) -> None:  # noqa: A002 - stdlib signature
        pass  # quiet: pytest output stays readable


class EsProxy:
    """A running proxy: ``url`` is what clients use; ``close()`` stops it."""

    def __init__(self, upstream_url: str, host: str = "127.0.0.1", port: int = 0):
        parts = urlsplit(upstream_url)
        handler = type("_BoundHandler", (_Handler,), {"upstream": (parts.hostname, parts.port or 80)})
        self._server = ThreadingHTTPServer((host, port), handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="es-proxy", daemon=True)
        self._thread.start()
        self.url = f"http://{host}:{self._server.server_address[1]}"

    def close(self) -> None:
        """Stop serving and release the port."""
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> "EsProxy":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def start_proxy(upstream_url: str) -> EsProxy:
    """Start a proxy in front of ``upstream_url`` on a free local port."""
    return EsProxy(upstream_url)
