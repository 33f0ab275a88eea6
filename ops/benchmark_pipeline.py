#!/usr/bin/env python3
"""Is the pipeline as fast as its extractor allows, and does it scale with workers? Prints figures.

    .venv/bin/python ops/benchmark_pipeline.py ../shared/data/aeb/html --articles 2000 --copy-rate 0.2

On the same generated articles (bench_corpus: the folder's pages repeated as distinct articles,
with syndicated copies mixed in at --copy-rate), in one run:

1. plain trafilatura (``bare_extraction`` with metadata and Kliping's options): pages/s, one core;
2. newspaper4k (``Article.download(input_html=…)`` + ``parse()``, no network, English stop
   words for every page): pages/s, one core;
3. the embedded pipeline end to end (load, clean, dedupe, enrich, story, index into the SQLite
   store, monitor, outcome): articles/s and the time per stage (p50/p99); 1-3 run interleaved
   (--rounds: each method on the same share of the articles in turn), so that the machine's
   drift meets every method alike;
4. the distributed pipeline with 1 and 2 worker processes (real Redis, real Celery, osmem-server
   as Elasticsearch): articles/s, the scaling factor, the per-article cost of the broker and of
   indexing, the per-stage times inside the workers and the peak memory per worker process;
5. memory: one process running the pipeline over --memory-articles fresh articles, RSS sampled
   every 1,000 (the growth per 1,000 articles is the slope after the first 1,000), and its
   articles/s in each 1,000: a store that grows must not slow the writes down.

--profile FILE also writes a pyinstrument profile of the embedded run (text).
"""

from __future__ import annotations

import argparse
import itertools
import math
import multiprocessing
import os
import platform
import statistics
import sys
import tempfile
import time
import warnings
from collections import Counter
from pathlib import Path

OPS = Path(__file__).resolve().parent
sys.path[:0] = [str(OPS.parent), str(OPS)]

import bench_corpus  # noqa: E402
import bench_stages  # noqa: E402
import psutil  # noqa: E402
import trafilatura  # noqa: E402
from htmldate import extractors  # noqa: E402

from schemas import RawDocument  # noqa: E402
from workers.clean import clean  # noqa: E402
from workers.clean import warm_up as warm_up_clean  # noqa: E402
from workers.clean.date_text import htmldate_default  # noqa: E402
from workers.clean.html import TRAFILATURA_OPTIONS  # noqa: E402
from workers.enrich import warm_up as warm_up_enrich  # noqa: E402
from workers.errors import KlipingError  # noqa: E402
from workers.runtime.embedded import process_with_retries  # noqa: E402
from workers.runtime.embedded import run as run_inputs  # noqa: E402
from workers.runtime.wiring import embedded_context  # noqa: E402
from workers.settings import Settings  # noqa: E402
from workers.sources import SourceRegistry  # noqa: E402

# The targets (issue 10).
TARGET_EMBEDDED_VS_TRAFILATURA = 0.8  # everything besides extraction costs at most a quarter of it
TARGET_VS_NEWSPAPER = 3.0
TARGET_SCALING_2_WORKERS = 1.6
TARGET_OVERHEAD_MS = 5.0  # broker + indexing per article, distributed
TARGET_WORKER_MB = 300.0
MEMORY_SAMPLE_EVERY = 1000
WARMUP_ARTICLES = 8  # per distributed run, before timing: imports, index set-up, one per pool process
WARMUP_ROUND = 10_000
MEMORY_ROUND = 20_000
DISTRIBUTED_TIMEOUT = 3600.0
# Rounds of a few seconds each: the VM's speed drifts by tens of percent within minutes.
ROUNDS = 20


def base_pages(folder: Path, registry: SourceRegistry) -> tuple[list[bench_corpus.Page], int]:
    """The folder's pages that clean into an article, with their canonical URL; and how many did not."""
    pages, dropped = [], 0
    for name, html in bench_corpus.read_pages(folder):
        try:
            article = clean(RawDocument(input=name, content_type="text/html", text=html), registry)
        except KlipingError:
            dropped += 1
            continue
        pages.append(bench_corpus.Page(name=name, html=html, url=article.url))
    return pages, dropped


def time_of(function, items: list) -> float:
    """Seconds `function` takes over items (one core: this process)."""
    started = time.perf_counter()
    for item in items:
        function(item)
    return time.perf_counter() - started


def trafilatura_extract(html: str) -> object:
    """Plain trafilatura: the body and metadata of one page, with the options Kliping uses.

    htmldate as it ships (dateparser over every locale), not as Kliping sets it (date_text.py).
    """
    with htmldate_default():
        return trafilatura.bare_extraction(html, with_metadata=True, **TRAFILATURA_OPTIONS)


