"""The enrich stage: entities, sentiment, keywords and the source profile of an article.

Plain functions, no I/O at call time: the data files in ``workers/data`` are read once per process.
Place names are canonical in Indonesian (Korea Utara, Moskow, Amerika Serikat), since the users are
Indonesian analysts; English and short forms (North Korea, Korut, DPRK, Moscow, AS, U.S.) are aliases.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .entities import extract_entities
    from .keywords import extract_keywords
    from .profile import refine_source
    from .sentiment import score_sentiment
    from .stage import enrich, reuse_enrichment, warm_up

__all__ = [
    "enrich",
    "extract_entities",
    "extract_keywords",
    "refine_source",
    "reuse_enrichment",
    "score_sentiment",
    "warm_up",
]

# Each name's module, imported at the name's first use (PEP 562): a run whose inputs are all
# unchanged never enriches, and the shared stemmer (workers.enrich.stem, used by the query
# language) must not bring the gazetteer, cue lists and lexicon code with it (issue 25: start-up).
_LAZY = {
    "enrich": "stage",
    "reuse_enrichment": "stage",
    "warm_up": "stage",
    "extract_entities": "entities",
    "extract_keywords": "keywords",
    "refine_source": "profile",
    "score_sentiment": "sentiment",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value
