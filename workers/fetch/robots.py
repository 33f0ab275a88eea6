"""robots.txt: a small RFC 9309 parser and a per-origin cache.

Own parser rather than ``urllib.robotparser`` because the standard one ignores the
``*`` and ``$`` wildcards that news sites use (``Disallow: /*?search=``), and picks
the first rule that matches instead of the longest one. It follows Google's open-source
parser where RFC 9309 leaves room: its accepted typos (``Dissallow``, ``user agent``, a
missing colon), ``Sitemap`` lines outside groups, byte-wise comparison of percent-encoded
paths, and a wildcard matcher without backtracking (``Allow: **********/****.js``).

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
from urllib.parse import quote

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

# Directive names Google's parser accepts besides the standard ones (its documented typos).
_KEYS = {
    "user-agent": "user-agent",
    "useragent": "user-agent",
    "user agent": "user-agent",
    "allow": "allow",
    "disallow": "disallow",
    "dissallow": "disallow",
    "dissalow": "disallow",
    "disalow": "disallow",
    "diasllow": "disallow",
    "disallaw": "disallow",
    "sitemap": "sitemap",
    "site-map": "sitemap",
    "crawl-delay": "crawl-delay",
}
_ESCAPE = re.compile(r"%([0-9a-fA-F]{2})")
_MULTI_STAR = re.compile(r"\*{2,}")
_AGENT = re.compile(r"[A-Za-z_-]*")


def _normalize(path: str) -> str:
    """Google's comparison form: non-ASCII bytes percent-encoded, escapes in upper case, nothing decoded.

    `%2F` stays distinct from `/` (and `%62` from `b`): decoding would change what the path means.
    """
    if not path.isascii():
        path = quote(path, safe="".join(chr(c) for c in range(0x21, 0x7F)))
    return _ESCAPE.sub(lambda m: "%" + m.group(1).upper(), path) if "%" in path else path


@dataclass(frozen=True)
class _Pattern:
    """One Allow/Disallow path pattern, matched without backtracking."""

    text: str  # normalised, runs of `*` collapsed, without the `$`
    anchored: bool

    @classmethod
    def compile(cls, pattern: str) -> _Pattern:
        anchored = pattern.endswith("$")
        body = _MULTI_STAR.sub("*", _normalize(pattern[:-1] if anchored else pattern))
        return cls(body, anchored)

    def match(self, path: str) -> bool:
        """Match without backtracking: each literal piece at its leftmost place after the previous one.

        For patterns whose only wildcard is `*`, the leftmost place never loses a match, so
        one pass of `str.find` decides (Google's matcher tracks position sets to the same end).
        """
        if "*" not in self.text:
            return path == self.text if self.anchored else path.startswith(self.text)
        first, *middle, last = self.text.split("*")
        if not path.startswith(first):
            return False
        at = len(first)
        for piece in middle:
            found = path.find(piece, at)
            if found < 0:
                return False
            at = found + len(piece)
        if self.anchored:
            return path.endswith(last) and len(path) - len(last) >= at
        return path.find(last, at) >= 0


def _agent_token(user_agent: str) -> str:
    """The product token of a User-Agent: 'Kliping/0.1 (+url)' → 'kliping' (Google: leading [A-Za-z_-])."""
    match = _AGENT.match(user_agent.strip())
    return match.group(0).lower() if match else ""


def _key_value(raw_line: str) -> tuple[str, str] | None:
    """A line's directive and value; a missing colon is accepted when exactly two words remain (Google)."""
    line = raw_line.split("#", 1)[0].strip()
    if ":" in line:
        key, value = (part.strip() for part in line.split(":", 1))
    else:
        words = line.split()
        if len(words) != 2:
            return None
        key, value = words
    name = _KEYS.get(" ".join(key.lower().split()))
    return (name, value) if name else None


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
        pair = _key_value(raw_line)
        if pair is None:
            continue
        key, value = pair
        if key == "user-agent":
            # consecutive user-agent lines share one group (RFC 9309 §2.1)
            if current is None or not last_was_agent:
                current = _Group()
                groups.append(current)
            current.agents.append("*" if value.startswith("*") else _agent_token(value))
            last_was_agent = True
        elif key == "sitemap":  # global, and no group boundary (Google): the agents above keep their group
            if value:
                sitemaps.append(value)
        elif current is None:
            continue  # rules before any user-agent belong to nobody
        elif key in ("allow", "disallow"):
            last_was_agent = False  # only a rule ends a run of user-agent lines (Google)
            if value:
                current.rules.append((key == "allow", value))
        elif key == "crawl-delay":
            last_was_agent = False
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

    rules: list[tuple[bool, _Pattern, int]] = field(default_factory=list)  # allow, pattern, length
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
        rules = [(allow, _Pattern.compile(p), len(p)) for g in chosen for allow, p in g.rules]
        delays = [g.crawl_delay for g in chosen if g.crawl_delay is not None]
        return cls(rules=rules, crawl_delay=max(delays) if delays else None, sitemaps=sitemaps)

    def is_allowed(self, path: str) -> bool:
        """Whether a path (with its query) may be fetched: longest match wins, allow wins ties."""
        if path == "/robots.txt":
            return True
        target = _normalize(path or "/")
        best_len, allowed = -1, True
        for allow, pattern, length in self.rules:
            if (length > best_len or (length == best_len and allow)) and pattern.match(target):
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