def newspaper_extract(html: str) -> object:
    """newspaper4k: parse one page given as HTML (no download, no image fetching, English stop words)."""
    from newspaper import Article, Config

    config = Config()
    config.fetch_images = False
    config.memoize_articles = False
    # Set (not read from the page): a Korean or Chinese page would need nltk and its data.
    config.language = "en"
    article = Article("https://bench.kliping.invalid/article", config=config)
    article.download(input_html=html)
    article.parse()
    return article.text


class Embedded:
    """The embedded pipeline over one data dir, run chunk by chunk: outcomes and per-article stage times."""

    def __init__(self, data_dir: Path):
        self.clock = bench_stages.StageClock()
        bench_stages.install(self.clock)
        settings = Settings(data_dir=data_dir, redis_url=None, elasticsearch_url=None)
        self.ctx = bench_stages.instrument(embedded_context(settings), self.clock)
        self.outcomes: Counter = Counter()
        self.samples: list[dict] = []

    def run(self, paths: list[Path]) -> float:
        """Seconds to take `paths` through the pipeline."""
        started = time.perf_counter()
        for path in paths:
            began = time.perf_counter()
            result = process_with_retries(str(path), self.ctx)
            self.samples.append(self.clock.take(time.perf_counter() - began))
            self.outcomes[result.outcome.value] += 1
        return time.perf_counter() - started


