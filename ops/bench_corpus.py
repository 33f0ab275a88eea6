"""Benchmark corpus for ops/benchmark_pipeline.py: real pages repeated as distinct articles, plus copies.

A folder of pages (``*.html``, ``*.htm``, ``*.html.gz``) is repeated until N articles. Round 0 is
each page as it is; in round r > 0 every word of four letters or more in the page's text is
replaced by a word of the project's common-word list (the same word for the same word within one
round), so the page keeps its markup, length and layout (what extraction costs) but is a new
story to the dedup index. Month and weekday names stay: a page's dates must still read as dates
(garbled, "Kemudian 20, 2019" sends htmldate into dateparser's search of every locale, 35 ms a
try, which no real page costs), and its canonical URL gets ``?round=r`` so it is a new article id.
A "syndicated copy" is an earlier article's page under another outlet's URL with its last
paragraph dropped: the dedup stage must find it (exact or near copy).
"""

from __future__ import annotations

import gzip
import random
import re
import zlib
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from workers.clean.dates import DATE_WORDS
from workers.fetch.encoding import decode_text

REPO = Path(__file__).resolve().parent.parent
PAGE_SUFFIXES = (".html", ".htm", ".html.gz", ".htm.gz")
# Only longer words are replaced: short function words stay, so the text still reads as a
# language to the language detector, while every 5-word shingle changes.
MIN_REPLACED_LETTERS = 4

_MARKUP = re.compile(
    r"(<script\b.*?</script\s*>|<style\b.*?</style\s*>|<!--.*?-->|<[^>]*>)", re.IGNORECASE | re.DOTALL
)
_WORD = re.compile(rf"\b[^\W\d_]{{{MIN_REPLACED_LETTERS},}}\b")
_PARAGRAPH = re.compile(r"<p[\s>]", re.IGNORECASE)
_HEAD = re.compile(r"<head\b[^>]*>", re.IGNORECASE)
# Copies are drawn from this many most recent originals: reprints follow their story within hours.
COPY_WINDOW = 200


@dataclass(frozen=True)
class Page:
    """One source page: its HTML and the canonical URL the pipeline reads from it (or None)."""

    name: str
    html: str
    url: str | None


def read_pages(folder: Path) -> list[tuple[str, str]]:
    """(file name, HTML text) of every page in the folder, sorted by name."""
    pages = []
    for path in sorted(folder.iterdir()):
        if not path.name.lower().endswith(PAGE_SUFFIXES):
            continue
        data = path.read_bytes()
        if path.name.lower().endswith(".gz"):
            data = gzip.decompress(data)
        pages.append((path.name, decode_text(data)[0]))
    return pages


def vocabulary() -> list[str]:
    """Replacement words: the project's common-word list (long enough words only)."""
    words = (REPO / "workers" / "data" / "common_words.txt").read_text(encoding="utf-8").split()
    return sorted({w for w in words if w.isalpha() and len(w) >= MIN_REPLACED_LETTERS})


def with_canonical(html: str, url: str) -> str:
    """The page with `url` as its first <link rel="canonical"> (the one the clean stage reads)."""
    link = f'<link rel="canonical" href="{url}">'
    match = _HEAD.search(html)
    return html[: match.end()] + link + html[match.end() :] if match else link + html


def reword(html: str, round_no: int, words: list[str]) -> str:
    """The page with every long word of its text (not its markup) replaced, consistently within a round."""
    memo: dict[str, str] = {}

    def replace(match: re.Match) -> str:
        word = match.group(0)
        key = word.lower()
        if key in DATE_WORDS:
            return word
        if key not in memo:
            memo[key] = words[zlib.crc32(f"{round_no}:{key}".encode()) % len(words)]
        new = memo[key]
        return (
            new.upper()
            if word.isupper() and len(word) > 1
            else new.capitalize()
            if word[0].isupper()
            else new
        )

    parts = _MARKUP.split(html)
    return "".join(part if i % 2 else _WORD.sub(replace, part) for i, part in enumerate(parts))


def syndicated_copy(html: str, url: str) -> str:
    """A reprint: the same page under another URL with its last paragraph dropped."""
    starts = [m.start() for m in _PARAGRAPH.finditer(html)]
    end = html.lower().find("</p>", starts[-1]) if starts else -1
    if end >= 0:
        html = html[: starts[-1]] + html[end + len("</p>") :]
    return with_canonical(html, url)


def _round_url(page: Page, round_no: int) -> str:
    """The canonical URL of a page in a round: its own with ?round=r, or a made-up one."""
    base = page.url or f"https://bench.kliping.invalid/{zlib.crc32(page.name.encode()):08x}"
    return f"{base}{'&' if '?' in base else '?'}round={round_no}"


def articles(
    pages: list[Page], count: int, copy_rate: float, seed: int = 1, first_round: int = 0
) -> Iterator[tuple[str, str]]:
    """`count` (kind, HTML) articles: "original" pages round after round, with "copy" at `copy_rate`."""
    rng = random.Random(seed)
    words = vocabulary()
    recent: deque[str] = deque(maxlen=COPY_WINDOW)
    originals = 0
    for made in range(count):
        if recent and rng.random() < copy_rate:
            source = rng.choice(recent)
            yield (
                "copy",
                syndicated_copy(source, f"https://reprint{made % 7}.bench.kliping.invalid/read/{made}"),
            )
            continue
        page = pages[originals % len(pages)]
        round_no = first_round + originals // len(pages)
        html = (
            page.html
            if round_no == 0
            else with_canonical(reword(page.html, round_no, words), _round_url(page, round_no))
        )
        recent.append(html)
        originals += 1
        yield "original", html


def write_articles(
    pages: list[Page], folder: Path, count: int, copy_rate: float, first_round: int = 0
) -> list[Path]:
    """Write `count` generated articles as numbered .html files; their paths in order."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for n, (_kind, html) in enumerate(articles(pages, count, copy_rate, first_round=first_round)):
        path = folder / f"{n:06d}.html"
        path.write_text(html, encoding="utf-8")
        paths.append(path)
    return paths
