"""Publication dates: ISO stamps, Indonesian and English date text, Indonesian time zones.

"Senin, 28 April 2025 21:14 WIB", "28/04/2025, 21.14 WITA", "Kamis, 05 Nov 2015 | 10:00 WIT",
"April 28, 2025 9:14 PM", "2025-04-28T21:14:00+07:00". WIB is UTC+7, WITA UTC+8, WIT UTC+9.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone, tzinfo

from schemas import DateSource

WIB = timezone(timedelta(hours=7), "WIB")
WITA = timezone(timedelta(hours=8), "WITA")
WIT = timezone(timedelta(hours=9), "WIT")
_ZONES = {"wib": WIB, "wita": WITA, "wit": WIT, "gmt": UTC, "utc": UTC, "z": UTC}

# Older stamps are CMS placeholders (1970-01-01, 0001-01-01), not publication dates.
EARLIEST = datetime(1995, 1, 1, tzinfo=UTC)
# A date after the fetch is a CMS or parsing error, beyond drift: clock skew, and a WITA or WIT
# page that gives times without a zone (read as WIB, they come out up to two hours late).
FUTURE_TOLERANCE = timedelta(hours=2)

_MONTHS = {
    "januari": 1, "january": 1, "jan": 1,
    "februari": 2, "pebruari": 2, "february": 2, "feb": 2, "peb": 2,
    "maret": 3, "march": 3, "mar": 3,
    "april": 4, "apr": 4,
    "mei": 5, "may": 5,
    "juni": 6, "june": 6, "jun": 6,
    "juli": 7, "july": 7, "jul": 7,
    "agustus": 8, "august": 8, "agust": 8, "agu": 8, "agt": 8, "ags": 8, "aug": 8,
    "september": 9, "sept": 9, "sep": 9,
    "oktober": 10, "october": 10, "okt": 10, "oct": 10,
    "november": 11, "nopember": 11, "nov": 11, "nop": 11,
    "desember": 12, "december": 12, "des": 12, "dec": 12,
}  # fmt: skip
_MONTH = "|".join(sorted(_MONTHS, key=len, reverse=True))
_TIME = (
    r"(?:\s*[,|]?\s*(?:pukul|jam|at|-|\|)?\s*(?P<hour>\d{1,2})[:.](?P<minute>\d{2})(?:[:.](?P<second>\d{2}))?(?!\d)"
    r"\s*(?P<ampm>[ap]\.?m\.?)?\s*(?P<zone>WITA|WIB|WIT|GMT|UTC)?\s*(?P<offset>[+-]\s?\d{1,2}(?::?\d{2})?)?)?"
)
_DMY = re.compile(
    rf"\b(?P<day>\d{{1,2}})\s+(?P<month>{_MONTH})\.?,?\s+(?P<year>(?:19|20)\d{{2}})\b{_TIME}", re.I
)
_MDY = re.compile(
    rf"\b(?P<month>{_MONTH})\.?\s+(?P<day>\d{{1,2}}),?\s+(?P<year>(?:19|20)\d{{2}})\b{_TIME}", re.I
)
_NUMERIC = re.compile(
    rf"\b(?P<day>\d{{1,2}})[/.-](?P<month>\d{{1,2}})[/.-](?P<year>(?:19|20)\d{{2}})\b{_TIME}", re.I
)
_ISO = re.compile(
    r"\b(?P<year>(?:19|20)\d{2})-(?P<month>\d{2})-(?P<day>\d{2})"
    r"(?:[T\s]+(?P<hour>\d{2}):(?P<minute>\d{2})(?::(?P<second>\d{2})(?:[.,]\d+)?)?"
    r"\s*(?P<zone>Z)?(?P<offset>[+-]\d{2}:?\d{2})?)?",
    re.I,
)
_PATTERNS = (_ISO, _DMY, _MDY, _NUMERIC)
_YEAR = re.compile(r"(?:19|20)\d\d")
# A date stamp line is short: "Diperbarui: Senin, 28 April 2025 | 21:14 WIB" has 44 characters.
DATE_LINE_MAX_CHARS = 100
WEEKDAYS = (
    "senin", "selasa", "rabu", "kamis", "jumat", "jum'at", "sabtu", "minggu", "ahad",
    "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday",
)  # fmt: skip
# Month and weekday names, lower case: the words a date is written with.
DATE_WORDS = frozenset(_MONTHS) | frozenset(WEEKDAYS)
# What else a date line may say: weekday, label, separators ("Diterbitkan: Senin, …").
_DATE_LINE_FILLER = re.compile(
    rf"\b(?:{'|'.join(WEEKDAYS)}|"
    r"diterbitkan|dipublikasikan|terbit|dipublikasi|diperbarui|update[ds]?|published|posted|tanggal|pada|on)\b|[\W_]",
    re.I,
)


class Stated(str):
    """A date candidate's text that says where it was stated (a plain str: where its extractor's dates are)."""

    source: DateSource | None
    guess: bool  # found by searching the page's text (htmldate), not stated as the article's date

    def __new__(cls, text: str, source: DateSource | None = None, guess: bool = False) -> Stated:
        stated = super().__new__(cls, text)
        stated.source, stated.guess = source, guess
        return stated


def parse_date(text: str | None, default_tz: tzinfo = WIB) -> datetime | None:
    """The first date in a string as a timezone-aware datetime (naive times get `default_tz`), or None."""
    if not text:
        return None
    for pattern in _PATTERNS:
        for match in pattern.finditer(text):
            value = _to_datetime(match, default_tz)
            if value is not None:
                return value
    return None


def parse_date_line(line: str, default_tz: tzinfo = WIB) -> datetime | None:
    """The date of a line that says nothing but a date (with weekday or label), else None."""
    if len(line) > DATE_LINE_MAX_CHARS or not _YEAR.search(line):
        return None  # cheap test first: this runs on every line of every article
    for pattern in _PATTERNS:
        match = pattern.search(line)
        if match:
            rest = line[: match.start()] + " " + line[match.end() :]
            if _DATE_LINE_FILLER.sub("", rest).strip():
                return None
            return _to_datetime(match, default_tz)
    return None


def plausible(value: datetime, now: datetime) -> bool:
    """True for a publication date not before 1995 and not after `now` (plus drift; naive times are UTC)."""
    if now.tzinfo is None:
        now = now.replace(tzinfo=UTC)
    return EARLIEST <= value <= now + FUTURE_TOLERANCE


def _to_datetime(match: re.Match[str], default_tz: tzinfo) -> datetime | None:
    """Build the datetime a date match describes; None for impossible dates."""
    parts = match.groupdict()
    month = parts["month"]
    month_number = int(month) if month.isdigit() else _MONTHS[month.lower()]
    hour = int(parts.get("hour") or 0)
    ampm = (parts.get("ampm") or "").lower().replace(".", "")
    if ampm == "pm" and hour < 12:
        hour += 12
    elif ampm == "am" and hour == 12:
        hour = 0
    try:
        return datetime(
            int(parts["year"]),
            month_number,
            int(parts["day"]),
            hour,
            int(parts.get("minute") or 0),
            int(parts.get("second") or 0),
            tzinfo=_zone(parts.get("zone"), parts.get("offset"), default_tz),
        )
    except ValueError:
        return None


def _zone(name: str | None, offset: str | None, default_tz: tzinfo) -> tzinfo:
    """The zone of a matched date: numeric offset ("+0700", "GMT+7"), zone name, or the default."""
    if offset:
        sign = -1 if offset.strip()[0] == "-" else 1
        digits = offset.strip()[1:].strip().replace(":", "")
        hours, minutes = (int(digits[:-2]), int(digits[-2:])) if len(digits) > 2 else (int(digits), 0)
        base = _ZONES.get((name or "").lower(), UTC) if name else UTC
        delta = sign * timedelta(hours=hours, minutes=minutes)
        if abs(delta) < timedelta(hours=15):
            return timezone(base.utcoffset(None) + delta)
    if name:
        return _ZONES.get(name.lower(), default_tz)
    return default_tz
