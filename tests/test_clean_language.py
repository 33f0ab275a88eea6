"""Language identification, Indonesian against Malay in particular (workers/clean/language.py)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import py3langid
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


def _files(directory: Path) -> dict[str, int]:
    return {entry.name: entry.stat().st_mtime_ns for entry in directory.iterdir()}


@pytest.mark.slow
def test_another_virtualenv_reads_the_same_cached_model(tmp_path):
    """The cache is keyed by what the model is, not where py3langid is installed: a second install
    (another path, other mtimes, as in another virtualenv) reads the copy the first one wrote."""
    cache = tmp_path / "xdg" / "kliping"  # where platformdirs puts Kliping's cache under XDG_CACHE_HOME
    load_identifier(cache)
    written = _files(cache)
    assert len(written) == 2  # langid-<key>.npz and its .I.bin
    site = tmp_path / "site"
    shutil.copytree(Path(py3langid.__file__).parent, site / "py3langid")
    probe = (
        f"import sys; sys.path.insert(0, {str(site)!r}); import py3langid;"
        f" assert py3langid.__file__.startswith({str(site)!r}), py3langid.__file__;"
        " from workers.clean.language import _identifier, detect_language;"
        " print(detect_language('Pasukan Korea Utara dikirim ke wilayah Kursk untuk membantu Rusia.'),"
        " type(_identifier().tk_nextmove).__name__)"
    )
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path / "xdg")}
    done = subprocess.run(
        [sys.executable, "-c", probe], cwd=REPO, env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["id", "memoryview"]  # read from the cache, memory-mapped
    assert _files(cache) == written  # nothing rebuilt, nothing added


@pytest.mark.slow
def test_writing_the_cache_removes_other_keys_only_and_spares_their_readers(tmp_path):
    text = "North Korean troops were sent to the Kursk region to help Russia, officials said on Monday."
    load_identifier(tmp_path)
    reader = load_identifier(tmp_path)  # a process still using a copy about to become stale
    assert isinstance(reader.tk_nextmove, memoryview)
    old = "langid-0123456789abcdef"  # the copy of another key: an earlier py3langid, or a per-path key
    for entry in list(tmp_path.iterdir()):
        entry.rename(tmp_path / entry.name.replace(entry.name.split(".")[0], old))
    killed_write = tmp_path / f"{old}.I.bin.k1ll3d.tmp"
    writing_now = tmp_path / f"{old}.npz.wr1t3s.tmp"
    others = ["notes.txt", "langid-custom.npz", f"{old}.npz.bak", "tmpq2w3e4.tmp", "langid-0123.npz"]
    for name in [killed_write.name, writing_now.name, *others]:
        (tmp_path / name).write_bytes(b"x")
    hours_ago = time.time() - 2 * 3600
    os.utime(killed_write, (hours_ago, hours_ago))

    rebuilt = load_identifier(tmp_path)  # no copy of its key: built, written, the stale ones removed
    assert not isinstance(rebuilt.tk_nextmove, memoryview)
    spared = {writing_now.name, *others}  # not Kliping's names, or a write perhaps still going on
    fresh = set(_files(tmp_path)) - spared
    assert spared <= set(_files(tmp_path))
    assert len(fresh) == 2 and not any(name.startswith(old) for name in fresh)  # the new key's pair
    assert reader.classify(text) == rebuilt.classify(text)  # its mapping outlives the unlink
