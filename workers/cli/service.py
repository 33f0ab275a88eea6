"""Running the stack: `kliping worker`, `beat`, `es`, `kibana`."""

from __future__ import annotations

import argparse

from workers.cli.common import err, out
from workers.settings import Settings


def cmd_worker(args: argparse.Namespace, settings: Settings) -> int:
    """Start a Celery worker with the project's configuration."""
    import os

    from workers.runtime.celery_app import SIGTERM_REMAP, app

    os.environ.setdefault(
        *SIGTERM_REMAP
    )  # read when the worker starts: SIGTERM → soft shutdown, then requeue

    argv = ["worker", "-Q", "ingest", "--loglevel", settings.log_level]
    if settings.worker_concurrency:
        argv += ["--concurrency", str(settings.worker_concurrency)]
    app.worker_main(argv + args.extra)
    return 0


def cmd_beat(args: argparse.Namespace, settings: Settings) -> int:
    """Start the Celery beat scheduler."""
    from workers.runtime.celery_app import app

    settings.data_dir.mkdir(parents=True, exist_ok=True)  # beat keeps its schedule file there
    app.start(["beat", "--loglevel", settings.log_level, *args.extra])
    return 0


def cmd_es(args: argparse.Namespace, settings: Settings) -> int:
    """Elasticsearch maintenance: install templates and alias, or re-send stored articles."""
    if not settings.elasticsearch_url:
        err.print("[red]KLIPING_ELASTICSEARCH_URL is not set[/]")
        return 2
    from workers.backends.elastic.index import ElasticIndex, make_client
    from workers.backends.elastic.setup import SetupError

    index = ElasticIndex(make_client(settings), settings.elasticsearch_index)
    try:
        index.setup()  # reindex too: the fresh index takes the current template
    except SetupError as exc:
        err.print(f"[red]{exc}[/]", highlight=False)
        return 1
    if args.action == "setup":
        out.print(f"templates and alias {settings.elasticsearch_index} are in place")
        return 0
    if args.from_embedded:
        from workers.runtime.wiring import embedded_context

        source = embedded_context(settings).index
        failures = index.put_many(source.iter_articles())
        out.print(f"re-sent {source.count()} articles from the embedded store, {len(failures)} failed")
    else:
        new, old, failures = index.reindex()
        if not failures:
            out.print(
                f"re-sent {index.count()} articles into {new}; alias {index.alias} moved from {', '.join(old) or 'nothing'}"
            )
            if old:
                out.print(f"old indices kept until you delete them: DELETE /{','.join(old)}", highlight=False)
    for failure in failures[:20]:
        err.print(f"[red]failed[/] {failure.id}: {failure.status} {failure.error}", highlight=False)
    return 1 if failures else 0


def cmd_kibana(args: argparse.Namespace, settings: Settings) -> int:
    """Import the dashboards, visualizations, saved searches and data view into Kibana."""
    from pathlib import Path

    import httpx

    from workers.cli.kibana import READER_ROLE_NAME, KibanaImportError, import_saved_objects, put_reader_role

    try:
        auth = (
            (settings.kibana_username, settings.kibana_password or "") if settings.kibana_username else None
        )
        count = import_saved_objects(args.url, Path(args.file), api_key=args.api_key, auth=auth)
        role = put_reader_role(args.url, api_key=args.api_key, auth=auth)
    except (KibanaImportError, httpx.HTTPError) as exc:
        err.print(f"[red]Kibana import failed:[/] {exc}", highlight=False)
        return 1
    if role:
        out.print(f"role {READER_ROLE_NAME} is in place: give it to the analysts' users")
    out.print(
        f"imported {count} saved objects into {args.url}; open {args.url.rstrip('/')}/app/dashboards#/view/kliping-monitoring"
    )
    return 0


def add_service_parsers(sub: argparse._SubParsersAction) -> None:
    """`worker`, `beat`, `es`, `kibana`."""
    for name, func, text in (
        ("worker", cmd_worker, "start a Celery worker"),
        ("beat", cmd_beat, "start the Celery beat scheduler"),
    ):
        # Every argument is Celery's (`kliping worker -c 4 -n w1@%h`, `--help` included): with no
        # option prefix of its own, argparse hands even a leading `-c` to the remainder.
        p = sub.add_parser(name, help=text, prefix_chars="+", add_help=False)
        p.add_argument("extra", nargs=argparse.REMAINDER, help="further Celery options")
        p.set_defaults(func=func)

    p = sub.add_parser(
        "es",
        help="Elasticsearch: setup (templates, ILM, alias) or reindex (stored articles into a fresh index)",
    )
    es = p.add_subparsers(dest="action", required=True, metavar="ACTION", help="setup or reindex")
    es.add_parser(
        "setup",
        help="install the ILM policy, index template and write alias (idempotent)",
        description="Install the ILM policy, the index template and the write alias (idempotent).",
    )
    r = es.add_parser(
        "reindex",
        help="re-send every stored article into a fresh index and move the alias",
        description="Re-send every stored article into a fresh index (new mappings) and move the alias.",
    )
    r.add_argument(
        "--from-embedded", action="store_true", help="re-send the embedded store's articles instead"
    )
    p.set_defaults(func=cmd_es, from_embedded=False)

    from workers.cli.kibana import DEFAULT_KIBANA_URL, SAVED_OBJECTS

    p = sub.add_parser(
        "kibana",
        help="Kibana: import the data view, dashboard and saved searches (setup, or its alias import)",
    )
    p.add_argument(
        "action", choices=["setup", "import"], help="setup (or its alias import): import the objects"
    )
    p.add_argument("--url", default=DEFAULT_KIBANA_URL, help=f"Kibana URL (default {DEFAULT_KIBANA_URL})")
    p.add_argument(
        "--file",
        default=str(SAVED_OBJECTS),
        help="saved objects ndjson (default: the packaged workers/data/kibana.ndjson)",
    )
    p.add_argument(
        "--api-key",
        default=None,
        help="Kibana API key, when security is on (or KLIPING_KIBANA_USERNAME / KLIPING_KIBANA_PASSWORD)",
    )
    p.set_defaults(func=cmd_kibana)
