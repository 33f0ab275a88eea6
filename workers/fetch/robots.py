"""robots.txt: a small RFC 9309 parser and a per-origin cache.

Own parser rather than ``urllib.robotparser`` because the standard one ignores the
``*`` and ``$`` wildcards that news sites use (``Disallow: /*?search=``), and picks
the first rule that matches instead of the longest one.

Unavailable robots.txt (4xx, a redirect loop, a blocked redirect) means "allow all"
(RFC 9309 §2.3.1.3). Unreachable robots.txt (5xx, 429, network error) means
"disallow for now": the error is cached briefly and raised as a TransientError so
the runner retries later — what Google does, and what RFC 9309 §2.3.1.4 asks.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import quote, unquote

import httpx

from schemas import Reason
from workers.errors import KlipingError, SkipInput, TransientError

ROBOTS_TTL = 3600.0  # seconds a fetched robots.txt is trusted (RFC 9309 asks for ≤ 24 h)
# An unreachable robots.txt is not asked again for this long (or the server's Retry-After):
# a batch of URLs on a dead host then costs one connection timeout, not one per URL. The
# error carries the remaining time as retry_after, so the runner's retry really retries.
ROBOTS_ERROR_TTL = 10.0
MAX_CRAWL_DELAY = 60.0  # a larger Crawl-delay would park a worker for minutes per page
_PRUNE_AT = 10_000  # cached origins before expired entries are dropped

# Characters kept literal when paths are normalised: RFC 3986 reserved + unreserved,
# plus the robots wildcards. Everything else is compared percent-encoded.
_SAFE = "!$&'()*+,/:;=?@~-._"


def _normalize(path: str) -> str:
    return quote(unquote(path), safe=_SAFE)


def _compile(pattern: str) -> re.Pattern[str]:
    anchored = pattern.endswith("$")
    body = pattern[:-1] if anchored else pattern
    regex = ".*".join(re.escape(part) for part in _normalize(body).split("*"))
    return re.compile(regex + ("$" if anchored else ""))


def _agent_token(user_agent: str) -> str:
    """The product token of a User-Agent: 'Kliping/0.1 (+url)' → 'kliping'."""
    return re.split(r"[/\s]", user_agent.strip(), maxsplit=1)[0].lower()


@dataclass
class _Group:
    agents: list[str] = field(default_factory=list)
    rules: list[tuple[bool, str]] = field(default_factory=list)  # (allow, pattern)
    crawl_delay: float | None = None


def _groups(text: str) -> tuple[list[_Group], list[str]]:
    groups: list[_Group] = []
    sitemaps: list[str] = []
    current: _Group | None = None
    last_was_agent = False
    for raw_line in text.lstrip("\ufeff").splitlines():
        line = raw_line.split("#", 1)[0].strip()
        if ":" not in line:
            continue
        key, value = (part.strip() for part in line.split(":", 1))
        key = key.lower()
        if key == "user-agent":
            # consecutive user-agent lines share one group (RFC 9309 §2.1)
            if current is None or not last_was_agent:
                current = _Group()
                groups.append(current)
            current.agents.append(_agent_token(value) if value != "*" else "*")
            last_was_agent = True
            continue
        last_was_agent = False
        if key == "sitemap":
            sitemaps.append(value)
        elif current is None:
            continue  # rules before any user-agent belong to nobody
        elif key in ("allow", "disallow") and value:
            current.rules.append((key == "allow", value))
        elif key == "crawl-delay":
            try:
                delay = float(value)
            except ValueError:
                continue
            if delay >= 0 and current.crawl_delay is None:
                current.crawl_delay = delay
    return groups, sitemaps


@dataclass
class RobotsRules:
    """The rules of one robots.txt that apply to one crawler."""

    rules: list[tuple[bool, re.Pattern[str], int]] = field(default_factory=list)  # allow, regex, length
    crawl_delay: float | None = None
    sitemaps: list[str] = field(default_factory=list)

    @classmethod
    def allow_all(cls) -> RobotsRules:
        """Rules of a site without a robots.txt."""
        return cls()

    @classmethod
    def parse(cls, text: str, user_agent: str) -> RobotsRules:
        """Parse robots.txt text and keep the groups for `user_agent` (else those for '*')."""
        groups, sitemaps = _groups(text)
        token = _agent_token(user_agent)
        chosen = [g for g in groups if token in g.agents] or [g for g in groups if "*" in g.agents]
        rules = [(allow, _compile(p), len(p)) for g in chosen for allow, p in g.rules]
        delays = [g.crawl_delay for g in chosen if g.crawl_delay is not None]
        return cls(rules=rules, crawl_delay=max(delays) if delays else None, sitemaps=sitemaps)

    def is_allowed(self, path: str) -> bool:
        """Whether a path (with its query) may be fetched: longest match wins, allow wins ties."""
        if path == "/robots.txt":
            return True
        target = _normalize(path or "/")
        best_len, allowed = -1, True
        for allow, regex, length in self.rules:
            if regex.match(target) and (length > best_len or (length == best_len and allow)):
                best_len, allowed = length, allow
        return allowed


@dataclass
class _Entry:
    expires: float
    rules: RobotsRules | None = None
    error: TransientError | None = None


class RobotsCache:
    """robots.txt per origin, fetched once and kept for `ttl` seconds; thread-safe."""

    def __init__(
        self,
        load: Callable[[str], str | None],
        user_agent: str,
        ttl: float = ROBOTS_TTL,
        error_ttl: float = ROBOTS_ERROR_TTL,
    ) -> None:
        # load(robots_url) → text, None when unavailable (allow all); raises TransientError
        self._load = load
        self._user_agent = user_agent
        self._ttl = ttl
        self._error_ttl = error_ttl
        self._entries: dict[str, _Entry] = {}
        self._lock = threading.Lock()

    def check(self, url: httpx.URL) -> float:
        """Raise SkipInput if robots.txt disallows `url`; return the crawl delay (0 if none)."""
        rules = self.rules(url)
        path = url.raw_path.decode("ascii")
        if not rules.is_allowed(path):
            raise SkipInput(f"robots.txt disallows {url}", Reason.robots_disallowed)
        return min(rules.crawl_delay or 0.0, MAX_CRAWL_DELAY)

    def rules(self, url: httpx.URL) -> RobotsRules:
        """The rules for `url`'s origin, fetching robots.txt when not cached."""
        origin = f"{url.scheme}://{url.netloc.decode('ascii')}"
        now = time.monotonic()
        with self._lock:
            entry = self._entries.get(origin)
        if entry is None or entry.expires <= now:
            # fetched outside the lock: one slow site must not block the others; two
            # threads may fetch the same robots.txt once, which is harmless
            entry = self._fetch(origin + "/robots.txt", now)
            with self._lock:
                if len(self._entries) > _PRUNE_AT:
                    self._entries = {k: e for k, e in self._entries.items() if e.expires > now}
                self._entries[origin] = entry
        if entry.error is not None:
            raise TransientError(
                str(entry.error), entry.error.reason, max(0.0, entry.expires - time.monotonic())
            )
        assert entry.rules is not None
        return entry.rules

    def _fetch(self, robots_url: str, now: float) -> _Entry:
        try:
            text = self._load(robots_url)
        except TransientError as exc:
            message = f"robots.txt unreachable, host treated as disallowed for now: {exc}"
            hold = min(max(self._error_ttl, exc.retry_after or 0.0), self._ttl)
            return _Entry(expires=now + hold, error=TransientError(message, exc.reason))
        except KlipingError:
            text = None  # redirect loop, blocked redirect, bad URL: unavailable → allow all
        rules = RobotsRules.allow_all() if text is None else RobotsRules.parse(text, self._user_agent)
        return _Entry(expires=now + self._ttl, rules=rules)
