"""The source registry: domains and names of outlets → their profile (scope, kind, country) and local time."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from schemas import Scope, Source, SourceKind


def _key(name: str) -> str:
    """Lookup key for outlet names: case-, space- and punctuation-insensitive."""
    return re.sub(r"[^a-z0-9]+", "", name.lower())


def domain_of(url: str | None) -> str | None:
    """The host of a URL without `www.`, or None."""
    if not url:
        return None
    host = (urlsplit(url).hostname or "").lower()
    if host.startswith("www."):
        host = host[4:]
    return host or None


@dataclass(frozen=True)
class OutletClock:
    """An outlet's local time: its zone, and whether its pages label local times UTC (detik: WIB with a "Z")."""

    zone: ZoneInfo
    local_time_as_utc: bool = False


@dataclass
class SourceRegistry:
    """Lookup of outlets by domain (longest suffix wins) or by any of their names."""

    by_domain: dict[str, Source] = field(default_factory=dict)
    by_name: dict[str, Source] = field(default_factory=dict)
    clocks: dict[str, OutletClock] = field(
        default_factory=dict
    )  # by outlet name, where the registry gives a zone

    @classmethod
    def load(cls, path: Path) -> SourceRegistry:
        """Read the registry JSON (see workers/data/sources.json)."""
        try:
            data = json.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise ValueError(f"cannot read source registry {path}: {exc}") from exc
        registry = cls()
        for entry in data["sources"]:
            source = Source(
                name=entry["name"],
                domain=entry["domains"][0] if entry.get("domains") else None,
                scope=Scope(entry["scope"]),
                kind=SourceKind(entry.get("kind", "news")),
                country=entry.get("country"),
                known=True,
            )
            if entry.get("timezone"):
                registry.clocks[source.name] = OutletClock(
                    ZoneInfo(entry["timezone"]), bool(entry.get("local_time_as_utc"))
                )
            for domain in entry.get("domains", []):
                registry.by_domain[domain.lower()] = source
            for name in [entry["name"], *entry.get("aliases", []), *entry.get("domains", [])]:
                registry.by_name.setdefault(_key(name), source)
        return registry

    def by_url(self, url: str | None) -> Source | None:
        """The outlet owning a URL's host (sub-domains included), if known."""
        host = domain_of(url)
        while host:
            if host in self.by_domain:
                return self.by_domain[host].model_copy(update={"domain": host})
            _, _, host = host.partition(".")
            if "." not in host:
                return None
        return None

    def clock(self, source: Source) -> OutletClock | None:
        """The local time of a known outlet, when the registry gives its zone."""
        return self.clocks.get(source.name) if source.known else None

    def by_label(self, label: str | None) -> Source | None:
        """The outlet known under a name, alias or domain (``KOMPAS.com``, ``Pantau``)."""
        if not label:
            return None
        return self.by_name.get(_key(label))
