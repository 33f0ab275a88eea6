"""ElasticIndex with the plain client against osmem behind the header proxy (or a live cluster)."""

from __future__ import annotations

import copy
import dataclasses
import os
import uuid
import warnings
from datetime import UTC, datetime

import pytest
from elasticsearch import BadRequestError, Elasticsearch

from schemas import (
    Article,
    CopyRef,
    DateSource,
    Dedup,
    Entity,
    EntityType,
    Outcome,
    Sentiment,
    SentimentLabel,
    Source,
)
from schemas.elastic import index_template, template_mappings
from tests.support.osmem import osmem_template
from workers.backends.elastic.index import ElasticIndex, build_query, make_client, to_document
from workers.errors import TransientError
from workers.ports import SearchQuery
from workers.runtime.embedded import run
from workers.runtime.wiring import embedded_context
from workers.settings import Settings


def _article(article_id: str, title: str, text: str, **extra) -> Article:
    """An enriched canonical article from Pantau, with overrides."""
    fields = dict(
        id=article_id,
        input=f"{article_id}.txt",
        url=f"https://www.pantau.com/{article_id}",
        title=title,
        text=text,
        language="id",
        published_at=datetime(2025, 4, 28, 9, 30, tzinfo=UTC),
        source=Source(name="Pantau", domain="pantau.com", known=True),
        content_hash=f"hash-{article_id}",
        entities=[
            Entity(name="Kim Jong Un", type=EntityType.PERSON, aliases=["Kim"]),
            Entity(name="Kursk", type=EntityType.LOCATION),
        ],
        sentiment=Sentiment(label=SentimentLabel.negative, score=-0.6, confidence=0.8),
        dedup=Dedup(canonical_id=article_id, story_id="story-1"),
    )
    fields.update(extra)
    return Article(**fields)


KORUT = _article(
    "korut",
    "Korut akui bantu Rusia di Kursk",
    "Korea Utara mengaku mengirimkan tentaranya dalam Perang Rusia Ukraina.",
)
BANJIR = _article(
    "banjir",
    "Banjir di Jakarta",
    "Hujan deras membuat banjir di Jakarta Selatan.",
    entities=[],
    sentiment=Sentiment(label=SentimentLabel.neutral),
    source=Source(name="Kompas"),
)


@pytest.fixture
def client(es_url) -> Elasticsearch:
    """The plain production client on the test cluster."""
    client = make_client(Settings(elasticsearch_url=es_url, elasticsearch_timeout=30))
    yield client
    client.close()


LIVE = bool(os.environ.get("KLIPING_TEST_ELASTICSEARCH_URL"))


@pytest.fixture
def index(client) -> ElasticIndex:
    """A set-up index under a fresh alias."""
    alias = f"kliping-test-{uuid.uuid4().hex[:8]}"
    index = ElasticIndex(client, alias)
    # osmem cannot stem Indonesian (see tests/support/osmem.py): it gets the template without stemmers.
    index.setup(None if LIVE else osmem_template(index_template(alias)))
    yield index
    if LIVE:
        client.indices.delete(index=f"{alias}-*")


def test_setup_is_idempotent_and_applies_the_template(index, client):
    index.setup()
    index.setup()
    concrete = list(client.indices.get_alias(name=index.alias))
    assert concrete == [f"{index.alias}-000001"]
    assert client.indices.get_mapping(index=concrete[0])[concrete[0]]["mappings"] == template_mappings()


def test_put_get_round_trip_keeps_the_article(index, client):
    index.put(KORUT)
    assert index.get("korut") == KORUT  # real time: no refresh needed
    assert index.get("missing") is None
    index.refresh()
    source = client.get(index=f"{index.alias}-000001", id="korut")["_source"]
    assert source["persons"] == ["Kim Jong Un"] and source["locations"] == ["Kursk"]
    assert source["organizations"] == []
    assert index.count() == 1
    index.put(KORUT)  # an upsert: still one document
    index.refresh()
    assert index.count() == 1


@pytest.fixture
def two_articles(index) -> ElasticIndex:
    """The index holding KORUT and BANJIR, refreshed."""
    index.put(KORUT)
    index.put(BANJIR)
    index.refresh()
    return index


