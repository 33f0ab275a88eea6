"""The command line an analyst meets: every surprise of issue 22 as a test (real subprocesses)."""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.support.http_server import FixtureServer
from workers.settings import PROJECT_ROOT

CANONICAL = "https://money.kompas.com/read/2025/06/03/140500726/pemerintah-tambah-kuota-pupuk-bersubsidi"
GOLDEN = PROJECT_ROOT / "tests/fixtures/clean/golden/kompas_caption_dateline.html"


def _env(data: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KLIPING_")}
    env["KLIPING_DATA_DIR"] = str(data)
    env.update(extra)
    return env


def kliping(data: Path, *args: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "workers.cli", *args],
        cwd=PROJECT_ROOT,
        env=_env(data, **env),
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.fixture(scope="module")
def store(tmp_path_factory) -> Path:
    """A data dir with the seed articles ingested."""
    data = tmp_path_factory.mktemp("desk") / "data"
    done = kliping(data, "ingest", "seeds/")
    assert done.returncode == 0, done.stderr
    return data


def _ids(data: Path) -> list[str]:
    return [json.loads(line)["id"] for line in kliping(data, "export").stdout.splitlines()]


def test_an_unquoted_query_of_several_words_is_one_query(store):
    found = kliping(store, "search", "Korea", "Utara", "--json")
    assert found.returncode == 0, found.stderr
    quoted = kliping(store, "search", "Korea Utara", "--json")
    assert found.stdout == quoted.stdout and found.stdout


def test_search_finds_what_a_rule_catches(store):
    """`serang` matched as a rule but not as a search before: now both read the stem the same way."""
    searched = {
        json.loads(line)["id"] for line in kliping(store, "search", "kirim", "--json").stdout.splitlines()
    }
    tested = kliping(store, "rules", "test", "kirim", "--json")
    assert tested.returncode == 0, tested.stderr
    assert {json.loads(line)["id"] for line in tested.stdout.splitlines()} == searched != set()
    assert kliping(store, "search", "NOT Kursk").returncode == 1  # every seed names Kursk: no hit, no error


def test_rules_test_previews_a_saved_rule_and_a_query(tmp_path, store):
    added = kliping(store, "rules", "add", "korut", '"Korea Utara" -Jepang', "--source", "Pantau")
    assert added.returncode == 0, added.stderr
    try:
        by_name = kliping(store, "rules", "test", "korut")
        assert by_name.returncode == 0, by_name.stderr
        assert "rule korut" in by_name.stdout and "1 stored article would match" in by_name.stdout
        assert "Pasukan Korea Utara Turut Membantu" in by_name.stdout
        none = kliping(store, "rules", "test", "gempa")
        assert none.returncode == 1 and "no stored article" in none.stdout
        bad = kliping(store, "rules", "test", '"a b"~3')
        assert bad.returncode == 2 and "proximity" in bad.stderr
    finally:
        kliping(store, "rules", "remove", "korut")


def test_a_refused_query_says_why(store):
    bad = kliping(store, "search", "(Kursk")
    assert bad.returncode == 2 and "query" in bad.stderr and "missing ')'" in bad.stderr
    assert "Traceback" not in bad.stderr


def test_inputs_not_found_exit_1(tmp_path, store):
    typo = kliping(tmp_path / "d", "ingest", "seed/")
    assert typo.returncode == 1 and "not_found" in typo.stdout
    unknown = kliping(store, "reextract", "nosuch")
    assert unknown.returncode == 1


def test_counts_and_titles_use_the_singular_for_one(tmp_path):
    one = kliping(tmp_path / "d", "ingest", "seeds/000_acbf871660eb4123.txt")
    assert one.returncode == 0, one.stderr
    assert "1 input in" in one.stdout and "1 inputs" not in one.stdout
    found = kliping(tmp_path / "d", "search", "Kursk")
    assert found.stdout.startswith("1 article\n")


def test_stats_count_an_input_once_however_its_path_is_written(tmp_path):
    data = tmp_path / "d"
    for spelling in ("seeds/", str(PROJECT_ROOT / "seeds"), "./seeds/../seeds"):
        assert kliping(data, "ingest", spelling).returncode == 0
    stats = json.loads(kliping(data, "stats", "--json").stdout)
    assert stats["outcomes"] == {"unchanged": 5}


def test_show_accepts_an_id_prefix(store):
    ids = _ids(store)
    shown = kliping(store, "show", ids[0][:6], "--json")
    assert shown.returncode == 0, shown.stderr
    assert json.loads(shown.stdout)["id"] == ids[0]
    assert kliping(store, "show", "zzzz").returncode == 1


def test_export_into_a_closed_pipe_ends_quietly(tmp_path):
    data = tmp_path / "d"
    folder = tmp_path / "many"
    folder.mkdir()
    base = (PROJECT_ROOT / "seeds" / "000_acbf871660eb4123.txt").read_text("utf-8")
    for n in range(40):  # enough JSON to outgrow a pipe buffer
        (folder / f"a{n:02d}.txt").write_text(f"Berita nomor {n} hari ini.\n\n{n} {base}", "utf-8")
    assert kliping(data, "ingest", str(folder)).returncode == 0
    export = subprocess.Popen(
        [sys.executable, "-m", "workers.cli", "export"],
        cwd=PROJECT_ROOT,
        env=_env(data),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert export.stdout is not None and export.stderr is not None
    export.stdout.readline()
    export.stdout.close()  # like `| head -1`
    stderr = export.stderr.read().decode()
    assert export.wait(timeout=120) == 0
    assert stderr == ""


def test_ctrl_c_prints_the_partial_summary(tmp_path):
    data = tmp_path / "d"
    folder = tmp_path / "many"
    folder.mkdir()
    base = (PROJECT_ROOT / "seeds" / "001_821b5704207c4569.txt").read_text("utf-8")
    for n in range(400):
        (folder / f"a{n:03d}.txt").write_text(f"Kabar {n}.\n\n{base} {n}", "utf-8")
    run = subprocess.Popen(
        [sys.executable, "-m", "workers.cli", "ingest", str(folder)],
        cwd=PROJECT_ROOT,
        env=_env(data),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    db = data / "kliping.sqlite3"
    while True:  # wait for the first stored outcome, then interrupt
        if db.exists():
            try:
                if sqlite3.connect(db).execute("SELECT count(*) FROM outcomes").fetchone()[0]:
                    break
            except sqlite3.OperationalError:
                pass
        assert run.poll() is None, run.communicate()
        time.sleep(0.05)
    run.send_signal(signal.SIGINT)
    stdout, stderr = run.communicate(timeout=120)
    assert run.returncode == 130
    assert "interrupted" in stderr
    done = re.search(r"kliping ingest: (\d+) of 400 inputs", stdout)
    assert done and 0 < int(done.group(1)) < 400, stdout


def test_feeds_list_keeps_urls_whole_and_a_url_keeps_its_name(tmp_path):
    data = tmp_path / "d"
    url = "https://www.example-berita-nasional.co.id/rss/nasional/politik/terbaru.xml"
    assert kliping(data, "feeds", "add", url, "--name", "politik").returncode == 0
    listed = kliping(data, "feeds", "list", COLUMNS="80")
    assert url in listed.stdout
    again = kliping(data, "feeds", "add", url, "--name", "lain")
    assert again.returncode == 1 and "politik" in again.stderr
    assert "politik" in kliping(data, "feeds", "list", COLUMNS="80").stdout


def test_reextract_accepts_the_articles_own_url(tmp_path):
    server = FixtureServer()
    server.start()
    try:
        server.route("/berita/salinan-dari-feed", GOLDEN.read_text("utf-8"))
        data = tmp_path / "d"
        env = {"KLIPING_FETCH_ALLOW_PRIVATE": "true", "KLIPING_FETCH_HOST_INTERVAL": "0"}
        first = kliping(data, "ingest", server.url("/berita/salinan-dari-feed"), "--json", **env)
        assert json.loads(first.stdout)["outcome"] == "indexed", first.stderr
        article = json.loads(kliping(data, "export").stdout)
        assert article["url"] == CANONICAL
    finally:
        server.stop()
    again = kliping(data, "reextract", CANONICAL, "--json", **env)
    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout)["outcome"] == "unchanged"


def test_every_option_has_help_and_subcommands_have_their_own(tmp_path):
    from workers.cli.main import build_parser

    missing = []

    def walk(parser, path):
        for action in parser._actions:
            if action.help is None and action.dest not in ("help",):
                missing.append(f"{path} {'/'.join(action.option_strings) or action.dest}")
            if isinstance(action, argparse._SubParsersAction):
                for name, sub in action.choices.items():
                    walk(sub, f"{path} {name}")

    walk(build_parser(), "kliping")
    assert missing == []
    for args in (["archive", "prune"], ["es", "setup"], ["es", "reindex"], ["rules", "test"], ["serve"]):
        shown = kliping(tmp_path, *args, "--help")
        assert shown.returncode == 0
        assert shown.stdout.startswith(f"usage: kliping {' '.join(args)}"), shown.stdout[:200]
    ingest = kliping(tmp_path, "ingest", "--help").stdout
    assert "workers" in ingest and "--wait" in ingest


def test_serve_answers_on_the_port_it_prints(store):
    run = subprocess.Popen(
        [sys.executable, "-m", "workers.cli", "serve", "--port", "0"],
        cwd=PROJECT_ROOT,
        env=_env(store),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert run.stdout is not None
        line = run.stdout.readline()
        url = re.search(r"http://127\.0\.0\.1:\d+", line)
        assert url, line
        from urllib.request import urlopen

        with urlopen(url.group(0) + "/search?q=Kursk") as page:
            assert "Korea" in page.read().decode()
    finally:
        run.send_signal(signal.SIGINT)
        run.communicate(timeout=60)


def test_progress_shows_an_eta_and_logs_go_above_it_not_into_it():
    import logging

    from rich.logging import RichHandler
    from rich.progress import TimeRemainingColumn

    from workers.cli import common as cli
    from workers.cli.main import configure_logging

    bar = cli.progress_bar()
    assert any(isinstance(c, TimeRemainingColumn) for c in bar.columns)
    assert bar.console is cli.real_console(cli.err)  # the bar and the log lines share the error console

    root = logging.getLogger()
    saved = root.handlers[:], root.level
    configure_logging(verbose=False)
    (handler,) = root.handlers
    target = handler.target  # made at the first record: rich is not imported at start-up
    assert isinstance(target, RichHandler) and target.console is cli.real_console(cli.err)  # above the bar
    assert logging.getLogger("trafilatura").getEffectiveLevel() == logging.ERROR  # "discarding data: None"
    configure_logging(verbose=True)
    assert logging.getLogger("trafilatura").getEffectiveLevel() == logging.DEBUG
    configure_logging(verbose=False)
    root.handlers[:] = saved[0]
    root.setLevel(saved[1])


def test_queueing_with_no_worker_warns_and_the_hint_is_a_valid_command(
    tmp_path, redis_url, redis_prefix, es_url
):
    from workers.cli.main import build_parser

    queued = kliping(
        tmp_path / "d",
        "ingest",
        "seeds/",
        KLIPING_REDIS_URL=redis_url,
        KLIPING_REDIS_PREFIX=redis_prefix,
        KLIPING_ELASTICSEARCH_URL=es_url,
    )
    assert queued.returncode == 0, queued.stderr
    assert "no worker is consuming" in queued.stderr
    hints = re.findall(r"`(kliping [^`]+)`", queued.stderr)
    assert "kliping ingest --wait PATH_OR_URL …" in hints
    for hint in hints:
        words = [w for w in hint.split()[1:] if w != "…"]
        build_parser().parse_args([w if w != "PATH_OR_URL" else "seeds/" for w in words])  # no usage error


def test_only_a_named_input_not_found_fails_the_run():
    from collections import Counter

    from schemas import InputResult, Outcome
    from workers.cli.common import exit_code

    typo = InputResult(input="seed/", outcome=Outcome.skipped, reason="not_found: no such file: seed/")
    inside = InputResult(input="inbox/gone.txt", outcome=Outcome.skipped, reason="not_found: dangling link")
    counts = Counter({Outcome.skipped: 1})
    assert exit_code(counts, [typo], named={"seed/"}) == 1
    assert exit_code(counts, [inside], named={"inbox"}) == 0  # met inside a named folder: skipped only
    assert exit_code(counts, [inside]) == 1  # reextract: every reference was named
    assert exit_code(Counter({Outcome.failed: 1}), [], named=set()) == 1
