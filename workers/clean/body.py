"""Article body steps shared by the HTML and plain-text paths: lines, noise, dateline, title, tail."""

from __future__ import annotations

import re
from collections.abc import Callable

from workers.clean.boilerplate import filter_lines
from workers.clean.credits import Credits, take_credits
from workers.clean.dateline import Dateline, split_dateline

_INVISIBLE = re.compile(r"[\u200b-\u200d\u2060\ufeff\u00ad]")
_SPACE = re.compile(r"[^\S\n]+")
_TERMINAL = re.compile(r"[.!?…\"”’'»。！？」』]\s*$")
# Scripts written without spaces between words (Han, kana, Thai, Lao, Khmer, Myanmar): each
# letter counts as a word, as word processors count Chinese and Japanese (a Chinese word runs
# 1-2 characters; counting half-words made a one-sentence Japanese fragment look like an
# article). Thai-family combining vowel and tone marks are no letters and do not count.
_UNSPACED = re.compile(
    r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\u0e00-\u0eff\u1000-\u109f\u1780-\u17ff]"
)
_UNSPACED_MARK = re.compile(
    r"[\u0e31\u0e34-\u0e3a\u0e47-\u0e4e\u0eb1\u0eb4-\u0ebc\u0ec8-\u0ecd"
    r"\u102b-\u103e\u1056-\u1059\u105e-\u1060\u1062-\u1064\u1067-\u106d\u1071-\u1074\u1082-\u108d"
    r"\u108f\u109a-\u109d\u17b4-\u17d3\u17dd]"
)
_WORD_TOKEN = re.compile(r"\S*[^\W_]\S*")  # a space-separated token holding a letter or digit
_STARTS_LOWER = re.compile(r"^[a-z(]")
_SENTENCE_END = re.compile(r"(?<=[.!?…])[\"”’']?\s+(?=[\"“‘'(]?[A-Z0-9])")
_NON_WORD = re.compile(r"\W+")
_BREADCRUMB_END = re.compile(r"[>»›/]\s*$")

# A paragraph of prose: at least this many words and a sentence end. Shorter or unpunctuated
# lines at the edges of a body are headings, labels and links.
PROSE_MIN_WORDS = 8
# Trailing headings (lines up to this length without sentence end) are dropped: titles of
# related lists, a dangling section name. Longer lines are text that lacks a full stop.
TAIL_MAX_WORDS = 12
TAIL_MAX_LINES = 2
# Lines of at most this many words without sentence end at the edges of a body are labels.
LABEL_MAX_WORDS = 3
# A dateline is looked for in this many lines at the top of a body, above it only lines of at
# most this many words (captions run 10-30 words, bylines 1-4): on the Indonesian evaluation
# pages (ops/evaluate_extraction.py) kompas, viva and tempo put a photo caption and the byline
# between headline and dateline; a longer line is the story itself.
LEAD_MAX_LINES = 5
CAPTION_MAX_WORDS = 40
# A title made from the first sentence stays short enough for result lists and alerts.
TITLE_MAX_CHARS = 110


def split_lines(text: str, unwrap: bool = False) -> list[str]:
    """Non-empty, whitespace-normalised lines; with `unwrap`, hard-wrapped paragraphs joined back."""
    lines: list[str] = []
    previous_blank = True
    for raw in _INVISIBLE.sub("", text).replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        line = _SPACE.sub(" ", raw).strip()
        if not line:
            previous_blank = True
            continue
        if (
            unwrap
            and lines
            and not previous_blank
            and _STARTS_LOWER.match(line)
            and not _TERMINAL.search(lines[-1])
        ):
            lines[-1] = f"{lines[-1]} {line}"  # a line wrapped in mid-sentence
        else:
            lines.append(line)
        previous_blank = False
    return lines


def is_prose(line: str) -> bool:
    """True for a line that reads as a paragraph of text, not a heading, label or link."""
    return word_count(line) >= PROSE_MIN_WORDS and bool(_TERMINAL.search(line))


