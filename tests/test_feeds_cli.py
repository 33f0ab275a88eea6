"""`kliping feeds …` as a new user runs it: a real subprocess against a local news site."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime

import pytest

from tests.support.feed_site import ARTICLES, serve_site
from tests.support.fetching import server  # noqa: F401 - fixture
from workers.backends.archive import RawArchive
from workers.settings import PROJECT_ROOT


def kliping(tmp_path, *args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KLIPING_")}
    env.update(KLIPING_DATA_DIR=str(tmp_path / "data"), KLIPING_FETCH_ALLOW_PRIVATE="true")
    return subprocess.run(
        [sys.executable, "-m", "workers.cli", *args],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.mark.slow
def test_add_poll_ingests_articles_then_nothing_new(tmp_path, server):
    serve_site(server)
    feed_url = server.url("/feed.xml")
    added = kliping(tmp_path, "feeds", "add", feed_url, "--every", "10m", "--name", "warta")
    assert added.returncode == 0, added.stderr

    first = kliping(tmp_path, "feeds", "poll", "--once")
    assert first.returncode == 0, first.stdout + first.stderr
    assert f"{feed_url}: 3 new" in first.stdout and "indexed" in first.stdout
    assert all(server.hits(path) == 1 for path in ARTICLES)

    exported = [json.loads(line) for line in kliping(tmp_path, "export").stdout.splitlines()]
    assert sorted(a["url"] for a in exported) == sorted(server.url(path) for path in ARTICLES)
    assert {a["title"] for a in exported} >= {"Banjir Rendam Ratusan Rumah di Bandung Selatan"}

    not_due = kliping(tmp_path, "feeds", "poll", "--once")
    assert not_due.returncode == 0 and feed_url not in not_due.stdout and server.hits("/feed.xml") == 1
    again = kliping(tmp_path, "feeds", "poll", "--once", "--force")
    assert again.returncode == 0 and f"{feed_url}: 0 new" in again.stdout
    assert server.hits("/feed.xml") == 2 and all(server.hits(path) == 1 for path in ARTICLES)

    listed = kliping(tmp_path, "feeds", "list")
    assert "warta" in listed.stdout and "rss" in listed.stdout and "never" not in listed.stdout
    assert kliping(tmp_path, "feeds", "remove", "warta").returncode == 0
    assert kliping(tmp_path, "feeds", "remove", "warta").returncode == 1
    assert "no feeds" in kliping(tmp_path, "feeds", "list").stdout


@pytest.mark.slow
def test_broken_feed_is_reported_not_crashed(tmp_path, server):
    # a truncated feed keeps what it read; entity declarations are what stays refused
    server.route(
        "/rusak.xml",
        '<!DOCTYPE r [<!ENTITY a "b">]><rss><channel/></rss>',
        content_type="application/rss+xml",
    )
    assert kliping(tmp_path, "feeds", "add", server.url("/rusak.xml")).returncode == 0
    polled = kliping(tmp_path, "feeds", "poll", "--once")
    assert polled.returncode == 1 and "malformed" in polled.stdout and "Traceback" not in polled.stderr
    assert kliping(tmp_path, "feeds", "add", "ftp://x.example.id/feed").returncode == 2
    bad_every = kliping(tmp_path, "feeds", "add", server.url("/a.xml"), "--every", "soon")
    assert bad_every.returncode == 2 and "duration" in bad_every.stderr


def test_feed_item_date_reaches_the_fetched_document(tmp_path, server):
    # the archive keeps each fetched RawDocument: its listed_at is the date the feed gave the item
    serve_site(server)
    assert kliping(tmp_path, "feeds", "add", server.url("/feed.xml")).returncode == 0
    polled = kliping(tmp_path, "feeds", "poll", "--once")
    assert polled.returncode == 0, polled.stdout + polled.stderr
    archive = RawArchive(tmp_path / "data" / "raw", 30)
    banjir = archive.get(server.url("/berita/2025/04/26/banjir-bandung-selatan"))
    robotik = archive.get(server.url("/berita/2025/04/25/juara-robotik-surabaya"))
    assert banjir is not None and banjir.listed_at == datetime(2025, 4, 26, 1, 15, tzinfo=UTC)
    assert robotik is not None and robotik.listed_at == datetime(2025, 4, 25, 12, 5, tzinfo=UTC)


def test_a_feed_the_guard_refuses_is_flagged_when_added_and_an_idle_poll_says_so(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("KLIPING_")}
    env["KLIPING_DATA_DIR"] = str(tmp_path / "data")

    def run(*args: str) -> subprocess.CompletedProcess:
        command = [sys.executable, "-m", "workers.cli", *args]
        return subprocess.run(command, cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=300)

    added = run("feeds", "add", "http://127.0.0.1:9/feed.xml")  # loopback, guard on: kept, with a warning
    assert added.returncode == 0 and "KLIPING_FETCH_ALLOW_PRIVATE=true" in " ".join(added.stderr.split())
    polled = run("feeds", "poll", "--once")
    assert (
        polled.returncode == 1
        and "blocked_address" in polled.stdout
        and "kliping ingest:" not in polled.stdout
    )
    idle = run("feeds", "poll", "--once")
    assert idle.returncode == 0 and "no feed is due" in idle.stderr
