"""The lexicon (English sentiment, and features of the trained model): negation, intensifiers, affixes, confidence.

The trained model and the article/entity sentiment built on it are tested in test_enrich_sentiment_model.py.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from schemas import SentimentLabel
from workers.enrich.lexicon import NEGATIVE_THRESHOLD, POSITIVE_THRESHOLD, read_evidence, score_sentiment
from workers.enrich.stem import candidates
from workers.settings import PROJECT_ROOT

SEEDS = sorted((PROJECT_ROOT / "seeds").glob("*.txt"))
FIXTURES = Path(__file__).parent / "fixtures" / "enrich"


def _fixture(name: str) -> str:
    return (FIXTURES / name).read_text(encoding="utf-8")


def test_lexicon_scores_seed_000_negative_like_the_old_tool_said():
    sentiment = score_sentiment(SEEDS[0].read_text(encoding="utf-8"))  # "Sentimen: negatif (78%)"
    assert sentiment.label is SentimentLabel.negative
    assert sentiment.score <= -0.6
    assert 0.6 <= sentiment.confidence <= 1.0


@pytest.mark.parametrize("path", SEEDS, ids=lambda p: p.name[:3])
def test_lexicon_scores_every_war_report_negative(path):
    assert score_sentiment(path.read_text(encoding="utf-8")).label is SentimentLabel.negative


@pytest.mark.parametrize(
    "name, label",
    [
        ("kemenkeu_pajak.txt", SentimentLabel.positive),  # tax revenue grows, surplus
        ("prestasi_robotik.txt", SentimentLabel.positive),  # students win an international contest
        ("pengumuman_jadwal.txt", SentimentLabel.neutral),  # a registration schedule
        ("bandung_banjir.txt", SentimentLabel.negative),  # a flood
        ("english_summit.txt", SentimentLabel.negative),  # war talks, aggression
    ],
)
def test_lexicon_fixture_labels(name, label):
    assert score_sentiment(_fixture(name)).label is label


def test_thresholds_are_symmetric_and_leave_a_neutral_band():
    assert NEGATIVE_THRESHOLD == -POSITIVE_THRESHOLD
    assert 0 < POSITIVE_THRESHOLD < 0.5


@pytest.mark.parametrize(
    "plain, negated",
    [
        ("Proyek itu berhasil.", "Proyek itu tidak berhasil."),
        ("Program ini sukses.", "Program ini belum sukses."),
        ("The project was successful.", "The project was not successful."),
        ("Mereka menyerang desa itu.", "Mereka tak menyerang desa itu."),
    ],
)
def test_negation_flips_the_label(plain, negated):
    a, b = score_sentiment(plain), score_sentiment(negated)
    assert a.label is not SentimentLabel.neutral and b.label is not SentimentLabel.neutral
    assert a.label is not b.label
    assert abs(b.score) < abs(a.score)  # a negated word is weaker evidence than its opposite


def test_negation_stops_at_a_clause_boundary():
    assert score_sentiment("Tidak ada yang tahu. Tim itu berhasil.").label is SentimentLabel.positive


@pytest.mark.parametrize(
    ("tokens", "names", "weights", "n_words"),
    [
        ("not a b good", (), [-0.6], 4),  # the negation reaches three words ahead, plain words between
        ("not a b c good", (), [1.0], 5),  # ... and no further
        ("not Andi b good", ("Andi",), [-0.6], 4),  # a name's word counts as a word
        ("very a good", (), [1.5], 3),
        ("very a b good", (), [1.0], 4),  # an intensifier reaches two words ahead
        ("not luar biasa", (), [-1.2], 2),  # a pair is one word, and negated as one
        ("gempa Bumi", ("Bumi",), [-2.5], 2),  # a name's word completes no pair
        ("not , good", (), [1.0], 2),  # a clause boundary ends the negation and is no word
    ],
)
def test_lexicon_evidence_windows(tokens, names, weights, n_words):
    """read_evidence jumps over plain words: the windows of negations and intensifiers still count them."""
    found = read_evidence(tokens.split(), frozenset(names))
    assert (found.weights, found.n_words) == (weights, n_words)


def test_intensifier_strengthens():
    assert score_sentiment("Hasilnya sangat baik.").score > score_sentiment("Hasilnya baik.").score > 0
    assert (
        score_sentiment("The damage was very bad.").score < score_sentiment("The damage was bad.").score < 0
    )


def test_affixed_forms_reach_their_roots():
    assert {"musnah", "kecam", "serang", "berhasil", "hasil"} <= {
        *candidates("memusnahkan"),
        *candidates("dikecam"),
        *candidates("menyerangnya"),
        *candidates("keberhasilan"),
    }
    # none of these inflected forms is in the lexicon as written
    assert score_sentiment("Kebijakan itu dikecam dan warga diserang.").label is SentimentLabel.negative
    assert score_sentiment("Keberhasilannya membanggakan.").label is SentimentLabel.positive


def test_confidence_grows_with_evidence_and_agreement():
    one = score_sentiment("Dua warga tewas.")
    many = score_sentiment(
        "Dua warga tewas. Banjir merusak rumah. Korban luka dirawat. Bencana menghancurkan desa."
    )
    mixed = score_sentiment(
        "Dua warga tewas. Tim penyelamat berhasil. Banjir merusak rumah. Bantuan tiba, sukses."
    )
    assert one.label is many.label is SentimentLabel.negative
    assert many.confidence > one.confidence
    assert many.confidence > mixed.confidence


def test_ranges_and_empty_text():
    empty = score_sentiment("")
    assert empty.label is SentimentLabel.neutral and empty.score == 0.0
    for path in SEEDS:
        sentiment = score_sentiment(path.read_text(encoding="utf-8"))
        assert -1.0 <= sentiment.score <= 1.0 and 0.0 <= sentiment.confidence <= 1.0


def test_entity_names_carry_no_sentiment():
    text = "Pemerintah Kabupaten Banggai menggelar rapat anggaran di kantor bupati pada hari Senin."
    assert score_sentiment(text).score > 0  # "Banggai" reaches the root "bangga" (proud)
    assert score_sentiment(text, ["Kabupaten Banggai", "Banggai"]).score == 0


@pytest.mark.parametrize(
    "word, expected",
    [
        (
            "keberhasilan",
            (
                "keberhasilan",
                "keberhasil",
                "berhasilan",
                "hasilan",
                "rhasilan",
                "berhasil",
                "hasil",
                "rhasil",
            ),
        ),
        ("negara-negara", ("negara-negara", "negara")),
        ("cities", ("cities", "city", "citi", "citie")),
        ("Killed", ("killed", "kill", "kille")),
        ("di", ()),
        ("pukulan", ("pukulan", "pukul")),
        (
            "menyerangkah",
            ("menyerangkah", "menyerang", "serangkah", "rangkah", "yerangkah", "tyerangkah", "nyerangkah")
            + ("serang", "rang", "yerang", "tyerang", "nyerang"),
        ),
    ],
)
def test_candidate_roots_in_order(word, expected):
    # the order decides which root the lexicon takes: pinned so that a faster stemmer reads the same roots
    assert candidates(word) == expected
