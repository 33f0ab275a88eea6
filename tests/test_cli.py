"""The `kliping` command line as a user runs it (a real subprocess on a temporary data dir)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from workers.settings import PROJECT_ROOT

EXPORT_FIELDS = {
    "id",
    "input",
    "url",
    "title",
    "text",
    "language",
    "published_at",
    "first_seen_at",
    "dated_at",
    "date_source",
    "authors",
    "source",
    "entities",
    "sentiment",
    "dedup",
}


def kliping(tmp_path, *args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KLIPING_")}
    env["KLIPING_DATA_DIR"] = str(tmp_path / "data")
    return subprocess.run(
        [sys.executable, "-m", "workers.cli", *args],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.mark.slow
def test_ingest_json_export_search_stats_show(tmp_path):
    first = kliping(tmp_path, "ingest", "seeds/", "--json")
    assert first.returncode == 0, first.stderr
    lines = [json.loads(line) for line in first.stdout.splitlines()]
    assert [line["outcome"] for line in lines] == ["indexed"] * 5
    assert set(lines[0]) == {"input", "outcome", "id", "canonical_id", "reason"}

    again = kliping(tmp_path, "ingest", "seeds/", "--json")
    assert [json.loads(line)["outcome"] for line in again.stdout.splitlines()] == ["unchanged"] * 5

    summary = kliping(tmp_path, "ingest", "seeds/", "--show")
    assert "unchanged" in summary.stdout and "5" in summary.stdout
    assert summary.stdout.count("(first_seen)") == 5  # each article's date, and where it came from

    exported = [json.loads(line) for line in kliping(tmp_path, "export").stdout.splitlines()]
    assert len(exported) == 5
    for article in exported:
        assert EXPORT_FIELDS <= set(article)
        assert set(article["source"]) >= {"name", "domain", "scope", "kind"}
        assert set(article["sentiment"]) >= {"label", "score", "confidence"}
        assert set(article["dedup"]) >= {"canonical_id", "is_canonical", "story_id", "copies"}
        assert all(e["type"] in ("PERSON", "ORGANIZATION", "LOCATION") for e in article["entities"])

    found = kliping(tmp_path, "search", "Kursk", "--json")
    assert len(found.stdout.splitlines()) == 5
    # undated seeds are dated when first seen: time filters find them all
    since = kliping(tmp_path, "search", "Kursk", "--since", "2025-01-01", "--json")
    assert [json.loads(line)["date_source"] for line in since.stdout.splitlines()] == ["first_seen"] * 5
    assert kliping(tmp_path, "search", "Kursk", "--until", "2025-01-01").returncode == 1
    assert kliping(tmp_path, "search", "Kursk", "--source", "Pantau", "--json").stdout.count("\n") == 1

    stats = json.loads(kliping(tmp_path, "stats", "--json").stdout)
    assert stats["articles"] == 5 and stats["languages"] == {"id": 5}

    shown = kliping(tmp_path, "show", exported[0]["id"])
    assert shown.returncode == 0 and exported[0]["title"] in shown.stdout
    assert kliping(tmp_path, "show", "nope").returncode == 1


@pytest.mark.slow
def test_ingest_reports_nothing_to_do_and_bad_queries_clearly(tmp_path):
    empty_dir = tmp_path / "empty"
    empty_dir.mkdir()
    result = kliping(tmp_path, "ingest", str(empty_dir))
    assert result.returncode == 2 and "nothing to ingest" in result.stderr
    bad = kliping(tmp_path, "search", "(Kursk")
    assert bad.returncode == 2 and "query" in bad.stderr


@pytest.mark.slow
def test_health_reports_each_backend(tmp_path):
    healthy = kliping(tmp_path, "health")
    assert healthy.returncode == 0 and healthy.stdout.startswith("store: ok")
    env_down = dict(
        os.environ,
        KLIPING_DATA_DIR=str(tmp_path / "d"),
        KLIPING_REDIS_URL="redis://127.0.0.1:1/0",
        KLIPING_ELASTICSEARCH_URL="http://127.0.0.1:1",
    )
    down = subprocess.run(
        [sys.executable, "-m", "workers.cli", "health"],
        cwd=PROJECT_ROOT,
        env=env_down,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert down.returncode == 1
    assert "redis: unhealthy" in down.stdout and "elasticsearch: unhealthy" in down.stdout
    assert "Traceback" not in down.stderr


def test_search_entity_with_sentiment_means_the_tone_toward_it_and_show_prints_it(tmp_path):
    assert kliping(tmp_path, "ingest", "seeds/", "--json").returncode == 0
    exported = [json.loads(line) for line in kliping(tmp_path, "export").stdout.splitlines()]
    tones: dict[str, set[str]] = {}  # tone toward Kim Jong Un -> ids of the articles with it
    for article in exported:
        for entity in article["entities"]:
            if entity["name"] == "Kim Jong Un" and entity["sentiment"]:
                tones.setdefault(entity["sentiment"]["label"], set()).add(article["id"])
    assert tones, "the seeds name Kim Jong Un"
    for label in ("negative", "neutral", "positive"):
        found = kliping(tmp_path, "search", "--entity", "Kim Jong Un", "--sentiment", label, "--json")
        assert {json.loads(line)["id"] for line in found.stdout.splitlines()} == tones.get(label, set())
    article_id = next(iter(next(iter(tones.values()))))
    shown = kliping(tmp_path, "show", article_id).stdout
    assert "Kim Jong Un [PERSON]" in shown and " tone " in shown
    assert "the tone toward that entity" in " ".join(kliping(tmp_path, "search", "--help").stdout.split())


def test_a_new_user_is_told_what_to_do(tmp_path):
    """Compressed article folders ingest; short ids, bare `retry`, unknown ids and limits say what to do."""
    import gzip

    folder = tmp_path / "pages"
    folder.mkdir()
    for seed in sorted((PROJECT_ROOT / "seeds").glob("*.txt"))[:2]:
        (folder / f"{seed.name}.gz").write_bytes(gzip.compress(seed.read_bytes()))
    assert "nothing ingested yet" in kliping(tmp_path, "stats").stdout
    assert "no rules" in kliping(tmp_path, "rules", "list").stdout
    assert kliping(tmp_path, "rules", "add", "kursk", "Kursk").returncode == 0
    summary = kliping(tmp_path, "ingest", str(folder / f"{sorted(folder.iterdir())[0].name}"))
    assert "1 new alert (`kliping alerts` lists them)" in summary.stderr
    ingested = kliping(tmp_path, "ingest", str(folder), "--json")
    assert [json.loads(line)["outcome"] for line in ingested.stdout.splitlines()] == ["unchanged", "indexed"]
    shown = kliping(tmp_path, "ingest", str(sorted(folder.iterdir())[1]), "--show")
    assert shown.stdout.count("(first_seen)") == 1  # the article of this input, not the whole store
    limited = kliping(tmp_path, "search", "Kursk", "--limit", "1")
    assert limited.returncode == 0 and "--limit N for more" in limited.stdout
    backwards = kliping(tmp_path, "search", "Kursk", "--since", "2025-05-01", "--until", "2025-04-01")
    assert backwards.returncode == 2 and "--since is not before --until" in backwards.stderr
    assert kliping(tmp_path, "search", "Kursk", "--limit", "0").returncode == 2
    short = kliping(tmp_path, "show", "ab")
    assert short.returncode == 1 and "first 4 or more characters" in short.stderr
    bare = kliping(tmp_path, "retry")
    assert bare.returncode == 2 and "--all" in bare.stderr
    unknown = kliping(tmp_path, "retry", "0123456789abcdef")
    assert unknown.returncode == 1 and "no quarantined input with id 0123456789abcdef" in unknown.stderr
    alone = kliping(tmp_path)
    assert alone.returncode == 2 and "ingest" in alone.stdout and "serve" in alone.stdout
    assert "add, list, test or remove" in " ".join(kliping(tmp_path, "rules", "--help").stdout.split())
    assert kliping(tmp_path, "rules", "add", "negatif", "Kursk", "--sentiment", "negative").returncode == 0
    tested = kliping(tmp_path, "rules", "test", "negatif").stdout
    assert tested.startswith("rule negatif: Kursk --sentiment negative")  # the filters it applies, said


def test_serve_on_a_taken_port_says_how_to_pick_another(tmp_path):
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        served = kliping(tmp_path, "serve", "--port", str(taken.getsockname()[1]))
    assert served.returncode == 2 and "--port 0" in served.stderr and "Traceback" not in served.stderr


def test_a_setting_that_does_not_parse_is_named_not_a_traceback(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("KLIPING_")}
    env.update(KLIPING_DATA_DIR=str(tmp_path / "data"), KLIPING_FETCH_READ_TIMEOUT="abc")
    done = subprocess.run(
        [sys.executable, "-m", "workers.cli", "stats"],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "bad setting KLIPING_FETCH_READ_TIMEOUT='abc'" in done.stderr
