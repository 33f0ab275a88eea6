"""Time per pipeline stage for the benchmarks, without touching the pipeline's code.

``install()`` wraps the stage functions ``workers.pipeline`` calls (load, clean, dedupe, enrich,
link_group) and ``instrument()`` a Context's index, state and monitor, so that every call adds its
exclusive time (nested timed calls subtracted) to the current article's stage totals; ``take()``
returns those totals after each article. The wrapped functions are the real ones: nothing is faked.
"""

from __future__ import annotations

import functools
import statistics
import time
from collections import defaultdict
from collections.abc import Callable
from typing import Any

from workers import pipeline

# workers.pipeline name → stage it belongs to
PIPELINE_STAGES = {
    "load": "load",
    "clean": "clean",
    "dedupe": "dedupe",
    "enrich": "enrich",
    "reuse_enrichment": "enrich",
    "link_group": "story",
}
INDEX_METHODS = ("get", "put", "add_copy", "put_many", "add_copies", "get_many")
STATE_METHODS = ("record", "quarantine")
STAGE_ORDER = ["load", "clean", "dedupe", "enrich", "story", "index", "monitor", "state", "metrics", "other"]


class StageClock:
    """Exclusive time per stage of the article being processed: wall clock, and this thread's CPU."""

    def __init__(self) -> None:
        self.current: dict[str, float] = defaultdict(float)
        self.cpu: dict[str, float] = defaultdict(float)  # CPU seconds of this process's thread per stage
        self._children: list[
            tuple[float, float]
        ] = []  # (wall, cpu) spent in timed calls nested in each open call

    def wrap(self, stage: str, function: Callable) -> Callable:
        """`function`, with its exclusive time added to `stage`."""

        @functools.wraps(function)
        def timed(*args: Any, **kwargs: Any) -> Any:
            self._children.append((0.0, 0.0))
            started, cpu_started = time.perf_counter(), time.thread_time()
            try:
                return function(*args, **kwargs)
            finally:
                elapsed, cpu = time.perf_counter() - started, time.thread_time() - cpu_started
                nested, nested_cpu = self._children.pop()
                self.current[stage] += elapsed - nested
                self.cpu[stage] += cpu - nested_cpu
                if self._children:
                    outer, outer_cpu = self._children[-1]
                    self._children[-1] = (outer + elapsed, outer_cpu + cpu)

        return timed

    def take(self, total: float | None = None) -> dict[str, float]:
        """The stage totals of the article just processed (plus "other" when its total time is given)."""
        times = dict(self.current)
        self.current.clear()
        if total is not None:
            times["other"] = max(0.0, total - sum(times.values()))
        return times

    def take_cpu(self) -> dict[str, float]:
        """The CPU seconds per stage since the last call."""
        cpu = dict(self.cpu)
        self.cpu.clear()
        return cpu


class _Timed:
    """A backend whose named methods are timed; everything else passes through."""

    def __init__(self, target: Any, clock: StageClock, stage: str, methods: tuple[str, ...]):
        self._target = target
        for name in methods:
            if hasattr(target, name):  # put_many: Elasticsearch only
                setattr(self, name, clock.wrap(stage, getattr(target, name)))

    def __getattr__(self, name: str) -> Any:
        return getattr(self._target, name)


def install(clock: StageClock) -> None:
    """Time the stage functions the pipeline module calls (for this process)."""
    for name, stage in PIPELINE_STAGES.items():
        setattr(pipeline, name, clock.wrap(stage, getattr(pipeline, name)))


def instrument(ctx: pipeline.Context, clock: StageClock) -> pipeline.Context:
    """Time the context's article index, state store, monitor and metrics (dedup index calls count to their stage)."""
    ctx.index = _Timed(ctx.index, clock, "index", INDEX_METHODS)
    ctx.state = _Timed(ctx.state, clock, "state", STATE_METHODS)
    if ctx.monitor is not None:
        ctx.monitor = _Timed(ctx.monitor, clock, "monitor", ("observe",))
    if ctx.metrics is not None:  # outcome counters (Redis, distributed mode): neither broker nor index
        ctx.metrics = _Timed(ctx.metrics, clock, "metrics", ("record", "retry"))
    return ctx


def percentile(values: list[float], share: float) -> float:
    """The `share` quantile (0..1) of values, nearest rank."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(share * len(ordered)) - 1))]


def stage_table(samples: list[dict[str, float]]) -> list[str]:
    """Lines of a table: per stage, share of all time, mean, p50 and p99 in ms over the articles it ran for."""
    total = sum(sum(s.values()) for s in samples) or 1.0
    lines = [f"    {'stage':<8} {'share':>6} {'mean ms':>8} {'p50 ms':>8} {'p99 ms':>8}"]
    per_stage: dict[str, list[float]] = defaultdict(list)
    for sample in samples:
        for stage, seconds in sample.items():
            per_stage[stage].append(seconds)
    for stage in sorted(per_stage, key=lambda s: STAGE_ORDER.index(s) if s in STAGE_ORDER else 99):
        values = per_stage[stage]
        lines.append(
            f"    {stage:<8} {sum(values) / total:>6.1%} {1000 * statistics.fmean(values):>8.2f}"
            f" {1000 * percentile(values, 0.5):>8.2f} {1000 * percentile(values, 0.99):>8.2f}"
        )
    return lines
