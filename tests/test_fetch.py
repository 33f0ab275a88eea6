"""The fetch stage against a real local HTTP server: statuses, redirects, address safety, robots, network errors."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import httpx
import pytest

from schemas import Reason
from tests.support.fetching import (  # noqa: F401 - fixtures
    PAGE,
    RecordingLimiter,
    fetch,
    free_port,
    make_fetcher,
    make_settings,
    server,
)
from workers.errors import PermanentError, SkipInput, TransientError

# --- success -------------------------------------------------------------------------


def test_ok_page(server, fetch):
    server.route("/berita", PAGE, headers={"ETag": '"v1"', "Last-Modified": "Sat, 26 Apr 2025 10:00:00 GMT"})
    doc = fetch(server.url("/berita"))
    assert doc.input == doc.url == doc.final_url == server.url("/berita")
    assert doc.status == 200
    assert doc.content_type == "text/html"
    assert doc.text == PAGE
    assert doc.headers["etag"] == '"v1"'
    assert doc.headers["last-modified"] == "Sat, 26 Apr 2025 10:00:00 GMT"
    assert doc.headers["content-type"] == "text/html; charset=utf-8"
    assert (doc.headers["x-kliping-charset"], doc.headers["x-kliping-charset-source"]) == ("utf-8", "header")


def test_request_headers_name_kliping_and_accept_compression(server, fetch):
    server.route("/", PAGE)
    fetch(server.url("/"))
    headers = server.requests[-1].headers
    settings = make_settings()
    assert "Kliping" in headers["user-agent"] and settings.contact_url in headers["user-agent"]
    assert all(coding in headers["accept-encoding"] for coding in ("gzip", "deflate", "br"))
    assert "text/html" in headers["accept"]


def test_user_agent_gets_name_and_contact_when_settings_lack_them(server, make_fetcher):
    server.route("/", PAGE)
    make_fetcher(user_agent="MyBot/2", contact_url="mailto:ops@example.org")(server.url("/"))
    agent = server.requests[-1].headers["user-agent"]
    assert "Kliping" in agent and "mailto:ops@example.org" in agent and "MyBot/2" in agent


def test_gzip_body_is_decompressed(server, fetch):
    server.route("/gz", PAGE, gzip=True)
    assert fetch(server.url("/gz")).text == PAGE


def test_brotli_body_is_decompressed(server, fetch):
    server.route("/br", PAGE, brotli=True)
    assert fetch(server.url("/br")).text == PAGE


def test_input_kept_as_given_and_fragment_dropped(server, fetch):
    server.route("/a", PAGE)
    given = "  " + server.url("/a#komentar") + "\n"
    doc = fetch(given)
    assert doc.input == given
    assert doc.url == server.url("/a")


@pytest.mark.parametrize(
    ("content_type", "expected"),
    [
        ("application/xhtml+xml", "text/html"),
        ("text/plain; charset=utf-8", "text/plain"),
        ("application/rss+xml", "application/rss+xml"),
        ("application/atom+xml", "application/atom+xml"),
        ("application/xml", "application/xml"),
        ("TEXT/XML; charset=UTF-8", "text/xml"),
    ],
)
def test_accepted_content_types(server, fetch, content_type, expected):
    server.route("/doc", "<?xml version='1.0'?><rss><channel/></rss>", content_type=content_type)
    assert fetch(server.url("/doc")).content_type == expected


def test_missing_content_type_is_sniffed(server, fetch):
    server.route("/html", PAGE, content_type=None)
    server.route("/blob", b"just some bytes", content_type=None)
    assert fetch(server.url("/html")).content_type == "text/html"
    with pytest.raises(SkipInput) as exc:
        fetch(server.url("/blob"))
    assert exc.value.reason is Reason.unsupported_type


# --- redirects and address safety ----------------------------------------------------


def test_redirect_chain(server, fetch):
    server.redirect("/a", "/b", status=301)
    server.redirect("/b", server.url("/c"), status=302)  # absolute
    server.redirect("/c", "d", status=307)  # relative to /c
    server.route("/d", PAGE)
    doc = fetch(server.url("/a"))
    assert doc.url == server.url("/a")
    assert doc.final_url == server.url("/d")
    assert doc.text == PAGE


def test_redirect_limit(server, make_fetcher):
    server.redirect("/loop", "/loop")
    server.redirect("/one", "/two")
    server.redirect("/two", "/end")
    server.route("/end", PAGE)
    with pytest.raises(PermanentError) as exc:
        make_fetcher()(server.url("/loop"))
    assert exc.value.reason is Reason.http_error
    assert server.hits("/loop") == make_settings().fetch_max_redirects + 1
    with pytest.raises(PermanentError):
        make_fetcher(fetch_max_redirects=1)(server.url("/one"))
    assert make_fetcher(fetch_max_redirects=2)(server.url("/one")).final_url == server.url("/end")


def test_redirect_to_non_http_scheme_is_refused(server, fetch):
    server.redirect("/ftp", "ftp://example.org/file")
    with pytest.raises(PermanentError) as exc:
        fetch(server.url("/ftp"))
    assert exc.value.reason is Reason.http_error


def test_loopback_refused_without_allow_private(server, make_fetcher):
    server.route("/", PAGE)
    fetcher = make_fetcher(fetch_allow_private=False)
    for url in (server.url("/"), f"http://localhost:{server.port}/", f"http://[::1]:{server.port}/"):
        with pytest.raises(SkipInput) as exc:
            fetcher(url)
        assert exc.value.reason is Reason.blocked_address
    assert server.requests == []  # refused before any connection, robots.txt included


@pytest.mark.parametrize(
    "target", ["http://127.0.0.1:{port}/ok", "http://localhost:{port}/ok", "http://10.1.2.3/"]
)
def test_redirect_from_public_host_to_private_is_refused(server, make_fetcher, target):
    # a public IP literal needs no DNS; a mock transport plays that host and redirects inward
    server.route("/ok", PAGE)
    seen: list[str] = []

    def public_host(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url))
        return httpx.Response(302, headers={"Location": target.format(port=server.port)})

    client = httpx.Client(transport=httpx.MockTransport(public_host))
    fetcher = make_fetcher(client=client, fetch_allow_private=False, respect_robots=False)
    with pytest.raises(SkipInput) as exc:
        fetcher("http://93.184.216.34/start")
    assert exc.value.reason is Reason.blocked_address
    assert seen == ["http://93.184.216.34/start"]
    assert server.hits("/ok") == 0
    client.close()


# --- statuses ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "error", "reason"),
    [
        (404, SkipInput, Reason.not_found),
        (410, SkipInput, Reason.gone),
        (403, PermanentError, Reason.http_error),
        (400, PermanentError, Reason.http_error),
        (500, TransientError, Reason.unreachable),
        (502, TransientError, Reason.unreachable),
        (503, TransientError, Reason.service_unavailable),
        (429, TransientError, Reason.service_unavailable),
        (304, PermanentError, Reason.http_error),
    ],
)
def test_status_mapping(server, fetch, status, error, reason):
    server.route("/s", "status page", status=status)
    with pytest.raises(error) as exc:
        fetch(server.url("/s"))
    assert exc.value.reason is reason


def test_503_retry_after_seconds(server, fetch):
    server.route("/busy", "later", status=503, headers={"Retry-After": "120"})
    with pytest.raises(TransientError) as exc:
        fetch(server.url("/busy"))
    assert exc.value.retry_after == 120.0


def test_429_retry_after_http_date(server, fetch):
    when = datetime.now(UTC) + timedelta(seconds=90)
    server.route(
        "/slow-down", "later", status=429, headers={"Retry-After": format_datetime(when, usegmt=True)}
    )
    with pytest.raises(TransientError) as exc:
        fetch(server.url("/slow-down"))
    assert 80 <= exc.value.retry_after <= 91


def test_503_without_retry_after(server, fetch):
    server.route("/busy", "later", status=503)
    with pytest.raises(TransientError) as exc:
        fetch(server.url("/busy"))
    assert exc.value.retry_after is None


# --- robots.txt ----------------------------------------------------------------------


ROBOTS = """
User-agent: *
Disallow: /

