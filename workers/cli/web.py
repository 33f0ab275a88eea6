"""`kliping serve`: the local web view of the store (workers/web)."""

from __future__ import annotations

import argparse
import errno

from workers.cli.common import err, store_context
from workers.settings import Settings


def cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    """Serve the local web view until Ctrl-C."""
    from workers.runtime.wiring import monitor_store
    from workers.web.desk import Desk
    from workers.web.server import make_server

    desk = Desk(store_context(settings).index, monitor_store(settings))
    try:
        server = make_server(desk, args.host, args.port)
    except OSError as exc:
        hint = "another program listens there: --port N, or --port 0 for any free port"
        if exc.errno != errno.EADDRINUSE:
            hint = "--host must be an address of this machine: 127.0.0.1, or 0.0.0.0 for every interface"
        err.print(
            f"[red]cannot listen on {args.host}:{args.port}:[/] {exc.strerror} ({hint})", highlight=False
        )
        return 2
    host, port = str(server.server_address[0]), server.server_address[1]
    mode = "Elasticsearch" if settings.distributed else f"the embedded store {settings.db_path}"
    print(f"serving the Kliping web view of {mode} on http://{host}:{port}/ (Ctrl-C stops)", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


def add_web_parser(sub: argparse._SubParsersAction) -> None:
    """`serve`."""
    p = sub.add_parser(
        "serve",
        help="the local web view: search, stories, entities, alerts, charts",
        description="Serve the local web view (the embedded store, or Elasticsearch in the distributed mode).",
    )
    p.add_argument(
        "--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1: this machine)"
    )
    p.add_argument("--port", type=int, default=8765, help="port (default 8765; 0: any free port)")
    p.set_defaults(func=cmd_serve)
