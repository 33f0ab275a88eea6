"""The outlet of an article: the registry by URL, else by the names the article gives itself."""

from __future__ import annotations

from schemas import Source
from workers.clean.dateline import channel_outlet, is_domain_like
from workers.sources import SourceRegistry, domain_of

# A site name's leading words are looked up down to this length ("Republika Online" → "Republika").
MIN_PREFIX_CHARS = 4


def resolve_source(
    registry: SourceRegistry, urls: list[str | None], labels: list[str], dateline_outlet: str | None = None
) -> Source:
    """The registry's outlet for the first known URL or name, else an unknown Source named by them.

    The publisher's own names (site name, header lines) come before the dateline's outlet: a
    page that names itself carries a wire story ("JAKARTA (Reuters) -") without being Reuters.
    """
    for url in urls:
        source = registry.by_url(url)
        if source is not None:
            return source
    names = labels or ([dateline_outlet] if dateline_outlet else [])
    for label in names:
        source = _by_name(registry, label)
        if source is not None:
            return source.model_copy()  # the registry's object is shared: never hand it out
    domain = next((domain_of(url) for url in urls if domain_of(url)), None)
    name = next((label for label in names if label), None) or domain or "unknown"
    return Source(name=name, domain=domain, known=False)


def _by_name(registry: SourceRegistry, label: str) -> Source | None:
    """The registry's outlet for a name, its domain form, its leading words ("Antara News Agency") or
    the outlet of a channel ("KompasOtomotif")."""
    if is_domain_like(label):
        return registry.by_label(label) or registry.by_url(f"http://{label}")  # "lifestyle.okezone.com"
    words = label.split()
    for end in range(len(words), 0, -1):
        prefix = " ".join(words[:end])
        # Short prefixes ("PR", "AP", "MI") are aliases of whole names only, not of longer names.
        if end < len(words) and len(prefix) < MIN_PREFIX_CHARS:
            break
        source = registry.by_label(prefix)
        if source is not None:
            return source
    channel = channel_outlet(label)  # "KompasOtomotif": a channel of Kompas
    return registry.by_label(channel) if channel else None
