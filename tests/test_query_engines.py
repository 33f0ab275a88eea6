"""One query language, three engines: the same queries find the same articles in the embedded
store's FTS5, in Elasticsearch (osmem, or a live cluster) and through the rule matcher."""

from __future__ import annotations

import contextlib
import os
import re
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from schemas import Article, Source
from schemas.elastic import index_template
from schemas.monitor import Rule
from tests.support.es_proxy import start_proxy
from tests.support.osmem import clone, osmem_template
from workers.backends.elastic.index import ElasticIndex, make_client
from workers.backends.sqlite.store import EmbeddedStore
from workers.monitor.match import Matcher
from workers.monitor.query import QueryError, parse
from workers.ports import SearchQuery
from workers.settings import Settings

ARTICLES = {
    "korut": ("Korut akui bantu Rusia di Kursk", "Korea Utara mengaku mengirimkan tentaranya ke Kursk."),
    "serang": ("Pasukan menyerang desa", "Serangan itu diserang balik; penyerangnya ditangkap polisi."),
    "tangkap": ("Polisi tangkap pejabat", "Pejabat yang korupsi ditangkap. Penangkapan berlangsung pagi."),
    "korupsi": ("Dana bansos dikorupsi", "Korupsinya mencapai Rp 2 miliar; koruptor kabur ke São Paulo."),
    "english": ("NASA launches Europa Clipper", "The spacecraft launched from Florida, NASA said on Monday."),
    "perang": (
        "Perang Rusia-Ukraina berlanjut",
        "Rusia dan Ukraina masih berperang di Kursk; Covid-19 mereda.",
    ),
    "banjir": ("Banjir di Jakarta", "Hujan deras membuat banjir di Jakarta Selatan. Pérez hadir."),
    "judul": ("Kursk dalam judul saja", "Teks ini tidak menyebut tempat itu sama sekali."),
    "under": ("Kode snake_case", "Variabel nama_panjang dipakai; under_score tetap satu kata."),
}

# (query, expected ids): expectations written by hand, so an engine agreeing with a broken one still fails.
QUERIES = [
    ("kursk", {"korut", "perang", "judul"}),
    ("Kursk Putin", set()),
    ("serang", {"serang"}),  # menyerang, serangan, diserang
    ('"serang"', set()),  # quoted: the exact form only
    ('"menyerang"', {"serang"}),
    ("tangkap", {"tangkap", "serang"}),  # tangkap, ditangkap
    ("korupsi", {"tangkap", "korupsi"}),  # korupsi, dikorupsi, korupsinya
    ('"korupsi"', {"tangkap"}),
    ("korup*", {"tangkap", "korupsi"}),  # koruptor too
    ("koruptor", {"korupsi"}),
    ("NOT kursk", {"serang", "tangkap", "korupsi", "english", "banjir", "under"}),
    ("-kursk polisi", {"serang", "tangkap"}),
    ("polisi -tangkap", set()),
    ("title:kursk", {"korut", "judul"}),
    ("text:kursk", {"korut", "perang"}),
    ("title:kursk NOT text:kursk", {"judul"}),
    ("title:(banjir OR nasa)", {"banjir", "english"}),
    ('"Korea Utara"', {"korut"}),
    ('"Utara Korea"', set()),
    ("korea utara", {"korut"}),
    ("Korea AND Utara", {"korut"}),
    ("korea OR banjir", {"korut", "banjir"}),
    ("(korea OR banjir) AND NOT jakarta", {"korut"}),
    ("kursk AND NOT (rusia OR judul)", set()),
    ("Rusia-Ukraina", {"perang"}),  # a split bare token is an exact phrase
    ("covid-19", {"perang"}),
    ('"rusia ukraina"', {"perang"}),
    ("perang", {"perang"}),  # berperang; the title's "Perang"
    ("perez", {"banjir"}),  # accents folded on both sides
    ("Pérez", {"banjir"}),
    ('"sao paulo"', {"korupsi"}),
    ("launch", {"english"}),  # English suffixes: launches, launched
    ('"launch"', set()),
    ("spacecraft OR clipper", {"english"}),
    ("and", set()),  # a lower-case operator is a word
    ("snake_case", {"under"}),  # '_' is a word character everywhere
    ("nama_panjang", {"under"}),
    ("kir*", {"korut"}),  # mengirimkan → kirim
    ("NOT (kursk OR polisi OR banjir)", {"korupsi", "english", "under"}),
    ("tentara OR (bansos -miliar)", {"korut"}),
]


