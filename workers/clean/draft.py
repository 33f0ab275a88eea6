"""What the HTML and plain-text extractors hand to the assembly of an Article."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from schemas import DateSource


@dataclass
class Draft:
    """An article as extracted, before outlet lookup, language, date choice, id and hash."""

    paragraphs: list[str] = field(default_factory=list)
    title: str = ""
    url: str | None = None  # canonical URL stated by the page
    dates: Iterable[str] = field(
        default_factory=list
    )  # publication date candidates, best first (may be lazy)
    authors: list[str] = field(default_factory=list)
    editors: list[str] = field(default_factory=list)
    labels: list[str] = field(default_factory=list)  # names the publisher gives itself (site name, header)
    dateline_outlet: str | None = None  # outlet credited in the dateline (may be a wire or the publisher)
    section: str | None = None
    tags: list[str] = field(default_factory=list)
    image: str | None = None
    dateline: str | None = None
    photo: bool = False  # a photo story: its captions are the text, a shorter one is enough
    # Where `dates` were stated, unless a candidate says otherwise (dates.Stated); the cheap ones among them
    # (metadata, a text's date lines) for checking the chosen date's zone and time; a dated dateline.
    date_source: DateSource = DateSource.page
    stated_dates: list[str] = field(default_factory=list)
    dateline_date: str | None = None
    modified_date: str | None = None  # when the page says it was last changed
    # Date texts shown on the page (stamps of this and related articles), read only to check a time labelled UTC.
    shown_dates: Callable[[], list[str]] = list
