"""The story term index of both dedup backends: only stories sharing enough terms are read."""

from __future__ import annotations

import random
import sqlite3
from datetime import UTC, datetime, timedelta, timezone

import pytest

from tests.test_dedupe_canonical import (
    WHEN,
    _article,
    index,  # noqa: F401 - each dedup index, empty
)
from workers.backends.sqlite.store import EmbeddedStore
from workers.dedupe import (
    STORY_MIN_SHARED,
    STORY_OVERLAP,
    STORY_TERMS,
    assign_story,
    matching_stories,
    term_class,
)
from workers.ports import StoryRecord

NOW = datetime(2025, 4, 28, 12, tzinfo=UTC)
KURSK = ["kursk", "korea utara", "rusia", "pasukan", "ukraina"]


def test_only_stories_sharing_enough_terms_at_or_after_since(index):  # noqa: F811
    index.put_story(StoryRecord(story_id="late", terms=[*KURSK[:3], "putin"], published_at=NOW))
    index.put_story(StoryRecord(story_id="early", terms=KURSK, published_at=NOW - timedelta(days=1)))
    index.put_story(StoryRecord(story_id="two", terms=[*KURSK[:2], "banjir"], published_at=NOW))
    index.put_story(StoryRecord(story_id="old", terms=KURSK, published_at=NOW - timedelta(days=5)))
    found = index.stories_sharing(KURSK, NOW - timedelta(days=3), STORY_MIN_SHARED)
    assert [s.story_id for s in found] == ["early", "late"]
    assert found[0].terms == KURSK
    assert index.stories_sharing([], NOW - timedelta(days=3), STORY_MIN_SHARED) == []
    assert [s.story_id for s in index.stories_sharing(KURSK[:2], NOW - timedelta(days=3), 2)] == [
        "early",
        "late",
        "two",
    ]


def test_stories_after_until_are_not_read(index):  # noqa: F811
    # a back-filled article of 2020 must not read every later story sharing its terms
    index.put_story(StoryRecord(story_id="then", terms=KURSK, published_at=NOW - timedelta(days=1)))
    index.put_story(
        StoryRecord(
            story_id="zone",
            terms=KURSK,
            published_at=(NOW + timedelta(hours=2)).astimezone(timezone(timedelta(hours=9))),
        )
    )
    index.put_story(StoryRecord(story_id="later", terms=KURSK, published_at=NOW + timedelta(days=4)))
    found = index.stories_sharing(
        KURSK, NOW - timedelta(days=3), STORY_MIN_SHARED, until=NOW + timedelta(days=3)
    )
    assert [s.story_id for s in found] == ["then", "zone"]
    # the bounds are exact whatever the zone a story was written in (+09:00 reads later as text)
    assert [
        s.story_id for s in index.stories_sharing(KURSK, NOW - timedelta(days=3), STORY_MIN_SHARED, until=NOW)
    ] == ["then"]
    assert [s.story_id for s in index.stories_sharing(KURSK, NOW + timedelta(hours=1), STORY_MIN_SHARED)] == [
        "zone",
        "later",
    ]


def test_a_refreshed_story_is_found_by_its_new_terms(index):  # noqa: F811
    index.put_story(StoryRecord(story_id="s", terms=["banjir", "jakarta", "bekasi"], published_at=NOW))
    index.put_story(StoryRecord(story_id="s", terms=KURSK, published_at=NOW))
    [story] = index.stories_sharing(KURSK, NOW - timedelta(days=1), STORY_MIN_SHARED)
    assert story.terms == KURSK


def test_a_canonical_joins_its_story_among_many_others(index):  # noqa: F811
    for n in range(300):
        index.put_story(
            StoryRecord(
                story_id=f"other{n}",
                terms=[f"tokoh{n}", f"kota{n}", "jakarta", "indonesia"],
                published_at=WHEN,
            )
        )
    first = _article(
        "first",
        "Korea Utara mengirim pasukan ke Kursk untuk membantu Rusia melawan Ukraina.",
        published_at=WHEN,
    )
    first = first.model_copy(update={"keywords": KURSK})
    story = assign_story(first, index, timedelta(days=3))
    assert story == "first"
    second = _article(
        "second",
        "Pasukan Korea Utara bertempur di Kursk bersama Rusia.",
        published_at=WHEN + timedelta(hours=5),
    )
    assert (
        assign_story(second.model_copy(update={"keywords": KURSK[::-1]}), index, timedelta(days=3)) == "first"
    )


def test_an_older_embedded_store_gets_its_term_index_on_open(tmp_path):
    path = tmp_path / "old.sqlite3"
    store = EmbeddedStore(path)
    store.put_story(StoryRecord(story_id="s", terms=KURSK, published_at=NOW))
    store.close()
    with sqlite3.connect(path) as db:  # as a store written before the term index existed
        db.execute("DELETE FROM story_terms")
    reopened = EmbeddedStore(path)
    assert [
        s.story_id for s in reopened.stories_sharing(KURSK, NOW - timedelta(days=1), STORY_MIN_SHARED)
    ] == ["s"]


def _steps_of_put_story(store: EmbeddedStore, story_id: str) -> int:
    """SQLite virtual-machine steps (in units of 100) that one put_story takes: work, not time."""
    steps = [0]

    def count() -> int:
        steps[0] += 1
        return 0

    store._db.set_progress_handler(count, 100)
    store.put_story(StoryRecord(story_id=story_id, terms=KURSK, published_at=NOW))
    store._db.set_progress_handler(None, 100)
    return steps[0]