User-agent: Kliping
Disallow: /private
Disallow: /*?search=
Allow: /private/public-*
Crawl-delay: 2.5
"""


def test_robots_disallow_allow_and_crawl_delay(server, make_fetcher):
    server.route("/robots.txt", ROBOTS, content_type="text/plain")
    for path in ("/news", "/private/secret", "/private/public-page", "/cari"):
        server.route(path, PAGE)
    limiter = RecordingLimiter()
    fetcher = make_fetcher(limiter=limiter, fetch_host_interval=1.0)
    assert fetcher(server.url("/news")).status == 200
    assert fetcher(server.url("/private/public-page")).status == 200
    for path in ("/private/secret", "/cari?search=kursk"):
        with pytest.raises(SkipInput) as exc:
            fetcher(server.url(path))
        assert exc.value.reason is Reason.robots_disallowed
    assert server.hits("/robots.txt") == 1  # cached per host
    assert server.hits("/private/secret") == 0
    # robots.txt itself at the base interval, each page at the (larger) crawl delay
    assert limiter.calls == [("127.0.0.1", 1.0), ("127.0.0.1", 2.5), ("127.0.0.1", 2.5)]


def test_robots_checked_on_every_redirect_hop(server, fetch):
    server.route("/robots.txt", "User-agent: *\nDisallow: /hidden\n", content_type="text/plain")
    server.redirect("/open", "/hidden/page")
    with pytest.raises(SkipInput) as exc:
        fetch(server.url("/open"))
    assert exc.value.reason is Reason.robots_disallowed
    assert server.hits("/hidden/page") == 0


def test_robots_404_allows_all(server, fetch):
    server.route("/page", PAGE)  # no /robots.txt route: the server answers 404
    assert fetch(server.url("/page")).status == 200
    assert server.hits("/robots.txt") == 1


@pytest.mark.parametrize("status", [500, 503, 429])
def test_robots_unreachable_is_transient_and_page_not_fetched(server, fetch, status):
    server.route("/robots.txt", "down", status=status, headers={"Retry-After": "30"})
    server.route("/page", PAGE)
    with pytest.raises(TransientError):
        fetch(server.url("/page"))
    with pytest.raises(TransientError):
        fetch(server.url("/page"))
    assert server.hits("/page") == 0
    assert server.hits("/robots.txt") == 1  # the failure is cached briefly too


def test_robots_ignored_when_not_respected(server, make_fetcher):
    server.route("/robots.txt", "User-agent: *\nDisallow: /\n", content_type="text/plain")
    server.route("/page", PAGE)
    assert make_fetcher(respect_robots=False)(server.url("/page")).status == 200
    assert server.hits("/robots.txt") == 0


def test_rate_limiter_called_before_every_request(server, make_fetcher):
    server.redirect("/a", "/b")
    server.route("/b", PAGE)
    limiter = RecordingLimiter()
    make_fetcher(limiter=limiter, fetch_host_interval=0.5)(server.url("/a"))
    assert limiter.calls == [("127.0.0.1", 0.5)] * 3  # robots.txt, /a, /b
    assert len(server.requests) == 3


# --- network failures and bad input --------------------------------------------------


def test_read_timeout(server, make_fetcher):
    server.route("/sleepy", PAGE, delay=1.5)
    with pytest.raises(TransientError) as exc:
        make_fetcher(fetch_read_timeout=0.3, respect_robots=False)(server.url("/sleepy"))
    assert exc.value.reason is Reason.timeout


def test_trickling_body_hits_the_body_deadline(server, make_fetcher):
    # each chunk arrives well within the read timeout, the whole body does not
    server.route("/drip", "x" * 40, content_type="text/plain", chunk_size=1, trickle=0.05)
    with pytest.raises(PermanentError) as exc:  # the fetch deadline: not retried, it would trickle again
        make_fetcher(fetch_read_timeout=0.5, respect_robots=False)(server.url("/drip"))
    assert exc.value.reason is Reason.timeout


def test_unreachable_port(fetch):
    with pytest.raises(TransientError) as exc:
        fetch(f"http://127.0.0.1:{free_port()}/")
    assert exc.value.reason is Reason.unreachable


@pytest.mark.parametrize(
    "url",
    [
        "",
        "   ",
        "not a url",
        "example.com/berita",
        "//example.com/x",
        "ftp://example.com/f",
        "javascript:alert(1)",
        "mailto:redaksi@example.com",
        "file:///etc/passwd",
        "http://",
        "http:///path",
        "http://exa mple.com/",
        "http://a..b/",
        "http://example.com:99999/",
    ],
)
def test_not_a_url(fetch, url):
    with pytest.raises(PermanentError) as exc:
        fetch(url)
    assert exc.value.reason is Reason.invalid_input


def test_close_leaves_an_injected_client_open(server, make_fetcher):
    server.route("/", PAGE)
    client = httpx.Client()
    make_fetcher(client=client).close()
    assert not client.is_closed
    client.close()
