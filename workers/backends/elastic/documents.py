"""Articles as Elasticsearch documents and searches as query bodies (pure functions, no client)."""

from __future__ import annotations

from typing import Any

from schemas import Article, EntityType
from schemas.elastic import BODY_FIELDS, DERIVED_FIELDS, SEARCH_FIELD, TEXT_FIELD, TONE_FIELDS, body_field
from workers.monitor.compile import es_query, search_fields
from workers.monitor.query import parse
from workers.ports import SearchQuery

BODY_NAMES = tuple(BODY_FIELDS.values())


def to_document(article: Article) -> dict:
    """The stored document: Article JSON plus entity names flattened by type and by tone for Kibana."""
    doc = article.model_dump(mode="json")
    doc[body_field(article.language)] = doc.pop(TEXT_FIELD)  # analysed once, in its own language
    for field, entity_type in DERIVED_FIELDS.items():
        names = [e.name for e in article.entities if e.type == EntityType(entity_type)]
        doc[field] = list(dict.fromkeys(names))
    doc[SEARCH_FIELD] = search_fields(article.title, article.text)
    for field, label in TONE_FIELDS.items():
        toned = [e for e in article.entities if e.sentiment is not None and e.sentiment.label.value == label]
        doc[field] = list(dict.fromkeys(name for e in toned for name in (e.name, *e.aliases)))
    return doc


def from_document(source: dict) -> Article:
    """The Article of a stored document (derived fields dropped, the body back under ``text``)."""
    fields = {
        k: v
        for k, v in source.items()
        if k not in DERIVED_FIELDS and k not in TONE_FIELDS and k != SEARCH_FIELD and k not in BODY_NAMES
    }
    for name in BODY_NAMES:
        if name in source:
            fields[TEXT_FIELD] = source[name]
    return Article.model_validate(fields)


def _case_insensitive_any(fields: list[str], value: str) -> dict:
    """A filter matching `value` exactly but case-insensitively in any of the keyword fields."""
    should = [{"term": {field: {"value": value, "case_insensitive": True}}} for field in fields]
    return {"bool": {"should": should, "minimum_should_match": 1}}


def build_query(query: SearchQuery) -> dict:
    """The search body (query, sort, size) for a SearchQuery."""
    must: list[dict] = []
    filters: list[dict] = []
    if query.text and query.text.strip():
        # the query language compiled on the derived search fields: the meaning rules give it
        must.append(es_query(parse(query.text), prefix=SEARCH_FIELD + "."))
    if query.entity and query.sentiment:  # the tone toward that entity, not the article's sentiment
        filters.append(_case_insensitive_any([f"tone_{query.sentiment.value}"], query.entity))
    elif query.entity:
        filters.append(_case_insensitive_any(["entities.name", "entities.aliases"], query.entity))
    if query.source:
        filters.append(_case_insensitive_any(["source.name", "source.domain"], query.source))
    if query.since or query.until:
        bounds = {"gte": query.since.isoformat()} if query.since else {}
        bounds |= {"lt": query.until.isoformat()} if query.until else {}
        filters.append({"range": {"dated_at": bounds}})
    if query.sentiment and not query.entity:
        filters.append({"term": {"sentiment.label": query.sentiment.value}})
    if query.story_id:
        filters.append({"term": {"dedup.story_id": query.story_id}})
    body: dict[str, Any] = {
        "query": {"bool": {"must": must or [{"match_all": {}}], "filter": filters}},
        "size": query.limit,
    }
    if not query.text:
        body["sort"] = [{"dated_at": {"order": "desc", "missing": "_last"}}, {"id": "asc"}]
    return body
