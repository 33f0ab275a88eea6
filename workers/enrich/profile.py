"""Source profile: the outlet an article came from, refined through the source registry."""

from __future__ import annotations

from schemas import Article, Source
from workers.sources import SourceRegistry

from .context import dateline_labels
from .tokens import Doc

DATELINE_SPAN = 600  # datelines open the body; after the first few lines a "X - " prefix is something else


def refine_source(article: Article, registry: SourceRegistry) -> Source:
    """The registry's profile of the article's outlet when clean did not know it; else the source as found."""
    if article.source.known:
        return article.source
    found = (
        registry.by_label(article.source.name)
        or registry.by_url(article.url)
        or registry.by_url(article.input)
        or registry.by_label(article.dateline)
    )
    if found is None:  # the outlet named in the text's dateline: "TRIBUNNEWS.COM- ...", "(SeaPRwire) – ..."
        labels = dateline_labels(Doc(article.text[:DATELINE_SPAN]))
        found = next((s for s in map(registry.by_label, labels) if s is not None), None)
    return found or article.source
