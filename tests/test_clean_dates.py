"""Publication dates: Indonesian and English date text, zones, plausibility (workers/clean/dates.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from workers.clean.dates import (
    EARLIEST,
    FUTURE_TOLERANCE,
    WIB,
    WIT,
    WITA,
    parse_date,
    parse_date_line,
    plausible,
)

UTC = UTC


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Senin, 28 April 2025 21:14 WIB", datetime(2025, 4, 28, 21, 14, tzinfo=WIB)),
        ("Senin, 28 Apr 2025 21:14 WITA", datetime(2025, 4, 28, 21, 14, tzinfo=WITA)),
        ("Senin, 28 April 2025 21.14 WIT", datetime(2025, 4, 28, 21, 14, tzinfo=WIT)),
        ("Rabu, 4 November 2015 | 21:04 WIB", datetime(2015, 11, 4, 21, 4, tzinfo=WIB)),
        ("Kamis, 05/11/2015 10:08 WIB", datetime(2015, 11, 5, 10, 8, tzinfo=WIB)),
        ("28 Agustus 2024 pukul 08.30 WIB", datetime(2024, 8, 28, 8, 30, tzinfo=WIB)),
        ("Jumat, 17 Des 2021, 13:16:05 WIB", datetime(2021, 12, 17, 13, 16, 5, tzinfo=WIB)),
        ("Selasa, 1 Oktober 2024", datetime(2024, 10, 1, tzinfo=WIB)),
        ("Ahad, 3 Mei 2020 07:00 GMT+7", datetime(2020, 5, 3, 7, 0, tzinfo=WIB)),
        ("April 28, 2025 9:14 PM", datetime(2025, 4, 28, 21, 14, tzinfo=WIB)),
        ("Monday, 28 April 2025 14:14 UTC", datetime(2025, 4, 28, 14, 14, tzinfo=UTC)),
        ("2025-04-28T21:14:00+07:00", datetime(2025, 4, 28, 14, 14, tzinfo=UTC)),
        ("2025-04-28T14:14:00Z", datetime(2025, 4, 28, 14, 14, tzinfo=UTC)),
        ("2016-02-16T13:01:52+0700", datetime(2016, 2, 16, 6, 1, 52, tzinfo=UTC)),
        ("2025-04-28", datetime(2025, 4, 28, tzinfo=WIB)),
    ],
)
def test_parse_date(text, expected):
    value = parse_date(text)
    assert value == expected
    assert value.tzinfo is not None


def test_naive_times_take_the_default_zone():
    assert parse_date("28 April 2025 21:14", default_tz=UTC) == datetime(2025, 4, 28, 21, 14, tzinfo=UTC)
    assert parse_date("28 April 2025 21:14").utcoffset() == timedelta(hours=7)


@pytest.mark.parametrize(
    "text", ["", "tanpa tanggal", "31 Februari 2025", "Pasal 4 ayat 2", "12.000 tentara"]
)
def test_parse_date_without_a_date(text):
    assert parse_date(text) is None


@pytest.mark.parametrize(
    "line",
    [
        "Senin, 28 April 2025 21:14 WIB",
        "Diperbarui: Senin, 28/04/2025 21.14 WIB",
        "- Kamis, 05/11/2015 09:25 WIB",
    ],
)
def test_date_lines(line):
    assert parse_date_line(line) is not None


@pytest.mark.parametrize(
    "line",
    [
        "Sebelumnya, pada 26 April 2025, Kepala Staf Umum Valery Gerasimov mengutarakan dukungan pasukan Korut.",
        "Oleh Leon Weldrick 28 April 2025",
        "Kepala Staf Umum Angkatan Bersenjata Rusia",
    ],
)
def test_sentences_mentioning_a_date_are_not_date_lines(line):
    assert parse_date_line(line) is None


def test_plausible_rejects_future_and_placeholder_dates():
    now = datetime(2025, 4, 29, 3, 0, tzinfo=UTC)
    assert plausible(datetime(2025, 4, 28, 21, 14, tzinfo=WIB), now)
    assert not plausible(datetime(2025, 4, 30, 8, tzinfo=WIB), now)  # a day after the fetch
    assert not plausible(datetime(1970, 1, 1, tzinfo=UTC), now)


def test_plausible_allows_small_drift_only():
    now = datetime(2025, 4, 28, 14, 0, tzinfo=UTC)
    assert plausible(now + FUTURE_TOLERANCE, now)
    assert not plausible(now + FUTURE_TOLERANCE + timedelta(minutes=1), now)
    assert not plausible(EARLIEST - timedelta(days=1), now)
    assert plausible(datetime(2025, 4, 28, 10, tzinfo=UTC), datetime(2025, 4, 29))  # a naive now is UTC
