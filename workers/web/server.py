"""`kliping serve`: the web view over HTTP (standard library server, one thread per request)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, unquote, urlsplit

from schemas import SentimentLabel
from workers.monitor.query import QueryError
from workers.ports import SearchQuery
from workers.web import pages
from workers.web.desk import CHART_LIMIT, Desk

log = logging.getLogger(__name__)
FILTERS = ("q", "entity", "source", "since", "until", "sentiment")


def _date_param(params: dict[str, str], name: str) -> datetime | None:
    """A date field of the form (UTC when no zone is given), None when empty; ValueError when not ISO."""
    if not params.get(name):
        return None
    try:
        value = datetime.fromisoformat(params[name])
    except ValueError as exc:
        raise ValueError(f"not an ISO date (YYYY-MM-DD): {params[name]!r}") from exc
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def search_query(params: dict[str, str]) -> SearchQuery:
    """The SearchQuery of the form's fields (ValueError for a bad date or sentiment)."""
    since, until = _date_param(params, "since"), _date_param(params, "until")
    if until is not None and len(params["until"].strip()) == len("YYYY-MM-DD"):
        until += timedelta(days=1)  # a day: up to its end
    if since is not None and until is not None and since >= until:
        raise ValueError("'since' is not before 'until': no date lies between them")
    sentiment = params.get("sentiment") or None
    if sentiment and sentiment not in {label.value for label in SentimentLabel}:
        raise ValueError(f"sentiment is one of negative, neutral, positive, not {sentiment!r}")
    return SearchQuery(
        text=params.get("q") or None,
        entity=params.get("entity") or None,
        source=params.get("source") or None,
        since=since,
        until=until,
        sentiment=SentimentLabel(sentiment) if sentiment else None,
        limit=CHART_LIMIT,
    )


def route(desk: Desk, path: str, params: dict[str, str]) -> tuple[int, str]:
    """Status and HTML of a GET request."""
    if path in ("/", "/search"):
        try:
            return 200, pages.search_page(params, desk.search(search_query(params)))
        except (QueryError, ValueError) as exc:
            return 400, pages.search_page(params, [], error=str(exc))
    if path.startswith("/article/"):
        article = desk.article(unquote(path[len("/article/") :]))
        if article is None:
            return 404, pages.not_found("No article with that id.")
        return 200, pages.story_page(article, desk.story(article))
    if path.startswith("/entity/"):
        view = desk.entity(unquote(path[len("/entity/") :]))
        if not view.articles:
            return 404, pages.not_found(f"No article mentions {view.name!r}.")
        return 200, pages.entity_page(view)
    if path == "/alerts":
        return 200, pages.alerts_page(desk.alerts())
    return 404, pages.not_found("No such page.")


def handler(desk: Desk) -> Callable[..., BaseHTTPRequestHandler]:
    """A request handler class bound to a desk."""

    class Handler(BaseHTTPRequestHandler):
        server_version = "kliping"

        def do_GET(self) -> None:  # noqa: N802 - the http.server name
            url = urlsplit(self.path)
            params = {k: v[-1] for k, v in parse_qs(url.query).items() if k in FILTERS}
            try:
                status, body = route(desk, url.path, params)
            except Exception:  # a page that fails says so, the server keeps serving
                log.exception("page %s failed", self.path)
                status, body = 500, pages.not_found("This page failed; the server log has the error.")
            data = body.encode("utf-8")
            self.send_response(status)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.send_header(
                "Content-Security-Policy",
                "default-src 'self'; style-src 'unsafe-inline'; script-src 'unsafe-inline'",
            )
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - the http.server name
            log.info("%s %s", self.address_string(), format % args)

    return Handler


def make_server(desk: Desk, host: str = "127.0.0.1", port: int = 8765) -> ThreadingHTTPServer:
    """A bound server (port 0: any free port); call serve_forever() on it."""
    server = ThreadingHTTPServer((host, port), handler(desk))
    server.daemon_threads = True
    return server
