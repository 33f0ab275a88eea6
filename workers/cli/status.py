"""Watching the stack: `kliping health` and the Prometheus exporter, `kliping metrics`."""

from __future__ import annotations

import argparse
import time

from workers.cli.common import err, out
from workers.settings import Settings


def _check(checks: dict[str, str], name: str, probe) -> bool:
    """Run one health probe; record "ok: …" or "unhealthy: …" under its name."""
    try:
        checks[name] = f"ok: {probe()}"
        return True
    except Exception as exc:  # report, do not crash: this is a health check
        checks[name] = f"unhealthy: {type(exc).__name__}: {exc}"
        return False


def _elastic_state(index) -> str:
    """The article count, once the write alias is known to exist (else AliasMissing: run `kliping es setup`)."""
    index.check()
    return f"{index.count()} articles"


def cmd_health(args: argparse.Namespace, settings: Settings) -> int:
    """Check the configured backends (and, distributed, that workers consume tasks); non-zero when unhealthy."""
    from workers.runtime.wiring import queues_inputs

    checks: dict[str, str] = {}
    if queues_inputs(settings):
        from workers.runtime.health import check_consuming
        from workers.runtime.wiring import elastic_index, redis_client

        results = [
            _check(checks, "redis", lambda: f"ping {redis_client(settings).ping()}"),
            _check(checks, "elasticsearch", lambda: _elastic_state(elastic_index(settings))),
            _check(checks, "workers", lambda: check_consuming(settings, redis_client(settings))),
        ]
    else:
        from workers.backends.sqlite.store import EmbeddedStore

        results = [
            _check(
                checks,
                "store",
                lambda: f"{EmbeddedStore(settings.db_path).count()} articles in {settings.db_path}",
            )
        ]
    for name, state in checks.items():
        out.print(f"{name}: {state}", highlight=False)
    return 0 if all(results) else 1


def cmd_metrics(args: argparse.Namespace, settings: Settings) -> int:
    """Serve Prometheus metrics of the distributed mode (read from Redis on each scrape) until stopped."""
    if not settings.redis_configured:
        err.print(
            "[red]KLIPING_REDIS_URL (or KLIPING_REDIS_SENTINELS) is not set[/]: metrics are kept in Redis by the workers"
        )
        return 2
    from workers.runtime.exporter import serve

    port = args.port or settings.metrics_port
    serve(settings, args.host, port)
    out.print(f"serving Kliping metrics on http://{args.host}:{port}/metrics", highlight=False)
    while True:
        time.sleep(3600)


def add_status_parsers(sub: argparse._SubParsersAction) -> None:
    """`metrics`, `health`."""
    p = sub.add_parser(
        "metrics", help="serve Prometheus metrics (outcomes, stage latency, queue depth, retries, quarantine)"
    )
    p.add_argument("--host", default="0.0.0.0", help="address to listen on (default all)")
    p.add_argument("--port", type=int, default=None, help="port (default KLIPING_METRICS_PORT, 9108)")
    p.set_defaults(func=cmd_metrics)

    p = sub.add_parser("health", help="check the store, broker and workers; non-zero exit when unhealthy")
    p.set_defaults(func=cmd_health)
