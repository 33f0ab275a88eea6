"""Real Celery worker and beat subprocesses for tests, started the way production starts them.

    with celery_worker(settings, tmp_path / "w0.log") as worker:   # `kliping worker`, one prefork child
        wait_for_workers(settings, 1)
        ...
        worker.kill_child()            # SIGKILL one pool process (the parent replaces it)
        worker.kill()                  # SIGKILL the whole worker (process group)

Every process gets these settings as ``KLIPING_*`` variables and nothing of ours, runs in its own
process group (so teardown also stops pool children) and is always stopped afterwards; its log
is printed at teardown, which pytest shows when the test failed.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

from workers.runtime.producer import ping
from workers.settings import PROJECT_ROOT, Settings

# Seconds a stopped worker gets for its warm/soft shutdown before the test kills it.
STOP_TIMEOUT = 60.0
# Seconds to wait for a started worker to answer a ping (imports and the first connection).
START_TIMEOUT = 120.0
LOG_TAIL_CHARS = 6000


def worker_env(settings: Settings, **extra: str) -> dict[str, str]:
    """A worker's environment: these settings as KLIPING_* variables, nothing inherited of ours."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("KLIPING_")}
    values = settings.model_dump(exclude_none=True)
    for name in (
        "redis_url",
        "redis_sentinels",
        "redis_sentinel_master",
        "redis_prefix",
        "elasticsearch_url",
        "elasticsearch_index",
        "data_dir",
        "task_max_retries",
        "task_time_limit",
        "visibility_timeout",
        "worker_shutdown_timeout",
    ):
        if name in values:
            env[f"KLIPING_{name.upper()}"] = str(values[name])
    env["KLIPING_FETCH_ALLOW_PRIVATE"] = "true"
    env.update(extra)
    return env


class CeleryProcess:
    """One started `kliping worker` or `kliping beat` process (group) and its log file."""

    def __init__(self, argv: list[str], settings: Settings, log_path: Path, **env: str):
        """Start `python -m ARGV…` with the settings' environment, output appended to `log_path`."""
        self.log_path = log_path
        with open(log_path, "ab") as log:
            # Its own process group: stop()/kill() reach the pool children with the main process.
            self.process = subprocess.Popen(
                [sys.executable, "-m", *argv],
                cwd=PROJECT_ROOT,
                env=worker_env(settings, **env),
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    @property
    def pid(self) -> int:
        """The main process id."""
        return self.process.pid

    def alive(self) -> bool:
        """True while the main process runs."""
        return self.process.poll() is None

    def children(self) -> list[int]:
        """Pids of the main process's children (the prefork pool)."""
        path = Path(f"/proc/{self.pid}/task/{self.pid}/children")
        return [int(pid) for pid in path.read_text().split()] if path.exists() else []

    def kill_child(self) -> int:
        """SIGKILL one pool process (as the OOM killer would); its pid."""
        pid = self.children()[0]
        os.kill(pid, signal.SIGKILL)
        return pid

    def kill(self) -> None:
        """SIGKILL the main process and its pool at once (a node or container lost)."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.pid, signal.SIGKILL)
        self.process.wait()

    def terminate(self) -> None:
        """Send SIGTERM (what `docker stop` sends) to the main process."""
        self.process.send_signal(signal.SIGTERM)

    def stop(self) -> None:
        """Stop gracefully, or kill after STOP_TIMEOUT; print the log tail."""
        if self.alive():
            self.terminate()
            try:
                self.process.wait(timeout=STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.kill()
        with contextlib.suppress(ProcessLookupError):  # orphaned pool children, if any
            os.killpg(self.pid, signal.SIGKILL)
        print(f"--- {self.log_path.name} ---\n{self.log_path.read_text(errors='replace')[-LOG_TAIL_CHARS:]}")


def start_worker(
    settings: Settings, log_path: Path, name: str, concurrency: int = 1, **env: str
) -> CeleryProcess:
    """Start `kliping worker` (prefork, `concurrency` children, queue ingest) named `name`@host."""
    argv = [
        "workers.cli",
        "worker",
        "-c",
        str(concurrency),
        "--pool",
        "prefork",
        "-n",
        f"{name}@%h",
        "--without-gossip",
        "--without-mingle",
        "--without-heartbeat",
    ]
    return CeleryProcess(argv, settings, log_path, **env)


def start_beat(settings: Settings, log_path: Path, app: str = "workers.runtime.celery_app") -> CeleryProcess:
    """Start Celery beat for the Celery app module `app`, its schedule file next to the log."""
    schedule = log_path.with_suffix(".schedule")
    return CeleryProcess(
        ["celery", "-A", app, "beat", "--loglevel", "INFO", "-s", str(schedule)], settings, log_path
    )


@contextlib.contextmanager
def celery_worker(
    settings: Settings, log_path: Path, name: str | None = None, concurrency: int = 1, **env: str
) -> Iterator[CeleryProcess]:
    """A started worker, always stopped afterwards."""
    worker = start_worker(settings, log_path, name or settings.redis_prefix, concurrency, **env)
    try:
        yield worker
    finally:
        worker.stop()


def wait_for_workers(
    settings: Settings, count: int, *started_here: CeleryProcess, timeout: float = START_TIMEOUT
) -> float:
    """Block until `count` workers answer a ping (fails at once if one of `started_here` died); the seconds it took."""
    started = time.monotonic()
    while len(ping(settings, timeout=1.0)) < count:
        assert all(p.alive() for p in started_here), "a worker exited during start-up (see its log)"
        assert time.monotonic() - started < timeout, f"{count} workers did not answer within {timeout} s"
    return time.monotonic() - started
