"""Compare Kliping's feed parser with feedparser's over a corpus of feeds (feedparser's own test feeds).

    ops/dev.sh pip install -e '.[eval]'            # feedparser, for this script only
    ops/dev.sh python ops/evaluate_feeds.py ../shared/data/feeds-corpus [--details]

Each file is parsed by both with the same base URL. Printed: files where feedparser finds item
links and on how many Kliping's item links are the same list (feedparser's canonicalised the way
Kliping canonicalises), phantom items (an item whose URL is the feed's own URL: an item without a
link of its own), files Kliping refuses with the reason, and the files where the lists differ.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import feedparser

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from workers.errors import KlipingError  # noqa: E402
from workers.feeds.parse import parse_feed  # noqa: E402
from workers.feeds.urls import canonicalize  # noqa: E402

BASE = "http://127.0.0.1:8097/"
_EXPECT = re.compile(r"^\s*Expect:\s*(.+)$", re.MULTILINE)
_ID = re.compile(r"<(?:\w+:)?(?:id|guid)\b[^>]*>\s*([^<\s][^<]*?)\s*</", re.IGNORECASE)


class _Entry(dict):
    """An item as the corpus's Expect expressions read it (`entries[0]['link']`, `entries[0].link`)."""

    __getattr__ = dict.__getitem__


def expect_agrees(data: bytes, ours: list[str]) -> bool:
    """True when the file's own Expect line, about entry links only, holds for Kliping's links."""
    match = _EXPECT.search(data[:2000].decode("utf-8", "replace"))
    if not match or "link" not in match.group(1) or "entries" not in match.group(1):
        return False
    expression = match.group(1).replace("not bozo and ", "")
    try:
        return bool(eval(expression, {"__builtins__": {}}, {"entries": [_Entry(link=u) for u in ours]}))  # noqa: S307
    except Exception:  # noqa: BLE001 - an expression about other fields: not an answer
        return False


def id_links(data: bytes, base: str) -> set[str]:
    """Links feedparser makes from <id>/<guid> values that are not URLs ("1", "Correct Value")."""
    text = data.decode("utf-8", "replace")
    values = (value for value in _ID.findall(text) if not value.lower().startswith(("http:", "https:")))
    return {link for link in (canonicalize(value, base) for value in values) if link}


@dataclass
class Tally:
    """What the comparison found over the corpus."""

    files: int = 0
    reference_files: int = 0  # files where feedparser finds at least one item link
    equal: int = 0
    expect: list[str] = field(
        default_factory=list
    )  # differ from feedparser, agree with the file's Expect line
    id_only: list[str] = field(default_factory=list)  # feedparser's only links are made from non-URL ids
    ours_only: int = 0  # files where only Kliping finds links
    phantoms: int = 0
    refused: Counter = field(default_factory=Counter)
    refused_with_items: list[str] = field(default_factory=list)
    differing: list[tuple[str, list[str], list[str]]] = field(default_factory=list)


def reference_links(data: bytes, base: str) -> list[str]:
    """feedparser's entry links, canonicalised like Kliping's."""
    result = feedparser.parse(data, response_headers={"content-location": base}, sanitize_html=False)
    links = (canonicalize(entry.get("link") or "", base) for entry in result.entries if entry.get("link"))
    return [link for link in links if link]


def compare(path: Path, root: Path, tally: Tally) -> None:
    """Parse one file with both parsers and count the outcome."""
    base = BASE + path.relative_to(root).as_posix()
    data = path.read_bytes()
    expected = reference_links(data, base)
    tally.files += 1
    try:
        ours = [item.url for item in parse_feed(data, base).items]
    except KlipingError as exc:
        tally.refused[f"{exc.reason.value}: {str(exc).split(':')[0]}"] += 1
        if expected:
            tally.refused_with_items.append(str(path.relative_to(root)))
        ours = []
    tally.phantoms += sum(1 for url in ours if url == canonicalize(base))
    name = str(path.relative_to(root))
    if expected:
        tally.reference_files += 1
        if ours == expected:
            tally.equal += 1
        elif expect_agrees(data, ours):
            tally.expect.append(name)
        elif not set(expected) - id_links(data, base) and not ours:
            tally.id_only.append(name)
        else:
            tally.differing.append((name, expected, ours))
    elif ours:
        tally.ours_only += 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("corpus", type=Path)
    parser.add_argument("--details", action="store_true", help="list every file where the links differ")
    args = parser.parse_args()
    tally = Tally()
    for path in sorted(p for p in args.corpus.rglob("*.xml") if p.is_file()):
        compare(path, args.corpus, tally)
    share = tally.equal / tally.reference_files if tally.reference_files else 0.0
    print(f"files: {tally.files}")
    print(f"files where feedparser finds item links: {tally.reference_files}")
    print(f"  Kliping's item links equal: {tally.equal} ({share:.1%})")
    agreed = tally.equal + len(tally.expect)
    print(
        f"  equal, or as the file's own Expect line says where feedparser does not: {agreed} "
        f"({agreed / max(1, tally.reference_files):.1%}): {', '.join(tally.expect)}"
    )
    fair = tally.reference_files - len(tally.id_only)
    print(
        f"  of the {fair} files whose feedparser links are in the document (not made from non-URL ids): "
        f"{agreed} ({agreed / max(1, fair):.1%})"
    )
    print(f"  feedparser's links made from ids that are no URLs (on purpose not items): {len(tally.id_only)}")
    for name in tally.id_only:
        print(f"    {name}")
    print(f"  other differences: {len(tally.differing)}")
    print(f"files where only Kliping finds item links: {tally.ours_only}")
    print(f"phantom items (the feed's own URL as an item): {tally.phantoms}")
    print(f"refused by Kliping: {sum(tally.refused.values())}")
    for reason, count in tally.refused.most_common():
        print(f"  {count:5d}  {reason}")
    print(f"refused although feedparser finds item links: {len(tally.refused_with_items)}")
    for name in tally.refused_with_items:
        print(f"  {name}")
    if args.details:
        for name, expected, ours in tally.differing:
            print(f"\n{name}\n  feedparser: {expected}\n  kliping:    {ours}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
