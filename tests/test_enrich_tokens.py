"""The Doc's per-token flags, against a plain token-by-token reading of their definitions."""

from __future__ import annotations

from pathlib import Path

import pytest

from workers.enrich.tokens import HEADING_CAP_RATIO, Doc, fold
from workers.settings import PROJECT_ROOT

FIXTURES = sorted((Path(__file__).parent / "fixtures" / "enrich").glob("*.txt"))
SEEDS = sorted((PROJECT_ROOT / "seeds").glob("*.txt"))
_QUOTES = "\"'“”‘’«»()[]"
EDGE_CASES = [
    "",
    "\n",
    "_snake_case and __init__ (x)",
    "\"Hello.\" World\n(«Quote») next\n'A' b",
    'U.S. Army. (Yes) ok\n\n"',
    'KOMPAS.com - JAKARTA, 12 April 2025\nPresiden Joko Widodo Tiba di Bandung\nIa berkata: "Ya!" Lalu',
]


def _reference_flags(doc: Doc) -> tuple[list[bool], list[bool]]:
    """Sentence starts and headings, token by token."""
    texts, gaps = doc.texts, doc.gap_newline
    starts, heading = [False] * doc.n, [False] * doc.n
    prev = None  # the previous token that is not a quote or bracket
    for i, text in enumerate(texts):
        if text in _QUOTES:
            continue
        if prev is None or any(gaps[prev + 1 : i + 1]):
            starts[i] = True  # the text's first token, or one after a line break
        elif texts[prev] in ".!?;:…":
            abbreviation = (
                texts[prev] == "." and prev > 0 and len(texts[prev - 1]) <= 2 and doc.caps[prev - 1]
            )
            starts[i] = not abbreviation  # "U.S." and "Jr." end no sentence
        prev = i
    lines = [i for i in range(doc.n) if gaps[i]] + [doc.n]
    for start, end in zip(lines, lines[1:], strict=False):
        caps = [doc.caps[k] for k in range(start, end) if doc.words[k] and not texts[k].isdigit()]
        if len(caps) >= 2 and sum(caps) / len(caps) >= HEADING_CAP_RATIO:
            heading[start:end] = [True] * (end - start)
    return starts, heading


@pytest.mark.parametrize(
    "text", EDGE_CASES + [p.read_text(encoding="utf-8") for p in FIXTURES + SEEDS], ids=lambda t: t[:20]
)
def test_doc_flags_follow_their_definitions(text):
    doc = Doc(text)
    assert doc.keys == [fold(t) for t in doc.texts]
    assert doc.words == [t[0].isalnum() or t[0] == "_" for t in doc.texts]
    assert doc.caps == [t[0].isupper() for t in doc.texts]
    assert [text[a:b] for a, b in zip(doc.starts, doc.ends, strict=True)] == doc.texts
    assert doc.gap_newline == [
        i == 0 or "\n" in text[doc.ends[i - 1] : doc.starts[i]] for i in range(doc.n)
    ] + ([True] if doc.n == 0 else [])
    assert (doc.sentence_start, doc.heading) == _reference_flags(doc)
