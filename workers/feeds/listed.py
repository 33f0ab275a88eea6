"""The date a feed gave a URL, carried to the fetched document (RawDocument.listed_at).

A page that states no date of its own then still gets one: the clean stage falls back on it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from schemas import RawDocument


def parse_listed(raw: Mapping[str, Any] | None) -> dict[str, datetime]:
    """`{url: ISO date}` from a task message; entries that are not both strings and dates are dropped."""
    listed: dict[str, datetime] = {}
    for url, value in (raw or {}).items() if isinstance(raw, Mapping) else ():
        try:
            listed[url] = value if isinstance(value, datetime) else datetime.fromisoformat(value)
        except (TypeError, ValueError):
            continue
    return listed


def stamped(
    fetch: Callable[[str], RawDocument], listed: Mapping[str, datetime]
) -> Callable[[str], RawDocument]:
    """A fetch that sets `listed_at` on the documents of the URLs in `listed`."""

    def fetch_listed(url: str) -> RawDocument:
        document = fetch(url)
        when = listed.get(url)
        return document.model_copy(update={"listed_at": when}) if when else document

    return fetch_listed
