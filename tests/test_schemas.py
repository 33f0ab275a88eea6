"""The Elasticsearch index template mirrors the Article model, field for field."""

from __future__ import annotations

import types
import typing

from pydantic import BaseModel

from schemas import Article
from schemas.elastic import (
    BODY_FIELDS,
    DERIVED_FIELDS,
    SEARCH_FIELD,
    TONE_FIELDS,
    body_field,
    default_fields,
    index_template,
    template_mappings,
)


def _model_of(annotation) -> type[BaseModel] | None:
    """The pydantic model inside an annotation (``X``, ``X | None``, ``list[X]``), if any."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    if typing.get_origin(annotation) in (typing.Union, types.UnionType, list):
        for arg in typing.get_args(annotation):
            model = _model_of(arg)
            if model is not None:
                return model
    return None


def _mismatches(model: type[BaseModel], properties: dict, path: str = "") -> list[str]:
    """Fields present in only one of the model and the mapping, recursively."""
    problems = []
    fields = set(model.model_fields)
    mapped = set(properties)
    problems += [f"{path}{name}: in the model, not the template" for name in sorted(fields - mapped)]
    problems += [f"{path}{name}: in the template, not the model" for name in sorted(mapped - fields)]
    for name in sorted(fields & mapped):
        sub_model = _model_of(model.model_fields[name].annotation)
        sub_props = properties[name].get("properties")
        if sub_model is not None and sub_props is None:
            problems.append(
                f"{path}{name}: an object in the model, a {properties[name].get('type')} in the template"
            )
        elif sub_model is None and sub_props is not None:
            problems.append(f"{path}{name}: a scalar in the model, an object in the template")
        elif sub_model is not None:
            problems += _mismatches(sub_model, sub_props, f"{path}{name}.")
    return problems


def _article_properties() -> tuple[dict, dict]:
    """The template's properties split into Article fields and derived (flattened) fields."""
    properties = template_mappings()["properties"]
    derived = {name: properties.pop(name) for name in [*DERIVED_FIELDS, *TONE_FIELDS]}
    properties.pop(SEARCH_FIELD)
    for name in BODY_FIELDS.values():  # Article.text, stored under its language's field
        properties.pop(name)
    return properties, derived


def test_template_mirrors_article_model():
    properties, derived = _article_properties()
    assert _mismatches(Article, properties) == []
    assert all(spec == {"type": "keyword", "ignore_above": 256} for spec in derived.values())


def test_mismatch_check_catches_a_missing_field():
    properties, _ = _article_properties()
    del properties["source"]["properties"]["country"]
    properties["extra"] = {"type": "keyword"}
    assert _mismatches(Article, properties) == [
        "extra: in the template, not the model",
        "source.country: in the model, not the template",
    ]


def test_template_is_strict_and_analyses_each_body_once_in_its_language():
    body = index_template("my-articles")
    mappings = body["template"]["mappings"]
    assert body["index_patterns"] == ["my-articles-*"]
    assert mappings["dynamic"] == "strict"
    assert body["template"]["settings"]["auto_expand_replicas"] == "0-1"
    analyzers = body["template"]["settings"]["analysis"]["analyzer"]
    assert {"kliping_indonesian", "kliping_english", "kliping_exact"} <= set(analyzers)
    assert mappings["properties"]["title"]["analyzer"] == "kliping_indonesian"
    assert set(mappings["properties"]["title"]["fields"]) == {"en", "exact"}
    bodies = {name: mappings["properties"][name] for name in ("text", "text_id", "text_en")}
    assert bodies == {
        "text": {"type": "text", "analyzer": "kliping_exact"},  # other languages: no stemming
        "text_id": {"type": "text", "analyzer": "kliping_indonesian"},
        "text_en": {"type": "text", "analyzer": "kliping_english"},
    }  # no multi-fields: one analysis per body
    assert [body_field(lang) for lang in ("id", "en", "en-US", "fr", None)] == [
        "text_id",
        "text_en",
        "text_en",
        "text",
        "text",
    ]


