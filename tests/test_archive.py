"""Raw-response retention: pages archived on fetch, re-extracted without fetching, pruned after retention."""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
import time
from datetime import timedelta

import pytest

from schemas import Outcome, RawDocument, utcnow
from tests.support.feed_site import ARTICLES, fixture_text
from tests.support.http_server import FixtureServer
from workers.backends.archive import RawArchive
from workers.runtime.embedded import reextract, run
from workers.runtime.wiring import embedded_context
from workers.settings import PROJECT_ROOT, Settings

BANJIR, CABAI = list(ARTICLES)[:2]
DAY = 86400


@pytest.fixture
def site():
    """The fixture server with two article pages (robots.txt answers 404: all allowed)."""
    server = FixtureServer()
    server.start()
    for path in (BANJIR, CABAI):
        server.route(path, fixture_text(ARTICLES[path], server))
    yield server
    server.stop()


@pytest.fixture
def ctx(tmp_path):
    """An embedded Context fetching from loopback without a host interval."""
    settings = Settings(
        data_dir=tmp_path / "data",
        redis_url=None,
        elasticsearch_url=None,
        fetch_allow_private=True,
        fetch_host_interval=0.0,
    )
    return embedded_context(settings)


def _ingest(ctx, urls: list[str]) -> list[Outcome]:
    return [result.outcome for result in run(urls, ctx)]


def _age(path, days: float) -> None:
    """Make an archive entry look `days` old."""
    then = time.time() - days * DAY
    os.utime(path, (then, then))


def _raw(input_ref: str, text: str = "<p>teks</p>") -> RawDocument:
    return RawDocument(
        input=input_ref, url=input_ref, final_url=input_ref, status=200, content_type="text/html", text=text
    )


@pytest.mark.slow
def test_fetched_pages_are_archived_and_reextracted_with_the_server_stopped(site, ctx):
    urls = [site.url(BANJIR), site.url(CABAI)]
    assert _ingest(ctx, urls) == [Outcome.indexed, Outcome.indexed]
    raw = ctx.archive.get(urls[0])
    assert raw is not None and raw.input == urls[0] and raw.status == 200
    assert "Bandung Selatan" in raw.text
    assert ctx.archive.path(urls[0]).read_bytes()[:2] == b"\x1f\x8b"  # gzip on disk
    site.stop()

    # by URL and by article id: same cleaner, same content → unchanged, nothing fetched
    stored = next(a for a in ctx.index.iter_articles() if a.input == urls[1])
    results = list(reextract(ctx, [urls[0], stored.id]))
    assert [(r.input, r.outcome) for r in results] == [
        (urls[0], Outcome.unchanged),
        (urls[1], Outcome.unchanged),
    ]

    # a better cleaner would give other content: simulated by a changed archived page → indexed
    changed = raw.model_copy(
        update={
            "text": raw.text.replace(
                "</article>",
                "<p>Warga diminta waspada karena hujan deras diperkirakan turun hingga akhir pekan.</p></article>",
            )
        }
    )
    ctx.archive.put(changed)
    (result,) = reextract(ctx, [urls[0]])
    assert result.outcome is Outcome.indexed
    assert "hingga akhir pekan" in ctx.index.get(result.id).text


def test_local_files_are_not_archived(ctx, seed_paths):
    assert _ingest(ctx, [str(seed_paths[0])]) == [Outcome.indexed]
    assert list(ctx.archive.entries()) == []
    # a local file is its own archive: re-extraction reads it again
    assert [r.outcome for r in reextract(ctx, [str(seed_paths[0])])] == [Outcome.unchanged]


def test_reextract_of_an_input_never_fetched_is_skipped(ctx):
    (result,) = reextract(ctx, ["http://127.0.0.1:9/never-fetched"])
    assert result.outcome is Outcome.skipped and result.reason.startswith("not_found:")


def test_prune_removes_only_expired_entries(tmp_path):
    archive = RawArchive(tmp_path / "raw", retention_days=30)
    old, fresh = "https://a.example/lama", "https://a.example/baru"
    archive.put(_raw(old))
    archive.put(_raw(fresh))
    _age(archive.path(old), 31)
    _age(archive.path(fresh), 29)
    assert archive.get(old) is None  # expired reads as absent even before it is pruned
    assert archive.prune() == 1
    assert not archive.path(old).exists() and archive.get(fresh) is not None
    assert archive.prune() == 0
    assert archive.prune(now=utcnow() + timedelta(days=2)) == 1
    assert list(archive.entries()) == []


