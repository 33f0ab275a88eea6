"""Hostile input folders (issue 18, item 8): links out of the folder, dangling links, FIFOs, typos.

Through `kliping ingest` in a subprocess on a real folder: every entry ends with an outcome, the
file a link points to outside the folder is never read, nothing hangs, the good articles are stored.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from schemas import Outcome, Reason
from tests.support.cli import kliping
from workers.errors import SkipInput
from workers.load import expand_inputs, load
from workers.settings import PROJECT_ROOT

SEEDS = sorted((PROJECT_ROOT / "seeds").glob("*.txt"))
SECRET = "RAHASIA-5f1c kata sandi server produksi"


def _no_fetch(url: str):
    raise AssertionError(f"no URL here: {url}")


@pytest.fixture
def inbox(tmp_path) -> Path:
    """A folder of two articles, with a link out, a dangling link, a FIFO and links inside."""
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text(f"Catatan rahasia\n\n{SECRET}. " * 20, encoding="utf-8")
    folder = tmp_path / "inbox"
    (folder / "sub").mkdir(parents=True)
    shutil.copy(SEEDS[0], folder / "a.txt")
    shutil.copy(SEEDS[2], folder / "sub" / "b.txt")
    (folder / "out.txt").symlink_to(outside / "secret.txt")  # inside the folder, pointing out
    (folder / "sub" / "up.txt").symlink_to(Path("..") / ".." / "outside" / "secret.txt")
    (folder / "gone.txt").symlink_to(folder / "nothing.txt")  # dangling
    (folder / "same.txt").symlink_to("a.txt")  # a link to an article of the folder: read once
    (folder / "sub" / "back.html").symlink_to(Path("..") / "a.txt")  # up, but still inside
    os.mkfifo(folder / "pipe.txt")
    return folder


@pytest.mark.slow
def test_a_hostile_folder_ends_with_an_outcome_for_every_entry(tmp_path, inbox):
    data = tmp_path / "data"
    done = kliping(data, "ingest", "--json", str(inbox))
    assert done.returncode == 0, done.stderr  # skips inside a named folder are not errors
    results = {Path(r["input"]).name: r for r in map(json.loads, done.stdout.splitlines())}
    assert results["a.txt"]["outcome"] == "indexed" and results["b.txt"]["outcome"] == "indexed"
    assert "same.txt" not in results and "back.html" not in results  # became a.txt: one input
    for name in ("out.txt", "up.txt"):
        assert results[name]["outcome"] == "skipped" and results[name]["reason"].startswith(
            "blocked_address:"
        )
        assert "link out of its folder" in results[name]["reason"]
    assert results["gone.txt"]["outcome"] == "skipped" and results["gone.txt"]["reason"].startswith(
        "not_found:"
    )
    assert "dangling link" in results["gone.txt"]["reason"]
    assert results["pipe.txt"]["outcome"] == "skipped" and "FIFO" in results["pipe.txt"]["reason"]
    assert len(results) == 6

    found = kliping(data, "search", "--json", "RAHASIA")
    assert (
        found.returncode == 1 and found.stdout == "" and SECRET not in kliping(data, "export").stdout
    )  # never read
    assert kliping(data, "failed", "--json").stdout == ""


def test_load_refuses_links_out_and_special_files_whatever_names_them(inbox):
    for name, reason in (
        ("out.txt", Reason.blocked_address),
        ("gone.txt", Reason.not_found),
        ("pipe.txt", Reason.unsupported_type),
    ):
        with pytest.raises(SkipInput) as caught:
            load(str(inbox / name), fetch=_no_fetch, max_bytes=1_000_000)
        assert caught.value.reason is reason, name
    assert load(
        str(inbox / "same.txt"), fetch=_no_fetch, max_bytes=1_000_000
    ).text  # a link beside its target


def test_folder_expansion_keeps_what_needs_an_outcome(inbox):
    names = sorted(Path(p).name for p in expand_inputs([str(inbox)]))
    assert names == ["a.txt", "b.txt", "gone.txt", "out.txt", "pipe.txt", "up.txt"]


@pytest.mark.slow
def test_a_mistyped_path_exits_non_zero_with_a_clear_error(tmp_path):
    done = kliping(tmp_path / "data", "ingest", "seed/")
    assert done.returncode == 1
    assert "not_found" in done.stdout and "no such file: seed/" in done.stdout + done.stderr
    [result] = map(json.loads, kliping(tmp_path / "data", "ingest", "--json", "seed/").stdout.splitlines())
    assert result["outcome"] == Outcome.skipped.value and result["reason"] == "not_found: no such file: seed/"


# --- a malformed link in a feed ------------------------------------------------------------------


@pytest.mark.slow
def test_a_malformed_feed_link_is_skipped_with_its_reason_and_the_feed_goes_on(tmp_path):
    from tests.support.feed_site import ARTICLES, fixture_text, serve_site
    from tests.support.http_server import FixtureServer

    with FixtureServer() as server:
        serve_site(server)
        feed = fixture_text("rss2.xml", server).replace(
            "<item>", "<item><title>rusak</title><link>http://[x/1</link></item><item>", 1
        )
        server.route("/feed.xml", feed, content_type="application/rss+xml; charset=utf-8")
        env_data = tmp_path / "data"
        added = kliping(env_data, "feeds", "add", server.url("/feed.xml"), "--name", "warta")
        assert added.returncode == 0, added.stderr
        polled = _with_private(env_data, "feeds", "poll", "--once")
        assert polled.returncode == 0, polled.stdout + polled.stderr
        assert "3 new" in polled.stdout and "1 items skipped" in polled.stdout, polled.stdout
        assert "http://[x/1" in polled.stdout and "invalid_input" in polled.stdout
        for path in ARTICLES:  # the good items were ingested
            assert server.hits(path) == 1


def _with_private(data: Path, *args: str) -> subprocess.CompletedProcess:
    return kliping(data, *args, fetch_allow_private="true", fetch_host_interval="0")
