"""htmldate's last-resort date reader, limited to the languages Kliping reads.

When a page states no date that htmldate can read with its own patterns, its extensive search
hands every date-like string of the page ("Rabu, 12 Agustus 2020", "Posted March 3 by …") to
dateparser, built without a language: each string is then tried against all of dateparser's
~200 locales, 7-17 ms a string (measured with dateparser 1.5 on this project's dev machine), and
1.6 s to load those locales on first use. A page without a stated date holds dozens of such
strings: 35 ms a page on average over the benchmark's undated pages, 2.4 s for the first.
Limited to English, Indonesian and Malay (the languages of the outlets Kliping is built for) a
string takes 0.3-0.8 ms. Month names of other languages are then not read on that last path;
numeric dates still are (htmldate's own patterns), and the page's metadata always comes first.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from typing import TYPE_CHECKING, Any

from htmldate import extractors

if TYPE_CHECKING:  # imported at the first date text read (~60 ms of a start; most pages state their date)
    from dateparser import DateDataParser

__all__ = ["DATE_LANGUAGES", "htmldate_default", "install"]

DATE_LANGUAGES = ("en", "id", "ms")
_HTMLDATE_PARSER: Any = getattr(
    extractors, "get_external_parser", None
)  # htmldate's own, for htmldate_default
# htmldate's own settings for its external parser (htmldate 1.11, extractors.get_external_parser):
# absolute dates only, strict (a day, a month and a year), past dates preferred.
_SETTINGS = {
    "NORMALIZE": True,
    "PARSERS": ["custom-formats", "absolute-time"],
    "PREFER_DATES_FROM": "past",
    "PREFER_LOCALE_DATE_ORDER": True,
    "RETURN_AS_TIMEZONE_AWARE": False,
    "STRICT_PARSING": True,
}


@cache
def external_parser() -> DateDataParser:
    """The dateparser instance htmldate uses for date text: Kliping's languages only."""
    from dateparser import DateDataParser

    return DateDataParser(languages=list(DATE_LANGUAGES), settings=_SETTINGS)


def install() -> None:
    """Make htmldate read date text with `external_parser` (idempotent).

    htmldate looks its parser up by name at every use (``extractors._external_date``), so
    replacing the module's factory is enough; an htmldate without that factory fails here,
    loudly, rather than silently falling back to the slow parser.
    """
    if not hasattr(extractors, "get_external_parser"):
        raise RuntimeError("htmldate has no extractors.get_external_parser: check workers/clean/date_text.py")
    extractors.get_external_parser = external_parser


@contextmanager
def htmldate_default() -> Iterator[None]:
    """Within the block htmldate uses its own parser (every locale): plain trafilatura, for comparisons."""
    installed = extractors.get_external_parser
    extractors.get_external_parser = _HTMLDATE_PARSER
    try:
        yield
    finally:
        extractors.get_external_parser = installed
