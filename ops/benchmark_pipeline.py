#!/usr/bin/env python3
"""Is the pipeline as fast as its extractor allows, does it start in a blink, what does the distributed mode cost? Prints figures.

    .venv/bin/python ops/benchmark_pipeline.py ../shared/data/aeb/html --articles 800 --copy-rate 0.2 --memory-articles 10000

In one run:

1. start-up (bench_process): `kliping ingest PAGE --json` to its first output line, median of
   --starts process starts, wall and CPU (a store that holds the page; a fresh one); `kliping --help`;
2. whole process (bench_process): `kliping ingest FOLDER` on a fresh store against a plain
   trafilatura loop with metadata over the same pages, interleaved --process-rounds, wall and CPU;

then on the same generated articles (bench_corpus: the folder's pages repeated as distinct
articles, with syndicated copies mixed in at --copy-rate):

3. plain trafilatura (``bare_extraction`` with metadata and Kliping's options): pages/s, one core;
4. newspaper4k (``Article.download(input_html=…)`` + ``parse()``, no network, English stop
   words for every page): pages/s, one core;
5. the embedded pipeline end to end (load, clean, dedupe, enrich, story, index into the SQLite
   store, monitor, outcome): articles/s, CPU per article and the time per stage (p50/p99); 3-5 run
   interleaved (--rounds: each method on the same share of the articles in turn), so that the
   machine's drift meets every method alike;
6. the distributed pipeline with 1 and 2 worker processes (real Redis, real Celery, osmem-server
   as Elasticsearch), reported as CPU (bench_cpu): the worker's CPU per article against the
   embedded pipeline's, its CPU in broker handling and index calls, mget requests per article,
   and the 1 → 2 scaling against the machine's ceiling measured in the same run (two embedded
   processes at once); also articles/s, per-stage times and peak memory per worker process;
7. memory (bench_memory): one process running the pipeline over --memory-articles fresh
   articles, RSS sampled every 1,000, and its articles/s in each 1,000.

--profile FILE also writes a pyinstrument profile of the embedded run (text).
"""

from __future__ import annotations

import argparse
import math
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
import bench_cpu  # noqa: E402
import bench_memory  # noqa: E402
import bench_process  # noqa: E402
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
from workers.runtime.wiring import embedded_context  # noqa: E402
from workers.settings import Settings  # noqa: E402
from workers.sources import SourceRegistry  # noqa: E402

# The targets of issue 10 (in process); issue 25's are in bench_process (start-up, whole process)
# and bench_cpu (the distributed mode's CPU).
TARGET_EMBEDDED_VS_TRAFILATURA = 0.8  # everything besides extraction costs at most a quarter of it
TARGET_VS_NEWSPAPER = 3.0
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
        self.cpu: list[float] = []  # CPU seconds of each article (this thread)

    def run(self, paths: list[Path]) -> float:
        """Seconds to take `paths` through the pipeline."""
        started = time.perf_counter()
        for path in paths:
            began, cpu_began = time.perf_counter(), time.thread_time()
            result = process_with_retries(str(path), self.ctx)
            self.cpu.append(time.thread_time() - cpu_began)
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
        "cpu": embedded.cpu,
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
    parser.add_argument(
        "--starts", type=int, default=10, help="process starts for the start-up medians (0: skip)"
    )
    parser.add_argument(
        "--process-rounds",
        type=int,
        default=3,
        help="interleaved whole-process runs of `kliping ingest FOLDER` and a trafilatura loop (0: skip)",
    )
    args = parser.parse_args()
    warnings.filterwarnings("ignore")  # newspaper4k warns about optional NLP packages on import

    print(f"machine: {machine()}")
    registry = SourceRegistry.load(Settings().sources_file)
    pages, dropped = base_pages(args.folder, registry)
    print(f"pages: {len(pages)} articles from {args.folder} ({dropped} not articles, left out)")
    with tempfile.TemporaryDirectory(prefix="kliping-bench-") as tmp:
        work = Path(tmp)
        _process_figures(args, work)
        paths = bench_corpus.write_articles(pages, work / "articles", args.articles, args.copy_rate)
        kinds = Counter(kind for kind, _ in bench_corpus.articles(pages, args.articles, args.copy_rate))
        print(f"articles: {len(paths)} ({kinds['original']} originals, {kinds['copy']} syndicated copies)")
        embedded_cpu_ms = math.nan
        if args.rounds:
            result = compare(paths, work / "embedded", args.rounds, not args.skip_newspaper, args.profile)
            embedded_cpu_ms = 1000 * statistics.fmean(result["cpu"])
            _print_comparison(result, len(paths))
            print(f"  embedded pipeline CPU per article: {embedded_cpu_ms:.1f} ms; wall per stage:")
            print("\n".join(bench_stages.stage_table(result["samples"])))

        counts = [int(w) for w in args.workers.split(",") if w.strip()]
        if counts:
            bench_cpu.report(pages, paths, counts, work, embedded_cpu_ms, args.batch_size)
        if args.memory_articles:
            bench_memory.report_memory(pages, args.memory_articles, args.copy_rate, work)


def _process_figures(args: argparse.Namespace, work: Path) -> None:
    """What a user feels: start-up to the first input, and whole `kliping ingest FOLDER` runs (bench_process)."""
    if not (args.starts or args.process_rounds):
        return
    folder = bench_process.pages_folder(args.folder, work)
    if args.starts:
        bench_process.print_start_up(bench_process.start_up(folder, work, args.starts), args.starts)
    if args.process_rounds:
        pages = len(list(folder.glob("*.html")))
        print(f"\nwhole process, {args.process_rounds} interleaved rounds:")
        bench_process.print_whole(bench_process.whole_process(folder, work, args.process_rounds), pages)


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


if __name__ == "__main__":
    main()
