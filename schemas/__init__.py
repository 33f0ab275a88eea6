"""Contracts of the pipeline: pydantic models and the Elasticsearch template."""

from schemas.models import (
    Article,
    CopyRef,
    Dedup,
    DedupMethod,
    DedupVerdict,
    Entity,
    EntityType,
    FailedInput,
    InputResult,
    Outcome,
    RawDocument,
    Reason,
    Scope,
    Sentiment,
    SentimentLabel,
    Source,
    SourceKind,
    utcnow,
)

__all__ = [
    "Article", "CopyRef", "Dedup", "DedupMethod", "DedupVerdict", "Entity", "EntityType",
    "FailedInput", "InputResult", "Outcome", "RawDocument", "Reason", "Scope", "Sentiment",
    "SentimentLabel", "Source", "SourceKind", "utcnow",
]
