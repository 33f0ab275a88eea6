"""ops/evaluate_extraction.py: the shingle score and a whole run on a dataset built from the golden pages."""

from __future__ import annotations

import gzip
import json
import shutil
from datetime import datetime

import pytest

from tests.support.ops_scripts import load_ops_script
from tests.test_clean import FIXTURES
from tests.test_clean_golden import GOLDEN


@pytest.fixture(scope="module")
def evaluation():
    """ops/evaluate_extraction.py loaded as a module."""
    return load_ops_script("evaluate_extraction", "evaluate_extraction.py")


def test_shingle_match_normalises_each_page_to_one(evaluation):
    assert evaluation.shingle_match("a b c d e", "a b c d e") == (1.0, 0.0, 0.0)
    assert evaluation.shingle_match("a b c d e", "") == (0.0, 0.0, 1.0)
    tp, fp, fn = evaluation.shingle_match("a b c d e f", "a b c d x y")  # 1 shared of 3 and 3 4-grams
    assert (tp, fp, fn) == pytest.approx((0.2, 0.4, 0.4))


def test_run_on_an_idnews_layout_dataset(evaluation, tmp_path, capsys):
    expected = {}
    for page in sorted(GOLDEN.glob("*.html")):
        golden = json.loads(page.with_suffix(".json").read_text(encoding="utf-8"))
        (tmp_path / "pages").mkdir(exist_ok=True)
        shutil.copy(page, tmp_path / "pages" / page.name)
        published = datetime.fromisoformat(golden["published_at"])
        expected[f"pages/{page.name}"] = {
            "url": golden["url"],
            "title": golden["title"],
            "date": int(published.timestamp() * 1000),
            "content": "\n".join(golden["text"]),
        }
    (tmp_path / "expected.json").write_text(json.dumps(expected), encoding="utf-8")
    shutil.copy(FIXTURES / "viva_front_page.html", tmp_path / "pages" / "front.html")  # not in expected.json
    assert evaluation.main([str(tmp_path)]) == 0
    out = capsys.readouterr().out
    rows = {line.split()[1]: line.split() for line in out.splitlines() if line.startswith(tmp_path.name)}
    pages, skipped, precision, recall, f1 = rows["clean"][2:7]
    assert (pages, skipped, precision, recall, f1) == (str(len(expected)), "0", "1.000", "1.000", "1.000")
    assert rows["clean"][-1] == "0"  # no body holds a "Baca juga" line
    assert f"titles equal to expected: {len(expected)}/{len(expected)}" in out
    assert f"dates within a minute: {len(expected)}/{len(expected)}" in out
    assert "non-article pages: {'not_article': 1}" in out


def test_run_on_a_fundus_layout_dataset(evaluation, tmp_path, capsys):
    expected = {}
    (tmp_path / "html").mkdir()
    for page in sorted(GOLDEN.glob("*.html")):
        golden = json.loads(page.with_suffix(".json").read_text(encoding="utf-8"))
        key = f"html/{page.stem}.html.gz"
        (tmp_path / key).write_bytes(gzip.compress(page.read_bytes()))
        expected[key] = {
            "url": golden["url"],
            "title": golden["title"],
            "date": golden["published_at"].replace("T", " "),
            "authors": [*golden["authors"], "Nobody Named"],  # one name no method can find
            "body": "\n".join(golden["text"]),
        }
    (tmp_path / "expected.json").write_text(json.dumps(expected), encoding="utf-8")
    assert evaluation.main([str(tmp_path)]) == 0
    out = capsys.readouterr().out
    rows = {line.split()[1]: line.split() for line in out.splitlines() if line.startswith(tmp_path.name)}
    assert rows["clean"][2:7] == [str(len(expected)), "0", "1.000", "1.000", "1.000"]
    pages = len(expected)
    assert f"titles equal to expected: {pages}/{pages}, dates within a minute: {pages}/{pages}" in out
    assert f"authors P=1.00 R=0.50 ({2 * pages} names)" in out
