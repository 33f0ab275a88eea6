"""The dedup evaluation on the seeds and the shipped fixtures: the issue's targets hold."""

from __future__ import annotations

import importlib.util
import sys

import pytest

from workers.settings import PROJECT_ROOT, Settings
from workers.sources import SourceRegistry


@pytest.fixture(scope="module")
def evaluation():
    """ops/evaluate_dedup.py loaded as a module (ops/ is scripts, not a package)."""
    spec = importlib.util.spec_from_file_location(
        "evaluate_dedup", PROJECT_ROOT / "ops" / "evaluate_dedup.py"
    )
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses resolve annotations through it
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module", params=["embedded", "redis"])
def figures(evaluation, request):
    """Figures of the set built from the seeds and tests/fixtures only (no ../shared data), on each dedup index."""
    originals = evaluation.load_originals([], SourceRegistry.load(Settings().sources_file))
    docs = evaluation.build_set(originals)
    assert sum(d.is_original for d in docs) >= 12 and len(docs) > 5 * sum(d.is_original for d in docs)
    redis_url = request.getfixturevalue("redis_url") if request.param == "redis" else None
    return evaluation.evaluate(docs, redis_url=redis_url)


@pytest.mark.slow
def test_copies_meet_the_precision_and_recall_targets(figures):
    assert figures["copy_precision"] >= 0.99
    assert figures["copy_recall"] >= 0.97


def test_seeds_are_no_copies_and_one_story(figures):
    assert figures["seeds_copies"] == 0
    assert figures["seed_groups"] == 5
    assert figures["seed_stories"] == 1


def test_each_group_ends_with_its_original_as_canonical(figures):
    assert figures["canonical_is_original"] == 1.0


def test_adjusted_rand_index_is_one_for_equal_partitions_and_low_for_unrelated(evaluation):
    assert evaluation.adjusted_rand_index(list("aabbc"), list("xxyyz")) == pytest.approx(1.0)
    assert evaluation.adjusted_rand_index(list("aaabbb"), list("xyxyxy")) < 0.1
    # 6 items, truth {0,1,2}{3,4,5}, predicted {0,1}{2,3}{4,5}: the textbook value.
    both, in_truth, in_predicted, total = evaluation.pair_counts(list("aaabbb"), list("xxyyzz"))
    assert (both, in_truth, in_predicted, total) == (2, 6, 3, 15)
    assert evaluation.adjusted_rand_index(list("aaabbb"), list("xxyyzz")) == pytest.approx(
        (2 - 18 / 15) / (4.5 - 18 / 15)
    )
