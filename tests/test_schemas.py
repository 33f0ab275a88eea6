"""The Elasticsearch index template mirrors the Article model, field for field."""

from __future__ import annotations

import types
import typing

from pydantic import BaseModel

from schemas import Article
from schemas.elastic import DERIVED_FIELDS, SEARCH_FIELD, TONE_FIELDS, index_template, template_mappings


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
    return properties, derived


def test_template_mirrors_article_model():
    properties, derived = _article_properties()
    assert _mismatches(Article, properties) == []
    assert all(spec == {"type": "keyword"} for spec in derived.values())


def test_mismatch_check_catches_a_missing_field():
    properties, _ = _article_properties()
    del properties["source"]["properties"]["country"]
    properties["extra"] = {"type": "keyword"}
    assert _mismatches(Article, properties) == [
        "extra: in the template, not the model",
        "source.country: in the model, not the template",
    ]


def test_template_is_strict_and_analyses_text_in_indonesian():
    body = index_template("my-articles")
    mappings = body["template"]["mappings"]
    assert body["index_patterns"] == ["my-articles-*"]
    assert mappings["dynamic"] == "strict"
    analyzers = body["template"]["settings"]["analysis"]["analyzer"]
    assert {"kliping_indonesian", "kliping_english", "kliping_exact"} <= set(analyzers)
    for field in ("title", "text"):
        assert mappings["properties"][field]["analyzer"] == "kliping_indonesian"
        assert set(mappings["properties"][field]["fields"]) == {"en", "exact"}


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
    # English articles: the .en subfields carry English stemming; .exact is unstemmed for phrase alerts.
    assert types_["title.en"] == types_["text.en"] == types_["title.exact"] == types_["text.exact"] == "text"
    properties = template_mappings()["properties"]
    assert properties["text"]["fields"]["en"]["analyzer"] == "kliping_english"
    assert properties["text"]["fields"]["exact"]["analyzer"] == "kliping_exact"