def test_embedded_put_story_does_not_read_the_whole_term_index(tmp_path):
    store = EmbeddedStore(tmp_path / "s.sqlite3")
    store.put_story(StoryRecord(story_id="s", terms=["banjir", "jakarta", "bekasi"], published_at=NOW))
    small = _steps_of_put_story(store, "s")
    for n in range(2000):
        store.put_story(
            StoryRecord(story_id=f"other{n}", terms=[f"tokoh{n}", f"kota{n}", "jakarta"], published_at=NOW)
        )
    large = _steps_of_put_story(store, "s")
    assert large < 2 * small + 10  # 6,000 more term rows: a scan would take hundreds of steps more
    assert [
        s.story_id
        for s in store.stories_sharing(
            ["banjir", "jakarta", "bekasi"], NOW - timedelta(days=1), STORY_MIN_SHARED
        )
    ] == []


def test_embedded_story_lookup_reads_only_the_covering_index(tmp_path):
    path = tmp_path / "s.sqlite3"
    store = EmbeddedStore(path)
    store.put_story(StoryRecord(story_id="s", terms=KURSK, published_at=NOW))
    store.close()
    with sqlite3.connect(path) as db:  # a store of the earlier layout: the (term, at) index only
        db.execute("DROP INDEX story_terms_term_at_story")
        db.execute("CREATE INDEX story_terms_term_at ON story_terms (term, at)")
    store = EmbeddedStore(path)
    names = {
        row[0]
        for row in store._rows(
            "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'story_terms'"
        )
    }
    assert "story_terms_term_at" not in names and "story_terms_term_at_story" in names
    statements: list[str] = []
    store._db.set_trace_callback(statements.append)  # the statements run, with their values bound
    assert [s.story_id for s in store.stories_sharing(KURSK, NOW - timedelta(days=1), STORY_MIN_SHARED)] == [
        "s"
    ]
    store._db.set_trace_callback(None)
    [lookup] = [sql for sql in statements if "story_terms" in sql]
    plan = " ".join(row[3] for row in store._rows(f"EXPLAIN QUERY PLAN {lookup}"))
    assert "COVERING INDEX story_terms_term_at_story" in plan


@pytest.mark.slow
def test_matching_stories_equal_an_exhaustive_check(index):  # noqa: F811
    # Zipf-like terms (a few in most stories), stories of every size class, times over a week: the
    # lookup that skips the commonest terms finds exactly the stories a check of every story finds.
    rng = random.Random(7)
    vocabulary = [f"t{i}" for i in range(300)]
    weights = [1 / (rank + 1) for rank in range(len(vocabulary))]

    def draw(count: int) -> list[str]:
        return list(dict.fromkeys(rng.choices(vocabulary, weights, k=count)))[:STORY_TERMS]

    window = timedelta(days=3)
    stories = []
    for number in range(400):
        terms = draw(STORY_TERMS + 4) if number % 4 else draw(rng.randint(2, 9))
        story = StoryRecord(
            story_id=f"s{number}",
            terms=terms,
            published_at=NOW + timedelta(hours=rng.randint(-96, 96)),
            term_class=term_class(len(terms)),
        )
        index.put_story(story)
        stories.append(story)
    checked = 0
    for _ in range(150):
        terms = draw(STORY_TERMS + 4) if rng.random() < 0.7 else draw(rng.randint(3, 9))
        when = NOW + timedelta(hours=rng.randint(-48, 48))
        expected = sorted(
            (s.published_at, s.story_id)
            for s in stories
            if abs(s.published_at - when) <= window
            and len(set(terms) & set(s.terms)) >= STORY_MIN_SHARED
            and len(set(terms) & set(s.terms)) / max(1, min(len(terms), len(s.terms))) >= STORY_OVERLAP
        )
        found = [(s.published_at, s.story_id) for s in matching_stories(terms, when, index, window)]
        assert found == expected
        checked += bool(expected)
    assert checked > 20  # the case is not vacuous: many lookups have matches


def test_embedded_term_counts_follow_refreshes_and_old_stores(tmp_path):
    path = tmp_path / "s.sqlite3"
    store = EmbeddedStore(path)
    store.put_story(StoryRecord(story_id="a", terms=["x", "y"], published_at=NOW))
    store.put_story(StoryRecord(story_id="b", terms=["x", "z"], published_at=NOW))
    store.put_story(StoryRecord(story_id="a", terms=["y", "z"], published_at=NOW))  # refreshed: x left it
    counts = {"x": 1, "y": 1, "z": 2}
    assert store.story_term_counts(["x", "y", "z", "w"], NOW, None, 1) == counts  # exact, not capped
    store.close()
    with sqlite3.connect(path) as db:  # as a store written before the counts existed
        db.execute("DROP TABLE story_term_df")
    assert EmbeddedStore(path).story_term_counts(["x", "y", "z"], NOW, None, 1) == counts


def test_a_lookup_skips_the_commonest_terms(index):  # noqa: F811
    common = [f"common{n}" for n in range(4)]
    for number in range(30):  # the common terms in every story, the rare ones in none
        index.put_story(StoryRecord(story_id=f"s{number}", terms=[*common, f"own{number}"], published_at=NOW))
    terms = [*common, *(f"rare{n}" for n in range(8))]  # 12 terms: 6 to share, so 4 can be skipped
    read: list[list[str]] = []
    sharing = index.stories_sharing

    def spy(keys, *args, **kwargs):
        read.append(list(keys))
        return sharing(keys, *args, **kwargs)

    index.stories_sharing = spy
    assert matching_stories(terms, NOW, index, timedelta(days=3)) == []
    full = [keys for keys in read if not keys[0].startswith("\x1f")]  # the full-story class: unmarked keys
    assert full and all(not set(keys) & set(common) for keys in full)  # only the rare terms' postings
