"""The ingest summary's list of problems: capped, with what to do about the common cases."""

from __future__ import annotations

from collections import Counter

from schemas import InputResult, Outcome
from workers.cli.views import summary_table


def _caption(problems: list[InputResult]) -> str:
    counts = Counter(r.outcome for r in problems)
    return str(summary_table(counts, 1.0, problems).caption)


def test_more_problems_than_shown_are_counted_and_common_causes_get_a_hint():
    many = [
        InputResult(input=f"/in/{n}.txt", outcome=Outcome.skipped, reason="too_short: 3 words")
        for n in range(25)
    ]
    caption = _caption(many)
    assert "/in/19.txt" in caption and "/in/20.txt" not in caption
    assert "… and 5 more" in caption and "KLIPING_FETCH_ALLOW_PRIVATE" not in caption

    blocked = InputResult(
        input="http://127.0.0.1/a", outcome=Outcome.skipped, reason="blocked_address: 127.0.0.1 ..."
    )
    linked_out = InputResult(input="/in/x.txt", outcome=Outcome.skipped, reason="blocked_address: link out")
    assert "KLIPING_FETCH_ALLOW_PRIVATE=true" in _caption([blocked])
    assert "KLIPING_FETCH_ALLOW_PRIVATE" not in _caption([linked_out])  # a file: the setting would not help

    feed = InputResult(
        input="https://x.example/rss",
        outcome=Outcome.skipped,
        reason="unsupported_type: cannot clean content type application/rss+xml",
    )
    assert "kliping feeds add URL" in _caption([feed])
    assert "feeds add" not in _caption(many)