def compare(paths: list[Path], data_dir: Path, rounds: int, newspaper: bool, profile: Path | None) -> dict:
    """Seconds per method over the same articles, interleaved: each round runs every method on its share.

    This machine's speed drifts (other tenants; measured: trafilatura alone 18.5 and 25.7 pages/s
    in two runs minutes apart), so one method timed after another compares two machines; in rounds
    of the same articles each method meets the same drift. Returns method → per-round seconds.
    """
    embedded = Embedded(data_dir)
    first = _read(paths[:1])[0]  # every method loads its models and word lists before the timing
    trafilatura_extract(first)
    with (
        htmldate_default()
    ):  # and plain htmldate's dateparser its locales (1.6 s), which that page may not need
        extractors.get_external_parser().get_date_data("Selasa, 20 Kemudian 2019")
    if newspaper:
        newspaper_extract(first)
    warm_up_clean()
    warm_up_enrich()
    methods = {"trafilatura": lambda chunk: time_of(trafilatura_extract, _read(chunk))}
    if newspaper:
        methods["newspaper4k"] = lambda chunk: time_of(newspaper_extract, _read(chunk))
    methods["embedded"] = embedded.run
    seconds: dict[str, list[float]] = {name: [] for name in methods}
    profiler = _profiler(profile)
    size = -(-len(paths) // rounds)
    for start in range(0, len(paths), size):
        chunk = paths[start : start + size]
        for name, method in methods.items():
            if profiler is not None and name != "embedded":
                seconds[name].append(float("nan"))  # not timed under the profiler
                continue
            seconds[name].append(method(chunk))
    if profiler is not None:
        profiler.stop()
        profile.write_text(profiler.output_text(unicode=True, color=False, show_all=False))
    return {
        "seconds": seconds,
        "chunk_sizes": [len(paths[s : s + size]) for s in range(0, len(paths), size)],
        "outcomes": embedded.outcomes,
        "samples": embedded.samples,
    }


def _read(paths: list[Path]) -> list[str]:
    return [p.read_text(encoding="utf-8") for p in paths]


def _profiler(profile: Path | None):
    """A started pyinstrument profiler when a profile is asked for."""
    if profile is None:
        return None
    from pyinstrument import Profiler

    profiler = Profiler(interval=0.001)
    profiler.start()
    return profiler


def memory_child(paths: list[str], data_dir: str, queue) -> None:
    """(In a fresh process, like a worker's) run the article files through the pipeline.

    Puts samples (articles done, RSS in MB, seconds since the first article) on the queue.
    """
    ctx = embedded_context(Settings(data_dir=Path(data_dir), redis_url=None, elasticsearch_url=None))
    me = psutil.Process()
    started = time.perf_counter()
    samples = [(0, me.memory_info().rss / 2**20, 0.0)]
    for n, _ in enumerate(
        run_inputs(paths, ctx), start=1
    ):  # the runner's loop: it releases freed memory as a worker does
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


def _verdict(ok: bool) -> str:
    return "MET" if ok else "NOT MET"


def machine() -> str:
    """CPU model, cores, memory, Python and load: the context of the figures."""
    model = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    return (
        f"{model}, {os.cpu_count()} cores, {psutil.virtual_memory().total / 2**30:.0f} GB, "
        f"Python {platform.python_version()}, load average {load}"
    )


def main() -> None:
    """Generate the articles, run every measurement, print the figures and the targets."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path, help="folder of HTML pages (*.html, *.html.gz)")
    parser.add_argument("--articles", type=int, default=2000, help="articles per run (pages repeated)")
    parser.add_argument("--copy-rate", type=float, default=0.2, help="share of syndicated copies")
    parser.add_argument(
        "--workers", default="1,2", help="distributed runs: pool processes per run ('' to skip)"
    )
    parser.add_argument(
        "--memory-articles", type=int, default=10_000, help="articles of the memory check (0 to skip)"
    )
    parser.add_argument(
        "--batch-size",
        type=int,
        default=Settings().ingest_batch_size,
        help="inputs per ingest task in the distributed runs (KLIPING_INGEST_BATCH_SIZE)",
    )
    parser.add_argument("--skip-newspaper", action="store_true", help="do not run newspaper4k")
    parser.add_argument(
        "--rounds",
        type=int,
        default=ROUNDS,
        help="the single-core comparisons run interleaved, each method on 1/ROUNDS of the articles in turn (0: skip them)",
    )
    parser.add_argument("--profile", type=Path, help="write a pyinstrument profile of the embedded run here")
    args = parser.parse_args()
    warnings.filterwarnings("ignore")  # newspaper4k warns about optional NLP packages on import

    print(f"machine: {machine()}")
    registry = SourceRegistry.load(Settings().sources_file)
    pages, dropped = base_pages(args.folder, registry)
    print(f"pages: {len(pages)} articles from {args.folder} ({dropped} not articles, left out)")
    with tempfile.TemporaryDirectory(prefix="kliping-bench-") as tmp:
        work = Path(tmp)
        paths = bench_corpus.write_articles(pages, work / "articles", args.articles, args.copy_rate)
        kinds = Counter(kind for kind, _ in bench_corpus.articles(pages, args.articles, args.copy_rate))
        print(f"articles: {len(paths)} ({kinds['original']} originals, {kinds['copy']} syndicated copies)")
        samples: list[dict] = []
        if args.rounds:
            result = compare(paths, work / "embedded", args.rounds, not args.skip_newspaper, args.profile)
            samples = result["samples"]
            _print_comparison(result, len(paths))
            print("\n".join(bench_stages.stage_table(samples)))

        counts = [int(w) for w in args.workers.split(",") if w.strip()]
        if counts:
            _distributed(pages, paths, counts, work, samples, args.batch_size)
        if args.memory_articles:
            _memory(pages, args, work)


def _print_comparison(result: dict, articles: int) -> None:
    """Rates of the interleaved single-core runs, and the ratios with their spread over the rounds."""
    seconds, sizes = result["seconds"], result["chunk_sizes"]
    rates = {
        name: articles / sum(times) for name, times in seconds.items() if not any(map(math.isnan, times))
    }
    print(
        f"\nsingle core, interleaved in {len(sizes)} rounds of {sizes[0]} articles (each method on the same articles in turn):"
    )
    if "trafilatura" in rates:
        print(
            f"trafilatura {trafilatura.__version__} alone: {rates['trafilatura']:.1f} pages/s (the reference)"
        )
    if "newspaper4k" in rates:
        print(f"newspaper4k alone:          {rates['newspaper4k']:.1f} pages/s")
    print(f"embedded pipeline: {rates['embedded']:.1f} articles/s ({dict(result['outcomes'])})")
    for peer, target in (
        ("trafilatura", TARGET_EMBEDDED_VS_TRAFILATURA),
        ("newspaper4k", TARGET_VS_NEWSPAPER),
    ):
        if peer not in rates:
            continue
        ratio = rates["embedded"] / rates[peer]
        per_round = [p / e for p, e in zip(seconds[peer], seconds["embedded"], strict=False)]
        print(
            f"  vs {peer}: {ratio:.2f}×  ({_spread(per_round)}; target ≥ {target}: {_verdict(ratio >= target)})"
        )


def _spread(values: list[float]) -> str:
    """The spread of per-round ratios: range, and the middle half when there are enough rounds."""
    spread = f"rounds {min(values):.2f}-{max(values):.2f}"
    if len(values) >= 8:
        low, _, high = statistics.quantiles(values, n=4)
        spread += f", middle half {low:.2f}-{high:.2f}"
    return spread


def _distributed(
    pages: list[bench_corpus.Page],
    paths: list[Path],
    counts: list[int],
    work: Path,
    samples: list[dict],
    batch_size: int,
) -> None:
    """Run and print the distributed measurements (ingest tasks of `batch_size` inputs)."""
    import bench_distributed

    from tests.support.osmem import start_server

    server = start_server()
    try:
        # Articles of their own (a far round): the measured ones must not find them stored.
        warmup_paths = bench_corpus.write_articles(
            pages, work / "warmup", WARMUP_ARTICLES, 0.0, first_round=WARMUP_ROUND
        )
        runs = {}
        for count in counts:
            runs[count] = run = bench_distributed.run(
                server, paths, warmup_paths, count, work, DISTRIBUTED_TIMEOUT, batch_size
            )
            peak = max(run.peak_rss_mb.values(), default=0.0)
            print(
                f"\ndistributed, {count} worker process(es), {batch_size} inputs per task: {run.rate:.1f} articles/s ({dict(run.outcomes)}); "
                f"peak RSS per worker process {peak:.0f} MB ({len(run.peak_rss_mb)} processes seen)"
            )
            print(
                "  largest pool process RSS at 0/25/50/75/100 % of the run: "
                + " / ".join(f"{mb:.0f}" for mb in run.rss_course)
                + " MB"
            )
            print("\n".join(bench_stages.stage_table(run.stages)))
            print(
                "  CPU per article: "
                + ", ".join(
                    f"{who} {1000 * cpu / run.articles:.1f} ms" for who, cpu in run.cpu_seconds.items()
                )
                + f"; machine busy {run.busy:.0%} of {os.cpu_count()} cores (all processes, other users' too)"
            )
            print(
                "  Elasticsearch requests per 100 articles: "
                + ", ".join(f"{kind} {100 * n / run.articles:.1f}" for kind, n in run.requests.most_common())
            )
        if 1 in runs:
            _overheads(runs[1], samples)
        if 1 in runs and 2 in runs:
            scaling = runs[2].rate / runs[1].rate
            print(
                f"  scaling 1 → 2 worker processes: {scaling:.2f}×  "
                f"(target ≥ {TARGET_SCALING_2_WORKERS}: {_verdict(scaling >= TARGET_SCALING_2_WORKERS)})"
            )
            if runs[1].busy > 0:
                # Its worker and osmem (and this process) already shared the cores: twice that work does not fit.
                print(
                    f"    the 1-worker run kept {runs[1].busy:.0%} of the machine busy (worker, osmem, this process): "
                    f"at the same CPU per article, about {1 / runs[1].busy:.2f}× is all this machine has room for; "
                    f"the 2-worker run kept it {runs[2].busy:.0%} busy"
                )
    finally:
        server.close()


def _overheads(run, embedded_samples: list[dict]) -> None:
    """Per-article broker and indexing cost of the 1-worker run: wall clock, and the worker's own CPU."""
    inside = statistics.fmean(sum(s.values()) for s in run.stages) if run.stages else 0.0
    broker_ms = 1000 * (1 / run.rate - inside)  # wall time per article not spent inside the task
    index_ms = 1000 * statistics.fmean(s.get("index", 0.0) for s in run.stages) if run.stages else 0.0
    index_cpu_ms = (
        1000 * statistics.fmean(s.get("index", 0.0) for s in run.cpu_stages) if run.cpu_stages else 0.0
    )
    embedded_index_ms = (
        1000 * statistics.fmean(s.get("index", 0.0) for s in embedded_samples)
        if embedded_samples
        else math.nan
    )
    total = broker_ms + index_ms
    print(
        f"  per article, 1 worker: broker/queue {broker_ms:.2f} ms + Elasticsearch index calls {index_ms:.2f} ms"
        f" = {total:.2f} ms wall  (embedded store: {embedded_index_ms:.2f} ms)"
        f"  (target < {TARGET_OVERHEAD_MS} ms: {_verdict(total < TARGET_OVERHEAD_MS)})"
    )
    own = broker_ms + index_cpu_ms
    print(
        f"    of the index calls, {index_cpu_ms:.2f} ms is the worker's CPU (serialising, requests, answers) and the"
        f" rest waiting for the server; broker + worker CPU in index calls = {own:.2f} ms"
        f"  (< {TARGET_OVERHEAD_MS} ms: {_verdict(own < TARGET_OVERHEAD_MS)})"
    )


def _memory(pages: list[bench_corpus.Page], args, work: Path) -> None:
    """Run and print the memory check."""
    samples = run_memory(pages, args.memory_articles, work, args.copy_rate)
    final = samples[-1][1]
    growth = _slope(samples)
    print(
        f"\nmemory, one pipeline process over {samples[-1][0]} articles: "
        + ", ".join(f"{n}: {mb:.0f} MB" for n, mb, _ in samples)
    )
    print(
        f"  final {final:.0f} MB (target < {TARGET_WORKER_MB:.0f}: {_verdict(final < TARGET_WORKER_MB)}); "
        f"growth after the first {MEMORY_SAMPLE_EVERY}: {growth:+.1f} MB per 1,000 articles"
    )
    speeds = [(n - m) / (t - s) for (m, _, s), (n, _, t) in itertools.pairwise(samples) if t > s]
    print(
        "  articles/s in each stretch, as the store grows: " + ", ".join(f"{speed:.1f}" for speed in speeds)
    )


if __name__ == "__main__":
    main()
