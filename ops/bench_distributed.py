"""The distributed part of ops/benchmark_pipeline.py: real Redis, real Celery workers, osmem for Elasticsearch.

Each run gets its own Redis key prefix (the broker's keys included), a fresh osmem cluster
behind the test suite's header proxy, and one ``celery worker -c W`` (prefork: W pool
processes) started through ops/bench_worker.py, which records the time of every stage of every
article. Memory of the pool processes is sampled while the articles run.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import psutil

from tests.support import redis_server
from tests.support.es_proxy import start_proxy
from tests.support.osmem import clone, set_up_index
from tests.support.workers import CeleryProcess, wait_for_workers
from workers.runtime.producer import follow, forget, submit
from workers.settings import Settings

# A worker imports the NLP stack and sets up the index on its first task: allow for it.
START_TIMEOUT = 120.0
MEMORY_SAMPLE_SECONDS = 0.5


@dataclass
class DistributedRun:
    """What one distributed run measured."""

    workers: int
    articles: int
    seconds: float
    outcomes: Counter
    stages: list[dict[str, float]] = field(default_factory=list)  # one per measured article
    cpu_stages: list[dict[str, float]] = field(
        default_factory=list
    )  # the worker's CPU per stage, per article
    peak_rss_mb: dict[int, float] = field(default_factory=dict)  # pool process pid → peak RSS
    cpu_seconds: dict[str, float] = field(default_factory=dict)  # who → CPU seconds during the run
    busy: float = 0.0  # share of the machine's CPU time in use during the run (every process, ours or not)
    requests: Counter = field(default_factory=Counter)  # Elasticsearch requests during the run, by kind
    rss_course: list[float] = field(
        default_factory=list
    )  # largest pool process RSS at 0, 25, 50, 75, 100 % of the run

    @property
    def rate(self) -> float:
        """Articles per second, wall clock, from the first submit to the last outcome."""
        return self.articles / self.seconds


def _cpu(process: psutil.Process) -> float:
    times = process.cpu_times()
    return times.user + times.system


class _MemorySampler(threading.Thread):
    """Peak RSS and CPU time of every process under a worker (pool processes are recycled: each pid counts)."""

    def __init__(self, root: int):
        super().__init__(daemon=True)
        self._root = psutil.Process(root)
        self._done = threading.Event()
        self.peaks: dict[int, float] = {}
        self.largest: list[float] = []  # the largest pool process's RSS at every sample, in order
        self._cpu_start = {p.pid: _cpu(p) for p in [self._root, *self._root.children(recursive=True)]}
        self._cpu_last = dict(self._cpu_start)

    def run(self) -> None:
        """Sample until stopped."""
        while not self._done.wait(MEMORY_SAMPLE_SECONDS):
            self._sample()

    def _sample(self) -> None:
        largest = 0.0
        for process in [self._root, *self._root.children(recursive=True)]:
            try:
                rss, cpu = process.memory_info().rss / 2**20, _cpu(process)
            except psutil.Error:
                continue
            self._cpu_last[process.pid] = cpu
            if process.pid != self._root.pid:
                self.peaks[process.pid] = max(self.peaks.get(process.pid, 0.0), rss)
                largest = max(largest, rss)
        self.largest.append(largest)

    def stop(self) -> tuple[dict[int, float], float]:
        """Stop sampling; the peaks seen and the worker's CPU seconds (main and pool processes)."""
        self._done.set()
        self.join()
        self._sample()
        return self.peaks, sum(cpu - self._cpu_start.get(pid, 0.0) for pid, cpu in self._cpu_last.items())


def _start_worker(settings: Settings, workers: int, stages_dir: Path, log_path: Path) -> CeleryProcess:
    """`kliping worker` with the stage clock (ops/bench_worker.py), `workers` prefork pool processes."""
    argv = [
        "ops.bench_worker",
        str(stages_dir),
        "-Q",
        "ingest",
        "-c",
        str(workers),
        "--pool",
        "prefork",
        "--loglevel",
        "WARNING",
        "-n",
        f"{settings.redis_prefix}@%h",
        "--without-gossip",
        "--without-mingle",
        "--without-heartbeat",
    ]
    return CeleryProcess(argv, settings, log_path)


