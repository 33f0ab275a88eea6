"""robots.txt parsing (RFC 9309 matching) and the per-origin cache."""

from __future__ import annotations

import httpx
import pytest

from schemas import Reason
from workers.errors import PermanentError, SkipInput, TransientError
from workers.fetch.robots import MAX_CRAWL_DELAY, ROBOTS_ERROR_TTL, RobotsCache, RobotsRules

AGENT = "Kliping/0.1 (+https://github.com/kliping/kliping)"


def rules(text: str, agent: str = AGENT) -> RobotsRules:
    return RobotsRules.parse(text, agent)


def test_empty_and_allow_all():
    assert rules("").is_allowed("/anything")
    assert RobotsRules.allow_all().is_allowed("/x?y=1")
    assert rules("User-agent: *\nDisallow:\n").is_allowed("/")  # empty Disallow allows everything


def test_own_group_beats_star_and_groups_merge():
    text = """
    User-agent: *
    Disallow: /

    User-agent: googlebot
    User-agent: KLIPING
    Disallow: /admin

    User-agent: kliping
    Disallow: /tmp
    """
    robots = rules(text)
    assert robots.is_allowed("/berita/2025")
    assert not robots.is_allowed("/admin/login")
    assert not robots.is_allowed("/tmp/x")
    assert not rules(text, "OtherBot/1.0").is_allowed("/berita")


def test_agent_token_is_matched_whole():
    # "Kliping" must not pick up a group for "KlipingNews", nor the reverse
    robots = rules("User-agent: KlipingNews\nDisallow: /\n\nUser-agent: *\nDisallow: /x\n")
    assert robots.is_allowed("/berita") and not robots.is_allowed("/x")


def test_longest_match_wins_and_allow_wins_ties():
    robots = rules("User-agent: *\nDisallow: /berita\nAllow: /berita/publik\nAllow: /page\nDisallow: /page\n")
    assert not robots.is_allowed("/berita/rahasia")
    assert robots.is_allowed("/berita/publik/1")
    assert robots.is_allowed("/page")


def test_wildcards_and_end_anchor():
    robots = rules("User-agent: *\nDisallow: /*?search=\nDisallow: /*.pdf$\nDisallow: /a*/b\n")
    assert not robots.is_allowed("/cari?search=kursk")
    assert robots.is_allowed("/cari?q=kursk")
    assert not robots.is_allowed("/files/laporan.pdf")
    assert robots.is_allowed("/files/laporan.pdf?download=1")
    assert not robots.is_allowed("/abc/b/c")
    assert robots.is_allowed("/b")


def test_percent_encoding_compared_as_google_does():
    robots = rules("User-agent: *\nDisallow: /berita%20lama\nDisallow: /%7euser\nDisallow: /a%2Fb\n")
    assert not robots.is_allowed("/berita%20lama/1")
    assert not robots.is_allowed("/%7Euser/page")  # escapes compare in upper case
    assert robots.is_allowed("/~user/page")  # nothing is decoded (Google: %62%61%7A is not baz)
    assert not robots.is_allowed("/a%2fb/c")
    assert robots.is_allowed("/a/b/c")  # %2F stays distinct from /


def test_comments_case_bom_and_junk_lines():
    text = "\ufeff# robots\nUSER-AGENT: * # all\nDISALLOW: /private # no\nnonsense line\nSitemap: https://x.id/s.xml\n"
    robots = rules(text)
    assert not robots.is_allowed("/private")
    assert robots.sitemaps == ["https://x.id/s.xml"]


def test_rules_before_any_user_agent_are_ignored():
    assert rules("Disallow: /\nUser-agent: *\nDisallow: /x\n").is_allowed("/berita")


def test_robots_txt_itself_is_always_allowed():
    assert rules("User-agent: *\nDisallow: /\n").is_allowed("/robots.txt")


def test_crawl_delay():
    assert rules("User-agent: *\nCrawl-delay: 3\n").crawl_delay == 3.0
    assert (
        rules("User-agent: kliping\nCrawl-delay: 1.5\n\nUser-agent: *\nCrawl-delay: 9\n").crawl_delay == 1.5
    )
    assert rules("User-agent: *\nCrawl-delay: soon\n").crawl_delay is None
    assert rules("User-agent: *\nCrawl-delay: -1\n").crawl_delay is None


class FakeLoader:
    """Stands in for the fetcher's robots.txt download."""

    def __init__(self, result):
        self.result = result
        self.urls: list[str] = []

    def __call__(self, url: str) -> str | None:
        self.urls.append(url)
        if isinstance(self.result, Exception):
            raise self.result
        return self.result


