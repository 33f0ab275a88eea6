"""Loading local files: gzip-compressed articles (`.html.gz`, `.txt.gz`) read like their plain twins."""

from __future__ import annotations

import gzip

import pytest

from schemas import Reason
from workers.errors import PermanentError, SkipInput
from workers.load import expand_inputs, load
from workers.settings import PROJECT_ROOT

SEED = sorted((PROJECT_ROOT / "seeds").glob("*.txt"))[0]
PAGE = "<html><head><title>Banjir di Bekasi</title></head><body><p>Hujan deras.</p></body></html>"


def _no_fetch(url: str):
    raise AssertionError(f"no URL here: {url}")


def test_a_gzip_compressed_article_reads_as_its_plain_twin(tmp_path):
    (tmp_path / "page.html.gz").write_bytes(gzip.compress(PAGE.encode()))
    (tmp_path / "seed.TXT.GZ").write_bytes(gzip.compress(SEED.read_bytes()))
    page = load(str(tmp_path / "page.html.gz"), fetch=_no_fetch, max_bytes=1 << 20)
    assert (page.content_type, page.text) == ("text/html", PAGE)
    seed = load(str(tmp_path / "seed.TXT.GZ"), fetch=_no_fetch, max_bytes=1 << 20)
    assert (seed.content_type, seed.text) == ("text/plain", SEED.read_text(encoding="utf-8"))


def test_a_folder_expands_to_its_compressed_articles_but_not_other_archives(tmp_path):
    for name in ("a.html.gz", "b.txt", "c.tar.gz", "d.json.gz", "e.gz"):
        (tmp_path / name).write_bytes(b"")
    assert [p.rsplit("/", 1)[1] for p in expand_inputs([str(tmp_path)])] == ["a.html.gz", "b.txt"]
    with pytest.raises(SkipInput) as skipped:
        load(str(tmp_path / "c.tar.gz"), fetch=_no_fetch, max_bytes=1 << 20)
    assert skipped.value.reason == Reason.unsupported_type


def test_a_gzip_bomb_is_too_large_and_a_broken_one_malformed(tmp_path):
    (tmp_path / "bomb.html.gz").write_bytes(gzip.compress(b" " * (4 << 20)))  # 4 MiB of spaces: ~4 KiB
    with pytest.raises(PermanentError) as bomb:
        load(str(tmp_path / "bomb.html.gz"), fetch=_no_fetch, max_bytes=1 << 20)
    assert bomb.value.reason == Reason.too_large
    (tmp_path / "broken.html.gz").write_bytes(gzip.compress(PAGE.encode())[:-12])
    (tmp_path / "plain.html.gz").write_bytes(PAGE.encode())
    for name in ("broken.html.gz", "plain.html.gz"):
        with pytest.raises(PermanentError) as broken:
            load(str(tmp_path / name), fetch=_no_fetch, max_bytes=1 << 20)
        assert broken.value.reason == Reason.malformed, name
