#!/usr/bin/env python3
"""The Kliping Celery worker with the benchmark's stage clock (started by ops/benchmark_pipeline.py).

    .venv/bin/python ops/bench_worker.py STAGES_DIR [celery worker options]

Exactly ``kliping worker`` (same app, same tasks, same settings from KLIPING_* variables), plus:
each pool process appends one JSON line per ingest task to STAGES_DIR/<pid>.jsonl with the
exclusive time of every stage of that article (bench_stages).
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

OPS = Path(__file__).resolve().parent
sys.path[:0] = [str(OPS.parent), str(OPS)]

from celery.signals import task_postrun, task_prerun  # noqa: E402

import bench_stages  # noqa: E402
from workers import tasks  # noqa: E402
from workers.celery_app import INGEST_TASK, app  # noqa: E402

CLOCK = bench_stages.StageClock()
_started: dict[str, float] = {}


def _timed_context(build):
    """distributed_context, with the built Context's backends timed."""

    def build_timed(settings):
        return bench_stages.instrument(build(settings), CLOCK)

    return build_timed


@task_prerun.connect
def _before(task_id=None, task=None, **_):
    CLOCK.take()  # context set-up of the first task is not an article's time
    _started[task_id] = time.perf_counter()


@task_postrun.connect
def _after(task_id=None, task=None, retval=None, **_):
    if task is None or task.name != INGEST_TASK or task_id not in _started:
        return
    total = time.perf_counter() - _started.pop(task_id)
    line = {"outcome": (retval or {}).get("outcome") if isinstance(retval, dict) else None,
            "stages": CLOCK.take(total)}
    with open(Path(sys.argv[1]) / f"{os.getpid()}.jsonl", "a", encoding="utf-8") as out:
        out.write(json.dumps(line) + "\n")


def main() -> None:
    """Install the clock, then run ``celery worker`` with the remaining arguments."""
    bench_stages.install(CLOCK)
    tasks.distributed_context = _timed_context(tasks.distributed_context)
    app.worker_main(["worker", *sys.argv[2:]])


if __name__ == "__main__":
    main()
