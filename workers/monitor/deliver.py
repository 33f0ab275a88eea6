"""Webhook delivery of alerts: POST the alert JSON, retried with backoff, sent at most once successfully.

The alert id is the idempotency key: it goes out as the ``Idempotency-Key`` header, and the
delivery state is recorded before (``sending``) and after (``delivered``/``failed``) every
attempt. A delivery already ``delivered`` is never POSTed again, so a retry, a second run or
a redelivered Celery task sends nothing twice; a crash between the POST and the record
resends with the same key, which the receiver can drop.

The HTTP client is passed in (anything with httpx.Client's ``post``); the runners pass
``workers.fetch.webhook.WebhookClient``, which refuses what the fetch guard refuses (a non-http(s)
URL, a private or loopback address on any hop). Such a refusal is final: the delivery is
``failed`` with the guard's reason, never retried.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, Protocol

from schemas import utcnow
from schemas.monitor import Delivery, DeliveryState
from workers.errors import KlipingError, TransientError
from workers.ports import MonitorStore
from workers.retry import backoff_delay

# Attempts of one delivery in process (embedded mode); Celery retries its task instead.
DELIVERY_RETRIES = 3
# Seconds a webhook may take to answer before the attempt counts as failed and is retried.
WEBHOOK_TIMEOUT_SECONDS = 10.0
# Webhooks are fast or broken: short backoff in process (0.5 s, 1 s, 2 s with jitter), capped.
BACKOFF_BASE_SECONDS = 0.5
BACKOFF_CAP_SECONDS = 30.0
# These answers may succeed later (timeouts, rate limits, server errors); other 4xx never will.
RETRYABLE_STATUS = {408, 425, 429}
# A delivery marked `sending` more recently than this is in flight on another worker: leave it.
# Longer than any webhook timeout (10 s); an older mark is a sender that crashed mid-POST.
SEND_LEASE_SECONDS = 60.0


class HttpClient(Protocol):
    """What delivery needs from an HTTP client (httpx.Client has it)."""

    def post(self, url: str, *, json: Any, headers: dict[str, str]) -> Any:
        """POST JSON; return a response with status_code."""


def attempt(alert_id: str, store: MonitorStore, client: HttpClient) -> Delivery:
    """One delivery attempt; returns the recorded state (``pending`` or a fresh ``sending``: retry later).

    The ``sending`` mark is claimed by compare-and-set, so two workers running the same delivery
    at once (a redelivered task) never both POST.
    """
    alert = store.get_alert(alert_id)
    if alert is None:
        raise KeyError(f"no alert {alert_id}")
    delivery = alert.delivery
    if delivery.state in (DeliveryState.delivered, DeliveryState.none, DeliveryState.failed):
        return delivery  # final states: a retry or a redelivered task sends nothing
    rule = store.rule(alert.rule)
    if rule is None or not rule.webhook:
        return _record(store, alert_id, delivery.model_copy(update={"state": DeliveryState.none}))
    if delivery.state == DeliveryState.sending and lease_left(delivery) > 0:
        return delivery  # another sender holds it right now
    sending = delivery.model_copy(
        update={"state": DeliveryState.sending, "attempts": delivery.attempts + 1, "updated_at": utcnow()}
    )
    if not store.swap_delivery(alert_id, delivery, sending):
        current = store.get_alert(alert_id)  # lost the race to a concurrent sender
        return current.delivery if current is not None else delivery
    delivery = sending
    headers = {"Idempotency-Key": alert.id, "Content-Type": "application/json"}
    try:
        response = client.post(rule.webhook, json=alert.payload(), headers=headers)
    except KlipingError as exc:  # the guard refused the URL (or cannot resolve it right now)
        state = DeliveryState.pending if isinstance(exc, TransientError) else DeliveryState.failed
        return _record(store, alert_id, delivery.model_copy(update={"state": state, "error": exc.describe()}))
    except Exception as exc:  # noqa: BLE001 - any transport error is a failed attempt, recorded
        return _record(
            store,
            alert_id,
            delivery.model_copy(
                update={"state": DeliveryState.pending, "error": f"{type(exc).__name__}: {exc}"}
            ),
        )
    status = response.status_code
    if 200 <= status < 300:
        state, error = DeliveryState.delivered, None
    elif status >= 500 or status in RETRYABLE_STATUS:
        state, error = DeliveryState.pending, f"HTTP {status}"
    else:
        state, error = DeliveryState.failed, f"HTTP {status} (not retried)"
    return _record(
        store, alert_id, delivery.model_copy(update={"state": state, "status": status, "error": error})
    )


def deliver(
    alert_id: str,
    store: MonitorStore,
    client: HttpClient,
    retries: int = DELIVERY_RETRIES,
    sleep: Callable[[float], None] = time.sleep,
) -> Delivery:
    """Deliver one alert with retries and backoff; a delivery still failing after them is marked failed."""
    delivery = attempt(alert_id, store, client)
    for number in range(retries):
        if not is_retryable(delivery):
            return delivery
        sleep(backoff_delay(number, base=BACKOFF_BASE_SECONDS, cap=BACKOFF_CAP_SECONDS))
        delivery = attempt(alert_id, store, client)
    if delivery.state == DeliveryState.pending:
        delivery = give_up(alert_id, store)
    return delivery


def lease_left(delivery: Delivery) -> float:
    """Seconds until a `sending` mark expires and another sender may take the delivery over."""
    return max(0.0, SEND_LEASE_SECONDS - (utcnow() - delivery.updated_at).total_seconds())


def is_retryable(delivery: Delivery) -> bool:
    """True when the delivery is not final: pending, or in flight elsewhere (check again later)."""
    return delivery.state in (DeliveryState.pending, DeliveryState.sending)


def give_up(alert_id: str, store: MonitorStore) -> Delivery:
    """Mark a delivery failed after its last retry (kept with its last error for `kliping alerts`)."""
    alert = store.get_alert(alert_id)
    assert alert is not None
    return _record(store, alert_id, alert.delivery.model_copy(update={"state": DeliveryState.failed}))


def reopen(alert_id: str, store: MonitorStore) -> None:
    """Put a failed delivery back to pending (an operator fixed the webhook); delivered ones stay delivered."""
    alert = store.get_alert(alert_id)
    if alert is not None and alert.delivery.state == DeliveryState.failed:
        _record(store, alert_id, alert.delivery.model_copy(update={"state": DeliveryState.pending}))


def _record(store: MonitorStore, alert_id: str, delivery: Delivery) -> Delivery:
    delivery.updated_at = utcnow()
    store.set_delivery(alert_id, delivery)
    return delivery
