"""htmldate reads date text with a dateparser limited to Kliping's languages (workers/clean/date_text.py)."""

from __future__ import annotations

from htmldate import extractors, find_date
from lxml.html import fromstring

import workers.clean  # noqa: F401  (importing the clean stage installs the parser)
from workers.clean.date_text import DATE_LANGUAGES, external_parser, htmldate_default, install


def test_the_clean_stage_installs_the_limited_parser():
    assert extractors.get_external_parser() is external_parser()
    assert external_parser().languages == list(DATE_LANGUAGES)
    install()  # idempotent
    assert extractors.get_external_parser is external_parser


def test_htmldate_still_reads_indonesian_dates_only_dateparser_knows():
    # "Nopember" and "Agt" are spellings htmldate's own patterns do not know: they reach dateparser.
    page = (
        "<html><body><article><h1>Banjir melanda kawasan pesisir utara</h1><p>Kamis, 5 Nopember 2015</p>"
        "<p>Warga mengungsi ke balai desa sejak pagi.</p></article></body></html>"
    )
    assert (
        find_date(fromstring(page), extensive_search=True, original_date=True, max_date="2026-12-01")
        == "2015-11-05"
    )
    assert external_parser().get_date_data("12 Agt 2020")["date_obj"].date().isoformat() == "2020-08-12"


def test_garbled_date_text_is_not_a_date():
    assert external_parser().get_date_data("Selasa, 20 Kemudian 2019")["date_obj"] is None


def test_comparisons_can_run_htmldate_as_it_ships():
    with htmldate_default():
        assert extractors.get_external_parser() is not external_parser()
        assert extractors.get_external_parser().languages is None  # every locale
    assert extractors.get_external_parser() is external_parser()
