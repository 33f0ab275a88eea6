#!/usr/bin/env python3
"""The Kliping Celery worker with the benchmark's stage clock (started by ops/benchmark_pipeline.py).

    .venv/bin/python ops/bench_worker.py STAGES_DIR [celery worker options]

Exactly ``kliping worker`` (same app, same tasks, same settings from KLIPING_* variables), plus:
each pool process appends one JSON line per article to STAGES_DIR/<pid>.jsonl with the
exclusive time of every stage of that article (bench_stages); a batch task's own work (its bulk
flush) is shared out over its articles.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

OPS = Path(__file__).resolve().parent
sys.path[:0] = [str(OPS.parent), str(OPS)]

import bench_stages  # noqa: E402
from celery.signals import task_postrun, task_prerun  # noqa: E402

from workers.runtime import tasks  # noqa: E402
from workers.runtime.celery_app import INGEST_BATCH_TASK, app  # noqa: E402

CLOCK = bench_stages.StageClock()
_started: dict[str, float] = {}
# (wall, CPU) per stage of each article of the task, by input: a batch prepares (loads and cleans)
# every input, then completes each, so an article's time is taken in two pieces.
_articles: dict[str, tuple[dict[str, float], dict[str, float]]] = {}


def _timed_context(build):
    """distributed_context, with the built Context's backends timed."""

    def build_timed(settings):
        return bench_stages.instrument(build(settings), CLOCK)

    return build_timed


def _add(input_ref: str, wall: dict[str, float], cpu: dict[str, float]) -> None:
    """Add stage times to an input's totals."""
    totals = _articles.setdefault(input_ref, ({}, {}))
    for total, part in zip(totals, (wall, cpu), strict=True):
        for stage, seconds in part.items():
            total[stage] = total.get(stage, 0.0) + seconds


def _timed_prepare(prepare):
    """pipeline.prepare, taking the clock after each input."""

    def timed(input_ref, ctx):
        started = time.perf_counter()
        try:
            return prepare(input_ref, ctx)
        finally:
            _add(input_ref, CLOCK.take(time.perf_counter() - started), CLOCK.take_cpu())

    return timed


def _timed_complete(complete):
    """pipeline.complete, taking the clock after each input (the batch's look-up before it is shared out)."""

    def timed(prepared, ctx):
        started = time.perf_counter()
        try:
            return complete(prepared, ctx)
        finally:
            _add(prepared.input_ref, CLOCK.take(time.perf_counter() - started), CLOCK.take_cpu())

    return timed


@task_prerun.connect
def _before(task_id=None, task=None, **_):
    CLOCK.take(), CLOCK.take_cpu()  # context set-up of the first task is not an article's time
    _articles.clear()
    _started[task_id] = time.perf_counter()


@task_postrun.connect
def _after(task_id=None, task=None, retval=None, **_):
    if task is None or task.name != INGEST_BATCH_TASK or task_id not in _started:
        return
    total = time.perf_counter() - _started.pop(task_id)
    articles = list(_articles.values()) or [({}, {})]
    # What the task did besides its articles (a batch's bulk flush) is shared by its articles.
    rest = CLOCK.take(total - sum(sum(wall.values()) for wall, _ in articles))
    rest_cpu = CLOCK.take_cpu()
    with open(Path(sys.argv[1]) / f"{os.getpid()}.jsonl", "a", encoding="utf-8") as out:
        for wall, cpu in articles:
            out.write(
                json.dumps(
                    {"stages": _share(wall, rest, len(articles)), "cpu": _share(cpu, rest_cpu, len(articles))}
                )
                + "\n"
            )


def _share(own: dict[str, float], rest: dict[str, float], articles: int) -> dict[str, float]:
    """An article's stage times plus its share of the task's own."""
    return {stage: own.get(stage, 0.0) + rest.get(stage, 0.0) / articles for stage in {*own, *rest}}


def main() -> None:
    """Install the clock, then run ``celery worker`` with the remaining arguments."""
    bench_stages.install(CLOCK)
    tasks.distributed_context = _timed_context(tasks.distributed_context)
    tasks.pipeline.prepare = _timed_prepare(tasks.pipeline.prepare)
    tasks.pipeline.complete = _timed_complete(tasks.pipeline.complete)
    app.worker_main(["worker", *sys.argv[2:]])


if __name__ == "__main__":
    main()
