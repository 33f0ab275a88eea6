"""Several real Celery worker processes ingest copies of one story at the same moment: one canonical."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from schemas import Outcome
from tests.test_distributed import FOLLOW_TIMEOUT, _worker_env, distributed_settings  # noqa: F401 - fixture
from workers.backends.elastic.index import ElasticIndex, make_client
from workers.backends.redis.state import RedisDedupIndex
from workers.runtime.producer import follow, ping, submit
from workers.settings import PROJECT_ROOT, Settings

WORKERS, CONCURRENCY = 2, 2  # four processes racing
# Outlets reprinting the story: dateline header and a "Baca juga" line of their own.
OUTLETS = [
    "JAKARTA, KOMPAS.com",
    "Liputan6.com, Jakarta",
    "TRIBUNNEWS.COM",
    "Pantau",
    "REPUBLIKA.CO.ID, JAKARTA",
    "Suara.com",
    "BANDUNG, PIKIRAN RAKYAT",
    "Jakarta, CNN Indonesia",
]
SEED_004 = next((PROJECT_ROOT / "seeds").glob("004_*.txt")).read_text(encoding="utf-8")
BODY = [line for line in SEED_004.splitlines()[:14] if line.strip()]
BODY[0] = BODY[0].replace("(SeaPRwire) – ", "")


@pytest.fixture
def copies(tmp_path: Path) -> list[Path]:
    """Reprints of one story as different outlets printed them (two of them with identical bodies)."""
    paths = []
    for n, outlet in enumerate(OUTLETS):
        lines = [f"{outlet} - {BODY[0]}", *BODY[1:]]
        lines.insert(3, f"Baca juga: Berita pilihan {outlet} hari ini")
        if n % 3 == 1:
            lines = lines[: len(lines) * 2 // 3]  # a truncated reprint
        path = tmp_path / f"copy_{n}.txt"
        path.write_text(
            "Putin berterima kasih kepada Korea Utara atas pasukan di Kursk\n\n" + "\n".join(lines),
            encoding="utf-8",
        )
        paths.append(path)
    same = tmp_path / "copy_same.txt"
    same.write_text(paths[0].read_text(encoding="utf-8"), encoding="utf-8")
    return [*paths, same]


@pytest.fixture
def workers(distributed_settings: Settings, tmp_path: Path) -> Iterator[list[subprocess.Popen]]:  # noqa: F811
    """WORKERS real Celery workers with CONCURRENCY children each, on this test's prefix; always stopped."""
    processes, logs = [], []
    for n in range(WORKERS):
        log_path = tmp_path / f"worker{n}.log"
        command = [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "workers.runtime.celery_app",
            "worker",
            "-Q",
            "ingest",
            "-c",
            str(CONCURRENCY),
            "--pool",
            "prefork",
            "--loglevel",
            "INFO",
            "-n",
            f"{distributed_settings.redis_prefix}-{n}@%h",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
            "--prefetch-multiplier",
            "1",
        ]
        with open(log_path, "wb") as log:
            processes.append(
                subprocess.Popen(
                    command,
                    cwd=PROJECT_ROOT,
                    env=_worker_env(distributed_settings),
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
            )
        logs.append(log_path)
    try:
        yield processes
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        for log_path in logs:
            print(log_path.read_text(errors="replace")[-4000:])


def _wait_for_workers(settings: Settings, count: int, timeout: float = 120.0) -> None:
    """Block until `count` workers answer a ping, so every copy is picked up at once."""
    deadline = time.monotonic() + timeout
    while len(ping(settings)) < count:
        assert time.monotonic() < deadline, "workers did not start"


@pytest.mark.slow
def test_copies_racing_on_several_workers_get_one_canonical(distributed_settings: Settings, workers, copies):  # noqa: F811
    _wait_for_workers(distributed_settings, WORKERS)
    results = list(
        follow(
            submit([str(p) for p in copies], distributed_settings),
            distributed_settings,
            timeout=FOLLOW_TIMEOUT,
        )
    )
    assert all(w.poll() is None for w in workers), "a worker died"
    outcomes = Counter(r.outcome for r in results)
    assert outcomes == {Outcome.indexed: 1, Outcome.copy: len(copies) - 1}, results
    canonical_id = next(r.id for r in results if r.outcome is Outcome.indexed)
    assert {r.canonical_id for r in results} == {canonical_id}

    index = ElasticIndex(make_client(distributed_settings), distributed_settings.elasticsearch_index)
    index.refresh()
    articles = {a.id: a for a in index.iter_articles()}
    # The two identical files are two inputs with distinct ids: every input is one article.
    assert len(articles) == len(copies)
    assert sum(a.dedup.is_canonical for a in articles.values()) == 1
    assert all(a.dedup.canonical_id == canonical_id for a in articles.values())
    assert {ref.id for ref in articles[canonical_id].dedup.copies} == set(articles) - {canonical_id}

    dedup = RedisDedupIndex(
        redis.Redis.from_url(distributed_settings.redis_url, decode_responses=True),
        distributed_settings.redis_prefix,
    )
    assert {dedup.fingerprint(article_id).canonical_id for article_id in articles} == {canonical_id}
    assert {fp.article_id for fp in dedup.members(canonical_id)} == set(articles) - {canonical_id}
