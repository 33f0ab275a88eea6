"""Poison messages: a malformed task message or a task that cannot run ends in the quarantine, never in a crash loop.

Celery's consumer unpacks a protocol-2 body as ``(args, kwargs, embed)`` in the worker's main
process before anything catches errors: a body of ``{"not": "a list"}`` raised ValueError there,
"Unrecoverable error", the worker exited with the message unacknowledged, and every restarted
worker took it again and died (issue 18). The worker's consumer (``worker_consumer``) checks the
shape first and turns any error of a received message into Celery's own invalid-task path (logged,
rejected, the queue goes on); every such message, like one Celery cannot decode or route, is
recorded in the quarantine with its raw body (`kliping failed --json`; not replayable: it is not an
input). A task that raises out of its body (a TypeError of a wrong arity) quarantines its inputs
(replayable with `kliping retry`) or, with none to name, its message.
"""

from __future__ import annotations

import hashlib
import json
import logging
from typing import Any

from celery import Task
from celery.exceptions import InvalidTaskError
from celery.worker.consumer import Consumer

from schemas import FailedInput, Reason

log = logging.getLogger(__name__)

# The quarantine keeps this much of a message's raw body: enough to see what was sent.
MAX_RAW_CHARS = 20_000
MESSAGE_PREFIX = "message:"  # the `input` of a quarantined message (not a path or URL: never replayed)


_store: Any = None


def _state() -> Any:
    """The worker's StateStore (Redis), built on first use (in the main process or a pool child)."""
    global _store
    if _store is None:
        from workers.backends.redis.state import RedisStateStore
        from workers.runtime.wiring import redis_client
        from workers.settings import get_settings

        settings = get_settings()
        _store = RedisStateStore(redis_client(settings), settings.redis_prefix)
    return _store


def _raw(body: object) -> str:
    """A message body as text for the record (bytes decoded leniently, other values as JSON)."""
    if isinstance(body, bytes | bytearray):
        text = bytes(body).decode("utf-8", "replace")
    elif isinstance(body, str):
        text = body
    else:
        try:
            text = json.dumps(body, ensure_ascii=False, default=repr)
        except ValueError:
            text = repr(body)
    return text[:MAX_RAW_CHARS]


def quarantine_message(task: str, task_id: str, body: object, error: str) -> FailedInput | None:
    """Record a message that cannot run (its raw body kept); None when even the record failed (logged)."""
    raw = _raw(body)
    item = FailedInput(
        id=hashlib.sha1(f"{task_id}\0{raw}".encode()).hexdigest()[:16],
        input=f"{MESSAGE_PREFIX}{task or '?'}:{task_id or '?'}",
        reason=Reason.malformed,
        error=error,
        message=raw,
    )
    try:
        _state().quarantine(item)
    except Exception:  # the record is best effort: the log line below keeps the body either way
        log.exception("could not quarantine a malformed message of %s %s: %s", task, task_id, raw[:2000])
        return None
    log.error("quarantined a malformed message of %s %s: %s (%s)", task, task_id, error, raw[:500])
    return item


def _headers(message: Any) -> dict:
    headers = getattr(message, "headers", None)
    return headers if isinstance(headers, dict) else {}


def _record(message: Any, error: str) -> None:
    headers = _headers(message)
    quarantine_message(
        str(headers.get("task") or ""), str(headers.get("id") or ""), getattr(message, "body", None), error
    )


def shape_error(payload: object) -> str | None:
    """Why a protocol-2 task body is not ``[args (list), kwargs (dict), embed (dict)]``; None when it is."""
    if not isinstance(payload, list | tuple) or len(payload) != 3:
        return "the body is not [args, kwargs, embed]"
    args, kwargs, embed = payload
    if not isinstance(args, list | tuple):
        return f"args is a {type(args).__name__}, not a list"
    if not isinstance(kwargs, dict):
        return f"kwargs is a {type(kwargs).__name__}, not an object"
    if embed is not None and not isinstance(embed, dict):
        return f"embed is a {type(embed).__name__}, not an object"
    return None


class GuardedConsumer(Consumer):
    """Celery's consumer; a received message that cannot become a task is quarantined and rejected, never fatal."""

    def create_task_handler(self, *args: Any, **kwargs: Any) -> Any:
        handle = super().create_task_handler(*args, **kwargs)
        broker_errors = tuple(self.connection_errors) + tuple(self.channel_errors)

        def on_task_received(message: Any) -> Any:
            problem = None
            if "task" in _headers(message):  # protocol 2: the body is decoded here first to check its shape
                try:
                    problem = shape_error(message.payload)
                except broker_errors:
                    raise
                except Exception:  # undecodable: Celery's own handler reports it (on_decode_error)
                    problem = None
            if problem is not None:
                return self.on_invalid_task(None, message, InvalidTaskError(problem))
            try:
                return handle(message)
            except broker_errors:
                raise  # the connection: Celery reconnects
            except Exception as exc:  # anything else about this message: it goes, the worker stays
                return self.on_invalid_task(None, message, exc)

        return on_task_received

    def on_invalid_task(self, body: Any, message: Any, exc: Exception) -> None:
        _record(message, f"invalid task message: {exc!r}")
        super().on_invalid_task(body, message, exc)

    def on_unknown_message(self, body: Any, message: Any) -> None:
        _record(message, "not a task message (no task name)")
        super().on_unknown_message(body, message)

    def on_unknown_task(self, body: Any, message: Any, exc: Exception) -> None:
        _record(message, f"unknown task: {exc!r}")
        super().on_unknown_task(body, message, exc)

    def on_decode_error(self, message: Any, exc: Exception) -> None:
        _record(message, f"undecodable body: {exc!r}")
        super().on_decode_error(message, exc)