def test_writes_prune_at_most_once_per_process_hour(tmp_path):
    root = tmp_path / "raw"
    first = RawArchive(root, retention_days=1)
    first.put(_raw("https://a.example/1"))
    _age(first.path("https://a.example/1"), 2)
    worker = RawArchive(root, retention_days=1)  # a fresh process: its first write prunes
    worker.put(_raw("https://a.example/2"))
    assert not first.path("https://a.example/1").exists()
    _age(worker.path("https://a.example/2"), 2)
    worker.put(_raw("https://a.example/3"))  # within the hour: no second walk
    assert worker.path("https://a.example/2").exists()


def test_overwrite_is_idempotent_and_zero_retention_keeps_nothing(tmp_path):
    archive = RawArchive(tmp_path / "raw", retention_days=30)
    archive.put(_raw("https://a.example/x", "<p>satu</p>"))
    archive.put(_raw("https://a.example/x", "<p>dua</p>"))
    assert [e.input for e in archive.entries()] == ["https://a.example/x"]
    assert archive.get("https://a.example/x").text == "<p>dua</p>"
    assert [p.name for p in archive.path("https://a.example/x").parent.iterdir()] == [
        archive.path("https://a.example/x").name
    ]
    off = RawArchive(tmp_path / "off", retention_days=0)
    assert off.put(_raw("https://a.example/x")) is None and not (tmp_path / "off").exists()


@pytest.mark.parametrize(
    "damage",
    [
        b"not gzip at all",
        gzip.compress(b'{"input": "https://a.example/x"'),  # truncated JSON
        gzip.compress(json.dumps({"input": "https://a.example/x"}).encode()),  # not a RawDocument
        gzip.compress(b"<html>")[:12],  # truncated gzip
    ],
)
def test_corrupt_entry_is_reported_not_a_crash(site, ctx, damage):
    urls = [site.url(BANJIR), site.url(CABAI)]
    assert _ingest(ctx, urls) == [Outcome.indexed, Outcome.indexed]
    site.stop()
    broken = ctx.archive.path(urls[0])
    broken.write_bytes(damage)

    (one,) = reextract(ctx, [urls[0]])
    assert one.outcome is Outcome.skipped and one.reason.startswith("malformed:"), one.reason

    everything = {r.input: r for r in reextract(ctx)}
    assert everything[str(broken)].outcome is Outcome.skipped
    assert everything[str(broken)].reason.startswith("malformed:")
    assert everything[urls[1]].outcome is Outcome.unchanged
    assert len(everything) == 2


def _kliping(tmp_path, *args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KLIPING_")}
    env.update(
        KLIPING_DATA_DIR=str(tmp_path / "data"),
        KLIPING_FETCH_ALLOW_PRIVATE="true",
        KLIPING_FETCH_HOST_INTERVAL="0",
    )
    return subprocess.run(
        [sys.executable, "-m", "workers.cli", *args],
        check=False,
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.mark.slow
def test_command_line_reextract_and_prune(tmp_path, site):
    urls = [site.url(BANJIR), site.url(CABAI)]
    first = _kliping(tmp_path, "ingest", *urls, "--json")
    assert [json.loads(line)["outcome"] for line in first.stdout.splitlines()] == ["indexed", "indexed"], (
        first.stderr
    )
    site.stop()

    again = _kliping(tmp_path, "reextract", "--all", "--json")
    assert again.returncode == 0, again.stderr
    assert sorted(
        (json.loads(line)["input"], json.loads(line)["outcome"]) for line in again.stdout.splitlines()
    ) == sorted((url, "unchanged") for url in urls)

    assert _kliping(tmp_path, "reextract").returncode == 2  # neither ids nor --all
    pruned = _kliping(tmp_path, "archive", "prune")
    assert pruned.returncode == 0 and "pruned 0 raw documents" in pruned.stdout


def test_distributed_workers_archive_into_the_shared_data_dir(
    tmp_path, site, es_url, redis_url, redis_prefix
):
    from tests.support.osmem import set_up_index
    from workers.pipeline import process
    from workers.runtime.wiring import distributed_context

    settings = Settings(
        data_dir=tmp_path / "shared",
        redis_url=redis_url,
        redis_prefix=redis_prefix,
        elasticsearch_url=es_url,
        elasticsearch_index=f"{redis_prefix}-articles",
        fetch_allow_private=True,
        fetch_host_interval=0.0,
    )
    set_up_index(settings)
    worker = distributed_context(settings)
    assert process(site.url(BANJIR), worker).outcome is Outcome.indexed
    assert worker.archive.root == tmp_path / "shared" / "raw"
    site.stop()
    other_worker = distributed_context(settings)  # another process on the same volume
    assert [r.outcome for r in reextract(other_worker, [site.url(BANJIR)])] == [Outcome.unchanged]
