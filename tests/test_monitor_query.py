"""The rule query language and the matcher's prefilter (no services)."""

from __future__ import annotations

import random

import pytest

from schemas import Article, Entity, EntityType, Sentiment, SentimentLabel, Source
from schemas.monitor import Rule
from workers.monitor.match import Matcher
from workers.monitor.query import (
    And,
    Document,
    Not,
    Or,
    QueryError,
    Term,
    evaluate,
    parse,
    required_keys,
)
from workers.settings import PROJECT_ROOT

TEXT = (
    "Dana bansos dikorupsi pejabat daerah; korupsinya mencapai Rp 2 miliar. "
    "Korea Utara mengirim pasukan ke Kursk. Pérez dan Müller hadir di São Paulo."
)


def matches(query: str, text: str = TEXT) -> bool:
    return evaluate(parse(query), Document.of(text))


def test_parse_precedence_and_implicit_and():
    assert parse("a OR b c") == Or((Term(("a",), False), And((Term(("b",), False), Term(("c",), False)))))
    assert parse("NOT a b") == And((Not(Term(("a",), False)), Term(("b",), False)))
    assert parse('("Korea Utara" OR Korut) AND NOT Selatan') == And(
        (
            Or((Term(("korea", "utara"), True), Term(("korut",), False))),
            Not(Term(("selatan",), False)),
        )
    )


@pytest.mark.parametrize("query", ["", "   ", "(korupsi", "korupsi)", "AND", "korupsi OR", "NOT"])
def test_malformed_queries_are_errors(query):
    with pytest.raises(QueryError):
        parse(query)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("korupsi", True),  # the root finds dikorupsi / korupsinya
        ('"korupsi"', False),  # quoted: exact form only, and the text has no bare "korupsi"
        ('"korupsinya"', True),
        ("KORUPSI", True),  # case-insensitive
        ("kirim", True),  # mengirim
        ('"Korea Utara"', True),
        ('"Utara Korea"', False),  # phrase order matters
        ('"korea selatan"', False),
        ("korea selatan", False),  # implicit AND
        ("korea NOT selatan", True),
        ("korea AND NOT utara", False),
        ("(selatan OR kursk) AND pasukan", True),
        ("NOT (selatan OR jepang)", True),
        ("perez", True),  # accents folded on both sides
        ('Pérez AND muller AND "sao paulo"', True),
        ("and", False),  # lower-case operators are words
        ("bansos OR banjir", True),
    ],
)
def test_query_semantics(query, expected):
    assert matches(query) is expected


def test_required_keys():
    assert required_keys(parse("a b")) == frozenset({"a"})
    assert required_keys(parse("a OR (b c)")) == frozenset({"a", "b"})
    assert required_keys(parse("NOT a")) is None
    assert required_keys(parse("a OR NOT b")) is None
    assert required_keys(parse('"x y" NOT z')) == frozenset({"x"})


def _article(text: str, number: int) -> Article:
    return Article(
        id=f"a{number}",
        input=f"a{number}",
        title=text.split(".")[0][:80],
        text=text,
        content_hash=str(number),
        source=Source(name=random.choice(["Kompas", "Antara"])),
        sentiment=Sentiment(label=random.choice(list(SentimentLabel))),
        entities=[Entity(name="Kim Jong Un", type=EntityType.PERSON)] if number % 2 else [],
    )


def _random_query(rng: random.Random, vocabulary: list[str], depth: int = 0) -> str:
    roll = rng.random()
    if depth > 2 or roll < 0.35:
        word = rng.choice(vocabulary)
        return f'"{word} {rng.choice(vocabulary)}"' if roll < 0.05 else word
    if roll < 0.45:
        return "NOT " + _random_query(rng, vocabulary, depth + 1)
    op = rng.choice([" AND ", " OR ", " "])
    return "(" + op.join(_random_query(rng, vocabulary, depth + 1) for _ in range(rng.randint(2, 3))) + ")"


@pytest.mark.slow
def test_prefilter_equals_brute_force_on_generated_rules():
    rng = random.Random(8)
    random.seed(8)
    texts = [p.read_text(encoding="utf-8") for p in sorted((PROJECT_ROOT / "seeds").glob("*.txt"))]
    texts += [
        p.read_text(encoding="utf-8") for p in sorted((PROJECT_ROOT / "tests/fixtures/enrich").glob("*.txt"))
    ]
    vocabulary = sorted({w for t in texts for w in Document.of(t).exact if len(w) > 3})
    vocabulary = rng.sample(vocabulary, 300) + ["korupsi", "perang", "banjir", "tidakada", "serang", "bantu"]
    rules = []
    for number in range(2000):
        rule = Rule(name=f"r{number}", query=_random_query(rng, vocabulary))
        if number % 7 == 0:
            rule.sentiment = rng.choice(list(SentimentLabel))
        if number % 11 == 0:
            rule.entity = "kim jong un"
        if number % 13 == 0:
            rule.source = "kompas"
        rules.append(rule)
    matcher = Matcher(rules)
    total = 0
    for number, text in enumerate(texts):
        article = _article(text, number)
        fast = [(m.rule.name, m.terms) for m in matcher.match(article)]
        slow = [(m.rule.name, m.terms) for m in matcher.match_all(article)]
        assert fast == slow
        total += len(fast)
        assert len(matcher.candidates(Document.of(text))) < len(rules)  # the prefilter prunes
    assert total > 50  # the generated rules do match things: the comparison is not vacuous


def test_a_rule_with_entity_and_sentiment_filters_on_the_tone_toward_the_entity():
    def article(article_tone: SentimentLabel, kim_tone: SentimentLabel | None) -> Article:
        kim = Entity(
            name="Kim Jong Un",
            type=EntityType.PERSON,
            aliases=["Kim Jong-un"],
            sentiment=Sentiment(label=kim_tone) if kim_tone else None,
        )
        return Article(
            id="k",
            input="k",
            title="Korea Utara",
            text="Kim Jong-un di Korea Utara.",
            content_hash="k",
            source=Source(name="Kompas"),
            sentiment=Sentiment(label=article_tone),
            entities=[kim],
        )

    neg, pos = SentimentLabel.negative, SentimentLabel.positive
    toward = Matcher([Rule(name="r", query="korea", entity="kim jong-un", sentiment=neg)])
    assert toward.match(article(pos, neg)) and not toward.match(article(neg, pos))
    assert not toward.match(
        article(neg, None)
    )  # no tone toward him: the article's sentiment does not stand in
    overall = Matcher([Rule(name="r", query="korea", sentiment=neg)])
    assert overall.match(article(neg, pos)) and not overall.match(article(pos, neg))


def test_fold_drops_marks_in_non_ascii_runs_only_and_keeps_other_characters():
    import unicodedata

    from workers.monitor.query import fold

    def by_every_character(text: str) -> str:
        decomposed = unicodedata.normalize("NFKD", text.lower())
        return "".join(ch for ch in decomposed if not unicodedata.combining(ch))

    for text in ("Pérez di “Café” Ñusa — 12°C", "plain ascii", "Đà Nẵng, São Paulo, ﬁnal", ""):
        assert fold(text) == by_every_character(text)
    assert fold("Pérez “Café”") == "perez “cafe”"