# A batch whose run kills its worker process (a crash, os._exit, the OOM killer) is delivered again
# at once (reject-on-worker-lost), and would be for ever: after this many starts that never ended,
# the input the run was on when its process died is quarantined (all of them when that is not
# known) and the others run (`kliping retry` replays the quarantined ones).
MAX_BATCH_STARTS = 3
STARTS_TTL_SECONDS = 7 * 24 * 3600
_starts: Any = None


def _starts_key(task_id: str, retries: int) -> str:
    from workers.settings import get_settings

    return f"{get_settings().redis_prefix}:starts:{task_id}:{retries}"


def _redis() -> Any:
    global _starts
    if _starts is None:
        from workers.runtime.wiring import redis_client
        from workers.settings import get_settings

        _starts = redis_client(get_settings())
    return _starts


def count_start(task_id: str | None, retries: int) -> int:
    """Count one more start of this run of a task (its id and retry number); how many so far (0: unknown)."""
    if not task_id:
        return 0
    key = _starts_key(task_id, retries)
    try:
        pipe = _redis().pipeline()
        pipe.incr(key)
        pipe.expire(key, STARTS_TTL_SECONDS)
        return int(pipe.execute()[0])
    except Exception as exc:  # Redis away: the task itself meets it and retries
        log.warning("could not count the start of %s: %s", task_id, exc)
        return 0


def clear_starts(task_id: str | None, retries: int) -> None:
    """The run ended (returned, retried or raised): its process survived it."""
    if task_id:
        key = _starts_key(task_id, retries)
        try:
            _redis().delete(key, f"{key}:at")
        except Exception as exc:
            log.warning("could not clear the start count of %s: %s", task_id, exc)


def mark_running(task_id: str | None, retries: int, ref: str) -> None:
    """Note the input this run of a task is on: if the process dies now, that input is the suspect."""
    if task_id:
        try:
            _redis().set(f"{_starts_key(task_id, retries)}:at", ref, ex=STARTS_TTL_SECONDS)
        except Exception as exc:  # best effort: without it a crash loop quarantines the whole batch
            log.debug("could not note the running input of %s: %s", task_id, exc)


def drop_killer(
    refs: list, starts: int, task_id: str | None, retries: int, state: Any
) -> tuple[list, list[dict]]:
    """After MAX_BATCH_STARTS crashed runs: quarantine the input each was on when its process died (the
    whole batch when that is unknown); the inputs left to run (their start count begun afresh) and the results."""
    key = _starts_key(task_id or "", retries)
    try:
        killer = _redis().get(f"{key}:at") if task_id else None
    except Exception:
        killer = None
    gone = [ref for ref in refs if ref == killer] or refs
    left = [ref for ref in refs if ref not in gone]
    results = crashed(gone, starts, state)
    if task_id and left:
        try:
            _redis().set(key, 1, ex=STARTS_TTL_SECONDS)  # this start; a further killer is counted anew
        except Exception as exc:
            log.warning("could not reset the start count of %s: %s", task_id, exc)
    return left, results


def crashed(input_refs: list, starts: int, state: Any) -> list[dict]:
    """Quarantine inputs whose runs killed their process `starts` times; their results."""
    from workers.pipeline import fail

    error = (
        f"worker_lost: the worker process died {starts} times running this batch "
        "(a crash or the OOM killer); not run again"
    )
    results = []
    for ref in input_refs:
        result = fail(ref if isinstance(ref, str) else repr(ref), Reason.internal_error, error, state)
        state.record(result)
        results.append(result.model_dump(mode="json"))
    log.error("quarantined %d inputs after %d crashed runs: %s", len(results), starts, input_refs[:5])
    return results


def input_refs_of(args: object) -> list[str] | None:
    """The input references an ingest task's args name (a list of non-empty strings first), or None."""
    if isinstance(args, list | tuple) and args and isinstance(args[0], list | tuple):
        refs = [ref for ref in args[0] if isinstance(ref, str) and ref.strip()]
        if refs and len(refs) == len(args[0]):
            return refs
    return None


class QuarantiningTask(Task):
    """A task whose unexpected error quarantines what it was given instead of only being logged."""

    def on_failure(self, exc: BaseException, task_id: str, args: Any, kwargs: Any, einfo: Any) -> None:
        error = f"task error: {exc!r}"
        refs = input_refs_of(args) if self.name.endswith("ingest_batch") else None
        if refs is None:
            quarantine_message(self.name, task_id, {"args": args, "kwargs": kwargs}, error)
            return
        from workers.pipeline import fail

        try:
            state = _state()
            for ref in refs:
                state.record(fail(ref, Reason.internal_error, error, state))
        except Exception:
            log.exception("could not quarantine the inputs of %s %s: %s", self.name, task_id, refs)


def refused(input_refs: object, state: Any) -> list[dict]:
    """The result of an ingest task given something other than a list of inputs: quarantined whole.

    A string is one input, not a list of one-character ones: it is refused rather than guessed at.
    """
    from workers.pipeline import fail

    ref = input_refs if isinstance(input_refs, str) else repr(input_refs)
    result = fail(
        ref,
        Reason.invalid_input,
        f"the task's inputs are a {type(input_refs).__name__}, not a list: {ref[:200]!r}",
        state,
    )
    state.record(result)
    return [result.model_dump(mode="json")]