def word_count(text: str) -> int:
    """Words in a text: space-separated tokens holding a letter or digit, and each letter of a script without spaces."""
    if not _UNSPACED.search(text):
        return len(_WORD_TOKEN.findall(text))
    unspaced = len(_UNSPACED.findall(text)) - len(_UNSPACED_MARK.findall(text))
    return len(_WORD_TOKEN.findall(_UNSPACED.sub(" ", text))) + unspaced


def text_key(line: str) -> str:
    """A line reduced to lower-case words, for comparing lines regardless of punctuation and spacing."""
    return _NON_WORD.sub(" ", line).strip().lower()


def same_text(a: str, b: str) -> bool:
    """True when two lines say the same thing, ignoring case, spacing and punctuation."""
    return text_key(a) == text_key(b)


def strip_noise(lines: list[str]) -> tuple[list[str], Credits]:
    """Take out credit lines (keeping the names) and boilerplate lines."""
    lines, credits = take_credits(lines)
    return filter_lines(lines), credits


def finish_body(
    lines: list[str], title: str, is_outlet: Callable[[str], object]
) -> tuple[list[str], Dateline]:
    """Drop title repeats and kickers, split the dateline off the first paragraph, trim trailing headings."""
    lines = [line for line in lines if not (title and same_text(line, title))]
    while lines and _is_kicker(lines[0]):
        lines = lines[1:]
    dateline, start = _find_dateline(lines, is_outlet)
    if dateline.place or dateline.outlet:
        _, first = split_dateline(lines[start], is_outlet)
        lines = [first, *lines[start + 1 :]] if first else lines[start + 1 :]
    return _trim_tail(lines), dateline


def _find_dateline(lines: list[str], is_outlet: Callable[[str], object]) -> tuple[Dateline, int]:
    """The dateline opening the article and the index of its line; the article starts there.

    Lines above a dateline are photo captions, bylines and teasers that the page puts between
    the headline and the story; they are searched through only while they are that short.
    """
    for index, line in enumerate(lines[:LEAD_MAX_LINES]):
        dateline, _ = split_dateline(line, is_outlet)
        if dateline.place or dateline.outlet:
            return dateline, index
        if word_count(line) > CAPTION_MAX_WORDS:
            break
    return Dateline(), 0


def _trim_tail(lines: list[str]) -> list[str]:
    """Drop a short run of trailing headings (a dangling section name, a related-list title)."""
    run = 0
    while run < len(lines) and _is_heading(lines[-1 - run]):
        run += 1
    if run == 0 or run == len(lines):
        return lines
    # A longer run of short lines is a list that belongs to the article (tour dates, results),
    # unless every line is a one-to-three-word widget label ("MustRead", "close").
    if run <= TAIL_MAX_LINES or all(word_count(line) <= LABEL_MAX_WORDS for line in lines[-run:]):
        return lines[:-run]
    return lines


def _is_kicker(line: str) -> bool:
    """True for a label above the article: a breadcrumb, a channel name ("FotoBisnis", "Berita")."""
    return bool(_BREADCRUMB_END.search(line)) or (_is_heading(line) and word_count(line) <= LABEL_MAX_WORDS)


def _is_heading(line: str) -> bool:
    """True for a short line without sentence end or colon: a heading or a label."""
    return word_count(line) <= TAIL_MAX_WORDS and not _TERMINAL.search(line) and not line.endswith(":")


def derive_title(paragraphs: list[str]) -> str:
    """A title for an untitled text: its first sentence; a longer one cut at a word boundary, with "…"."""
    if not paragraphs:
        return ""
    sentence = _SENTENCE_END.split(paragraphs[0], maxsplit=1)[0].strip()
    if len(sentence) <= TITLE_MAX_CHARS:
        return sentence.rstrip(" ,;:-–—.")
    # cut at the last word boundary that fits with the ellipsis, which says the sentence goes on
    cut = (
        sentence[:TITLE_MAX_CHARS].rsplit(" ", 1)[0]
        if " " in sentence[:TITLE_MAX_CHARS]
        else sentence[: TITLE_MAX_CHARS - 1]
    )
    return cut.rstrip(" ,;:-–—.") + "…"
