"""The Elasticsearch index template for articles, and the fields it adds to the Article model."""

from __future__ import annotations

import copy
import json
from functools import lru_cache
from pathlib import Path

TEMPLATE_PATH = Path(__file__).resolve().parent / "elasticsearch" / "articles.template.json"

# Fields a stored document has beyond Article: entity names flattened by type, so Kibana can
# aggregate on them without nested queries. Derived on write, dropped on read.
DERIVED_FIELDS = {"persons": "PERSON", "organizations": "ORGANIZATION", "locations": "LOCATION"}
# The query language's tokens of the title and text (workers.monitor.compile.search_fields), split
# by spaces already (whitespace analyser): search and rules then read a query the same way.
SEARCH_FIELD = "search"
# The names and aliases of the persons and organisations an article speaks of in each tone: the entities
# array is not nested (Kibana aggregates it), so "Kim Jong Un, in a negative tone" needs its own field.
TONE_FIELDS = {"tone_negative": "negative", "tone_neutral": "neutral", "tone_positive": "positive"}
# The body is analysed once, by the article's language: stored under the field of its language
# (Indonesian or English stemming), or under `text` (no stemming) for any other or unknown language.
# Reads put it back into Article.text. One analysis per body instead of three.
TEXT_FIELD = "text"
BODY_FIELDS = {"id": "text_id", "en": "text_en"}


def body_field(language: str | None) -> str:
    """The document field holding the body of an article in `language`."""
    return BODY_FIELDS.get((language or "").lower().split("-")[0], TEXT_FIELD)  # "en-US": English


@lru_cache(maxsize=1)
def _template() -> dict:
    return json.loads(TEMPLATE_PATH.read_text(encoding="utf-8"))


def index_template(alias: str) -> dict:
    """The composable index template body for indices behind `alias` (``<alias>-*``)."""
    body = copy.deepcopy(_template())
    body["index_patterns"] = [f"{alias}-*"]
    return body


def default_fields(body: dict | None = None) -> list[str]:
    """The fields a search without a field covers (``index.query.default_field`` of the template or `body`).

    Every body field is there (``text_id``, ``text_en``, ``text``): Kibana's free text (KQL ``banjir``) and
    Lucene queries without a field find an article in any language, though each language has its own field.
    """
    settings = (body or _template())["template"]["settings"]
    return list(settings.get("query", {}).get("default_field", []))


def template_mappings() -> dict:
    """The mappings every article index gets (a copy: callers may modify it)."""
    return copy.deepcopy(_template()["template"]["mappings"])
