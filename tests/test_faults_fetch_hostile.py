"""Hostile servers against the fetcher (issue 18): decompression bombs and headers dripped a byte at a time.

Against a real loopback server; the bombs also through `kliping ingest` in a subprocess whose
peak memory is read with resource accounting (RUSAGE_CHILDREN of a wrapper process that runs
only that ingest).
"""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
import time
import zlib
from pathlib import Path

import brotli
import pytest

from schemas import Reason
from tests.support.cli import cli_env, run_cli
from tests.support.fetching import make_fetcher, server  # noqa: F401 - fixtures
from workers.errors import PermanentError, SkipInput, TransientError
from workers.fetch.inflate import PIECE, inflate
from workers.settings import PROJECT_ROOT

BOMBS = PROJECT_ROOT / "tests" / "fixtures" / "bombs"
BROTLI_BOMB = (BOMBS / "zeros-1gib.br").read_bytes()  # 1,617 bytes, 1 GiB inflated
GZIP_GZIP_BOMB = (BOMBS / "zeros-1gib.gz.gz").read_bytes()  # 1,827 bytes, 1 GiB inflated twice over
# The bound on the peak RSS of `kliping ingest` on a 1 GiB bomb (2.2 GB before the fix).
MAX_PEAK_RSS_BYTES = 300 * 1024 * 1024
PAGE = b"<!doctype html><html><head><title>Banjir</title></head><body><p>Banjir di Jakarta.</p></body></html>"

# The wrapper: run one `kliping ingest --json URL`, print its output and the peak RSS of that child.
_MEASURE = """
import json, resource, subprocess, sys
done = subprocess.run([sys.executable, "-m", "workers.cli", "ingest", "--json", sys.argv[1]],
                      capture_output=True, text=True, timeout=300)
peak_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss  # KiB on Linux
print(json.dumps({"rc": done.returncode, "stdout": done.stdout, "stderr": done.stderr, "peak": peak_kib * 1024}))
"""


# --- decompression bombs -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "encoding"),
    [(BROTLI_BOMB, "br"), (GZIP_GZIP_BOMB, "gzip, gzip")],
    ids=["brotli", "gzip-gzip"],
)
def test_bomb_fails_too_large_without_inflating_it(server, make_fetcher, body, encoding):
    server.route("/bomb", body, headers={"Content-Encoding": encoding})
    with pytest.raises(PermanentError) as caught:
        make_fetcher(respect_robots=False)(server.url("/bomb"))
    assert caught.value.reason is Reason.too_large


def test_feed_bomb_fails_too_large(server, make_fetcher):
    server.route(
        "/feed.xml", BROTLI_BOMB, content_type="application/rss+xml", headers={"Content-Encoding": "br"}
    )
    with pytest.raises(PermanentError) as caught:
        make_fetcher(respect_robots=False).feed(server.url("/feed.xml"))
    assert caught.value.reason is Reason.too_large


def test_inflate_hands_on_bounded_pieces_of_every_layer():
    # one network read of 1.6 KB is 1 GiB inflated: every piece is about PIECE (brotli stops its
    # output buffer at the first growth step past the limit), never the whole
    sizes = []
    with pytest.raises(PermanentError):
        for piece in inflate([BROTLI_BOMB], "br", 10 * PIECE):
            sizes.append(len(piece))
    assert sizes and max(sizes) <= 2 * PIECE and sum(sizes) <= 10 * PIECE
    with pytest.raises(PermanentError):
        for piece in inflate([GZIP_GZIP_BOMB], "gzip, gzip", 10 * PIECE):
            assert len(piece) <= 2 * PIECE


@pytest.mark.parametrize(
    ("encoded", "encoding"),
    [
        (gzip.compress(PAGE), "gzip"),
        (gzip.compress(gzip.compress(PAGE)), "gzip, gzip"),
        (zlib.compress(PAGE), "deflate"),
        (zlib.compress(PAGE)[2:-4], "deflate"),  # raw deflate, as some servers send it
        (brotli.compress(PAGE), "br"),
        (gzip.compress(brotli.compress(PAGE)), "br, gzip"),
        (PAGE, "identity"),
    ],
)
def test_honest_encodings_still_decode(server, make_fetcher, encoded, encoding):
    server.route("/page", encoded, headers={"Content-Encoding": encoding})
    assert make_fetcher(respect_robots=False)(server.url("/page")).text == PAGE.decode()


def test_corrupt_encoding_is_bad_encoding(server, make_fetcher):
    server.route("/page", b"not gzip at all", headers={"Content-Encoding": "gzip"})
    with pytest.raises(PermanentError) as caught:
        make_fetcher(respect_robots=False)(server.url("/page"))
    assert caught.value.reason is Reason.bad_encoding


def _env(data: Path) -> dict[str, str]:
    return cli_env(data, fetch_allow_private="1", respect_robots="0")


