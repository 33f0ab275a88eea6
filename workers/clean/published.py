"""An article's publication date: what its source states, where it stated it, in the outlet's time zone.

Candidates, best first: the page's or text's own statements (metadata, JSON-LD, date stamps, a plain
text's date lines), the date of its dateline, the date its feed item gave, and last htmldate's guess
from the page's text. The first plausible one wins; then

* a time stated without a zone is read in the outlet's zone (source registry), else Jakarta time for
  Indonesian text and UTC elsewhere; when another statement gives the same wall-clock time with a zone
  ("18:41" in one tag, "18:41+02:00" in JSON-LD), it takes that zone;
* a time labelled UTC on an outlet with a local zone is read as local time when the registry says the
  outlet labels local time UTC (detik), or when the other evidence agrees with the local reading and not
  with the UTC one: stamps shown with a zone ("15:32 WIB"), the time in the URL ("/2015/11/05/100026/"),
  and the fetch (a time in the future when read as UTC, in the past when read locally).
* a publication time equal to the page's last modification gives way to an earlier JSON-LD datePublished
  (CMSs that rewrite article:published_time on every edit).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone, tzinfo

from schemas import DateSource, RawDocument
from workers.clean.dates import FUTURE_TOLERANCE, Stated, parse_date, plausible
from workers.clean.draft import Draft
from workers.sources import OutletClock

# A piece of evidence supports a reading of a time labelled UTC when it lies within this of it (and not of
# the other reading). Seven hours separate the two readings on Indonesian (WIB) pages; stamps of one
# article (created, published, updated, shown) lie minutes to an hour apart.
EVIDENCE_WINDOW = timedelta(hours=1)
# A sentinel zone: what parse_date gives a time stated without one.
_UNSTATED = timezone(timedelta(0), "unstated")
# "/2015/11/05/100026/": a date path, then a segment opening with the local time (HHMM, seconds optional).
_URL_TIME = re.compile(
    r"/(?P<year>(?:19|20)\d\d)/(?P<month>[01]\d)/(?P<day>[0-3]\d)/(?P<hour>[01]\d|2[0-3])(?P<minute>[0-5]\d)"
)


@dataclass(frozen=True)
class Published:
    """The chosen publication date and where it was stated."""

    at: datetime
    source: DateSource


def publication_date(
    draft: Draft, raw: RawDocument, clock: OutletClock | None, default_zone: tzinfo
) -> Published | None:
    """The first plausible stated date, read in the right zone; None when the source states none."""
    now = raw.fetched_at if raw.fetched_at.tzinfo else raw.fetched_at.replace(tzinfo=UTC)
    zone = clock.zone if clock else default_zone
    url = draft.url or raw.final_url or raw.url
    for text, source in _candidates(draft, raw):
        value = _read(text, zone, clock, draft, url, now)
        if value is not None and plausible(value, now):
            if isinstance(text, str):
                value = _complete(text, value, draft.stated_dates)
                earlier = _before_modification(value, draft, zone, now)
                if earlier is not None:
                    return Published(earlier, DateSource.json_ld)
            return Published(value, source)
    return None


def _candidates(draft: Draft, raw: RawDocument) -> Iterator[tuple[str | datetime, DateSource]]:
    """Date candidates in order, each with where it was stated; htmldate's guess after the dateline and feed."""
    guesses = []
    for text in draft.dates:
        if isinstance(text, Stated) and text.guess:
            guesses.append(text)
            continue
        yield text, (text.source if isinstance(text, Stated) and text.source else draft.date_source)
    if draft.dateline_date:
        yield draft.dateline_date, DateSource.dateline
    if raw.listed_at is not None:
        yield raw.listed_at, DateSource.feed
    for guess in guesses:
        yield guess, draft.date_source


def _read(
    text: str | datetime,
    zone: tzinfo,
    clock: OutletClock | None,
    draft: Draft,
    url: str | None,
    now: datetime,
) -> datetime | None:
    """A candidate as an aware datetime: unstated zones are the outlet's, a UTC label is checked."""
    if isinstance(text, datetime):
        return text if text.tzinfo else text.replace(tzinfo=zone)
    value = parse_date(text, _UNSTATED)
    if value is None:
        return None
    if value.tzinfo is _UNSTATED:
        return value.replace(tzinfo=zone)
    if clock is None or value.utcoffset() != timedelta(0):
        return value
    local = value.replace(tzinfo=clock.zone)
    if local.utcoffset() == timedelta(0):
        return value
    if clock.local_time_as_utc or _local_is_likelier(value, local, draft, url, now):
        return local
    return value


def _local_is_likelier(utc: datetime, local: datetime, draft: Draft, url: str | None, now: datetime) -> bool:
    """True when more evidence agrees with the local reading of a time labelled UTC than with the UTC one."""
    if utc > now + FUTURE_TOLERANCE >= local:
        return True  # read as UTC it would lie in the future
    votes = 0
    for moment in _evidence(draft, url, local.tzinfo or UTC):
        near_local, near_utc = abs(moment - local) <= EVIDENCE_WINDOW, abs(moment - utc) <= EVIDENCE_WINDOW
        votes += near_local - near_utc
    return votes > 0


def _evidence(draft: Draft, url: str | None, zone: tzinfo) -> Iterator[datetime]:
    """Moments the page states with a zone other than UTC, and the local time in its URL."""
    for text in [*draft.stated_dates, *draft.shown_dates()]:
        value = parse_date(text, _UNSTATED)
        if value is not None and value.tzinfo is not _UNSTATED and value.utcoffset() != timedelta(0):
            yield value
    match = _URL_TIME.search(url or "")
    if match:
        year, month, day, hour, minute = (int(part) for part in match.groups())
        try:
            yield datetime(year, month, day, hour, minute, tzinfo=zone)
        except ValueError:
            pass


def _before_modification(value: datetime, draft: Draft, zone: tzinfo, now: datetime) -> datetime | None:
    """The page's JSON-LD publication time when the chosen one is its last modification and JSON-LD's is earlier.

    Some CMSs rewrite article:published_time on every edit (the Mirror: published = modified = the last
    edit, JSON-LD datePublished a day earlier); an article is published before it is changed.
    """
    modified = parse_date(draft.modified_date, zone) if draft.modified_date else None
    if modified is None or abs(modified - value) > timedelta(minutes=1):
        return None
    for text in draft.stated_dates:  # JSON-LD's datePublished: a statement of its own, not a copy of the tags
        if isinstance(text, Stated) and text.source is DateSource.json_ld:
            found = parse_date(text, zone)
            if found is not None and (found.hour or found.minute) and plausible(found, now) and found < value:
                return found
    return None


def _complete(text: str, value: datetime, stated: list[str]) -> datetime:
    """The chosen date with the zone another statement gives the same wall-clock time ("18:41" and "18:41+02:00")."""
    unstated = parse_date(text, _UNSTATED)
    if unstated is None or unstated.tzinfo is not _UNSTATED or not (value.hour or value.minute):
        return (
            value  # its zone is stated, or it gives a day only (another statement's time may be an update's)
        )
    wall_clock = value.replace(tzinfo=None, second=0)
    for other in stated:
        found = parse_date(other, _UNSTATED)
        if (
            found is not None
            and found.tzinfo is not _UNSTATED
            and found.replace(tzinfo=None, second=0) == wall_clock
        ):
            return found
    return value
