"""The enrich stage against the project's gold annotations (ops/eval/enrichment), with the floors the issue sets."""

from __future__ import annotations

import importlib.util
import json

import pytest

from ops.eval_enrichment_lib import EVAL_DIR, is_date_word_entity, load_gold, score
from workers.settings import PROJECT_ROOT

MIN_ENTITY_F1 = 0.85  # issue 6
# Sentiment floors on the project's own texts guard against regressions only; quality is measured by
# ops/evaluate_sentiment.py on held-out CNBC headlines (issue 23). The lexicon scored 0.85 on gold.jsonl and
# 1.0 on the seeds, but its words were added from these very texts. The trained model (market-news headlines,
# lexicon as features) scores 0.615 on gold.jsonl (16/26: Indonesian good news read as neutral) and 0.4 on the
# seeds (000 and 001 negative; 002-004, factual reports of thanks and confirmation, neutral, none positive).
# The gold floor sits one text below; the seeds keep their figure (000 negative is tested on its own).
MIN_SENTIMENT_ACCURACY = 0.57
MIN_SEEDS_SENTIMENT_ACCURACY = 0.4
# heldout.jsonl was written after the rules were tuned on gold.jsonl; its first score was 0.75, and after
# fixing the general rules it showed up (not its names) 0.89. Its floor guards against regressions only.
MIN_HELDOUT_F1 = 0.80


@pytest.fixture(scope="module")
def reports():
    return {name: score(load_gold(EVAL_DIR / f"{name}.jsonl")) for name in ("gold", "seeds_gold", "heldout")}


def test_gold_set_is_big_and_varied():
    rows = [json.loads(line) for line in (EVAL_DIR / "gold.jsonl").read_text(encoding="utf-8").splitlines()]
    languages = [r["language"] for r in rows]
    assert len(rows) >= 24 and languages.count("id") >= 16 and languages.count("en") >= 8
    assert {r["sentiment"] for r in rows} == {"negative", "neutral", "positive"}
    assert all({e["type"] for e in r["entities"]} <= {"PERSON", "ORGANIZATION", "LOCATION"} for r in rows)
    seeds = [json.loads(line)["seed"] for line in (EVAL_DIR / "seeds_gold.jsonl").read_text().splitlines()]
    assert seeds == sorted(p.name for p in (PROJECT_ROOT / "seeds").glob("*.txt"))


@pytest.mark.parametrize("name", ["gold", "seeds_gold"])
def test_entity_f1_meets_the_floor(reports, name):
    report = reports[name]
    assert report.overall.f1 >= MIN_ENTITY_F1, report.errors
    assert report.names_only.f1 >= report.overall.f1  # the looser score can only be higher


def test_heldout_texts_do_not_regress(reports):
    assert reports["heldout"].overall.f1 >= MIN_HELDOUT_F1, reports["heldout"].errors


@pytest.mark.parametrize("name", ["gold", "seeds_gold", "heldout"])
def test_no_month_or_day_name_entity(reports, name):
    assert reports[name].month_entities == []


def test_date_word_check_catches_april():
    assert is_date_word_entity("April") and is_date_word_entity("APRIL") and is_date_word_entity("Juni Lalu")
    assert not is_date_word_entity("Kim Jong Un")


def test_seed_000_is_negative(reports):
    assert reports["seeds_gold"].sentiments["000_acbf871660eb4123.txt"] == "negative"


def test_sentiment_accuracy_meets_the_floor(reports):
    assert reports["gold"].sentiment_accuracy >= MIN_SENTIMENT_ACCURACY
    assert reports["seeds_gold"].sentiment_accuracy >= MIN_SEEDS_SENTIMENT_ACCURACY
    assert (
        reports["seeds_gold"].confusion[("negative", "positive")] == 0
    )  # no war report is read as good news


def test_country_gazetteer_is_reproducible_from_babel():
    # ops/build_gazetteer.py regenerates workers/data/gazetteer_countries.json from CLDR + curated overrides
    spec = importlib.util.spec_from_file_location(
        "build_gazetteer", PROJECT_ROOT / "ops" / "build_gazetteer.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    built = module.build(json.loads(module.OVERRIDES.read_text(encoding="utf-8")))
    current = json.loads(module.OUTPUT.read_text(encoding="utf-8"))
    assert built["locations"] == current["locations"]
    assert {"Korut", "DPRK", "North Korea"} <= set(
        next(i for i in built["locations"] if i["code"] == "KP")["aliases"]
    )
