"""A task re-run after its worker died between the index write and the monitor stage still alerts, once."""

from __future__ import annotations

from schemas import Outcome
from schemas.monitor import Delivery, DeliveryState, Rule
from workers.pipeline import process
from workers.runtime.wiring import embedded_context

WEBHOOK = "http://127.0.0.1:9/hook"  # never called: `process` only queues deliveries (the runner sends them)


def test_rerun_raises_the_alert_a_crash_skipped_and_requeues_it_only_while_unsent(settings, seed_paths):
    ctx = embedded_context(settings)
    monitor = ctx.monitor
    monitor.store.add_rule(Rule(name="korut", query='"Korea Utara"', webhook=WEBHOOK))
    ctx.monitor = None  # the first run dies after storing the article, before the monitor stage
    first = process(str(seed_paths[0]), ctx)
    assert first.outcome is Outcome.indexed and monitor.store.alerts() == []

    ctx.monitor = monitor  # the redelivered task: the article is unchanged, the alert is raised now
    again = process(str(seed_paths[0]), ctx)
    assert again.outcome is Outcome.unchanged
    [alert] = monitor.store.alerts()
    assert alert.article_id == first.id and monitor.take_queued() == [alert.id]

    # A run that died after claiming the alert but before queueing its delivery: handed on again.
    process(str(seed_paths[0]), ctx)
    assert monitor.take_queued() == [alert.id]
    assert len(monitor.store.alerts()) == 1

    monitor.store.set_delivery(alert.id, Delivery(state=DeliveryState.delivered, attempts=1, status=200))
    process(str(seed_paths[0]), ctx)  # once delivered (or attempted), a re-run queues nothing
    assert monitor.take_queued() == []
    assert len(monitor.store.alerts()) == 1
