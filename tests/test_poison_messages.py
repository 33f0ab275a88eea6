"""Poison broker messages: a real worker on real Redis takes malformed task messages and survives.

Each message is published raw with kombu (what a buggy or hostile producer could send); the worker
quarantines it with its raw body, keeps consuming (the same process: never restarted) and the
ingest task queued behind them is indexed.
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest
import redis
from kombu import Exchange, Producer

from schemas import Outcome, Reason
from tests.support.faults import FINISH_TIMEOUT, wait_until, write_articles
from tests.support.workers import celery_worker, wait_for_workers
from tests.test_distributed import distributed_settings  # noqa: F401 - fixture
from workers.backends.redis.state import RedisStateStore
from workers.runtime.celery_app import INGEST_BATCH_TASK, INGEST_QUEUE
from workers.runtime.producer import follow, producer_app, submit
from workers.settings import Settings

pytestmark = pytest.mark.slow


def _publish(settings: Settings, body: bytes | str, task: str = INGEST_BATCH_TASK) -> str:
    """Publish one raw task message (protocol-2 headers, `body` as sent); its task id."""
    task_id = str(uuid.uuid4())
    celery = producer_app(settings)
    with celery.connection_for_write() as connection:
        Producer(connection).publish(
            body,
            exchange=Exchange(INGEST_QUEUE, type="direct"),
            routing_key=INGEST_QUEUE,
            content_type="application/json",
            content_encoding="utf-8",
            headers={"lang": "py", "task": task, "id": task_id, "root_id": task_id},
            declare=[celery.amqp.queues[INGEST_QUEUE]],
        )
    return task_id


def test_malformed_messages_are_quarantined_and_the_queue_behind_them_drains(
    distributed_settings: Settings,  # noqa: F811
    tmp_path: Path,
):
    settings = distributed_settings
    good, typo_target = write_articles(tmp_path / "in", 2, match_every=1000)
    poison = {
        "not a list": json.dumps({"not": "a list"}),
        "string args": json.dumps(["just a string", {}, {}]),
        "short": json.dumps([[str(good)]]),
        "not json": b"\x00\x01{not json",
        "missing argument": json.dumps([[], {"bogus": 1}, {}]),
        "wrong arity": json.dumps([[[str(typo_target)], [], 0, None, None, "one too many"], {}, {}]),
    }
    with celery_worker(settings, tmp_path / "worker.log") as worker:
        wait_for_workers(settings, 1, worker)
        pid = worker.pid
        ids = {name: _publish(settings, body) for name, body in poison.items()}
        _publish(settings, json.dumps([[], {}, {}]), task="workers.tasks.no_such_task")
        # A string where the list of inputs goes: one input refused, not one per character.
        celery = producer_app(settings)
        as_string = celery.send_task(INGEST_BATCH_TASK, args=[str(good)], queue=INGEST_QUEUE).id
        behind = submit([str(good)], settings)

        results = list(follow(behind, settings, timeout=FINISH_TIMEOUT))
        assert [r.outcome for r in results] == [Outcome.indexed]
        state = RedisStateStore(redis.Redis.from_url(settings.redis_url), settings.redis_prefix)
        wait_until(
            lambda: len(state.failed()) >= len(poison) + 2, FINISH_TIMEOUT, "every message quarantined"
        )
        assert worker.alive() and worker.pid == pid

    failed = state.failed()
    messages = {item.input.rsplit(":", 1)[1]: item for item in failed if item.message is not None}
    for name in ("not a list", "string args", "short", "not json", "missing argument"):
        item = messages[ids[name]]
        assert item.reason == Reason.malformed
        raw = poison[name]
        assert item.message == (raw.decode("utf-8", "replace") if isinstance(raw, bytes) else raw) or (
            name == "missing argument" and '"bogus"' in item.message
        ), (name, item)
    assert any("no_such_task" in item.input for item in failed)
    # The wrong arity names a real input: quarantined as that input, replayable with `kliping retry`.
    by_input = {item.input: item for item in failed if item.message is None}
    assert "TypeError" in by_input[str(typo_target)].error
    assert by_input[str(good)].reason == Reason.invalid_input  # the string passed as the list of inputs
    assert len(by_input) == 2  # and nothing per character
    assert celery.AsyncResult(as_string).get(timeout=FINISH_TIMEOUT)[0]["outcome"] == "failed"
