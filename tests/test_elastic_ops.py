"""Index maintenance against osmem: ILM where available, rollover without duplicates, reindex."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import uuid

import pytest

from schemas.elastic import index_template, template_mappings
from tests.support.osmem import osmem_template
from tests.test_elastic import BANJIR, KORUT, LIVE, _article
from workers.backends.elastic.index import ElasticIndex, make_client
from workers.runtime.wiring import embedded_context
from workers.settings import PROJECT_ROOT, Settings


@pytest.fixture
def index(es_url, caplog) -> ElasticIndex:
    """A set-up index under a fresh alias (osmem: template without the stemmers it lacks)."""
    alias = f"kliping-ops-{uuid.uuid4().hex[:8]}"
    client = make_client(Settings(elasticsearch_url=es_url, elasticsearch_timeout=30))
    index = ElasticIndex(client, alias)
    with caplog.at_level(logging.INFO, logger="workers.backends.elastic.index"):
        index.setup(None if LIVE else osmem_template(index_template(alias)))
    yield index
    if LIVE:
        client.indices.delete(index=f"{alias}-*")
        client.ilm.delete_lifecycle(name=alias)
    client.close()


def test_ilm_policy_is_installed_or_its_absence_logged(index, caplog):
    if LIVE:
        assert index.alias in index.client.ilm.get_lifecycle(name=index.alias)
    else:  # osmem has no ILM API: setup goes on without it and says so
        assert any("no ILM" in record.getMessage() for record in caplog.get_records("setup"))
    assert list(index.client.indices.get_alias(name=index.alias)) == [f"{index.alias}-000001"]


def test_a_replay_after_a_rollover_updates_the_old_document(index):
    index.put(KORUT)
    new = index.rollover()
    assert new == f"{index.alias}-000002"
    aliases = index.client.indices.get_alias(name=index.alias)
    assert aliases[new]["aliases"][index.alias]["is_write_index"] is True
    assert aliases[f"{index.alias}-000001"]["aliases"][index.alias].get("is_write_index") is False

    index.put(BANJIR)  # new articles go to the new write index
    index.put(KORUT.model_copy(update={"title": "Korut akui bantu Rusia (diperbarui)"}))  # a replay
    index.put_many([KORUT, BANJIR])  # and a bulk replay
    index.refresh()
    assert index.count() == 2
    assert index.client.count(index=f"{index.alias}-000001")["count"] == 1  # KORUT stayed where it was
    assert index.client.count(index=new)["count"] == 1
    assert index.get("korut") == KORUT


def test_reindex_moves_the_alias_to_a_fresh_index_and_keeps_the_old(index):
    index.put_many([KORUT, _article("a1", "Judul satu", "Isi berita satu.")])
    index.rollover()
    index.put(BANJIR)
    new, old, failures = index.reindex()
    assert failures == []
    assert new == f"{index.alias}-000003" and sorted(old) == [
        f"{index.alias}-000001",
        f"{index.alias}-000002",
    ]
    assert list(index.client.indices.get_alias(name=index.alias)) == [new]
    assert index.client.indices.get_mapping(index=new)[new]["mappings"] == template_mappings()
    assert all(index.client.indices.exists(index=name) for name in old)  # kept until confirmed
    assert index.count() == 3
    assert index.get("korut") == KORUT and index.get("banjir") == BANJIR
    index.put(KORUT)  # writes now land in the new index only
    index.refresh()
    assert index.count() == 3


def _kliping(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    """Run the real `kliping` command line."""
    return subprocess.run(
        [sys.executable, "-m", "workers.cli", *args],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


@pytest.mark.slow
def test_es_reindex_commands(index, tmp_path, es_url):
    index.put(KORUT)
    settings = Settings(data_dir=tmp_path / "data", redis_url=None, elasticsearch_url=None)
    embedded_context(settings).index.put(BANJIR)  # only in the embedded store
    env = {k: v for k, v in os.environ.items() if not k.startswith("KLIPING_")}
    env.update(
        KLIPING_ELASTICSEARCH_URL=es_url,
        KLIPING_ELASTICSEARCH_INDEX=index.alias,
        KLIPING_DATA_DIR=str(settings.data_dir),
    )

    done = _kliping("es", "reindex", "--from-embedded", env=env)
    assert done.returncode == 0, done.stderr
    assert "re-sent 1 articles from the embedded store" in done.stdout
    index.refresh()
    assert index.count() == 2

    done = _kliping("es", "reindex", env=env)
    assert done.returncode == 0, done.stderr
    assert f"into {index.alias}-000002" in done.stdout and f"{index.alias}-000001" in done.stdout
    assert list(index.client.indices.get_alias(name=index.alias)) == [f"{index.alias}-000002"]
    assert index.count() == 2 and index.get("banjir") == BANJIR


@pytest.mark.slow
def test_es_setup_command_is_idempotent(es_url, tmp_path):
    alias = f"kliping-setup-{uuid.uuid4().hex[:8]}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("KLIPING_")}
    env.update(
        KLIPING_ELASTICSEARCH_URL=es_url, KLIPING_ELASTICSEARCH_INDEX=alias, KLIPING_DATA_DIR=str(tmp_path)
    )
    for _ in range(2):
        done = _kliping("es", "setup", env=env)
        assert done.returncode == 0, done.stderr
    client = make_client(Settings(elasticsearch_url=es_url))
    assert list(client.indices.get_alias(name=alias)) == [f"{alias}-000001"]
    [template] = client.indices.get_index_template(name=alias)["index_templates"]
    assert template["index_template"]["index_patterns"] == [f"{alias}-*"]
    assert (
        client.indices.get_mapping(index=f"{alias}-000001")[f"{alias}-000001"]["mappings"]
        == template_mappings()
    )
    if LIVE:
        client.indices.delete(index=f"{alias}-*")
