"""Plain text: articles copied out of news pages or exported by monitoring tools.

Such text starts with a header of short lines (outlet name, breadcrumb, section, title, often
repeated, byline, share widget, photo caption, a monitoring tool's field block) and reaches
the article at the first paragraph of prose or the first dateline. The header gives title,
section, outlet and date; the rest goes through the same body steps as HTML.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable

from schemas import DateSource
from workers.clean.body import finish_body, is_prose, same_text, split_lines, text_key
from workers.clean.boilerplate import filter_lines, is_boilerplate
from workers.clean.credits import take_credits
from workers.clean.dateline import is_domain_like, place_and_date, split_dateline
from workers.clean.dates import Stated, parse_date_line
from workers.clean.draft import Draft

_BREADCRUMB = re.compile(r"^(?:home|beranda|index|indeks)\s*[⁄/>»›|]", re.IGNORECASE)
_CRUMB_SEPARATOR = re.compile(r"\s*[⁄/>»›|]\s*")

# A section name ("Internasional", "Konflik Rusia Vs Ukraina") is a short line above the title.
SECTION_MAX_WORDS = 5
# An outlet line in the header ("Pikiran-Rakyat.com", "Pantau Flash") is a name, not a phrase.
OUTLET_LINE_MAX_WORDS = 4
# Shorter full-stopped header lines are labels ("Foto."), not the article's opening sentence.
LEAD_MIN_WORDS = 3


def extract_text(text: str, is_outlet: Callable[[str], object]) -> Draft:
    """Title, outlet labels, credits, section, date candidates and body paragraphs of a plain text."""
    lines, credits = take_credits(split_lines(text, unwrap=True))
    start = _body_start(lines, is_outlet)
    dates: list[str] = []  # Draft.dates may be lazy (HTML); a plain text's are collected here
    draft = Draft(
        authors=credits.authors,
        editors=credits.editors,
        dates=dates,
        date_source=DateSource.text,
        stated_dates=dates,
    )
    candidates = []
    for line in lines[:start]:
        if len(line.split()) <= OUTLET_LINE_MAX_WORDS and (is_domain_like(line) or is_outlet(line)):
            draft.labels.append(line)
        elif parse_date_line(line):
            dates.append(line)
        elif (placed := place_and_date(line)) and placed.date:  # "Jakarta, 28 April 2025"
            dates.append(Stated(placed.date, DateSource.dateline))
            draft.dateline = placed.place
        elif _BREADCRUMB.match(line):
            draft.section = _CRUMB_SEPARATOR.split(line)[-1] or None
        elif not is_boilerplate(line):
            candidates.append(line)
    body = filter_lines(lines[start:])
    candidates = [line for line in candidates if not _is_teaser(line, body)]
    title, section, leftovers = _read_header(candidates)
    draft.title = title
    draft.section = section or draft.section
    paragraphs, dateline = finish_body([*leftovers, *body], title, is_outlet)
    draft.paragraphs = paragraphs
    draft.dateline = dateline.place or draft.dateline
    draft.dateline_outlet = dateline.outlet
    draft.dateline_date = dateline.date
    return draft


def _body_start(lines: list[str], is_outlet: Callable[[str], object]) -> int:
    """Index of the first line of the article proper: prose, or a paragraph opening with a dateline."""
    for index, line in enumerate(lines):
        dateline, _ = split_dateline(line, is_outlet)
        if (is_prose(line) or dateline.place or dateline.outlet) and not is_boilerplate(line):
            return index
    return min(1, len(lines))  # no prose at all: take the first line as the title


def _is_teaser(line: str, body: list[str]) -> bool:
    """True for a header line repeating the start of the article (a teaser or lead-in)."""
    key = text_key(line)
    return len(key.split()) >= SECTION_MAX_WORDS and any(key in text_key(paragraph) for paragraph in body[:3])


def _read_header(candidates: list[str]) -> tuple[str, str | None, list[str]]:
    """Title, section and the header lines that are text (kept for the body) among the candidates."""
    if not candidates:
        return "", None, []
    # A title ends without a full stop; a line that does is a lead sentence.
    pool = [i for i, line in enumerate(candidates) if not line.endswith(".")] or list(range(len(candidates)))
    counts = Counter(text_key(line) for line in candidates)
    repeated = [i for i in pool if counts[text_key(candidates[i])] > 1]
    # Pages copied as text repeat the title (page header, then article header); otherwise the
    # title is the longest line, longer than section names and kickers above it.
    index = repeated[0] if repeated else max(pool, key=lambda i: len(candidates[i].split()))
    title = candidates[index]
    section = next(
        (line for line in reversed(candidates[:index]) if len(line.split()) <= SECTION_MAX_WORDS), None
    )
    # A short sentence above the first long paragraph is the article's first line, not furniture.
    leftovers = [
        line
        for line in candidates
        if line.endswith(".") and len(line.split()) >= LEAD_MIN_WORDS and not same_text(line, title)
    ]
    return title, section, leftovers
