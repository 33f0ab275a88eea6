"""Feed and sitemap dates: RFC 822 (RSS), ISO 8601 / W3C-DTF (Atom, Dublin Core, sitemaps), and the
Indonesian spellings feeds use (``Sabtu, 26 April 2025 08:15 WIB``, ``Agu``, ``Des``)."""

from __future__ import annotations

import email.utils
import re
from datetime import UTC, datetime, timedelta, timezone

# Indonesia's zones: RFC 822 parsers read an unknown name as UTC, 7 to 9 hours off.
ZONES = {"wib": "+0700", "wita": "+0800", "wit": "+0900"}
MONTHS = {
    "januari": 1,
    "februari": 2,
    "pebruari": 2,
    "maret": 3,
    "april": 4,
    "mei": 5,
    "juni": 6,
    "juli": 7,
    "agustus": 8,
    "september": 9,
    "oktober": 10,
    "november": 11,
    "nopember": 11,
    "desember": 12,
    "agu": 8,
    "agt": 8,
    "ags": 8,
    "okt": 10,
    "des": 12,
    "nop": 11,
    "peb": 2,
}
_ENGLISH = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]
for _n, _name in enumerate(
    ["january", "february", "march", "april", "may", "june", "july", "august", "september", "october"]
    + ["november", "december"]
):
    MONTHS.setdefault(_name, _n + 1)
    MONTHS.setdefault(_ENGLISH[_n], _n + 1)
MONTHS.setdefault("sept", 9)
_WORD = re.compile(r"[A-Za-z]+")
_DAY_MONTH_YEAR = re.compile(
    r"(?P<day>\d{1,2})[\s./-]+(?P<month>[a-z]+)[\s./-]+(?P<year>\d{4})"
    r"(?:[\s,T-]+(?:pukul\s+)?(?P<hour>\d{1,2})[:.](?P<minute>\d{2})(?:[:.](?P<second>\d{2}))?)?"
    r"\s*(?P<zone>[+-]\d{2}:?\d{2}|gmt|utc|z)?",
)


def _zone(text: str | None) -> timezone:
    if not text or text in ("gmt", "utc", "z"):
        return UTC
    digits = text.replace(":", "")
    offset = timedelta(hours=int(digits[1:3]), minutes=int(digits[3:5]))
    return timezone(-offset if digits[0] == "-" else offset)


def _iso(value: str) -> datetime | None:
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return None


def _rfc822(value: str) -> datetime | None:
    try:
        return email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None


def _words(value: str) -> str:
    """Lower case, Indonesian zone names as offsets."""

    def word(match: re.Match[str]) -> str:
        lowered = match.group(0).lower()
        return ZONES.get(lowered, lowered)

    return _WORD.sub(word, value)


def _spelled(value: str) -> datetime | None:
    """`26 April 2025 08:15 +0700`, `Sabtu, 26 Agu 2025`, `26-Des-2025` (after `_words`)."""
    match = _DAY_MONTH_YEAR.search(value)
    if not match or match.group("month") not in MONTHS:
        return None
    try:
        return datetime(
            int(match.group("year")),
            MONTHS[match.group("month")],
            int(match.group("day")),
            int(match.group("hour") or 0),
            int(match.group("minute") or 0),
            int(match.group("second") or 0),
            tzinfo=_zone(match.group("zone")),
        )
    except ValueError:
        return None


def parse_date(value: str | None) -> datetime | None:
    """A feed date as an aware datetime (no zone: UTC); None when absent or unreadable."""
    text = (value or "").strip()
    if not text or len(text) > 100:
        return None
    when = _iso(text.replace("Z", "+00:00") if text.endswith("Z") else text)
    if when is None:
        words = _words(text)
        when = _rfc822(words) or _spelled(words)
    if when is None:
        return None
    try:
        return when if when.tzinfo else when.replace(tzinfo=UTC)
    except (ValueError, OverflowError):
        return None