def test_search_stems_indonesian(two_articles):  # the query language's stems, not the cluster's analyser
    assert [a.id for a in two_articles.search(SearchQuery(text="tentara"))] == ["korut"]  # "tentaranya"
    assert [a.id for a in two_articles.search(SearchQuery(text="kirim"))] == ["korut"]  # "mengirimkan"


def test_search_by_text_and_filters(two_articles):
    index = two_articles
    assert [a.id for a in index.search(SearchQuery(text="mengirimkan"))] == ["korut"]
    assert index.search(SearchQuery(text="gempa")) == []
    assert [a.id for a in index.search(SearchQuery(text="banjir jakarta"))] == ["banjir"]
    assert [a.id for a in index.search(SearchQuery(entity="kim jong un"))] == ["korut"]
    assert [a.id for a in index.search(SearchQuery(entity="Kim"))] == ["korut"]  # an alias
    assert [a.id for a in index.search(SearchQuery(source="kompas"))] == ["banjir"]
    assert [a.id for a in index.search(SearchQuery(sentiment=SentimentLabel.negative))] == ["korut"]
    assert index.search(SearchQuery(since=datetime(2025, 5, 1, tzinfo=UTC))) == []
    assert len(index.search(SearchQuery(limit=1))) == 1
    assert sorted(a.id for a in index.iter_articles()) == ["banjir", "korut"]


def test_strict_mapping_rejects_an_unknown_field(index, client):
    document = to_document(KORUT) | {"unknown_field": "x"}
    with pytest.raises(BadRequestError) as excinfo:
        client.index(index=index.alias, id="bad", document=document)
    assert "strict" in str(excinfo.value)


def test_add_copy_updates_the_canonical(index):
    index.put(KORUT)
    ref = CopyRef(id="copy-1", outlet="Pikiran Rakyat", url="https://pikiran-rakyat.com/x")
    index.add_copy("korut", ref)
    index.add_copy("korut", ref)  # idempotent
    index.add_copy("korut", CopyRef(id="copy-2"))
    stored = index.get("korut")
    assert [c.id for c in stored.dedup.copies] == ["copy-1", "copy-2"]
    assert stored.dedup.copy_count == 2
    index.add_copy("missing", ref)  # a canonical that is gone is logged, not an error


