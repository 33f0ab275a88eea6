"""Structured logs: every line logged while an input is processed names the input, its article id and stage."""

from __future__ import annotations

import contextlib
import io
import json
import logging
from collections.abc import Iterator

import pytest

from schemas import RawDocument
from tests.support.faults import write_articles
from workers.observe import TRACE_FIELDS, Stage, configure_logging, stage, tracing
from workers.pipeline import failed_id
from workers.runtime.embedded import run
from workers.runtime.wiring import embedded_context
from workers.settings import Settings


@contextlib.contextmanager
def _logging_to(stream: io.StringIO, json_lines: bool) -> Iterator[None]:
    """Root logging configured by `configure_logging` into `stream`; the previous set-up restored afterwards."""
    root = logging.getLogger()
    saved = (list(root.handlers), root.level)
    configure_logging("INFO", json_lines=json_lines, stream=stream)
    try:
        yield
    finally:
        for handler in list(root.handlers):
            root.removeHandler(handler)
        for handler in saved[0]:
            root.addHandler(handler)
        root.setLevel(saved[1])


@pytest.fixture
def captured() -> Iterator[io.StringIO]:
    """JSON log lines of the test, in a buffer."""
    stream = io.StringIO()
    with _logging_to(stream, json_lines=True):
        yield stream


def _lines(stream: io.StringIO) -> list[dict]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_pipeline_lines_carry_input_article_id_and_stage(settings: Settings, tmp_path, captured):
    good = write_articles(tmp_path / "in", 2)
    big = tmp_path / "big.txt"
    big.write_bytes(b"a " * (settings.max_file_bytes // 2 + 1))

    def broken_fetch(url: str) -> RawDocument:
        logging.getLogger("workers.fetch.fetcher").info("fetching")  # a line from inside a stage
        raise RuntimeError("a bug in a stage")

    ctx = embedded_context(settings)
    ctx.fetch = broken_fetch
    inputs = [str(good[0]), str(big), "https://example.com/berita/1", str(good[1])]
    results = list(run(inputs, ctx))

    lines = _lines(captured)
    assert lines and all(set(TRACE_FIELDS) <= set(line) and line["ts"] and line["level"] for line in lines)
    outcomes = [line for line in lines if "outcome" in line]
    assert [(line["input"], line["outcome"]) for line in outcomes] == [
        (r.input, r.outcome.value) for r in results
    ]
    assert all(line["input_id"] == failed_id(line["input"]) for line in outcomes)
    indexed = [line for line in outcomes if line["outcome"] == "indexed"]
    assert [line["article_id"] for line in indexed] == [r.id for r in results if r.outcome.value == "indexed"]
    assert len(indexed) == 2 and all(line["stage"] == Stage.monitor.value for line in indexed)
    assert next(line for line in outcomes if line["input"] == str(big))["reason"] == "too_large"

    url_lines = [line for line in lines if line["input"] == "https://example.com/berita/1"]
    assert [line["message"] for line in url_lines][:2] == [
        "fetching",
        "unexpected error on https://example.com/berita/1",
    ]
    assert all(line["stage"] == "load" and line["article_id"] is None for line in url_lines)
    assert "RuntimeError: a bug in a stage" in url_lines[1]["exc"]
    assert url_lines[-1]["outcome"] == "failed" and url_lines[-1]["reason"] == "internal_error"


def test_lines_outside_an_input_have_empty_trace_fields(captured):
    logging.getLogger("workers.runtime.tasks").warning("worker started")
    with tracing("a.txt", "id-a"):
        with stage(Stage.clean):
            logging.getLogger("workers.clean").info("cleaning")
    [outside, inside] = _lines(captured)
    assert {k: outside[k] for k in TRACE_FIELDS} == dict.fromkeys(TRACE_FIELDS)
    assert {k: inside[k] for k in TRACE_FIELDS} == {
        "input": "a.txt",
        "input_id": "id-a",
        "article_id": None,
        "stage": "clean",
    }


def test_text_format_names_stage_and_ids():
    stream = io.StringIO()
    with _logging_to(stream, json_lines=False):
        with tracing("b.txt", "id-b"), stage(Stage.dedupe):
            logging.getLogger("workers.dedupe").info("checking copies")
        logging.getLogger("workers.runtime").info("worker ready")
    lines = stream.getvalue().splitlines()
    assert lines[0].endswith("workers.dedupe [dedupe id-b]: checking copies")
    assert lines[-1].endswith("INFO workers.runtime: worker ready")  # no empty trace outside an input
