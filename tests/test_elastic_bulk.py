"""Bulk indexing under back-pressure: an item refused with 429 is retried, a bad one is reported."""

from __future__ import annotations

import http.client
import json
import threading
import uuid
import warnings
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

import pytest

from schemas.elastic import index_template
from tests.support.osmem import osmem_template
from tests.test_elastic import LIVE, _article
from workers.backends.elastic import ElasticIndex, make_client
from workers.settings import Settings


class _RejectOnce(BaseHTTPRequestHandler):
    """Passes requests through; the first bulk request's item for `reject_id` is answered 429, not sent."""

    protocol_version = "HTTP/1.1"
    upstream: tuple[str, int]
    reject_id: str
    state: dict  # {"rejected": bool, "bulks": [list of ids per bulk request]}

    def _forward(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else None
        rejected_at = None
        if self.path.split("?")[0].endswith("/_bulk") and body:
            lines = body.decode("utf-8").splitlines()
            pairs = [lines[i:i + 2] for i in range(0, len(lines), 2)]
            ids = [next(iter(json.loads(action).values()))["_id"] for action, _ in pairs]
            self.state["bulks"].append(ids)
            if not self.state["rejected"] and self.reject_id in ids:
                self.state["rejected"] = True
                rejected_at = ids.index(self.reject_id)
                kept = [line for n, pair in enumerate(pairs) if n != rejected_at for line in pair]
                body = ("\n".join(kept) + "\n").encode("utf-8")
        headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "content-length", "connection")}
        if body is not None:
            headers["Content-Length"] = str(len(body))
        conn = http.client.HTTPConnection(*self.upstream, timeout=60)
        try:
            conn.request(self.command, self.path, body=body, headers=headers)
            response = conn.getresponse()
            payload = response.read()
            if rejected_at is not None:
                answer = json.loads(payload)
                answer["errors"] = True
                answer["items"].insert(rejected_at, {"index": {
                    "_id": self.reject_id, "status": 429,
                    "error": {"type": "es_rejected_execution_exception", "reason": "rejected execution (queue full)"},
                }})
                payload = json.dumps(answer).encode("utf-8")
            self.send_response(response.status)
            for name, value in response.getheaders():
                if name.lower() not in ("content-length", "connection", "transfer-encoding"):
                    self.send_header(name, value)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(payload)
        finally:
            conn.close()

    do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = _forward

    def log_message(self, format: str, *args) -> None:
        pass


@pytest.fixture
def rejecting(es_url) -> Iterator[tuple[str, dict]]:
    """(URL of a proxy in front of es_url that refuses article "a1" once with 429, its record)."""
    parts = urlsplit(es_url)
    state: dict = {"rejected": False, "bulks": []}
    handler = type("_Bound", (_RejectOnce,), {"upstream": (parts.hostname, parts.port or 80), "reject_id": "a1", "state": state})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", state
    server.shutdown()
    server.server_close()


def test_put_many_retries_a_429_item_and_reports_a_permanent_failure(rejecting):
    url, state = rejecting
    alias = f"kliping-bulk-{uuid.uuid4().hex[:8]}"
    index = ElasticIndex(make_client(Settings(elasticsearch_url=url, elasticsearch_timeout=30)), alias)
    index.setup(None if LIVE else osmem_template(index_template(alias)))
    articles = [_article(f"a{i}", f"Judul {i}", f"Isi berita nomor {i}.") for i in range(5)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pydantic warns when serialising the deliberately bad value
        articles[3] = articles[3].model_copy(update={"published_at": "not a date"})
        failures = index.put_many(articles)

    assert state["rejected"]
    assert state["bulks"] == [["a0", "a1", "a2", "a3", "a4"], ["a1"]]  # only the refused item is re-sent
    assert [(f.id, f.status) for f in failures] == [("a3", 400)]  # permanent: reported for quarantine
    index.refresh()
    assert index.count() == 4
    assert index.get("a1") == articles[1]
    if LIVE:
        index.client.indices.delete(index=f"{alias}-*")
