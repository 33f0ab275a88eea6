"""The trained sentiment model, the article sentiment built on it, and the tone toward each person and organisation.

Texts here are written for the test (regression checks, not quality figures: those come from
ops/evaluate_sentiment.py on the held-out fold of the CNBC headlines).
"""

from __future__ import annotations

import math
import re

import pytest

from schemas import Entity, EntityType, RawDocument, SentimentLabel
from workers.clean import clean
from workers.enrich import enrich, score_sentiment
from workers.enrich.lexicon import name_words, score_skipping
from workers.enrich.sentiment import SplitText, entity_tones, score_article, sentence_spans
from workers.enrich.sentiment_model import LABELS, logits, model, probabilities
from workers.enrich.tokens import words
from workers.settings import DEFAULT_SOURCES_FILE, PROJECT_ROOT
from workers.sources import SourceRegistry

SEEDS = sorted((PROJECT_ROOT / "seeds").glob("*.txt"))
NEG, NEU, POS = SentimentLabel.negative, SentimentLabel.neutral, SentimentLabel.positive


def _label(text: str) -> SentimentLabel:
    return SentimentLabel(LABELS[max(range(3), key=probabilities(words(text)).__getitem__)])


@pytest.fixture(scope="module")
def seed_articles():
    registry = SourceRegistry.load(DEFAULT_SOURCES_FILE)
    raws = [
        RawDocument(input=p.name, content_type="text/plain", text=p.read_text(encoding="utf-8"))
        for p in SEEDS
    ]
    return [enrich(clean(raw, registry), registry) for raw in raws]


@pytest.mark.parametrize(
    "text",
    [
        "IHSG Ambruk 2%, Asing Jual Saham Bank Besar",
        "Kim Jong Un tidak berhasil, Korea Utara gagal meluncurkan satelit",
        "",
        "Laba Bank Melesat, Saham Diborong Investor Asing",
    ],
)
def test_fast_route_equals_the_training_route(text):
    names = frozenset({"Kim", "Jong", "Un"})
    fast, reference = logits(words(text), names), model().reference_logits(words(text), names)
    assert all(math.isclose(a, b, abs_tol=1e-9) for a, b in zip(fast, reference, strict=True))


def test_probabilities_are_a_distribution_and_calibration_is_stored():
    p = probabilities(words("Rupiah menguat terhadap dolar AS"))
    assert math.isclose(sum(p), 1.0) and all(0 < x < 1 for x in p)
    assert 0.2 < model().temperature < 5.0


@pytest.mark.parametrize(
    "headline, label",
    [
        ("IHSG Ambruk, Asing Lepas Saham Bank Besar", NEG),  # market verbs the lexicon lacked
        ("Saham Emiten Batu Bara Melesat, Asing Borong", POS),
        ("Rupiah Loyo, Dolar Tembus Rp16.500", NEG),
        ("Bursa Efek Indonesia Rilis Aturan Baru Soal Jam Perdagangan", NEU),
    ],
)
def test_market_headlines(headline, label):
    assert _label(headline) is label


def test_seed_000_is_negative_like_the_old_tool_said(seed_articles):
    sentiment = seed_articles[0].sentiment  # the page carried "Sentimen: negatif (78%)"
    assert sentiment.label is NEG
    assert sentiment.score < 0 and 0.4 <= sentiment.confidence <= 1.0


def test_no_war_report_is_positive(seed_articles):
    # 002 and 004 report Putin thanking North Korea (their lead is thanks for help) and 003 North Korea's
    # confirmation: factual reports, which the market-news labels call neutral; 000 and 001 read negative
    assert [a.sentiment.label for a in seed_articles].count(POS) == 0
    assert sum(a.sentiment.label is NEG for a in seed_articles) >= 2


def test_article_sentiment_reads_the_lead_not_the_tail():
    lead = "Banjir besar merendam ratusan rumah warga. Dua orang tewas terseret arus."
    tail = " ".join(["Rapat koordinasi digelar di kantor bupati pada hari Senin."] * 20)
    assert score_sentiment(f"{lead}\n{tail}").label is NEG


def test_english_uses_the_lexicon():
    text = "The floods killed twelve people and destroyed hundreds of homes."
    assert score_sentiment(text, language="en").label is NEG