def _article(article_id: str, title: str, text: str) -> Article:
    return Article(
        id=article_id,
        input=f"{article_id}.txt",
        title=title,
        text=text,
        content_hash=f"hash-{article_id}",
        published_at=datetime(2025, 4, 28, 9, 30, tzinfo=UTC),
        source=Source(name="Pantau"),
    )


@pytest.fixture(scope="module")
def articles() -> list[Article]:
    return [_article(article_id, *fields) for article_id, fields in ARTICLES.items()]


@pytest.fixture(scope="module")
def embedded(articles, tmp_path_factory) -> EmbeddedStore:
    store = EmbeddedStore(tmp_path_factory.mktemp("engines") / "store.sqlite3")
    for article in articles:
        store.put(article)
    return store


@pytest.fixture(scope="module")
def elastic(articles, osmem_server) -> Iterator[ElasticIndex]:
    """The articles in Elasticsearch: a live cluster when configured, else an osmem clone behind the proxy."""
    live = os.environ.get("KLIPING_TEST_ELASTICSEARCH_URL")
    with contextlib.ExitStack() as stack:
        url = live or stack.enter_context(start_proxy(stack.enter_context(clone(osmem_server)).url)).url
        client = make_client(Settings(elasticsearch_url=url, elasticsearch_timeout=30))
        stack.callback(client.close)
        alias = f"kliping-engines-{uuid.uuid4().hex[:8]}"
        index = ElasticIndex(client, alias)
        index.setup(None if live else osmem_template(index_template(alias)))
        assert not index.put_many(articles)
        index.refresh()
        yield index
        if live:
            client.indices.delete(index=f"{alias}-*")


def test_the_table_has_forty_queries():
    assert len(QUERIES) == 40 and len({q for q, _ in QUERIES}) == 40


@pytest.mark.parametrize(("query", "expected"), QUERIES, ids=[q for q, _ in QUERIES])
def test_search_and_rules_find_the_same_articles(query, expected, articles, embedded, elastic):
    matcher = Matcher([Rule(name="r", query=query)])
    by_rules = {a.id for a in articles if matcher.match(a)}
    by_embedded = {a.id for a in embedded.search(SearchQuery(text=query, limit=100))}
    by_elastic = {a.id for a in elastic.search(SearchQuery(text=query, limit=100))}
    assert by_rules == expected
    assert by_embedded == expected
    assert by_elastic == expected


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ('"a b"~3', "proximity"),
        ("korupsi~", "fuzzy"),
        ("ko*up", "wildcards"),
        ("author:x", "unknown field"),
        ("k*", "at least"),
        ("(a OR b", "missing ')'"),
        ("a)", "unmatched"),
        ('"a b', 'closing "'),
        ("a AND", "ends where a term"),
        ("", "empty"),
        ("(" * 40 + "a" + ")" * 40, "nested deeper"),
    ],
)
def test_what_the_language_cannot_do_is_refused_the_same_way_everywhere(query, message, embedded, elastic):
    [broken] = Matcher([Rule(name="r", query=query)]).broken  # a rule that cannot parse is set aside
    assert message in broken.error
    runs = [lambda: parse(query)]
    if query:  # an empty search text means "no text condition", not an empty query
        runs += [
            lambda: embedded.search(SearchQuery(text=query)),
            lambda: elastic.search(SearchQuery(text=query)),
        ]
    for run in runs:
        with pytest.raises(QueryError, match=re.escape(message)):
            run()


def test_ids_typed_short_are_found_in_both_engines(embedded, elastic):
    for index in (embedded, elastic):
        assert index.ids_starting("ko") == ["korupsi", "korut"]
        assert index.ids_starting("korut") == ["korut"]
        assert index.ids_starting("x") == []
        assert index.ids_starting("") == []
