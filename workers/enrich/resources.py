"""Data files of the enrich stage (``workers/data``), read once per process and cached."""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any


def _read(name: str) -> str:
    return resources.files("workers").joinpath("data", name).read_text(encoding="utf-8")


@cache
def load_json(name: str) -> Any:
    """A JSON data file, parsed once (callers must not mutate the result)."""
    return json.loads(_read(name))


@cache
def load_words(*names: str) -> frozenset[str]:
    """The union of one-word-per-line data files, lowercased; ``#`` starts a comment line."""
    words: set[str] = set()
    for name in names:
        for line in _read(name).splitlines():
            line = line.strip()
            if line and not line.startswith("#"):
                words.add(line.lower())
    return frozenset(words)


@cache
def cue_words(key: str) -> frozenset[str]:
    """One list of ``entity_cues.json`` as a set of lowercase strings."""
    return frozenset(word.lower() for word in load_json("entity_cues.json")[key])