def test_put_many_stores_the_good_items_and_reports_the_bad_one(index):
    articles = [_article(f"a{i}", f"Judul {i}", f"Isi berita nomor {i}.") for i in range(5)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pydantic warns when serialising the deliberately bad value
        bad = articles[2].model_copy(update={"published_at": "not a date"})
        failures = index.put_many([*articles[:2], bad, *articles[3:]])
    assert [(f.id, f.status) for f in failures] == [("a2", 400)]
    assert "published_at" in failures[0].error
    index.refresh()
    assert index.count() == 4
    assert index.get("a2") is None


def test_search_query_without_text_sorts_newest_first():
    body = build_query(SearchQuery(source="Pantau", limit=5))
    assert body["size"] == 5
    assert body["sort"][0] == {"dated_at": {"order": "desc", "missing": "_last"}}


def test_an_unreachable_cluster_is_a_transient_error():
    dead = make_client(Settings(elasticsearch_url="http://127.0.0.1:1", elasticsearch_timeout=1))
    with pytest.raises(TransientError):
        ElasticIndex(dead, "kliping-x").count()


def test_entity_with_sentiment_searches_the_tone_toward_that_entity(index, client):
    def kim(tone: SentimentLabel) -> list[Entity]:
        return [
            Entity(
                name="Kim Jong Un",
                type=EntityType.PERSON,
                aliases=["Kim Jong-un"],
                sentiment=Sentiment(label=tone, score=0.0, confidence=0.7),
            ),
            Entity(name="Kursk", type=EntityType.LOCATION),
        ]

    # the article's sentiment and the tone toward Kim point opposite ways in both articles
    praised = _article("praised", "A", "a", entities=kim(SentimentLabel.positive))
    blamed = _article(
        "blamed",
        "B",
        "b",
        entities=kim(SentimentLabel.negative),
        sentiment=Sentiment(label=SentimentLabel.positive),
    )
    index.put(praised)
    index.put(blamed)
    index.refresh()
    assert index.get("blamed") == blamed  # the tone survives the round trip; the derived fields are dropped
    source = client.get(index=f"{index.alias}-000001", id="blamed")["_source"]
    assert source["tone_negative"] == ["Kim Jong Un", "Kim Jong-un"] and source["tone_positive"] == []
    search = lambda **kw: [a.id for a in index.search(SearchQuery(**kw))]  # noqa: E731
    assert search(entity="kim jong-un", sentiment=SentimentLabel.negative) == ["blamed"]
    assert search(entity="Kim Jong Un", sentiment=SentimentLabel.positive) == ["praised"]
    assert search(sentiment=SentimentLabel.positive) == [
        "blamed"
    ]  # without an entity: the article's sentiment


def test_dated_at_round_trips_and_filters_undated_articles_by_first_seen(index):
    seen = datetime(2025, 5, 2, 8, 0, tzinfo=UTC)
    undated = _article(
        "undated", "Tanpa tanggal", "Isi berita tanpa tanggal.", published_at=None, fetched_at=seen
    )
    assert (undated.dated_at, undated.date_source) == (seen, DateSource.first_seen)
    index.put(KORUT)
    index.put(undated)
    index.refresh()
    assert index.get("undated") == undated
    assert (
        index.get("korut").date_source is DateSource.page
        and index.get("korut").dated_at == KORUT.published_at
    )
    ids = lambda **kw: [a.id for a in index.search(SearchQuery(**kw))]  # noqa: E731
    assert ids() == ["undated", "korut"]  # newest first, by dated_at
    assert ids(since=datetime(2025, 5, 1, tzinfo=UTC)) == ["undated"]
    assert ids(until=datetime(2025, 5, 1, tzinfo=UTC)) == ["korut"]
    assert ids(
        since=datetime(2025, 4, 28, 9, 30, tzinfo=UTC), until=datetime(2025, 5, 2, 8, 0, tzinfo=UTC)
    ) == ["korut"]


def test_setup_adds_new_fields_to_an_index_made_by_an_older_template(client):
    alias = f"kliping-test-{uuid.uuid4().hex[:8]}"
    template = index_template(alias) if LIVE else osmem_template(index_template(alias))
    older = copy.deepcopy(template)
    for name in ("first_seen_at", "dated_at", "date_source"):
        del older["template"]["mappings"]["properties"][name]
    index = ElasticIndex(client, alias)
    index.setup(older)
    index.setup(template)  # a newer worker starts: its writes must not be refused by the strict mapping
    concrete = f"{alias}-000001"
    properties = client.indices.get_mapping(index=concrete)[concrete]["mappings"]["properties"]
    assert properties["dated_at"] == {"type": "date"} and properties["date_source"] == {"type": "keyword"}
    index.put(KORUT)
    index.refresh()
    assert [a.id for a in index.search(SearchQuery(since=datetime(2025, 1, 1, tzinfo=UTC)))] == ["korut"]
    if LIVE:
        client.indices.delete(index=f"{alias}-*")


def test_the_pipeline_on_elasticsearch_dates_articles_and_keeps_first_seen(
    index, settings, seed_paths, tmp_path
):
    ctx = dataclasses.replace(embedded_context(settings), index=index)  # articles in Elasticsearch
    path = tmp_path / seed_paths[1].name
    original = seed_paths[1].read_text(encoding="utf-8")
    path.write_text(original, encoding="utf-8")
    [first] = list(run([str(path)], ctx))
    stored = index.get(first.id)
    assert stored.published_at is None and stored.date_source is DateSource.first_seen
    assert stored.dated_at == stored.first_seen_at == stored.fetched_at
    path.write_text(original + "\nKoreksi: nama jenderal diperbaiki dalam versi ini.\n", encoding="utf-8")
    [changed] = list(run([str(path)], ctx))
    assert changed.outcome is Outcome.indexed, changed.reason
    again = index.get(changed.id)
    assert again.first_seen_at == again.dated_at == stored.first_seen_at < again.fetched_at
    index.refresh()
    since = SearchQuery(text="Kursk", since=datetime(2025, 1, 1, tzinfo=UTC))
    assert [a.id for a in index.search(since)] == [first.id]