def test_cache_fetches_once_per_origin():
    loader = FakeLoader("User-agent: *\nDisallow: /private\nCrawl-delay: 4\n")
    cache = RobotsCache(loader, AGENT)
    assert cache.check(httpx.URL("https://kompas.com/a")) == 4.0
    assert cache.check(httpx.URL("https://kompas.com/b?x=1")) == 4.0
    with pytest.raises(SkipInput) as exc:
        cache.check(httpx.URL("https://kompas.com/private/1"))
    assert exc.value.reason is Reason.robots_disallowed
    cache.check(httpx.URL("http://kompas.com/a"))  # another origin: another robots.txt
    cache.check(httpx.URL("https://kompas.com:8443/a"))
    assert loader.urls == [
        "https://kompas.com/robots.txt",
        "http://kompas.com/robots.txt",
        "https://kompas.com:8443/robots.txt",
    ]


def test_cache_expires_after_ttl():
    loader = FakeLoader("")
    cache = RobotsCache(loader, AGENT, ttl=0.0)
    cache.check(httpx.URL("https://detik.com/a"))
    cache.check(httpx.URL("https://detik.com/b"))
    assert len(loader.urls) == 2


def test_crawl_delay_is_capped():
    cache = RobotsCache(FakeLoader("User-agent: *\nCrawl-delay: 86400\n"), AGENT)
    assert cache.check(httpx.URL("https://slow.example/a")) == MAX_CRAWL_DELAY


def test_unavailable_robots_allows_all():
    assert RobotsCache(FakeLoader(None), AGENT).check(httpx.URL("https://x.id/a")) == 0.0
    redirect_loop = FakeLoader(PermanentError("too many redirects", Reason.http_error))
    assert RobotsCache(redirect_loop, AGENT).check(httpx.URL("https://x.id/a")) == 0.0


def test_unreachable_robots_is_transient_and_cached_briefly():
    loader = FakeLoader(TransientError("HTTP 503", Reason.service_unavailable, retry_after=30.0))
    cache = RobotsCache(loader, AGENT)
    for _ in range(2):
        with pytest.raises(TransientError) as exc:
            cache.check(httpx.URL("https://down.example/a"))
        # held for the server's Retry-After; the retry is told to wait that long
        assert 29.0 < exc.value.retry_after <= 30.0
        assert exc.value.reason is Reason.service_unavailable and "robots.txt" in str(exc.value)
    assert len(loader.urls) == 1


def test_unreachable_robots_is_asked_again_after_the_error_ttl():
    loader = FakeLoader(TransientError("connection refused", Reason.unreachable))
    cache = RobotsCache(loader, AGENT, error_ttl=0.0)
    for _ in range(2):
        with pytest.raises(TransientError):
            cache.check(httpx.URL("https://down.example/a"))
    assert len(loader.urls) == 2
    held = RobotsCache(loader, AGENT)
    with pytest.raises(TransientError) as exc:
        held.check(httpx.URL("https://down.example/a"))
    assert 0.0 < exc.value.retry_after <= ROBOTS_ERROR_TTL


