"""Production index behaviour through the official client: setup apart from workers, require_alias,
ignore_above, the body analysed by its language, ILM refusals (osmem behind the proxy, or a live cluster)."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest
from elasticsearch import Elasticsearch

from schemas.elastic import BODY_FIELDS, TEXT_FIELD, default_fields, index_template
from tests.support.es_proxy import start_proxy
from tests.support.osmem import osmem_template
from tests.test_elastic import BANJIR, KORUT, LIVE, _article
from workers.backends.elastic.index import ElasticIndex, make_client
from workers.backends.elastic.setup import AliasMissing, SetupError, check
from workers.ports import SearchQuery
from workers.settings import Settings

pytestmark = (
    pytest.mark.live_elasticsearch
)  # KLIPING_TEST_ELASTICSEARCH_URL: the same tests on a real cluster


def _template(alias: str) -> dict | None:
    return None if LIVE else osmem_template(index_template(alias))


@pytest.fixture
def client(es_url) -> Iterator[Elasticsearch]:
    client = make_client(Settings(elasticsearch_url=es_url, elasticsearch_timeout=30))
    yield client
    client.close()


@pytest.fixture
def alias(client) -> Iterator[str]:
    name = f"kliping-prod-{uuid.uuid4().hex[:8]}"
    yield name
    if LIVE:
        client.indices.delete(index=f"{name}*", ignore_unavailable=True, allow_no_indices=True)


@pytest.fixture
def index(client, alias) -> ElasticIndex:
    index = ElasticIndex(client, alias)
    index.setup(_template(alias))
    return index


def test_template_settings_for_a_single_node_and_scraped_fields(index, client):
    concrete = f"{index.alias}-000001"
    settings = client.indices.get_settings(index=concrete)[concrete]["settings"]["index"]
    assert settings["auto_expand_replicas"] == "0-1"  # one node: green, not yellow forever
    mapping = client.indices.get_mapping(index=concrete)[concrete]["mappings"]["properties"]
    assert mapping["tags"]["ignore_above"] == 256 and mapping["url"]["ignore_above"] == 2048
    assert mapping["image"]["doc_values"] is False
    assert mapping["entities"]["properties"]["positions"]["doc_values"] is False


def test_a_document_with_a_40_kb_tag_is_indexed(index, client):
    huge = "x" * 40_000  # one term over Lucene's 32,766-byte limit would reject the whole document
    article = KORUT.model_copy(update={"tags": ["perang", huge]})
    index.put(article)
    assert index.put_many([BANJIR.model_copy(update={"tags": [huge]})]) == []
    index.refresh()
    assert index.get(article.id) == article  # kept whole in _source
    hits = client.search(index=index.alias, query={"term": {"tags": "perang"}})["hits"]["hits"]
    assert [hit["_id"] for hit in hits] == [article.id]  # the other tag is still indexed
    assert client.search(index=index.alias, query={"term": {"tags": huge}})["hits"]["hits"] == []


def test_the_body_is_indexed_once_in_its_language(index, client):
    english = _article(
        "flood",
        "Floods in Jakarta",
        "Heavy rains flooded the southern districts of the city.",
        language="en",
    )
    other = _article("lain", "Inondations", "Des pluies diluviennes inondent la ville.", language="fr")
    for article in (KORUT, english, other):
        index.put(article)
    index.refresh()
    sources = {
        hit["_id"]: hit["_source"]
        for hit in client.search(index=index.alias, query={"match_all": {}})["hits"]["hits"]
    }
    assert {doc_id: sorted(k for k in src if k.startswith("text")) for doc_id, src in sources.items()} == {
        "korut": ["text_id"],
        "flood": ["text_en"],
        "lain": ["text"],
    }
    assert [index.get(a.id) for a in (KORUT, english, other)] == [KORUT, english, other]

    def matching(field: str, words: str) -> list[str]:
        body = client.search(index=index.alias, query={"match": {field: words}})
        return [hit["_id"] for hit in body["hits"]["hits"]]

    assert matching("text_en", "flooding rain") == ["flood"]  # English stemming: flooded, rains
    assert matching("text_id", "Korea") == ["korut"]
    assert matching("text", "pluies") == ["lain"]
    assert matching("text_en", "Korea") == [] and matching("text_id", "rains") == []


def _flood_in_three_languages(index) -> list[str]:
    """Three articles with "banjir" in the body only (not the title): Indonesian, English, French."""
    articles = [
        _article(
            "banjir-id",
            "Hujan deras di ibu kota",
            "Banjir merendam Jakarta.",
            language="id",
            content_hash="c0ffee42",
        ),
        _article(
            "banjir-en", "Heavy rain in the capital", "The banjir season flooded Jakarta.", language="en"
        ),
        _article("banjir-fr", "Pluies sur la capitale", "Le banjir a inondé Jakarta.", language="fr"),
    ]
    for article in articles:
        index.put(article)
    index.refresh()
    return sorted(a.id for a in articles)


def test_a_search_without_a_field_finds_the_body_in_every_language(index, client):
    every = _flood_in_three_languages(index)
    concrete = f"{index.alias}-000001"
    settings = client.indices.get_settings(index=concrete)[concrete]["settings"]["index"]
    assert {*BODY_FIELDS.values(), TEXT_FIELD, "title"} <= set(settings["query"]["default_field"])

    def ids(query: dict) -> list[str]:
        return sorted(hit["_id"] for hit in client.search(index=index.alias, query=query)["hits"]["hits"])

    # What Kibana sends for KQL free text (`banjir`) and a free-text wildcard (`banj*`): no fields, so
    # index.query.default_field decides (kbn-es-query, kuery/functions/is.ts).
    assert ids({"multi_match": {"type": "best_fields", "query": "banjir", "lenient": True}}) == every
    assert ids({"query_string": {"query": "banj*"}}) == every
    assert ids({"query_string": {"query": "text\\*:banjir"}}) == every  # Lucene: every body field
    assert ids({"match": {"text": "banjir"}}) == ["banjir-fr"]  # `text:` alone: other languages only
    # the setting is in force: the default `*` would also match this keyword, outside the list
    assert ids({"multi_match": {"query": "c0ffee42", "lenient": True}}) == []
    assert ids({"term": {"content_hash": "c0ffee42"}}) == ["banjir-id"]
    # Kliping's own search reads the language-free search.* token fields
    assert sorted(a.id for a in index.search(SearchQuery(text="banjir"))) == every


def test_setup_gives_an_older_index_the_default_fields(client, alias):
    old = _template(alias) or index_template(alias)
    del old["template"]["settings"]["query"]  # an index made from the template before the setting
    index = ElasticIndex(client, alias)
    index.setup(old)
    concrete = f"{alias}-000001"
    before = client.indices.get_settings(index=concrete)[concrete]["settings"]["index"]
    assert "query" not in before or before["query"].get("default_field") in (None, ["*"], "*")
    index.setup(_template(alias))  # `kliping es setup` after an upgrade
    after = client.indices.get_settings(index=concrete)[concrete]["settings"]["index"]
    assert after["query"]["default_field"] == default_fields()


def test_writes_require_the_alias_and_never_create_a_plain_index(index, client):
    index.put(KORUT)  # the alias's index list is now cached
    concrete = f"{index.alias}-000001"
    client.indices.delete_alias(index=concrete, name=index.alias)  # the alias disappears
    # The index still remembers the alias's index: the writes go out and are refused.
    failures = index.put_many([BANJIR.model_copy(update={"id": "banjir-2"})])
    assert [(f.id, f.status) for f in failures] == [("banjir-2", 404)]
    assert "require_alias" in failures[0].error
    with pytest.raises(AliasMissing):
        index.put(BANJIR)
    assert not client.indices.exists(index=index.alias)  # no template-less index named like the alias
    with pytest.raises(AliasMissing):
        check(client, index.alias)


def test_workers_only_check_the_alias_and_refused_setup_is_reported(client, alias, es_url, caplog):
    upstream = urlsplit(es_url)
    if upstream.scheme == "https":
        pytest.skip("the fault proxy speaks plain HTTP to its upstream")
    with start_proxy(es_url) as proxy:
        auth = (
            f"{upstream.username}:{upstream.password}@" if upstream.username else ""
        )  # a live cluster's user
        url = proxy.url.replace("http://", f"http://{auth}")
        limited = make_client(Settings(elasticsearch_url=url, elasticsearch_timeout=30))
        # A worker's key: no ILM, no templates, no index creation (403 as a secured cluster answers).
        proxy.faults.forbid = lambda method, path: (
            path.startswith(("/_ilm", "/_index_template")) or (method == "PUT" and path == f"/{alias}-000001")
        )
        with pytest.raises(AliasMissing, match="kliping es setup"):
            ElasticIndex(limited, alias).check()
        with pytest.raises(SetupError, match="manage_ilm"):
            ElasticIndex(limited, alias).setup(_template(alias))  # ILM 403 is not "no ILM"
        assert not client.indices.exists_index_template(name=alias)

        ElasticIndex(client, alias).setup(_template(alias))  # the admin's `kliping es setup`
        worker = ElasticIndex(limited, alias)
        assert worker.check() is True
        worker.put(KORUT)
        assert worker.get("korut") == KORUT

        proxy.faults.forbid = lambda method, path: path.startswith("/_alias")  # no view_index_metadata
        with caplog.at_level(logging.WARNING):
            assert worker.check() is False  # does not stop the worker
        assert "cannot check that alias" in caplog.text
        limited.close()


def test_setup_without_ilm_goes_on_with_a_warning(client, alias, caplog):
    if LIVE:
        pytest.skip("a live cluster has ILM")
    with caplog.at_level(logging.WARNING):
        ElasticIndex(client, alias).setup(_template(alias))  # osmem: 400 "no handler found"
    assert "no ILM on this server" in caplog.text
    assert list(client.indices.get_alias(name=alias)) == [f"{alias}-000001"]


def test_the_kibana_data_view_counts_each_article_once_after_a_reindex(client):
    import json

    from workers.cli.kibana import SAVED_OBJECTS

    objects = [json.loads(line) for line in SAVED_OBJECTS.read_text(encoding="utf-8").splitlines()]
    [view] = [obj for obj in objects if obj["type"] == "index-pattern"]
    title = view["attributes"]["title"]
    alias = f"kliping-view-{uuid.uuid4().hex[:8]}" if LIVE else title  # osmem: a fresh cluster per test
    index = ElasticIndex(client, alias)
    index.setup(_template(alias))
    try:
        index.put_many([KORUT, BANJIR])
        index.reindex()  # the old index stays until an operator deletes it
        client.indices.refresh(index=f"{alias}*")
        assert client.count(index=alias)["count"] == 2  # what the data view reads
        assert client.count(index=f"{alias}*")["count"] == 4  # what `kliping-articles*` read
        time_field = view["attributes"]["timeFieldName"]
        mappings = client.indices.get_mapping(index=alias).body.values()
        assert all(m["mappings"]["properties"][time_field]["type"] == "date" for m in mappings)
        dated = client.count(index=alias, query={"exists": {"field": time_field}})["count"]
        assert dated == 2  # every article is on the time-filtered panels
    finally:
        if LIVE:
            client.indices.delete(index=f"{alias}-*")


@pytest.mark.slow
def test_es_setup_command_names_the_missing_privilege(es_url, alias, tmp_path):
    import os
    import subprocess
    import sys

    from workers.settings import PROJECT_ROOT

    if urlsplit(es_url).scheme == "https" or urlsplit(es_url).username:
        pytest.skip("the fault proxy speaks plain HTTP without a user")
    with start_proxy(es_url) as proxy:
        proxy.faults.forbid = lambda method, path: path.startswith("/_ilm")
        env = {k: v for k, v in os.environ.items() if not k.startswith("KLIPING_")}
        env.update(
            KLIPING_ELASTICSEARCH_URL=proxy.url,
            KLIPING_ELASTICSEARCH_INDEX=alias,
            KLIPING_DATA_DIR=str(tmp_path),
        )
        done = subprocess.run(
            [sys.executable, "-m", "workers.cli", "es", "setup"],
            cwd=PROJECT_ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
    assert done.returncode == 1
    assert "manage_ilm" in done.stderr and "kliping_setup" in done.stderr
