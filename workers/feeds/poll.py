"""The poll stage: due feeds → conditional fetch → parse → unseen item URLs → ingest → state.

Side effects come in as parameters: ``fetch(url, etag, last_modified)`` returns a RawDocument or
None for 304 Not Modified (``Fetcher.feed``), ``ingest(urls, listed)`` hands new item URLs on
(the embedded runner or the Celery queue) with the date each feed item or sitemap entry states
(``listed``: url → datetime, which lands in RawDocument.listed_at), ``store`` is a FeedStore.
A URL listed by two feeds is handed on once per pass. Item URLs are marked seen
only after ``ingest`` returned, so a crash in between re-delivers them (the pipeline is
idempotent) rather than losing them.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from schemas import RawDocument, utcnow
from schemas.feeds import Feed, FeedItem, FeedKind, FeedState, ParsedFeed, PollReport
from workers.errors import KlipingError, SkipInput
from workers.feeds.discover import feed_links, robots_sitemaps, robots_url
from workers.feeds.parse import looks_like_feed, parse_feed
from workers.feeds.sitemaps import newest_first
from workers.ports import FeedStore

log = logging.getLogger(__name__)

FeedFetch = Callable[[str, "str | None", "str | None"], "RawDocument | None"]
Ingest = Callable[[list[str], dict[str, datetime]], object]

# Adaptive interval: halve it after a poll with new items, grow it by half after a quiet one,
# within [¼, 4×] of the interval the analyst chose. A feed publishing every few minutes settles
# near the floor; one publishing weekly drifts to 4× within four quiet polls. Chosen by hand
# (no production traffic yet); revisit with the poll log of a real deployment.
FASTER, SLOWER = 0.5, 1.5
MIN_FACTOR, MAX_FACTOR = 0.25, 4.0
# After errors the next poll waits base × 2^streak, at most this long: a dead feed is still
# tried daily, and picked up again when it comes back.
MAX_ERROR_DELAY_SECONDS = 24 * 3600
# Documents fetched behind one feed per poll (sitemap index children, a homepage's feeds):
# bounds the cost of one poll on a site with hundreds of monthly sitemaps (newest come first).
MAX_CHILD_FETCHES = 20
# Sitemap indexes inside sitemap indexes are followed this deep (the protocol allows none, sites
# nest anyway; a loop or a maze of indexes stops here and at MAX_CHILD_FETCHES).
MAX_SITEMAP_DEPTH = 3
# Guessed when robots.txt names no sitemap: the two names CMSs (WordPress, Yoast, Drupal) use.
PROBED_SITEMAPS = ("/sitemap.xml", "/sitemap_index.xml")
# New URLs handed on per feed and poll: the rest stay unseen and follow on the next polls, so
# registering a 50,000-URL sitemap does not flood the queue at once.
MAX_NEW_PER_POLL = 1000


def next_interval(base: float, current: float | None, found_new: bool) -> float:
    """The adaptive polling interval after one successful poll."""
    interval = (current or base) * (FASTER if found_new else SLOWER)
    return min(base * MAX_FACTOR, max(base * MIN_FACTOR, interval))


def error_delay(base: float, streak: int) -> float:
    """Seconds to wait after the `streak`-th consecutive error."""
    return min(MAX_ERROR_DELAY_SECONDS, base * 2.0 ** min(max(streak - 1, 0), 32))


def is_due(state: FeedState, now: datetime) -> bool:
    """True when a feed should be polled now."""
    return state.next_poll is None or state.next_poll <= now


def _expand(
    url: str, parsed: ParsedFeed, fetch: FeedFetch, errors: list[str], probed: set[str]
) -> list[FeedItem]:
    """Items of a feed plus those of its children (sitemap indexes, nested ones up to MAX_SITEMAP_DEPTH)."""
    items = list(parsed.items)
    queue = [(child, 1) for child in parsed.children]
    done: set[str] = {url}
    while queue and len(done) <= MAX_CHILD_FETCHES:
        child_url, depth = queue.pop(0)
        if child_url in done:
            continue
        done.add(child_url)
        try:
            doc = fetch(child_url, None, None)
            child = parse_feed(doc.text, doc.final_url or child_url, doc.content_type) if doc else None
        except KlipingError as exc:
            if child_url not in probed:  # a guessed /sitemap.xml that is not there is no error
                errors.append(f"{child_url}: {exc.describe()}")
            continue
        if child is not None:
            items.extend(child.items)
            if depth < MAX_SITEMAP_DEPTH:
                queue.extend((c, depth + 1) for c in child.children)
    return items


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def _parse(doc: RawDocument, fetch: FeedFetch, probed: set[str]) -> ParsedFeed:
    """A fetched document as a feed; an HTML page becomes a homepage whose feeds are its children."""
    base = doc.final_url or doc.url or doc.input
    if doc.content_type != "text/html" or looks_like_feed(doc.text):
        return parse_feed(doc.text, base, doc.content_type)
    children = feed_links(doc.text, base)
    sitemaps: list[str] = []
    try:
        robots = fetch(robots_url(base), None, None)
        if robots is not None:
            sitemaps = robots_sitemaps(robots.text, base)
    except KlipingError as exc:  # no robots.txt: the page's own links are all there is
        log.debug("no robots.txt sitemaps for %s: %s", base, exc)
    if not sitemaps:
        sitemaps = [_origin(base) + path for path in PROBED_SITEMAPS]
        probed.update(sitemaps)
    children += [url for url in sitemaps if url not in children]
    return ParsedFeed(kind=FeedKind.homepage, children=children)


def _new_items(items: list[FeedItem], unseen: list[str]) -> list[FeedItem]:
    """The unseen items, newest first, at most MAX_NEW_PER_POLL (the rest follow on later polls)."""
    fresh = set(unseen)
    chosen: dict[str, FeedItem] = {}
    for item in newest_first(items):
        if item.url in fresh and item.url not in chosen:
            chosen[item.url] = item
            if len(chosen) >= MAX_NEW_PER_POLL:
                break
    return list(chosen.values())


def poll_feed(
    feed: Feed,
    store: FeedStore,
    fetch: FeedFetch,
    ingest: Ingest,
    now: datetime | None = None,
    handed: set[str] | None = None,
) -> PollReport:
    """Poll one feed: hand its unseen item URLs to `ingest` (minus those in `handed`), update its state."""
    now = now or utcnow()
    state = store.state(feed.url)
    state.last_poll = now
    base = float(feed.every_seconds)
    report = PollReport(url=feed.url)
    try:
        doc = fetch(feed.url, state.etag, state.last_modified)
        items: list[FeedItem] = []
        if doc is None:
            report.not_modified = True
        else:
            probed: set[str] = set()
            parsed = _parse(doc, fetch, probed)
            child_errors: list[str] = []
            items = _expand(feed.url, parsed, fetch, child_errors, probed)
            report.skipped = parsed.skipped
            if parsed.skipped:
                log.warning("feed %s: %d items skipped: %s", feed.url, len(parsed.skipped), parsed.skipped[0])
            if parsed.kind == FeedKind.homepage and not items and not child_errors:
                raise SkipInput(f"{feed.url} is an HTML page announcing no feeds or sitemaps")
            state.kind = parsed.kind
            state.etag, state.last_modified = doc.headers.get("etag"), doc.headers.get("last-modified")
            if child_errors:
                log.warning(
                    "feed %s: %d documents behind it failed: %s", feed.url, len(child_errors), child_errors[0]
                )
        chosen = _new_items(items, store.unseen(feed.url, [item.url for item in items]))
        new = [item.url for item in chosen]
        handed = handed if handed is not None else set()
        fresh = [item for item in chosen if item.url not in handed]  # another feed handed it on this pass
        if fresh:
            listed = {item.url: item.published_at for item in fresh if item.published_at}
            ingest([item.url for item in fresh], listed)
            handed.update(item.url for item in fresh)
    except Exception as exc:  # noqa: BLE001 - one broken feed (or a queue down) must not stop the others
        state.error_streak += 1
        state.last_error = exc.describe() if isinstance(exc, KlipingError) else f"{type(exc).__name__}: {exc}"
        state.next_poll = now + timedelta(seconds=error_delay(base, state.error_streak))
        store.save_state(state)
        log.warning("feed %s: %s (error streak %d)", feed.url, state.last_error, state.error_streak)
        report.error = state.last_error
        return report
    store.mark_seen(feed.url, new)
    report.new_urls = new
    state.error_streak, state.last_error = 0, None
    state.items_seen += len(new)
    if new:
        state.last_new_item = now
    state.interval_seconds = next_interval(base, state.interval_seconds, bool(new))
    state.next_poll = now + timedelta(seconds=state.interval_seconds)
    store.save_state(state)
    return report


def poll_due(
    store: FeedStore, fetch: FeedFetch, ingest: Ingest, now: datetime | None = None, force: bool = False
) -> list[PollReport]:
    """One pass over the feeds that are due (every feed with `force`); a report per polled feed."""
    now = now or utcnow()
    handed: set[str] = set()
    return [
        poll_feed(feed, store, fetch, ingest, now, handed)
        for feed in store.feeds()
        if force or is_due(store.state(feed.url), now)
    ]
