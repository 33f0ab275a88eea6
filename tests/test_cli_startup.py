"""Start-up of the `kliping` command: what it imports before, and while, it handles the first input.

Every module not imported is start-up time saved (issue 25: first input within 0.5 s of the start):
the distributed mode's clients, the HTTP client for a run over files, rich for `--json`, dateparser
for a page that states its date. Checked through sys.modules in a fresh interpreter, never by time.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

from workers.settings import PROJECT_ROOT

SEED = PROJECT_ROOT / "seeds" / "000_acbf871660eb4123.txt"
DISTRIBUTED = ("celery", "kombu", "redis", "elasticsearch", "elastic_transport")
# Modules a command may need later, none of them needed to parse the command line.
HEAVY = ("trafilatura", "numpy", "httpx", "httpcore", "rich", "dateparser", "pycrfsuite", "lxml")

PROBE = """
import json, sys
from workers.cli.main import main
loaded_before = sorted(sys.modules)
code = main(sys.argv[1:]) if len(sys.argv) > 1 else 0
print(json.dumps({"before": loaded_before, "after": sorted(sys.modules), "code": code}))
"""


def _modules(tmp_path, *args: str) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KLIPING_")}
    env["KLIPING_DATA_DIR"] = str(tmp_path / "data")
    done = subprocess.run(
        [sys.executable, "-c", PROBE, *args],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    report = json.loads(done.stdout.splitlines()[-1])
    return {"before": set(report["before"]), "after": set(report["after"]), "code": report["code"]}


def _top_level(modules: set[str]) -> set[str]:
    return {name.split(".")[0] for name in modules}


def test_the_command_line_imports_no_pipeline_library_before_a_command_runs(tmp_path):
    before = _top_level(_modules(tmp_path)["before"])
    assert not before & {*DISTRIBUTED, *HEAVY}, before & {*DISTRIBUTED, *HEAVY}


def test_an_embedded_ingest_of_a_file_imports_only_what_the_file_needs(tmp_path):
    seen = _modules(tmp_path, "ingest", str(SEED), "--json")
    assert seen["code"] == 0
    after = _top_level(seen["after"])
    # no distributed mode, no HTTP client for a local file, no rich for JSON lines
    assert not after & {*DISTRIBUTED, "httpx", "httpcore", "rich"}, after
    assert "trafilatura" in after  # the clean stage did run: the check above is not vacuous


# The enrich stage's code (entity recogniser, gazetteer, sentiment): needed only by an article to enrich.
ENRICH_STAGE = (
    "workers.enrich.stage",
    "workers.enrich.entities",
    "workers.enrich.sentiment",
    "workers.enrich.gazetteer",
)


def test_an_ingest_whose_inputs_are_unchanged_imports_no_enrich_stage(tmp_path):
    first = _modules(tmp_path, "ingest", str(SEED), "--json")
    assert first["code"] == 0
    assert set(ENRICH_STAGE) <= first["after"]  # a new article is enriched: the check below is not vacuous
    again = _modules(tmp_path, "ingest", str(SEED), "--json")  # same store: the seed is unchanged
    assert again["code"] == 0
    assert not again["after"] & set(ENRICH_STAGE), again["after"] & set(ENRICH_STAGE)
    assert "workers.enrich.stem" in again["after"]  # the query language's stemmer alone


# The command leaves without interpreter teardown (workers/cli/process_exit.py): what the teardown
# did that anyone could see must still happen.
EXIT_PROBE = """
import atexit, sys, threading
from workers.cli.process_exit import exit_now
atexit.register(lambda: print("atexit ran"))
sys.stdout.write("buffered, ")
if sys.argv[1] == "thread":  # a thread still running: the ordinary exit waits for it
    go = threading.Event()
    threading.Thread(target=lambda: (go.wait(60), print("thread done", flush=True))).start()
    threading.Timer(0.05, go.set).start()
exit_now(3)
"""


def test_the_exit_without_teardown_runs_atexit_flushes_and_waits_for_threads(tmp_path):
    for mode in ("plain", "thread"):
        done = subprocess.run(
            [sys.executable, "-c", EXIT_PROBE, mode],
            cwd=PROJECT_ROOT,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 3, done.stderr
        assert done.stdout.startswith("buffered, "), done.stdout
        assert "atexit ran" in done.stdout
        assert ("thread done" in done.stdout) == (mode == "thread"), done.stdout


def test_the_command_closes_its_store_before_it_exits(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("KLIPING_")}
    env["KLIPING_DATA_DIR"] = str(tmp_path / "data")
    command = [sys.executable, "-m", "workers.cli", "ingest", str(SEED), "--json"]
    for outcome in ("indexed", "unchanged"):
        done = subprocess.run(command, cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stderr
        assert json.loads(done.stdout)["outcome"] == outcome
        # closing the last connection checkpoints the WAL into the database and removes it
        assert not list((tmp_path / "data").glob("*-wal")), list((tmp_path / "data").iterdir())