# Cases documented by Google's open-source robots.txt parser (its unit tests and the
# "How Google interprets the robots.txt specification" page), restated here: (robots.txt, agent,
# path, allowed).
GOOGLE_CASES = [
    # groups: consecutive user-agent lines share rules; a Sitemap line does not split them
    ("User-agent: FooBot\nSitemap: /s.xml\nUser-agent: BarBot\nDisallow: /\n", "BarBot", "/x", False),
    ("User-agent: FooBot\nSitemap: /s.xml\nUser-agent: BarBot\nDisallow: /\n", "FooBot", "/x", False),
    ("User-agent: FooBot\nDisallow: /\nUser-agent: BarBot\nAllow: /\n", "FooBot", "/x", False),
    ("User-agent: FooBot\nDisallow: /\nUser-agent: BarBot\nAllow: /\n", "BarBot", "/x", True),
    # case-insensitive directive names and agent, case-sensitive paths
    ("USER-AGENT: FooBot\nDISALLOW: /x/\n", "foobot", "/x/y", False),
    ("User-agent: FooBot\nDisallow: /X/\n", "FooBot", "/x/y", True),
    # accepted typos and a missing colon
    ("User agent: FooBot\nDisallow: /\n", "FooBot", "/x", False),
    ("Useragent: FooBot\nDissallow: /\n", "FooBot", "/x", False),
    ("User-agent: FooBot\nDisalow: /a\nDiasllow: /b\nDisallaw: /c\n", "FooBot", "/c", False),
    ("User-agent FooBot\nDisallow /\n", "FooBot", "/x", False),
    ("User-agent: FooBot\nDisallow / extra\n", "FooBot", "/x", True),  # three words: not a line
    # agent token: leading letters, '-' and '_' only
    ("User-agent: Foo Bar\nDisallow: /\n", "Foo", "/x", False),
    ("User-agent: FooBot/1.2\nDisallow: /\n", "FooBot", "/x", False),
    # the global group only when no specific group names us
    ("User-agent: *\nDisallow: /\nUser-agent: FooBot\nAllow: /\n", "FooBot", "/x", True),
    ("User-agent: *\nDisallow: /\nUser-agent: FooBot\nAllow: /\n", "BazBot", "/x", False),
    # longest match wins, allow wins ties
    ("User-agent: *\nAllow: /page\nDisallow: /*.html\n", "FooBot", "/page.html", False),
    ("User-agent: *\nAllow: /folder/page\nDisallow: /folder/\n", "FooBot", "/folder/page", True),
    ("User-agent: *\nAllow: /$\nDisallow: /\n", "FooBot", "/", True),
    ("User-agent: *\nAllow: /$\nDisallow: /\n", "FooBot", "/page.htm", False),
    ("User-agent: *\nDisallow: /x\nAllow: /x\n", "FooBot", "/x", True),
    # wildcards and the end anchor
    ("User-agent: *\nDisallow: /fish*.php\n", "FooBot", "/fishheads/catfish.php?parameters", False),
    ("User-agent: *\nDisallow: /fish*.php\n", "FooBot", "/Fish.PHP", True),
    ("User-agent: *\nDisallow: /*.php$\n", "FooBot", "/filename.php", False),
    ("User-agent: *\nDisallow: /*.php$\n", "FooBot", "/filename.php?parameters", True),
    ("User-agent: *\nDisallow: /*.php$\n", "FooBot", "/filename.php5", True),
    ("User-agent: *\nDisallow: /fish/\n", "FooBot", "/fish", True),
    ("User-agent: *\nDisallow: /fish/\n", "FooBot", "/fish/salmon.htm", False),
    (
        "User-agent: *\nDisallow: /\nAllow: /foo/bar?qux=taz&baz=http://foo.bar?tar&par\n",
        "FooBot",
        "/foo/bar?qux=taz&baz=http://foo.bar?tar&par",
        True,
    ),
    # non-ASCII in a rule is compared percent-encoded; unreserved escapes are not decoded
    ("User-agent: *\nDisallow: /\nAllow: /foo/bar/ツ\n", "FooBot", "/foo/bar/%E3%83%84", True),
    ("User-agent: *\nDisallow: /\nAllow: /foo/bar/%62%61%7A\n", "FooBot", "/foo/bar/baz", False),
    ("User-agent: *\nDisallow: /\nAllow: /foo/bar/%62%61%7A\n", "FooBot", "/foo/bar/%62%61%7A", True),
    # an empty Disallow allows all; rules before any group belong to nobody
    ("User-agent: *\nDisallow:\n", "FooBot", "/x", True),
    ("Disallow: /\nUser-agent: FooBot\nAllow: /x\n", "FooBot", "/y", True),
]


@pytest.mark.parametrize(("text", "agent", "path", "allowed"), GOOGLE_CASES)
def test_google_documented_cases(text, agent, path, allowed):
    assert rules(text, agent).is_allowed(path) is allowed


def test_repeated_wildcards_do_not_backtrack():
    # `Allow: **********/****.js` took 54 s against a long path with a regex; the matcher walks
    # each literal piece once, so it answers like any other rule (speed: ops/benchmark_feeds.py)
    robots = rules("User-agent: *\nAllow: **********/****.js\nDisallow: /\n")
    assert not robots.is_allowed("/" + "a" * 20_000)
    assert robots.is_allowed("/" + "a/" * 5_000 + "x.js")
    assert rules("User-agent: *\nDisallow: /a*b*c$\n").is_allowed("/" + "ab" * 10_000)
    assert not rules("User-agent: *\nDisallow: /a*b*c$\n").is_allowed("/a" + "ab" * 10_000 + "c")


def test_site_map_spelling_and_empty_sitemap_line():
    robots = rules("Site-map: https://x.id/a.xml\nSitemap:\nSitemap: https://x.id/b.xml\n")
    assert robots.sitemaps == ["https://x.id/a.xml", "https://x.id/b.xml"]