def _drain(task_ids: list[str], settings: Settings, timeout: float) -> Counter:
    """Wait for every task; the outcomes."""
    outcomes = Counter(r.outcome.value for r in follow(task_ids, settings, timeout=timeout))
    forget(task_ids, settings)
    return outcomes


def _stage_lines(stages_dir: Path) -> list[dict]:
    return [json.loads(line) for path in stages_dir.glob("*.jsonl") for line in path.read_text().splitlines()]


def run(
    server,
    paths: list[Path],
    warmup: list[Path],
    workers: int,
    work_dir: Path,
    timeout: float,
    batch_size: int,
) -> DistributedRun:
    """Ingest `paths` in tasks of `batch_size` with one worker of `workers` pool processes (after `warmup`); what it measured."""
    server_pid = next(
        (p.pid for p in psutil.Process().children(recursive=True) if "osmem" in p.name().lower()), None
    )
    url = redis_server.redis_url()
    prefix = redis_server.unique_prefix()
    run_dir = work_dir / f"distributed-{workers}"
    stages_dir = run_dir / "stages"
    stages_dir.mkdir(parents=True, exist_ok=True)
    with clone(server) as cluster, start_proxy(cluster.url) as proxy:
        settings = Settings(
            redis_url=url,
            redis_prefix=prefix,
            elasticsearch_url=proxy.url,
            elasticsearch_index=f"kliping-bench-{uuid.uuid4().hex[:8]}",
            data_dir=run_dir / "data",
            ingest_batch_size=batch_size,
        )
        set_up_index(settings)  # `kliping es setup`: workers only check that the alias exists
        worker = _start_worker(settings, workers, stages_dir, run_dir / "worker.log")
        try:
            wait_for_workers(settings, 1, worker)
            one_each = settings.model_copy(update={"ingest_batch_size": 1})  # every pool process warms up
            _drain(submit([str(p) for p in warmup], one_each), settings, START_TIMEOUT)
            time.sleep(MEMORY_SAMPLE_SECONDS)  # a stage line is written just after its result is stored
            for path in stages_dir.glob("*.jsonl"):
                path.unlink()  # the warm-up's lines
            sampler = _MemorySampler(worker.pid)
            sampler.start()
            others = _Others(server_pid)
            started_at = time.monotonic()
            started = time.perf_counter()
            outcomes = _drain(submit([str(p) for p in paths], settings), settings, timeout)
            seconds = time.perf_counter() - started
            peaks, worker_cpu = sampler.stop()
            course = [
                sampler.largest[min(len(sampler.largest) - 1, q * len(sampler.largest) // 4)]
                for q in range(5)
            ]
            cpu, busy = others.stop()
            requests = Counter(_kind(r.method, r.path) for r in proxy.faults.requests(since=started_at))
        finally:
            worker.stop()
            redis_server.delete_prefix(url, prefix)
    return DistributedRun(
        workers=workers,
        articles=len(paths),
        seconds=seconds,
        outcomes=outcomes,
        stages=[line["stages"] for line in _stage_lines(stages_dir)],
        cpu_stages=[line["cpu"] for line in _stage_lines(stages_dir)],
        peak_rss_mb=peaks,
        cpu_seconds={"workers": worker_cpu, **cpu},
        busy=busy,
        requests=requests,
        rss_course=course,
    )


def _kind(method: str, path: str) -> str:
    """``POST _bulk``, ``GET _doc``, ``POST _search``: a request's method and its endpoint (the last `_` part)."""
    bare = path.split("?")[0]
    endpoint = next((part for part in reversed(bare.split("/")) if part.startswith("_")), bare)
    return f"{method} {endpoint}"


class _Others:
    """CPU time of the services and of this process (producer and the osmem header proxy) over a run."""

    def __init__(self, server_pid: int | None):
        self._processes = {"this process (producer, proxy)": psutil.Process()}
        if server_pid:
            self._processes["osmem (Elasticsearch)"] = psutil.Process(server_pid)
        self._start = {name: _cpu(p) for name, p in self._processes.items()}
        self._machine = psutil.cpu_times()

    def stop(self) -> tuple[dict[str, float], float]:
        """CPU seconds per process since start, and the machine's busy share."""
        machine = psutil.cpu_times()
        total = sum(machine) - sum(self._machine)
        busy = 1.0 - (machine.idle - self._machine.idle) / total if total else 0.0
        return {name: _cpu(p) - self._start[name] for name, p in self._processes.items()}, busy
