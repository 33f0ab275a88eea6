#!/usr/bin/env python3
"""What a user feels of Kliping's speed: process start-up and whole `kliping ingest` runs. Prints figures.

    .venv/bin/python ops/bench_process.py ../shared/data/aeb/html --starts 10 --rounds 3

1. Start-up to the first input handled: `kliping ingest ONE_PAGE --json` on a data dir that already
   holds it (a cron job or a feed poll: the page is cleaned and found unchanged), and on a fresh
   data dir (the page is new: every stage runs, the entity and sentiment models load), timed from
   the process start to its first output line, median of --starts process starts, with the CPU
   seconds of the whole one-input process (this machine is shared: CPU time is the steadier
   figure); `kliping --help` the same way, to the end of the process.
2. Whole process: `kliping ingest FOLDER` on a fresh data dir against a plain trafilatura loop
   (`trafilatura.extract(html, with_metadata=True)` per page, read from the same files) in a
   process of its own, both timed from process start to exit, in interleaved rounds (this VM's
   speed drifts within minutes): wall time, CPU time, and the ratio per round.

Pages may be .html or .html.gz (decompressed once into a temporary folder of .html files, which
both sides read). Also run by ops/benchmark_pipeline.py (the start-up part) so one run prints all.
"""

from __future__ import annotations

import argparse
import gzip
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGET_FIRST_INPUT = 0.5  # seconds from the process start (issue 25)
KLIPING = [sys.executable, "-m", "workers.cli"]
TRAFILATURA_LOOP = """
import sys
from pathlib import Path
import trafilatura
for path in sorted(Path(sys.argv[1]).glob("*.html")):
    trafilatura.extract(path.read_text(encoding="utf-8", errors="replace"), with_metadata=True)
"""


def pages_folder(source: Path, work: Path) -> Path:
    """The source pages as .html files in a folder of their own."""
    folder = work / "pages"
    folder.mkdir()
    for path in sorted(source.iterdir()):
        if path.name.endswith(".html.gz"):
            (folder / path.name[:-3]).write_bytes(gzip.decompress(path.read_bytes()))
        elif path.suffix == ".html":
            (folder / path.name).write_bytes(path.read_bytes())
    return folder


def _environment(data_dir: Path) -> dict[str, str]:
    """The child's environment: embedded mode on its own data dir, the checkout importable.

    Bytecode is cached as in any installation (a development shell may set PYTHONDONTWRITEBYTECODE,
    which would make every start compile Kliping's sources again: ~0.1 s).
    """
    env = {
        k: v for k, v in os.environ.items() if not k.startswith("KLIPING_") and k != "PYTHONDONTWRITEBYTECODE"
    }
    env["KLIPING_DATA_DIR"] = str(data_dir)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    return env


def time_to_first_line(command: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Seconds from starting `command` to its first line of output (the whole run when it prints none),
    and the CPU seconds (user + system) of the whole process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    with subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL) as child:
        assert child.stdout is not None
        child.stdout.readline()
        first = time.perf_counter() - started
        child.stdout.read()
    if child.returncode not in (0, 1):
        raise RuntimeError(f"{command} exited {child.returncode}")
    return first, _cpu_since(before)


def _cpu_since(before: resource.struct_rusage) -> float:
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def timed_run(command: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Wall and CPU seconds (user + system of the child) of one whole process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    subprocess.run(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    return time.perf_counter() - started, _cpu_since(before)


def start_up(folder: Path, work: Path, starts: int) -> dict[str, tuple[float, float]]:
    """Medians of (wall to the first output, CPU of the process): one page on a store that holds it
    ("unchanged"), one page on a fresh store ("new"), and `kliping --help` (whole process)."""
    page = sorted(folder.glob("*.html"))[0]
    env = _environment(work / "startup-data")
    ingest = [*KLIPING, "ingest", str(page), "--json"]
    time_to_first_line(ingest, env)  # creates the store, the caches and the bytecode
    unchanged = [time_to_first_line(ingest, env) for _ in range(starts)]
    new = [time_to_first_line(ingest, _environment(work / f"startup-new-{n}")) for n in range(starts)]
    helps = [timed_run([*KLIPING, "--help"], env) for _ in range(starts)]
    return {"unchanged": _medians(unchanged), "new": _medians(new), "help": _medians(helps)}


def _medians(runs: list[tuple[float, float]]) -> tuple[float, float]:
    return statistics.median(r[0] for r in runs), statistics.median(r[1] for r in runs)


def whole_process(folder: Path, work: Path, rounds: int) -> list[dict[str, float]]:
    """Per round: wall and CPU seconds of `kliping ingest FOLDER` (fresh store) and of the trafilatura loop."""
    results = []
    for number in range(rounds):
        kliping = timed_run([*KLIPING, "ingest", str(folder)], _environment(work / f"data-{number}"))
        loop = timed_run([sys.executable, "-c", TRAFILATURA_LOOP, str(folder)], _environment(work / "unused"))
        results.append(
            {"kliping": kliping[0], "kliping_cpu": kliping[1], "loop": loop[0], "loop_cpu": loop[1]}
        )
    return results


def print_start_up(figures: dict[str, tuple[float, float]], starts: int) -> None:
    """The start-up figures, one line each."""
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"\nstart-up, medians of {starts} process starts (load average {load}):")
    for key, what in (
        ("unchanged", "kliping ingest PAGE --json, store holds it (unchanged): first output"),
        ("new", "kliping ingest PAGE --json, fresh store (every stage, models): first output"),
        ("help", "kliping --help, whole process"),
    ):
        wall, cpu = figures[key]
        verdict = ""
        if key != "help":
            verdict = f"  (target first input <= {TARGET_FIRST_INPUT} s: wall {_met(wall)}, CPU {_met(cpu)})"
        print(f"  {what}: {wall:.2f} s wall, {cpu:.2f} s CPU{verdict}")


def _met(seconds: float) -> str:
    return "met" if seconds <= TARGET_FIRST_INPUT else "not met"


def print_whole(results: list[dict[str, float]], pages: int) -> None:
    """Per-round and median figures of the whole-process comparison."""
    for number, r in enumerate(results):
        print(
            f"  round {number}: kliping ingest {r['kliping']:.1f} s wall / {r['kliping_cpu']:.1f} s CPU;"
            f" trafilatura loop {r['loop']:.1f} s / {r['loop_cpu']:.1f} s;"
            f" loop/kliping {r['loop'] / r['kliping']:.2f} (CPU {r['loop_cpu'] / r['kliping_cpu']:.2f})"
        )
    ratio = statistics.median(r["loop"] / r["kliping"] for r in results)
    cpu = statistics.median(r["loop_cpu"] / r["kliping_cpu"] for r in results)
    print(
        f"whole process over {pages} pages: kliping ingest runs at {ratio:.2f}x the trafilatura loop's speed"
        f" (wall, median of rounds; CPU {cpu:.2f}x) — above 1 is faster, while it also dedups, enriches and indexes"
    )


def main() -> None:
    """Run both measurements and print them."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path, help="folder of pages (*.html, *.html.gz)")
    parser.add_argument("--starts", type=int, default=10, help="process starts for the start-up medians")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds of the whole-process runs")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        folder = pages_folder(args.folder, work)
        pages = len(list(folder.glob("*.html")))
        print_start_up(start_up(folder, work, args.starts), args.starts)
        print_whole(whole_process(folder, work, args.rounds), pages)


if __name__ == "__main__":
    main()
