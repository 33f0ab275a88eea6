"""Read the NER training and development sets of ``../shared/data/train`` (CoNLL columns) as texts with
character spans, so that training and evaluation see them through the product's own tokenizer.

Only the train and dev parts are read: the file names below are the whole list. The test parts named in
that folder's README are never opened here.

Each sentence becomes a text (its tokens joined by spaces; "@" touches the user name after it) with gold spans (start, end, type) in characters;
``doc_labels`` projects the spans onto the tokens of ``workers.enrich.tokens.Doc`` as BIO labels.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from workers.enrich.tokens import Doc

# (folder, file, language, column of the tag, tag -> our type); train parts first, then dev parts
TAGS = {
    "PER": "PERSON",
    "PERSON": "PERSON",
    "ORG": "ORGANIZATION",
    "ORGANISATION": "ORGANIZATION",
    "LOC": "LOCATION",
    "PLACE": "LOCATION",
    "PPL": "PERSON",  # NERP
    "PLC": "LOCATION",
    "IND": "ORGANIZATION",
}
TRAIN_PARTS = {
    # NERGrit train was tried too: it lowered idner-news-2k dev mention F1 from 0.80 to 0.78 (its places are
    # annotated differently: location precision 0.82 -> 0.67), so it is not used
    "id": [("ner-id/idner-news-2k", "train.txt")],
    "en": [("ner-en/broad-twitter-corpus", "btc.train")],
}
DEV_PARTS = {
    "id": [("ner-id/idner-news-2k", "dev.txt")],
    "en": [("ner-en/broad-twitter-corpus", "btc.dev")],
}
# Other train parts whose annotation style differs from the news sets (NERGrit's places, NERP lower-cased
# throughout): not trained on, but their words give the name lexicon of both models (``build_lexicon``)
LEXICON_PARTS = [
    ("ner-id/indonlu-nergrit_ner-grit", "train_preprocess.txt"),
    ("ner-id/indonlu-nerp_ner-prosa", "train_preprocess.txt"),
]
MIN_LEXICON_COUNT = 2  # a word must be seen this often in names of one type ...
MIN_LEXICON_SHARE = 0.6  # ... and this share of all its occurrences must be that type


# idner-news-2k and BTC dev sentences come shuffled, not as articles: a "document" for the document-level
# score is this many consecutive sentences (the independent idner-style measure has 51 texts of ~10).
SENTENCES_PER_DOC = 10


@dataclass
class Sentence:
    """One gold sentence: its text and the entity spans in it (character offsets, our type names)."""

    text: str
    spans: list[tuple[int, int, str]]


def read_conll(path: Path) -> list[Sentence]:
    """Sentences of a CoNLL file (token first, BIO tag last; blank lines between sentences)."""
    sentences, tokens = [], []
    for line in path.read_text(encoding="utf-8").splitlines() + [""]:
        parts = line.split()
        if parts:
            tokens.append((parts[0], parts[-1]))
        elif tokens:
            sentences.append(_sentence(tokens))
            tokens = []
    return sentences


def _sentence(tokens: list[tuple[str, str]]) -> Sentence:
    text, spans, pos = [], [], 0
    open_span: list | None = None
    for word, tag in tokens:
        if text and text[-1] != "@":  # "@" was written against the user name
            text.append(" ")
            pos += 1
        start = pos
        text.append(word)
        pos += len(word)
        prefix, _, kind = tag.partition("-")
        kind = TAGS.get(kind, "")
        # a user name is one mention: BTC tags "@" and "SportsCenter" each B-ORG
        after_at = prefix == "B" and open_span and len(text) > 1 and text[-2] == "@" and open_span[2] == kind
        if (prefix == "I" or after_at) and open_span and open_span[2] == kind:
            open_span[1] = start + len(word)
            continue
        if open_span:
            spans.append(tuple(open_span))
        open_span = [start, start + len(word), kind] if prefix in "BI" and kind else None
    if open_span:
        spans.append(tuple(open_span))
    return Sentence("".join(text), spans)


def load(root: Path, parts: list[tuple[str, str]]) -> list[Sentence]:
    """All sentences of the given (folder, file) parts under ``root``."""
    return [s for folder, name in parts for s in read_conll(root / folder / name)]


def doc_labels(doc: Doc, spans: list[tuple[int, int, str]]) -> list[str]:
    """BIO labels of the Doc's tokens: a token inside a gold span takes its type (B on the first token)."""
    labels = ["O"] * doc.n
    for start, end, kind in spans:
        first = True
        for i in range(doc.n):
            if doc.starts[i] >= start and doc.ends[i] <= end:
                labels[i] = ("B-" if first else "I-") + kind
                first = False
    return labels


def documents(sentences: list[Sentence]) -> list[list[Sentence]]:
    """Consecutive groups of ``SENTENCES_PER_DOC`` sentences, the documents of the document-level score."""
    return [sentences[i : i + SENTENCES_PER_DOC] for i in range(0, len(sentences), SENTENCES_PER_DOC)]


def build_lexicon(sentences: list[Sentence]) -> dict[str, str]:
    """Words mostly seen inside names of one type: lower-cased word -> type."""
    counts: dict[str, Counter] = {}
    for s in sentences:
        inside = {}
        for start, end, kind in s.spans:
            for word in s.text[start:end].split():
                inside[start] = kind
                start += len(word) + 1
        pos = 0
        for word in s.text.split(" "):
            counts.setdefault(word.casefold(), Counter())[inside.get(pos, "O")] += 1
            pos += len(word) + 1
    lexicon = {}
    for word, c in counts.items():
        kind, n = max(((k, v) for k, v in c.items() if k != "O"), key=lambda kv: kv[1], default=("O", 0))
        if n >= MIN_LEXICON_COUNT and n / sum(c.values()) >= MIN_LEXICON_SHARE and word.isalpha():
            lexicon[word] = kind
    return dict(sorted(lexicon.items()))


def joined(group: list[Sentence]) -> Sentence:
    """The sentences of a document as one text (separated by a space), with their spans moved along."""
    text, spans, pos = [], [], 0
    for s in group:
        text.append(s.text)
        spans += [(a + pos, b + pos, kind) for a, b, kind in s.spans]
        pos += len(s.text) + 1
    return Sentence(" ".join(text), spans)
