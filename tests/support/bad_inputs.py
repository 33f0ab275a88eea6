"""A corpus of hostile inputs built by the tests, with the outcome each must end in.

``build_corpus(server, folder)`` serves pages on a FixtureServer and writes files into
`folder`; every Case names its input and the outcome and reason it must end with. Good
articles are mixed in: a bad neighbour must never cost a good input its place in the index.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path

from schemas import Outcome, Reason
from tests.support.faults import write_articles
from tests.support.http_server import FixtureServer
from workers.settings import PROJECT_ROOT

FEEDS = PROJECT_ROOT / "tests" / "fixtures" / "feeds"
CLEAN = PROJECT_ROOT / "tests" / "fixtures" / "clean"
# Far above KLIPING_FETCH_MAX_BYTES (5 MB) and KLIPING_MAX_FILE_BYTES (20 MB): must be cut off, not read.
HUGE_BYTES = 50 * 1024 * 1024
# One line without a single break, longer than any real paragraph by orders of magnitude.
LONG_LINE_CHARS = 2_000_000


@dataclass(frozen=True)
class Case:
    """One input of the corpus and where it must end."""

    name: str
    input: str
    outcome: Outcome
    reason: Reason | None = None  # for skipped and failed; a recoverable input (indexed) has none


def as_html(text_file: Path) -> str:
    """A generated article file (title line, blank line, paragraphs) as a news page."""
    title, _, body = text_file.read_text(encoding="utf-8").partition("\n\n")
    paragraphs = "".join(f"<p>{p}</p>" for p in body.split("\n\n") if p.strip())
    return (
        f"<!doctype html><html><head><meta charset='utf-8'><title>{title}</title></head>"
        f"<body><article><h1>{title}</h1>{paragraphs}</article></body></html>"
    )


def good_cases(server: FixtureServer, folder: Path, count: int) -> list[Case]:
    """`count` good articles, every other one served as an HTML page, the rest read as text files."""
    cases = []
    for n, path in enumerate(write_articles(folder / "good", count, seed=61)):
        if n % 2:
            cases.append(Case(f"good text {n}", str(path), Outcome.indexed))
        else:
            server.route(f"/good/{n}", as_html(path))
            cases.append(Case(f"good page {n}", server.url(f"/good/{n}"), Outcome.indexed))
    return cases


def _page(server: FixtureServer, name: str, body: bytes | str, **options: object) -> str:
    """Serve `body` at /bad/<name>; its URL."""
    server.route(f"/bad/{name}", body, **options)
    return server.url(f"/bad/{name}")


def bad_cases(server: FixtureServer, folder: Path) -> list[Case]:
    """Every hostile input with the outcome and reason it must end with."""
    samples = write_articles(folder / "samples", 2, seed=62)
    page = as_html(samples[0]).encode("utf-8")
    # A cp1252 page labelled UTF-8 (a server default): recovered by detection, not garbled or dropped.
    mislabelled = as_html(samples[1]).replace("<h1>", "<h1>Café di Kota: ").encode("cp1252")
    png = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x10" + bytes(range(256)) * 64
    huge_file = folder / "huge.html"
    with open(huge_file, "wb") as out:
        out.truncate(HUGE_BYTES)  # a sparse 50 MB file: the size check must refuse it unread
    empty_file = folder / "empty.txt"
    empty_file.write_bytes(b"")
    long_line = folder / "long_line.txt"
    long_line.write_text("x" * LONG_LINE_CHARS, encoding="utf-8")
    invalid_utf8 = folder / "invalid_utf8.txt"
    invalid_utf8.write_bytes(
        random.Random(7).randbytes(20_000).replace(b"\xff\xfe", b"\x00\x00")
    )  # no BOM by chance
    stray = folder / "stray_bytes.txt"  # UTF-8 text with a few broken sequences: decoded, not refused
    stray.write_bytes(samples[0].read_bytes().replace(b"\n\n", b"\n\xe2\x28\xa1\n", 2))
    S, F, I = Outcome.skipped, Outcome.failed, Outcome.indexed  # noqa: E741 - the table reads as S, F, I
    return [
        Case("truncated HTML", _page(server, "truncated", page[:120]), S, Reason.no_text),
        Case(
            "malformed HTML (tag soup, no prose)",
            _page(server, "soup", "<html><body><div><p><b><i></div></span>" * 500),
            S,
            Reason.no_text,
        ),
        Case(
            "cp1252 page labelled utf-8",
            _page(server, "mislabelled", mislabelled, content_type="text/html; charset=utf-8"),
            I,
        ),
        Case("invalid UTF-8 sequences in text", str(stray), I),
        Case("invalid UTF-8 throughout (random bytes)", str(invalid_utf8), F, Reason.bad_encoding),
        Case("zero-byte response", _page(server, "empty", b""), S, Reason.no_text),
        Case("zero-byte file", str(empty_file), S, Reason.no_text),
        Case(
            "50 MB response",
            _page(server, "huge", b"<html><body><p>" + b"a " * (HUGE_BYTES // 2) + b"</p></body></html>"),
            F,
            Reason.too_large,
        ),
        Case("50 MB file", str(huge_file), F, Reason.too_large),
        Case(
            "binary served as text/html",
            _page(server, "binary", png, content_type="text/html"),
            F,
            Reason.bad_encoding,
        ),
        Case(
            "feed with an XML bomb",
            _page(
                server,
                "bomb.xml",
                (FEEDS / "billion_laughs.xml").read_bytes(),
                content_type="application/rss+xml",
            ),
            S,
            Reason.unsupported_type,
        ),
        Case(
            "broken XML feed",
            _page(
                server,
                "broken.xml",
                (FEEDS / "malformed.xml").read_bytes(),
                content_type="application/rss+xml",
            ),
            S,
            Reason.unsupported_type,
        ),
        Case("extremely long line", str(long_line), S, Reason.no_text),
        Case(
            "page without text",
            _page(
                server, "notext", "<html><head><title>x</title></head><body><img src='a.png'></body></html>"
            ),
            S,
            Reason.no_text,
        ),
        Case(
            "non-news page (front page)",
            _page(server, "front", (CLEAN / "viva_front_page.html").read_bytes()),
            S,
            Reason.not_article,
        ),
        Case("not a URL: words", "ini bukan url sama sekali", S, Reason.not_found),
        Case("not a URL: bad scheme", "ftp://example.com/berita", F, Reason.invalid_input),
        Case("not a URL: no host", "http://", F, Reason.invalid_input),
        Case("not a URL: broken IPv6", "http://[::1/berita", F, Reason.invalid_input),
        Case("not a URL: javascript", "javascript:alert(1)", F, Reason.invalid_input),
    ]
