"""The benchmark corpus: reworded rounds are new stories whose dates still read (ops/bench_corpus.py)."""

from __future__ import annotations

from tests.support.ops_scripts import load_ops_script

bench_corpus = load_ops_script("bench_corpus", "bench_corpus.py")

PAGE = (
    '<html><head><meta name="description" content="Banjir besar"></head><body>'
    "<p>Senin, 28 April 2025 21:14 WIB</p><p>Banjir besar melanda kawasan pesisir utara Jakarta.</p></body></html>"
)


def test_a_reworded_page_is_a_new_text_with_the_same_markup_and_dates():
    words = bench_corpus.vocabulary()
    reworded = bench_corpus.reword(PAGE, 1, words)
    assert "Senin, 28 April 2025 21:14 WIB" in reworded
    assert "Banjir besar melanda" not in reworded
    assert 'content="Banjir besar"' in reworded  # markup (attributes included) is left alone
    assert reworded == bench_corpus.reword(PAGE, 1, words)  # the same round words the same way
    assert reworded != bench_corpus.reword(PAGE, 2, words)