# Keyword fields whose values Kliping makes itself (ids, hashes, enums): short by construction.
GENERATED_KEYWORDS = {
    "id",
    "content_hash",
    "language",
    "source.scope",
    "source.kind",
    "source.country",
    "entities.type",
    "entities.subtype",
    "entities.sentiment.label",
    "sentiment.label",
    "dedup.canonical_id",
    "dedup.story_id",
    "dedup.copies.id",
    "dedup.method",
    "date_source",
}
# Lucene refuses a term over 32,766 bytes (and with it the whole document); a UTF-8 character is at most 4.
MAX_TERM_CHARS = 32_766 // 4


def _keyword_specs(properties: dict, prefix: str = "") -> dict[str, dict]:
    specs = {}
    for name, spec in properties.items():
        if "properties" in spec:
            specs.update(_keyword_specs(spec["properties"], f"{prefix}{name}."))
        elif spec.get("type") == "keyword":
            specs[f"{prefix}{name}"] = spec
    return specs


def test_scraped_keywords_have_ignore_above_and_unused_doc_values_are_off():
    specs = _keyword_specs(template_mappings()["properties"])
    scraped = {path: spec for path, spec in specs.items() if path not in GENERATED_KEYWORDS}
    assert "tags" in scraped and "url" in scraped and "entities.name" in scraped
    unbounded = [p for p, s in scraped.items() if s.get("index", True) and not s.get("ignore_above")]
    assert unbounded == []
    assert all(spec.get("ignore_above", 0) <= MAX_TERM_CHARS for spec in scraped.values())
    properties = template_mappings()["properties"]
    assert properties["image"] == {"type": "keyword", "index": False, "doc_values": False}
    assert properties["entities"]["properties"]["positions"]["doc_values"] is False


def _field_types(properties: dict, prefix: str = "") -> dict[str, str]:
    """Every mapped field (subfields included) as dotted path → type."""
    types_ = {}
    for name, spec in properties.items():
        path = f"{prefix}{name}"
        if "properties" in spec:
            types_.update(_field_types(spec["properties"], f"{path}."))
            continue
        types_[path] = spec["type"]
        for sub, sub_spec in spec.get("fields", {}).items():
            types_[f"{path}.{sub}"] = sub_spec["type"]
    return types_


def test_template_has_the_fields_analysts_filter_and_aggregate_on():
    types_ = _field_types(template_mappings()["properties"])
    keywords = [
        "source.name",
        "source.domain",
        "source.scope",
        "source.kind",
        "language",
        "section",
        "authors",
        "url",
        "persons",
        "organizations",
        "locations",
        "entities.name",
        "sentiment.label",
        "dedup.canonical_id",
        "dedup.story_id",
        "dedup.copies.outlet",
    ]
    assert {field: types_[field] for field in keywords} == dict.fromkeys(keywords, "keyword")
    assert {f: types_[f] for f in ("published_at", "fetched_at", "indexed_at")} == dict.fromkeys(
        ("published_at", "fetched_at", "indexed_at"), "date"
    )
    assert types_["dedup.is_canonical"] == "boolean" and types_["dedup.copy_count"] == "integer"
    assert types_["sentiment.score"] == "float"
    # English titles: the .en subfield carries English stemming; .exact is unstemmed.
    assert types_["title.en"] == types_["title.exact"] == "text"


def test_searches_without_a_field_cover_every_body_and_only_mapped_searchable_fields():
    types_ = _field_types(template_mappings()["properties"])
    fields = default_fields()
    # every name a mapped text or keyword field: a misspelt one would silently search nothing
    assert all(types_.get(name) in ("text", "keyword") for name in fields), fields
    assert {"title", "title.en", "title.exact", "text", *BODY_FIELDS.values()} <= set(fields)
    assert not {"url", "input", "id", "content_hash", "image"} & set(fields)  # not `*`: no URLs, ids, hashes
    assert not any(name.startswith(SEARCH_FIELD + ".") for name in fields)  # Kliping's own token fields
