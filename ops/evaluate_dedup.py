#!/usr/bin/env python3
"""Score the dedup stage on a labelled set of syndicated reprints it builds from real articles.

    .venv/bin/python ops/evaluate_dedup.py                      # seeds + shipped test fixtures
    .venv/bin/python ops/evaluate_dedup.py ../shared/data/aeb ../shared/data/idnews
    .venv/bin/python ops/evaluate_dedup.py --redis-url redis://127.0.0.1:6379/14   # the Redis index

Originals: the five seeds and the shipped fixtures (tests/fixtures/clean, tests/fixtures/enrich)
through the clean stage, plus, for each DATA_DIR, the expected article bodies of the aeb layout
(ground-truth.json) or the idnews layout (expected.json). Each original gets REPRINTS copies as
other outlets print them: their own dateline header ("JAKARTA, KOMPAS.com -"), "Baca juga: …"
lines between paragraphs, a closing "Artikel ini telah tayang di …" line, truncation to 30–70 %,
merged paragraphs and small edits (swapped words, typos, changed numbers). Hard negatives are the
five seeds (five reports of one event) and every other original.

Every document then goes through the pipeline's store step (dedupe, enrich, story, index) on a
fresh embedded store, in a shuffled order, so reprints often arrive before their original and
the canonical must be re-pointed. Printed: pairwise precision/recall/F1 of copy groups, the
adjusted Rand index of stories, whether each group's canonical is its original, seed checks,
and per-document dedupe() time (p50/p99, a second pass on a fresh in-memory index).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import random
import re
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from schemas import Article, Source
from workers.backends.sqlite.store import EmbeddedStore
from workers.clean import MIN_WORDS, article_id, clean, content_hash
from workers.dedupe import dedupe, fingerprint_text, shingle_hashes
from workers.errors import KlipingError
from workers.load import load
from workers.sources import SourceRegistry, domain_of

REPRINTS = 6
SEED_STORY = "seeds"
BASE_TIME = datetime(2025, 4, 28, 8, tzinfo=UTC)
# Reprinting outlets: dateline header and the name their footer gives.
OUTLETS = [
    ("JAKARTA, KOMPAS.com - ", "Kompas.com"),
    ("Liputan6.com, Jakarta - ", "Liputan6.com"),
    ("TRIBUNNEWS.COM - ", "Tribunnews.com"),
    ("Pantau - ", "Pantau.com"),
    ("REPUBLIKA.CO.ID, JAKARTA -- ", "Republika.co.id"),
    ("Jakarta, CNN Indonesia -- ", "CNNIndonesia.com"),
    ("Suara.com - ", "Suara.com"),
    ("BANDUNG, PIKIRAN RAKYAT - ", "Pikiran-Rakyat.com"),
]
# How each reprint is made: a list of steps applied in order.
RECIPES = [
    ["wrap"],
    ["baca", "wrap"],
    ["truncate", "wrap"],
    ["merge", "edit"],
    ["edit", "baca", "wrap"],
    ["truncate", "merge", "edit", "wrap"],
]
# Two originals sharing this share of the smaller one's shingles are one article printed twice.
LABEL_SAME_ARTICLE = 0.5
# Small edits: one per this many words (a word swap, a typo or a changed number).
WORDS_PER_EDIT = 40
_NUMBER = re.compile(r"\d+")


@dataclass
class Doc:
    """One document of the set: the article, its copy group (original's id) and its story label."""

    article: Article
    group: str
    story: str
    is_original: bool


def load_originals(data_dirs: list[Path], registry: SourceRegistry) -> list[tuple[Article, str]]:
    """(article, story label) of every original: seeds and shipped fixtures, then DATA_DIRs."""
    originals: list[tuple[Article, str]] = []
    files = [("seed", p) for p in sorted((REPO / "seeds").glob("*.txt"))]
    files += [
        ("fixture", p)
        for d in ("tests/fixtures/clean", "tests/fixtures/enrich")
        for p in sorted((REPO / d).iterdir())
    ]
    for kind, path in files:
        try:
            article = clean(load(str(path), fetch=None, max_bytes=10**7), registry)
        except KlipingError:
            continue  # not an article (front page, stub, licence file)
        story = SEED_STORY if kind == "seed" else article.id
        originals.append((article, story))
    for data_dir in data_dirs:
        for url, title, body in _read_data_dir(data_dir):
            if len(body.split()) < MIN_WORDS:
                continue
            article = Article(
                id=article_id(url),
                input=url,
                url=url,
                title=title or body[:80],
                text=body,
                source=registry.by_url(url)
                or Source(name=domain_of(url) or "unknown", domain=domain_of(url)),
                content_hash=content_hash(title or "", body),
            )
            originals.append((article, article.id))
    return _distinct(originals)


def _distinct(originals: list[tuple[Article, str]]) -> list[tuple[Article, str]]:
    """Drop an original that is itself a copy of an earlier one (exact shingle sets, not MinHash).

    The data ship the same article twice (the Antara fixture is also an idnews page): labelled as
    two groups, every correct match between them would count as a false copy.
    """
    kept: list[tuple[Article, str, set[int]]] = []
    for article, story in originals:
        shingles = set(shingle_hashes(fingerprint_text(article.text)).tolist())
        if any(
            len(shingles & other) >= LABEL_SAME_ARTICLE * min(len(shingles), len(other))
            for _, _, other in kept
        ):
            continue
        kept.append((article, story, shingles))
    return [(article, story) for article, story, _ in kept]


def _read_data_dir(path: Path) -> list[tuple[str, str, str]]:
    """(url, title, body) of the expected articles of an aeb or idnews directory."""
    if (path / "ground-truth.json").exists():
        truth = json.loads((path / "ground-truth.json").read_text(encoding="utf-8"))
        return [
            (item.get("url") or f"https://aeb.invalid/{key}", "", item["articleBody"])
            for key, item in truth.items()
        ]
    if (path / "expected.json").exists():
        expected = json.loads((path / "expected.json").read_text(encoding="utf-8"))
        return [
            (
                item.get("url") or f"https://idnews.invalid/{key}",
                item.get("title") or "",
                item.get("content") or "",
            )
            for key, item in expected.items()
        ]
    raise SystemExit(f"{path}: neither ground-truth.json (aeb) nor expected.json (idnews)")


def build_set(originals: list[tuple[Article, str]], seed: int = 5) -> list[Doc]:
    """The labelled set: each original, dated, plus REPRINTS reprints of it by other outlets."""
    rng = random.Random(seed)
    headlines = [a.title for a, _ in originals]
    docs: list[Doc] = []
    for n, (original, story) in enumerate(originals):
        when = BASE_TIME + (timedelta(hours=n) if story == SEED_STORY else timedelta(days=n))
        original = original.model_copy(update={"published_at": original.published_at or when})
        docs.append(Doc(original, original.id, story, True))
        for k, recipe in enumerate(RECIPES[:REPRINTS]):
            text = _reprint(original, recipe, rng, headlines)
            if len(text.split()) < MIN_WORDS:
                continue  # the clean stage would skip it as too short
            _, footer = rng.choice(OUTLETS)
            reprint_id = f"{original.id}-r{k}"
            article = original.model_copy(
                update={
                    "id": reprint_id,
                    "input": reprint_id,
                    "url": f"https://{footer.lower()}/read/{reprint_id}",
                    "text": text,
                    "source": Source(name=footer),
                    "content_hash": content_hash(original.title, text),
                    "published_at": original.published_at + timedelta(hours=rng.randint(1, 48)),
                    "entities": [],
                    "keywords": [],
                    "sentiment": None,
                    "dedup": None,
                }
            )
            docs.append(Doc(article, original.id, story, False))
    return docs


def _reprint(original: Article, recipe: list[str], rng: random.Random, headlines: list[str]) -> str:
    """Apply a recipe's steps to the original's paragraphs."""
    paragraphs = [p for p in original.text.split("\n") if p.strip()]
    header, footer = rng.choice(OUTLETS)
    for step in recipe:
        if step == "truncate":
            words = " ".join(paragraphs).split()
            keep = int(len(words) * rng.uniform(0.3, 0.7))
            paragraphs, count = [], 0
            for paragraph in original.text.split("\n"):
                if count >= keep:
                    break
                taken = paragraph.split()[: keep - count]
                count += len(taken)
                paragraphs.append(" ".join(taken))
        elif step == "merge":
            paragraphs = [" ".join(paragraphs[i : i + 2]) for i in range(0, len(paragraphs), 2)]
        elif step == "edit":
            paragraphs = [_edit(p, rng) for p in paragraphs]
        elif step == "baca":
            for _ in range(rng.randint(1, 3)):
                paragraphs.insert(
                    rng.randint(1, max(1, len(paragraphs))), f"Baca juga: {rng.choice(headlines)}"
                )
        elif step == "wrap":
            paragraphs = [
                header + paragraphs[0],
                *paragraphs[1:],
                f'Artikel ini telah tayang di {footer} dengan judul "{original.title}"',
            ]
    return "\n".join(paragraphs)


def _edit(paragraph: str, rng: random.Random) -> str:
    """Small edits: swap two neighbouring words, make a typo, or change a number."""
    words = paragraph.split()
    for _ in range(
        len(words) // WORDS_PER_EDIT + (rng.random() < (len(words) % WORDS_PER_EDIT) / WORDS_PER_EDIT)
    ):
        i = rng.randrange(len(words))
        kind = rng.choice(["swap", "typo", "number"])
        if kind == "swap" and i + 1 < len(words):
            words[i], words[i + 1] = words[i + 1], words[i]
        elif kind == "number" and _NUMBER.search(words[i]):
            words[i] = _NUMBER.sub(lambda m: str(int(m.group()) + rng.randint(1, 9)), words[i], count=1)
        elif len(words[i]) > 3:
            j = rng.randrange(1, len(words[i]) - 1)
            words[i] = words[i][:j] + words[i][j + 1] + words[i][j] + words[i][j + 2 :]
    return " ".join(words)


def pair_counts(truth: list[str], predicted: list[str]) -> tuple[int, int, int, int]:
    """(same in both, same in truth, same in predicted, all pairs) over every pair of documents."""
    _, t = np.unique(truth, return_inverse=True)
    _, p = np.unique(predicted, return_inverse=True)
    table = np.zeros((t.max() + 1, p.max() + 1), dtype=np.int64)
    np.add.at(table, (t, p), 1)

    def pairs(counts: np.ndarray) -> int:
        return int((counts * (counts - 1) // 2).sum())

    n = len(truth)
    return pairs(table), pairs(table.sum(axis=1)), pairs(table.sum(axis=0)), n * (n - 1) // 2


def adjusted_rand_index(truth: list[str], predicted: list[str]) -> float:
    """Adjusted Rand index of two labelings (Hubert and Arabie), from pair counts."""
    both, in_truth, in_predicted, total = pair_counts(truth, predicted)
    expected = in_truth * in_predicted / total if total else 0.0
    top = (in_truth + in_predicted) / 2
    return 1.0 if top == expected else (both - expected) / (top - expected)


def evaluate(docs: list[Doc], seed: int = 5, redis_url: str | None = None) -> dict:
    """Run the set through the pipeline's store step; return the figures.

    With redis_url the dedup index is the distributed one (RedisDedupIndex under a fresh prefix,
    deleted afterwards); articles stay in the embedded store either way.
    """
    from workers.pipeline import store
    from workers.runtime.wiring import embedded_context
    from workers.settings import Settings

    order = list(docs)
    random.Random(seed).shuffle(order)
    with tempfile.TemporaryDirectory() as tmp:
        ctx = embedded_context(Settings(data_dir=Path(tmp), redis_url=None, elasticsearch_url=None))
        with _dedup_index(redis_url) as dedup:
            ctx.dedup = dedup or ctx.dedup
            for doc in order:
                store(doc.article.model_copy(deep=True), ctx)
        stored = {a.id: a for a in ctx.index.iter_articles()}
    groups = [stored[d.article.id].dedup.canonical_id for d in docs]
    stories = [stored[d.article.id].dedup.story_id for d in docs]
    both, in_truth, in_predicted, _ = pair_counts([d.group for d in docs], groups)
    precision = both / in_predicted if in_predicted else 1.0
    recall = both / in_truth if in_truth else 1.0
    seeds = [i for i, d in enumerate(docs) if d.is_original and d.story == SEED_STORY]
    originals = [i for i, d in enumerate(docs) if d.is_original]
    timings = _time_dedupe(order)
    return {
        "documents": len(docs),
        "originals": len(originals),
        "copy_precision": precision,
        "copy_recall": recall,
        "copy_f1": 2 * precision * recall / (precision + recall) if precision + recall else 0.0,
        "story_ari": adjusted_rand_index([d.story for d in docs], stories),
        "canonical_is_original": sum(groups[i] == docs[i].article.id for i in originals) / len(originals),
        "seeds_copies": sum(stored[docs[i].article.id].dedup.is_canonical is False for i in seeds),
        "seed_groups": len({groups[i] for i in seeds}),
        "seed_stories": len({stories[i] for i in seeds}),
        "dedupe_ms_p50": float(np.percentile(timings, 50)),
        "dedupe_ms_p99": float(np.percentile(timings, 99)),
        "misses": [
            (d.article.id, groups[i])
            for i, d in enumerate(docs)
            if groups[i] != groups[docs.index(_original_of(docs, d))]
        ],
        "false": [
            (d.article.id, groups[i])
            for i, d in enumerate(docs)
            if d.group != next(x.group for x in docs if x.article.id == groups[i])
        ],
    }


@contextlib.contextmanager
def _dedup_index(redis_url: str | None):
    """A RedisDedupIndex under a fresh prefix of redis_url (its keys deleted afterwards), or None."""
    if not redis_url:
        yield None
        return
    import redis

    from workers.backends.redis.state import RedisDedupIndex

    client = redis.Redis.from_url(redis_url, decode_responses=True)
    prefix = f"kliping-eval-{uuid.uuid4().hex[:8]}"
    try:
        yield RedisDedupIndex(client, prefix)
    finally:
        for key in client.scan_iter(match=f"{prefix}:*", count=1000):
            client.unlink(key)
        client.close()


def _original_of(docs: list[Doc], doc: Doc) -> Doc:
    return next(d for d in docs if d.article.id == doc.group)


def _time_dedupe(order: list[Doc]) -> list[float]:
    """Milliseconds of each dedupe() call on a fresh in-memory index, in the same order."""
    index = EmbeddedStore(":memory:")
    timings = []
    for doc in order:
        started = time.perf_counter()
        dedupe(doc.article, index)
        timings.append((time.perf_counter() - started) * 1000)
    index.close()
    return timings


def main() -> None:
    """Build the set, evaluate, print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("data_dirs", nargs="*", type=Path, help="aeb or idnews directories (optional)")
    parser.add_argument("--seed", type=int, default=5, help="random seed of the reprints and the order")
    parser.add_argument("--show-errors", action="store_true", help="list missed and false copies")
    parser.add_argument(
        "--redis-url",
        help="dedup on the Redis index in this database (under its own prefix) instead of SQLite",
    )
    args = parser.parse_args()
    from workers.settings import Settings

    registry = SourceRegistry.load(Settings().sources_file)
    docs = build_set(load_originals(args.data_dirs, registry), args.seed)
    figures = evaluate(docs, args.seed, args.redis_url)
    print(
        f"documents {figures['documents']} ({figures['originals']} originals, {figures['documents'] - figures['originals']} reprints)"
    )
    print(
        f"copies    precision {figures['copy_precision']:.4f}  recall {figures['copy_recall']:.4f}  F1 {figures['copy_f1']:.4f}"
    )
    print(f"stories   adjusted Rand index {figures['story_ari']:.4f}")
    print(f"canonical is the original in {figures['canonical_is_original']:.1%} of groups")
    print(
        f"seeds     {figures['seeds_copies']} marked copies, {figures['seed_groups']} copy groups, {figures['seed_stories']} stories"
    )
    print(
        f"dedupe()  p50 {figures['dedupe_ms_p50']:.2f} ms  p99 {figures['dedupe_ms_p99']:.2f} ms per document ({'Redis' if args.redis_url else 'embedded'} index)"
    )
    if args.show_errors:
        for doc_id, group in figures["misses"]:
            print("missed", doc_id, "→", group)
        for doc_id, group in figures["false"]:
            print("false ", doc_id, "→", group)


if __name__ == "__main__":
    main()
