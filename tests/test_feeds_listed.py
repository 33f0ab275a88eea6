"""Feed dates carried with the URL into the fetched document (RawDocument.listed_at)."""

from __future__ import annotations

from datetime import UTC, datetime

from tests.support.fetching import PAGE, make_fetcher, server  # noqa: F401 - fixtures
from workers.feeds.listed import parse_listed, stamped


def test_task_message_dates_are_parsed_and_junk_dropped():
    raw = {"https://x.id/a": "2025-04-26T01:15:00+00:00", "https://x.id/b": "kemarin", "https://x.id/c": 7}
    assert parse_listed(raw) == {"https://x.id/a": datetime(2025, 4, 26, 1, 15, tzinfo=UTC)}
    assert parse_listed(None) == {} and parse_listed(["not", "a", "mapping"]) == {}  # type: ignore[arg-type]


def test_stamped_fetch_sets_listed_at_only_for_listed_urls(server, make_fetcher):
    server.route("/a", PAGE)
    server.route("/b", PAGE)
    when = datetime(2025, 4, 26, 1, 15, tzinfo=UTC)
    fetch = stamped(make_fetcher(), {server.url("/a"): when})
    assert fetch(server.url("/a")).listed_at == when
    assert fetch(server.url("/b")).listed_at is None
