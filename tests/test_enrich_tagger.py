"""The trained recogniser's features: what a model is given is every feature it knows, in a fixed order."""

from __future__ import annotations

from pathlib import Path

import pytest

from workers.enrich.entities import rule_claims
from workers.enrich.tagger import _word_features, candidate_runs, known_attributes, run_features
from workers.enrich.tokens import Doc
from workers.settings import PROJECT_ROOT

TEXTS = sorted((Path(__file__).parent / "fixtures" / "enrich").glob("*.txt")) + sorted(
    (PROJECT_ROOT / "seeds").glob("*.txt")
)


@pytest.mark.parametrize("language", ["id", "en"])
@pytest.mark.parametrize("path", TEXTS, ids=lambda p: p.stem)
def test_a_model_gets_the_features_it_knows(path, language):
    known = known_attributes(language)
    assert known, "the packaged model lists its attributes"
    doc = Doc(path.read_text(encoding="utf-8") + "\nA | B kata | C, Joko | Widodo")  # "|" joins word pairs
    claims = rule_claims(doc, for_model=True)
    runs = candidate_runs(doc)
    every = run_features(doc, claims, runs)  # what training reads: the token's own features, then its context
    given = run_features(doc, claims, runs, known)
    assert len(given) == len(every) == len(runs)
    for (start, _), run, all_run in zip(runs, given, every, strict=True):
        for k, (token, everything) in enumerate(zip(run, all_run, strict=True)):
            own = len(_word_features(doc.texts[start + k]))
            context, words = everything[own:], everything[:own]
            assert token == [f for f in context if f in known] + [f for f in words if f in known]
