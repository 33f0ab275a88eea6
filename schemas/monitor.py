"""Contracts of continuous monitoring: standing rules, alerts (one per rule per story) and deliveries."""

from __future__ import annotations

import enum
import hashlib
from datetime import datetime

from pydantic import BaseModel, Field

from schemas.models import SentimentLabel, utcnow


class Rule(BaseModel):
    """A standing query: analyst query text plus optional filters and a webhook."""

    name: str
    query: str
    entity: str | None = None
    source: str | None = None
    sentiment: SentimentLabel | None = None
    webhook: str | None = None
    spike: bool = False  # also alert when the hourly matching volume spikes
    created_at: datetime = Field(default_factory=utcnow)
    # Why the rule could not be evaluated; set, the rule is disabled (matches nothing) until it is
    # replaced by `rules add` of the same name. An article is never failed by a broken rule.
    error: str | None = None


class AlertKind(str, enum.Enum):
    """Why an alert was raised."""

    match = "match"  # a new story matched the rule
    spike = "spike"  # the rule's hourly volume is far above its usual level


class DeliveryState(str, enum.Enum):
    """Where the webhook delivery of an alert stands."""

    none = "none"  # the rule has no webhook
    pending = "pending"
    sending = "sending"  # recorded before each POST: a crash mid-send is visible and resent with the same key
    delivered = "delivered"
    failed = "failed"


class Delivery(BaseModel):
    """The delivery state of one alert."""

    state: DeliveryState = DeliveryState.pending
    attempts: int = 0
    status: int | None = None  # last HTTP status
    error: str | None = None  # last failure
    updated_at: datetime = Field(default_factory=utcnow)


class Alert(BaseModel):
    """One alert: a rule fired on a story (or spiked); copies and later articles are attached."""

    id: str
    rule: str
    story_id: str
    kind: AlertKind = AlertKind.match
    article_id: str
    title: str
    url: str | None = None
    outlet: str | None = None
    sentiment: SentimentLabel | None = None
    matched_terms: list[str] = Field(default_factory=list)
    created_at: datetime = Field(default_factory=utcnow)
    attached: list[str] = Field(default_factory=list)  # later articles and copies of the story
    delivery: Delivery = Field(default_factory=Delivery)

    def payload(self) -> dict:
        """The JSON body POSTed to the rule's webhook."""
        return {
            "alert_id": self.id,
            "kind": self.kind.value,
            "rule": self.rule,
            "story_id": self.story_id,
            "article_id": self.article_id,
            "title": self.title,
            "url": self.url,
            "outlet": self.outlet,
            "sentiment": self.sentiment.value if self.sentiment else None,
            "matched_terms": self.matched_terms,
            "created_at": self.created_at.isoformat(),
        }


def alert_id(rule: str, story_id: str) -> str:
    """Deterministic alert id of a (rule, story): the claim key and the webhook's idempotency key."""
    return hashlib.sha1(f"{rule}\x00{story_id}".encode()).hexdigest()[:20]
