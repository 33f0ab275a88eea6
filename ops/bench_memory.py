"""Fresh pipeline processes for ops/benchmark_pipeline.py: the memory check and the machine's ceiling.

Both run the embedded pipeline in spawned processes (nothing inherited from the benchmark):

- memory: one process over --memory-articles fresh articles, RSS sampled every 1,000, and its
  articles/s in each stretch (a store that grows must not slow the writes down);
- ceiling: the same articles in one process, then in two at once (each on a store of its own). Two
  CPU-bound processes that share nothing scale by what the machine has free at the time: on 2
  idle cores about 2×, less when other tenants use them. That is the ceiling the distributed
  mode's 1 → 2 worker scaling is judged against.
"""

from __future__ import annotations

import itertools
import multiprocessing
import statistics
import time
from pathlib import Path

import bench_corpus
import psutil

from workers.runtime.embedded import run as run_inputs
from workers.runtime.wiring import embedded_context
from workers.settings import Settings

MEMORY_SAMPLE_EVERY = 1000
MEMORY_ROUND = 20_000
TARGET_WORKER_MB = 300.0


def memory_child(paths: list[str], data_dir: str, queue) -> None:
    """(In a fresh process, like a worker's) run the article files through the pipeline.

    Puts samples (articles done, RSS in MB, seconds since the first article) on the queue.
    """
    ctx = embedded_context(Settings(data_dir=Path(data_dir), redis_url=None, elasticsearch_url=None))
    me = psutil.Process()
    started = time.perf_counter()
    samples = [(0, me.memory_info().rss / 2**20, 0.0)]
    # the runner's loop: it releases freed memory as a worker does
    for n, _ in enumerate(run_inputs(paths, ctx), start=1):
        if n % MEMORY_SAMPLE_EVERY == 0 or n == len(paths):
            samples.append((n, me.memory_info().rss / 2**20, time.perf_counter() - started))
    queue.put(samples)


def run_memory(
    pages: list[bench_corpus.Page], count: int, work: Path, copy_rate: float
) -> list[tuple[int, float, float]]:
    """(articles, MB, seconds) samples of a fresh process running `count` new articles (spawned: nothing inherited)."""
    # Articles of their own (later rounds), written first: the process holds nothing but the pipeline.
    paths = bench_corpus.write_articles(
        pages, work / "memory-articles", count, copy_rate, first_round=MEMORY_ROUND
    )
    spawn = multiprocessing.get_context("spawn")
    queue = spawn.Queue()
    child = spawn.Process(target=memory_child, args=([str(p) for p in paths], str(work / "memory"), queue))
    child.start()
    samples = queue.get()
    child.join()
    return samples


def _slope(samples: list[tuple[int, float, float]]) -> float:
    """MB per 1,000 articles: least-squares slope of RSS after the first sample past warm-up."""
    points = [(n, mb) for n, mb, _ in samples if n >= MEMORY_SAMPLE_EVERY]
    if len(points) < 2:
        return 0.0
    return 1000 * statistics.linear_regression([n for n, _ in points], [mb for _, mb in points]).slope


def report_memory(pages: list[bench_corpus.Page], articles: int, copy_rate: float, work: Path) -> None:
    """Run and print the memory check."""
    samples = run_memory(pages, articles, work, copy_rate)
    final = samples[-1][1]
    growth = _slope(samples)
    print(
        f"\nmemory, one pipeline process over {samples[-1][0]} articles: "
        + ", ".join(f"{n}: {mb:.0f} MB" for n, mb, _ in samples)
    )
    verdict = "MET" if final < TARGET_WORKER_MB else "NOT MET"
    print(
        f"  final {final:.0f} MB (target < {TARGET_WORKER_MB:.0f}: {verdict}); "
        f"growth after the first {MEMORY_SAMPLE_EVERY}: {growth:+.1f} MB per 1,000 articles"
    )
    speeds = [(n - m) / (t - s) for (m, _, s), (n, _, t) in itertools.pairwise(samples) if t > s]
    print(
        "  articles/s in each stretch, as the store grows: " + ", ".join(f"{speed:.1f}" for speed in speeds)
    )


def ceiling_child(paths: list[str], data_dir: str, queue) -> None:
    """Run the articles through the pipeline (after a warm-up article); put (start, end) wall clock times."""
    ctx = embedded_context(Settings(data_dir=Path(data_dir), redis_url=None, elasticsearch_url=None))
    for _ in run_inputs(paths[:1], ctx):  # imports and models, before the clock
        pass
    started = time.time()
    for _ in run_inputs(paths[1:], ctx):
        pass
    queue.put((started, time.time()))


def _concurrent(paths: list[str], work: Path, processes: int, label: str) -> float:
    """Articles per second of `processes` processes each running `paths` at once (from the first start to the last end)."""
    spawn = multiprocessing.get_context("spawn")
    queue = spawn.Queue()
    children = [
        spawn.Process(target=ceiling_child, args=(paths, str(work / f"ceiling-{label}-{n}"), queue))
        for n in range(processes)
    ]
    for child in children:
        child.start()
    spans = [queue.get() for _ in children]
    for child in children:
        child.join()
    return processes * (len(paths) - 1) / (max(end for _, end in spans) - min(start for start, _ in spans))


def ceiling(paths: list[Path], work: Path) -> tuple[float, float, float]:
    """(articles/s of one process, of two at once, the ratio): the scaling the machine allows now."""
    names = [str(p) for p in paths]
    one = _concurrent(names, work, 1, "one")
    two = _concurrent(names, work, 2, "two")
    return one, two, two / one
