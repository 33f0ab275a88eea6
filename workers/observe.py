"""Observability shared by both runners: which input and stage the pipeline is in, logs and metrics.

``tracing(input)`` opens the trace of one input; ``stage(Stage.clean)`` marks and times a stage;
every log record made meanwhile carries ``input``, ``input_id`` (the quarantine id that
``kliping retry`` takes), ``article_id`` (once the clean stage has derived it) and ``stage``,
in JSON lines when the distributed mode logs (``configure_logging``). ``finish`` logs the
outcome once and hands the trace to a MetricsSink (Redis counters the exporter serves).
"""

from __future__ import annotations

import enum
import json
import logging
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import IO, Protocol

from schemas import InputResult, Outcome, Reason

log = logging.getLogger("workers.pipeline")


class Stage(str, enum.Enum):
    """Where an input is in the pipeline: a fixed set, so logs and metric labels aggregate."""

    load = "load"  # read a file or fetch a URL
    clean = "clean"
    dedupe = "dedupe"
    enrich = "enrich"
    index = "index"  # type: ignore[assignment]  # (shadows str.index) store the article (and its links to a canonical or a story)
    monitor = "monitor"  # standing rules → alerts


@dataclass
class Trace:
    """One input on its way through the stages."""

    input: str
    input_id: str
    article_id: str | None = None
    stage: Stage | None = None  # the stage running now, or the last one entered
    seconds: dict[Stage, float] = field(default_factory=dict)


class MetricsSink(Protocol):
    """Where outcomes, stage latencies and retries are counted (Redis in the distributed mode)."""

    def record(self, trace: Trace, result: InputResult) -> None:
        """Count an outcome and its stage latencies."""

    def retry(self, reason: Reason) -> None:
        """Count one retry of a transient error."""


_trace: ContextVar[Trace | None] = ContextVar("kliping_trace", default=None)


def current() -> Trace | None:
    """The trace of the input being processed in this context, if any."""
    return _trace.get()


@contextmanager
def tracing(input_ref: str, input_id: str) -> Iterator[Trace]:
    """Open the trace of one input for the duration of the block (an open trace of the same input is reused)."""
    outer = _trace.get()
    if outer is not None and outer.input == input_ref:  # a retry loop around `process`: one trace for both
        yield outer
        return
    trace = Trace(input=input_ref, input_id=input_id)
    token = _trace.set(trace)
    try:
        yield trace
    finally:
        _trace.reset(token)


@contextmanager
def resumed(trace: Trace) -> Iterator[Trace]:
    """Make `trace` the current one again for the block (an input taken up after others ran)."""
    if _trace.get() is trace:
        yield trace
        return
    token = _trace.set(trace)
    try:
        yield trace
    finally:
        _trace.reset(token)


@contextmanager
def stage(name: Stage) -> Iterator[None]:
    """Mark and time a stage of the current input (no-op outside a trace)."""
    trace = _trace.get()
    if trace is None:
        yield
        return
    trace.stage = name  # left set when the stage raises: the outcome names where it ended
    started = time.perf_counter()
    try:
        yield
    finally:
        trace.seconds[name] = trace.seconds.get(name, 0.0) + time.perf_counter() - started


def bind_article(article_id: str) -> None:
    """Attach the derived article id to the current trace (logs from here on carry it)."""
    trace = _trace.get()
    if trace is not None:
        trace.article_id = article_id


def count_retry(sink: MetricsSink | None, reason: Reason) -> None:
    """Count one retry in the sink, if there is one (metrics never stop a retry)."""
    if sink is None:
        return
    try:
        sink.retry(reason)
    except Exception:
        log.warning("retry not counted", exc_info=True)


def reason_of(result: InputResult) -> Reason | None:
    """The Reason of a skipped or failed outcome (its text is "reason: detail")."""
    if not result.reason:
        return None
    try:
        return Reason(result.reason.split(":", 1)[0].strip())
    except ValueError:
        return None


def finish(trace: Trace, result: InputResult, sink: MetricsSink | None) -> None:
    """Log an input's outcome once (with its reason) and count it in the sink."""
    if result.id and trace.article_id is None:
        trace.article_id = result.id
    reason = reason_of(result)
    level = logging.WARNING if result.outcome is Outcome.failed else logging.INFO
    log.log(
        level,
        "%s%s",
        result.outcome.value,
        f" ({result.reason})" if result.reason else "",
        extra={"outcome": result.outcome.value, "reason": reason.value if reason else None},
    )
    if sink is not None:
        try:
            sink.record(trace, result)
        except Exception:  # metrics must never cost an input its outcome
            log.warning("metrics not recorded", exc_info=True)


# --- logging -----------------------------------------------------------------------------------

TRACE_FIELDS = ("input", "input_id", "article_id", "stage")
_EXTRA_FIELDS = ("outcome", "reason")


class TraceFilter(logging.Filter):
    """Copies the current trace (input, input_id, article_id, stage) onto every log record."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Annotate the record; never drops it."""
        trace = _trace.get()
        record.input = trace.input if trace else None
        record.input_id = trace.input_id if trace else None
        record.article_id = trace.article_id if trace else None
        record.stage = trace.stage.value if trace and trace.stage else None
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, the trace fields, exception text."""

    def format(self, record: logging.LogRecord) -> str:
        """The record as a JSON line."""
        line: dict[str, object] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for name in TRACE_FIELDS:
            line[name] = getattr(record, name, None)
        for name in _EXTRA_FIELDS:
            if getattr(record, name, None) is not None:
                line[name] = getattr(record, name)
        if record.exc_info:
            line["exc"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False, default=str)


TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s%(trace)s: %(message)s"


class TextFormatter(logging.Formatter):
    """TEXT_FORMAT, with ``[stage input_id article_id]`` on the lines logged while an input is processed."""

    def __init__(self) -> None:
        super().__init__(TEXT_FORMAT)

    def format(self, record: logging.LogRecord) -> str:
        """The record as one text line (no empty brackets outside an input)."""
        fields = [getattr(record, name, None) for name in ("stage", "input_id", "article_id")]
        record.trace = f" [{' '.join(str(f) for f in fields if f is not None)}]" if any(fields) else ""
        return super().format(record)


def configure_logging(
    level: str | int = "INFO", json_lines: bool = True, stream: IO[str] | None = None
) -> logging.Handler:
    """Make the root logger write only to `stream` (stderr): JSON lines, or text with the trace fields; the handler."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.addFilter(TraceFilter())
    handler.setFormatter(JsonFormatter() if json_lines else TextFormatter())
    root = logging.getLogger()
    for old in list(root.handlers):  # the CLI's basicConfig, or an earlier call: one line per record
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level if isinstance(level, int) else level.upper())
    # The client logs each failed request with a traceback; the task logs the retry once, with its reason.
    logging.getLogger("elastic_transport").setLevel(logging.ERROR)
    return handler
