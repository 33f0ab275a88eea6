"""The Elasticsearch index template mirrors the Article model, field for field."""

from __future__ import annotations

import types
import typing

from pydantic import BaseModel

from schemas import Article
from schemas.elastic import DERIVED_FIELDS, index_template, template_mappings


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
            problems.append(f"{path}{name}: an object in the model, a {properties[name].get('type')} in the template")
        elif sub_model is None and sub_props is not None:
            problems.append(f"{path}{name}: a scalar in the model, an object in the template")
        elif sub_model is not None:
            problems += _mismatches(sub_model, sub_props, f"{path}{name}.")
    return problems


def _article_properties() -> tuple[dict, dict]:
    """The template's properties split into Article fields and derived (flattened) fields."""
    properties = template_mappings()["properties"]
    derived = {name: properties.pop(name) for name in DERIVED_FIELDS}
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
