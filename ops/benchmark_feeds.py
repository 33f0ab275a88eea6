"""Feed, sitemap and robots.txt speed: Kliping's parsers against feedparser, on generated documents.

    ops/dev.sh pip install -e '.[eval]'            # feedparser, the reference
    ops/dev.sh python ops/benchmark_feeds.py [--items 2000] [--rounds 7]

Prints the median time of each parser on a 2,000-item RSS feed (well-formed, and broken: HTML
entities and bare ampersands, which take Kliping's repair path), the speed-up over feedparser,
a 50,000-URL news sitemap (streaming parse), and the robots.txt rule that took 54 s with a regex.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import feedparser

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from workers.feeds.parse import parse_feed  # noqa: E402
from workers.fetch.robots import RobotsRules  # noqa: E402

BASE = "https://warta.example.id/rss"


def rss(items: int, broken: bool = False) -> str:
    """An RSS 2.0 feed of `items` items shaped like an Indonesian outlet's (HTML in descriptions)."""
    space = "&nbsp;" if broken else " "
    amp = "&" if broken else "&amp;"
    rows = "".join(
        f"<item><title>Banjir{space}melanda Bandung Selatan, {n} warga mengungsi</title>"
        f"<link>https://warta.example.id/berita/2025/04/{n}/banjir?id={n}{amp}utm_source=rss</link>"
        f"<guid isPermaLink='false'>warta-{n}</guid>"
        f"<pubDate>Sat, 26 Apr 2025 {n % 24:02d}:15:00 WIB</pubDate>"
        f"<description><![CDATA[<p>Hujan deras sejak Jumat malam membuat sungai meluap. "
        f"Ketinggian air mencapai <b>1,5 meter</b> di {n} rumah.</p>]]></description>"
        f"<category>Daerah</category></item>"
        for n in range(items)
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel>'
        f"<title>Warta Nusantara</title><link>https://warta.example.id/</link>{rows}</channel></rss>"
    )


def news_sitemap(urls: int) -> str:
    """A Google News sitemap of `urls` entries."""
    rows = "".join(
        f"<url><loc>https://warta.example.id/berita/{n}/judul-{n}</loc><news:news><news:publication>"
        f"<news:name>Warta</news:name><news:language>id</news:language></news:publication>"
        f"<news:publication_date>2025-04-{n % 28 + 1:02d}T08:00:00+07:00</news:publication_date>"
        f"<news:title>Judul {n}</news:title></news:news></url>"
        for n in range(urls)
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" '
        f'xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">{rows}</urlset>'
    )


_MEMORY_PROBE = """
import json, sys
def peak_mb():  # VmHWM: this process's own peak (ru_maxrss would carry the parent's over fork+exec)
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmHWM")) / 1024
from workers.feeds.parse import parse_feed
from workers.fetch.fetcher import Fetcher
from workers.settings import Settings
settings = Settings(fetch_allow_private=True, fetch_host_interval=0.0, fetch_read_timeout=120.0,
                    respect_robots=False, redis_url=None, elasticsearch_url=None)
with Fetcher(settings) as fetcher:
    doc = fetcher.feed(sys.argv[1])
    parsed = parse_feed(doc.text, doc.final_url, doc.content_type)
    del doc
print(json.dumps({"items": len(parsed.items), "peak_mb": peak_mb()}))
"""


def memory_of_fetch_and_parse(urls: int, target_mb: float) -> None:
    """Serve a news sitemap padded to ~`target_mb` on loopback; fetch and parse it in a fresh process."""
    import json
    import subprocess

    from tests.support.http_server import FixtureServer

    sitemap = news_sitemap(urls)
    pad = max(0, int((target_mb * 2**20 - len(sitemap)) / urls))
    if pad:  # longer paths and titles, as real news sitemaps have
        sitemap = sitemap.replace("</news:title>", "x" * pad + "</news:title>")
    body = sitemap.encode("utf-8")
    with FixtureServer() as server:
        server.route("/news-sitemap.xml", body, content_type="application/xml")
        probe = subprocess.run(
            [sys.executable, "-c", _MEMORY_PROBE, server.url("/news-sitemap.xml")],
            cwd=Path(__file__).resolve().parent.parent,
            capture_output=True,
            text=True,
            timeout=900,
            check=True,
        )
    result = json.loads(probe.stdout)
    print(
        f"news sitemap fetched and parsed in a fresh process: {result['items']} URLs, "
        f"{len(body) / 2**20:.1f} MiB → peak RSS {result['peak_mb']:.0f} MB"
    )


def median_seconds(work: Callable[[], object], rounds: int) -> float:
    """Median wall time of `rounds` runs of `work` (after one warm-up run)."""
    work()
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        work()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def compare_feed(name: str, text: str, items: int, rounds: int) -> None:
    """Time both parsers on one feed and print the speed-up."""
    data = text.encode("utf-8")
    ours_found = len(parse_feed(text, BASE).items)
    theirs_found = len(feedparser.parse(data).entries)
    ours = median_seconds(lambda: parse_feed(text, BASE), rounds)
    theirs = median_seconds(lambda: feedparser.parse(data), rounds)
    print(
        f"{name}: {items} items, {len(data) / 1024:.0f} KiB | kliping {ours * 1000:.1f} ms ({ours_found} items) | "
        f"feedparser {theirs * 1000:.1f} ms ({theirs_found} entries) | {theirs / ours:.1f}× faster"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--items", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--sitemap-urls", type=int, default=50_000)
    parser.add_argument(
        "--memory-mb", type=float, default=0, help="also measure peak RSS fetching a sitemap of this size"
    )
    args = parser.parse_args()
    compare_feed("RSS, well-formed", rss(args.items), args.items, args.rounds)
    compare_feed("RSS, broken (&nbsp;, bare &)", rss(args.items, broken=True), args.items, args.rounds)

    sitemap = news_sitemap(args.sitemap_urls)
    found = len(parse_feed(sitemap, BASE).items)
    seconds = median_seconds(lambda: parse_feed(sitemap, BASE), max(1, args.rounds // 3))
    print(f"news sitemap: {found} URLs, {len(sitemap) / 2**20:.1f} MiB | kliping {seconds:.2f} s (streaming)")

    robots = RobotsRules.parse("User-agent: *\nAllow: **********/****.js\nDisallow: /\n", "Kliping/0.1")
    for path in ("/" + "a" * 2000, "/" + "a/" * 1000 + "x.js", "/assets/app.js"):
        seconds = median_seconds(lambda p=path: robots.is_allowed(p), 1000)
        print(f"robots `Allow: **********/****.js` on a {len(path)}-character path: {seconds * 1e6:.1f} µs")
    if args.memory_mb:
        memory_of_fetch_and_parse(args.sitemap_urls, args.memory_mb)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
