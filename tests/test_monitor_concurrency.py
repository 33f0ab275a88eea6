"""Two ingest processes on one embedded store: one alert per story, whatever the interleaving.

Two stores open on one SQLite file stand for the two `kliping ingest` processes of issue 18 (item 6);
a gate holds one process between its dedup claim and its index write, where the other one's copy of
the same article used to raise a second alert under a provisional story. The full race, two real
processes, 20 runs: ops/eval_concurrent_alerts.py.
"""

from __future__ import annotations

import dataclasses
import shutil
import threading
from typing import Any

from schemas import Article, Outcome
from schemas.monitor import Rule
from workers.pipeline import process
from workers.runtime.wiring import embedded_context

GATE_TIMEOUT = 60.0


class _Gate:
    """An article index that holds the write of one article until released (everything else passes through)."""

    def __init__(self, index: Any, article_input: str):
        self._index, self._input = index, article_input
        self.reached, self.release = threading.Event(), threading.Event()

    def put(self, article: Article) -> None:
        if article.input == self._input and not self.reached.is_set():
            self.reached.set()
            assert self.release.wait(GATE_TIMEOUT)
        self._index.put(article)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._index, name)


def test_a_copy_racing_its_canonical_raises_no_alert_of_its_own(settings, seed_paths, tmp_path):
    first, second = seed_paths[0], seed_paths[1]  # two reports of one event: one story
    copy = tmp_path / "other-outlet" / second.name
    copy.parent.mkdir()
    shutil.copy(second, copy)  # the same text at another place: an exact copy of `second`
    a, b = embedded_context(settings), embedded_context(settings)
    a.monitor.store.add_rule(Rule(name="kursk", query="Kursk"))
    assert process(str(first), a).outcome == Outcome.indexed
    gate = _Gate(a.index, str(second))
    held = dataclasses.replace(a, index=gate)
    results: dict[str, Any] = {}
    thread = threading.Thread(target=lambda: results.update(second=process(str(second), held)))
    thread.start()
    try:
        assert gate.reached.wait(GATE_TIMEOUT)  # `second` is the canonical, enriched, not stored yet
        results["copy"] = process(str(copy), b)  # the other process stores its copy meanwhile
    finally:
        gate.release.set()
        thread.join(GATE_TIMEOUT)
    assert results["second"].outcome == Outcome.indexed and results["copy"].outcome == Outcome.copy
    stories = {article.dedup.story_id for article in a.index.iter_articles()}
    alerts = a.monitor.store.alerts()
    assert len(stories) == 1 and [alert.story_id for alert in alerts] == list(stories), (stories, alerts)
    assert results["copy"].id in alerts[0].attached  # attached by its canonical, which knew the story