@pytest.mark.slow
@pytest.mark.parametrize(
    ("body", "encoding"),
    [(BROTLI_BOMB, "br"), (GZIP_GZIP_BOMB, "gzip, gzip")],
    ids=["brotli", "gzip-gzip"],
)
def test_ingest_of_a_bomb_stays_small_and_ends_failed_too_large(server, tmp_path, body, encoding):
    server.route("/bomb", body, headers={"Content-Encoding": encoding})
    url = server.url("/bomb")
    measured = subprocess.run(
        [sys.executable, "-c", _MEASURE, url],
        cwd=PROJECT_ROOT,
        env=_env(tmp_path / "data"),
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert measured.returncode == 0, measured.stderr
    result = json.loads(measured.stdout)
    outcomes = [json.loads(line) for line in result["stdout"].splitlines() if line.startswith("{")]
    assert [(o["input"], o["outcome"], o["reason"].split(":")[0]) for o in outcomes] == [
        (url, "failed", "too_large")
    ]
    assert result["rc"] == 1, result["stderr"]
    print(f"peak RSS of kliping ingest on the 1 GiB {encoding} bomb: {result['peak'] / 2**20:.0f} MiB")
    assert result["peak"] < MAX_PEAK_RSS_BYTES
    # nothing lost: the input waits in the quarantine, replayable
    listed = run_cli(_env(tmp_path / "data"), "failed", "--json")
    assert url in listed.stdout, listed.stdout + listed.stderr


# --- no deadline before the body -----------------------------------------------------------------


READ_TIMEOUT = 0.6  # each dripped byte comes well inside it; the whole header does not


def _drip(server, path: str, content_type: str = "text/html; charset=utf-8") -> str:
    server.route(path, PAGE, content_type=content_type, header_drip=READ_TIMEOUT / 3)
    return server.url(path)


def _timed_out_within_three_read_timeouts(call) -> None:
    started = time.monotonic()
    with pytest.raises(PermanentError) as caught:  # not retried: a retry would drip as long again
        call()
    took = time.monotonic() - started
    assert caught.value.reason is Reason.timeout
    assert took < 3 * READ_TIMEOUT, f"outcome after {took:.1f} s"


def test_headers_dripped_a_byte_at_a_time_end_in_a_timeout(server, make_fetcher):
    fetcher = make_fetcher(respect_robots=False, fetch_read_timeout=READ_TIMEOUT)
    _timed_out_within_three_read_timeouts(lambda: fetcher(_drip(server, "/drip")))


def test_feed_fetch_shares_the_deadline(server, make_fetcher):
    fetcher = make_fetcher(respect_robots=False, fetch_read_timeout=READ_TIMEOUT)
    url = _drip(server, "/feed.xml", "application/rss+xml")
    _timed_out_within_three_read_timeouts(lambda: fetcher.feed(url))


def test_robots_fetch_shares_the_deadline(server, make_fetcher):
    _drip(server, "/robots.txt", "text/plain")
    server.route("/page", PAGE)
    fetcher = make_fetcher(respect_robots=True, fetch_read_timeout=READ_TIMEOUT)
    started = time.monotonic()
    try:  # robots.txt unreachable: whatever the policy says, it must be said in time
        fetcher(server.url("/page"))
    except (TransientError, PermanentError) as exc:
        assert exc.reason is Reason.timeout
    assert time.monotonic() - started < 3 * READ_TIMEOUT


def test_a_slow_redirect_chain_shares_one_deadline(server, make_fetcher):
    # every hop answers inside the read timeout; together they do not
    for hop in range(4):
        server.route(
            f"/hop{hop}",
            status=302,
            content_type=None,
            headers={"Location": f"/hop{hop + 1}"},
            delay=READ_TIMEOUT * 0.6,
        )
    server.route("/hop4", PAGE)
    fetcher = make_fetcher(respect_robots=False, fetch_read_timeout=READ_TIMEOUT)
    _timed_out_within_three_read_timeouts(lambda: fetcher(server.url("/hop0")))


def test_a_healthy_page_after_a_timeout_is_fetched(server, make_fetcher):
    fetcher = make_fetcher(respect_robots=False, fetch_read_timeout=READ_TIMEOUT)
    with pytest.raises(PermanentError):
        fetcher(_drip(server, "/drip"))
    server.route("/ok", PAGE)
    assert fetcher(server.url("/ok")).text == PAGE.decode()


# --- robots.txt patterns that would backtrack ------------------------------------------------------


@pytest.mark.timeout(60)  # a hang guard (the regex matcher took 54 s), not a speed measurement
def test_robots_wildcards_do_not_backtrack_on_a_real_fetch(server, make_fetcher):
    server.route(
        "/robots.txt", "User-agent: *\nAllow: **********/****.js\nDisallow: /\n", content_type="text/plain"
    )
    path = "/" + "a/" * 2000 + "b.css"
    server.route(path, PAGE)
    with pytest.raises(SkipInput) as caught:
        make_fetcher(respect_robots=True)(server.url(path))
    assert caught.value.reason is Reason.robots_disallowed
    server.route("/x/app.js", PAGE)
    assert make_fetcher(respect_robots=True)(server.url("/x/app.js")).status == 200


@pytest.mark.slow
def test_ingest_of_a_dripping_server_ends_failed_timeout_after_one_attempt(server, tmp_path):
    url = _drip(server, "/drip")
    env = {**_env(tmp_path / "data"), "KLIPING_FETCH_READ_TIMEOUT": str(READ_TIMEOUT)}
    done = run_cli(env, "ingest", "--json", url)
    [result] = [json.loads(line) for line in done.stdout.splitlines()]
    assert (result["outcome"], result["reason"].split(":")[0]) == ("failed", "timeout"), done.stderr
    failed = run_cli(env, "failed", "--json")
    [quarantined] = [json.loads(line) for line in failed.stdout.splitlines()]
    assert quarantined["input"] == url and quarantined["attempts"] == 1  # not retried: it would drip again
    assert server.hits("/drip") == 1


# --- the address is checked where the connection is made -------------------------------------------


def test_the_client_connects_only_to_checked_addresses(server):
    # what a DNS-rebinding host achieves: a request reaching the client after the URL was checked
    from workers.fetch.transport import client

    server.route("/", PAGE)
    with client(5.0) as guarded:
        for url in (server.url("/"), f"http://localhost:{server.port}/"):
            with pytest.raises(SkipInput) as caught:
                guarded.get(url)
            assert caught.value.reason is Reason.blocked_address
    assert server.requests == []
    with client(5.0, allow_private=True) as allowed:
        assert allowed.get(server.url("/")).status_code == 200
