"""Language identification, Indonesian against Malay in particular (workers/clean/language.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from workers.clean.language import detect_language, load_identifier

REPO = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures" / "clean"


@pytest.mark.parametrize("seed", sorted((REPO / "seeds").glob("*.txt")), ids=lambda p: p.name[:3])
def test_seeds_are_indonesian(seed):
    assert detect_language(seed.read_text(encoding="utf-8")) == "id"


def test_malay_article_is_not_indonesian():
    assert detect_language((FIXTURES / "malay_article.txt").read_text(encoding="utf-8")) == "ms"


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("Kerajaan akan memperkenalkan dasar baharu bagi membantu peniaga kecil tahun hadapan.", "ms"),
        ("Pemerintah akan memperkenalkan kebijakan baru untuk membantu pedagang kecil tahun depan.", "id"),
        ("Polis menahan dua lelaki selepas kejadian samun di Johor Bahru semalam.", "ms"),
        ("Polisi menangkap dua pria setelah kejadian perampokan di Jakarta Selatan kemarin.", "id"),
        ("The government will introduce a new policy to help small traders next year.", "en"),
        ("Pemerintah Belanda kondigde vandaag nieuwe maatregelen aan voor kleine ondernemers.", "nl"),
    ],
)
def test_short_sentences(text, language):
    assert detect_language(text) == language


def test_indonesian_text_quoting_english_stays_indonesian():
    text = (
        "Menteri Keuangan mengatakan pemerintah akan menjaga defisit anggaran tetap di bawah tiga persen. "
        '"We remain committed to fiscal discipline," ujarnya dalam konferensi pers di Jakarta, Senin. '
        "Ia menambahkan bahwa penerimaan pajak hingga April tumbuh lebih cepat dibandingkan tahun lalu."
    )
    assert detect_language(text) == "id"


@pytest.mark.parametrize("text", ["", "2025", "OK", "https://example.com/a/b 12:30"])
def test_too_little_text_has_no_language(text):
    assert detect_language(text) is None


@pytest.mark.slow
def test_cached_model_gives_the_same_verdicts_and_a_damaged_cache_is_rebuilt(tmp_path):
    texts = [
        "Pasukan Korea Utara dikirim ke wilayah Kursk untuk membantu Rusia, kata pejabat pemerintah.",
        "North Korean troops were sent to the Kursk region to help Russia, officials said on Monday.",
        "Kerajaan berkata polis akan menyiasat kenderaan syarikat itu selepas kejadian minggu lepas.",
    ]
    built = load_identifier(tmp_path)  # builds the cache from py3langid's compressed file
    [table] = tmp_path.glob("langid-*.I.bin")
    cached = load_identifier(tmp_path)  # reads it back, memory-mapped
    assert isinstance(cached.tk_nextmove, memoryview)
    assert [cached.classify(t) for t in texts] == [built.classify(t) for t in texts]
    table.write_bytes(table.read_bytes()[:1000])  # a half-written or damaged table
    rebuilt = load_identifier(tmp_path)
    assert not isinstance(rebuilt.tk_nextmove, memoryview)  # built again from py3langid's file...
    assert [rebuilt.classify(t) for t in texts] == [built.classify(t) for t in texts]
    assert isinstance(load_identifier(tmp_path).tk_nextmove, memoryview)  # ...and cached again