def test_sentence_spans_keep_abbreviations_and_lines():
    text = "Presiden AS Donald J. Trump tiba. Dia disambut U.S. Army.\nBaris baru tanpa titik"
    sentences = [text[a:b] for a, b in sentence_spans(text)]
    assert sentences == [
        "Presiden AS Donald J. Trump tiba.",
        "Dia disambut U.S. Army.",
        "Baris baru tanpa titik",
    ]


def _entity(text: str, name: str, kind: EntityType = EntityType.PERSON) -> Entity:
    positions = [i for i in range(len(text)) if text.startswith(name, i)]
    return Entity(name=name, type=kind, mentions=len(positions), aliases=[name], positions=positions)


def test_tone_toward_each_person_comes_from_the_sentences_that_mention_it():
    text = (
        "Budi Santoso ditangkap polisi karena korupsi dan penipuan yang merugikan negara. "
        "Harga beras di pasar induk stabil pada hari Senin. "
        "Siti Rahayu meraih penghargaan internasional dan sukses membawa pulang medali emas."
    )
    people = [_entity(text, "Budi Santoso"), _entity(text, "Siti Rahayu")]
    place = Entity(name="Pasar Induk", type=EntityType.LOCATION, positions=[text.index("pasar induk")])
    budi, siti, pasar = entity_tones(text, [*people, place])
    assert budi.sentiment.label is NEG and siti.sentiment.label is POS
    assert pasar.sentiment is None  # places get no tone
    assert budi.sentiment.score < 0 < siti.sentiment.score


def test_an_entity_without_positions_gets_no_tone():
    (entity,) = entity_tones("Teks apa saja.", [Entity(name="KPK", type=EntityType.ORGANIZATION)])
    assert entity.sentiment is None


def test_enrich_fills_the_tone_of_persons_and_organisations(seed_articles):
    toned = [e for a in seed_articles for e in a.entities if e.sentiment is not None]
    assert toned and all(e.type in (EntityType.PERSON, EntityType.ORGANIZATION) for e in toned)
    assert all(e.sentiment.label in (NEG, NEU, POS) and 0 < e.sentiment.confidence <= 1 for e in toned)
    kim = [e for a in seed_articles for e in a.entities if e.name == "Kim Jong Un"]
    assert kim and all(e.sentiment is not None for e in kim)


def test_english_sentiment_read_per_sentence_equals_reading_the_words_together():
    # the article and each tone are put together from per-sentence evidence read once; a sentence that
    # does not end at a clause boundary (a line without a full stop) is read with what follows it
    text = (
        ". Police did not\nsucceed in the raid. Smith said the deal was a great success!\n"
        "Jones was not arrested\nSmith praised the very good results of the talks.\n"
        "Talks did not\n. . succeed, Jones blamed the crisis on failed reforms. . "
    )  # end marks after a line break or a sentence end belong to no sentence: they still end a clause
    people = [_entity(text, "Smith"), _entity(text, "Jones")]
    title = words("Crisis deepens as talks fail")
    article, toned = score_article(title, text, people, "en")
    names = name_words([n for e in people for n in (e.name, *e.aliases)])
    assert article == score_skipping(title + words(text), names)
    assert SplitText(text).words() == words(text)
    sentences = [text[a:b] for a, b in sentence_spans(text)]
    for entity in toned:
        mentioning = [s for s in sentences if entity.name in s]
        assert entity.sentiment == score_skipping([w for s in mentioning for w in words(s)], names)


@pytest.mark.parametrize(
    "text",
    ["A\n", "U.S. Army. Ok", "Jr. Smith! x", "PT. Abc… Def", "Mr. Li?” Yes.\n\nNo", "a.. b", "Ab.", "x.\n"]
    + [p.read_text(encoding="utf-8") for p in SEEDS],
    ids=lambda t: t[:12],
)
def test_sentence_spans_end_as_the_lookbehind_pattern_says(text):
    # the pattern sentence_spans applies, with its abbreviation test written as lookbehinds
    ends = re.compile(r"(?<![A-Z])(?<![A-Z][a-z])(?<![A-Z][A-Z])[.!?…]+[\"”’)]*\s+|\n+")
    spans, start = [], 0
    for match in ends.finditer(text):
        if text[start : match.start()].strip():
            spans.append((start, match.start() + len(match.group().rstrip())))
        start = match.end()
    if text[start:].strip():
        spans.append((start, len(text)))
    assert sentence_spans(text) == spans
