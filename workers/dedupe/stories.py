"""Story clustering: canonical articles sharing enough key terms within a time window form one story."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from schemas import Article
from workers.ports import DedupIndex, StoryRecord

# Story clustering: two canonical articles belong to one story when their key terms (top entities
# and keywords) overlap by at least STORY_OVERLAP of the smaller set and share STORY_MIN_SHARED
# terms, within the story window. Chosen so the five seed reports (one event) join and unrelated
# Indonesian news does not.
STORY_TERMS = 12
STORY_OVERLAP = 0.45
STORY_MIN_SHARED = 3
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

# Story lookups skip the commonest of an article's terms and still find every story that can
# match (see matching_stories): the stories read must share PROBE_HITS of the terms probed.
# 2 rather than 1: with 1, every story holding any one rare term is read (ops/benchmark_stories.py:
# hundreds of stories a lookup at 100,000 stories); with 2, one common term fewer is skipped.
PROBE_HITS = 2
# Term frequencies for choosing what to skip are counted up to this many stories: beyond it a term
# is common and skipped first anyway; the count walks at most this many index entries per term.
TERM_COUNT_CAP = 64


def needed_shared(terms: int, story_terms: int) -> int:
    """Fewest shared terms with which a story of `story_terms` terms can take an article of `terms` terms."""
    size = max(1, min(terms, story_terms))
    overlap = next((shared for shared in range(size + 1) if shared / size >= STORY_OVERLAP), size + 1)
    return max(STORY_MIN_SHARED, overlap)


def term_class(size: int) -> str:
    """The term-index class of a story of `size` terms: "" for a full story, else a mark and the
    number of shared terms a full article needs with it ("\x1f5"). Full stories keep unmarked keys,
    so stories written before classes existed read as full."""
    need = needed_shared(STORY_TERMS, size)
    return "" if need == needed_shared(STORY_TERMS, STORY_TERMS) else f"\x1f{need}"


def _class_needs(terms: int) -> dict[str, int]:
    """Per story class, the fewest shared terms any story of that class needs with an article of `terms` terms."""
    needs: dict[str, int] = {}
    for size in range(1, STORY_TERMS + 1):
        mark, need = term_class(size), needed_shared(terms, size)
        needs[mark] = min(needs.get(mark, need), need)
    return needs


def story_terms(article: Article) -> list[str]:
    """Key terms of an article for story clustering: top entities, then keywords, lower-cased."""
    terms: list[str] = []
    for name in [e.name for e in article.entities] + list(article.keywords):
        term = name.lower()
        if term not in terms:
            terms.append(term)
        if len(terms) >= STORY_TERMS:
            break
    return terms


def _within(a: datetime | None, b: datetime | None, window: timedelta) -> bool:
    """True when two times are within the window; an unknown time does not rule a story out."""
    return a is None or b is None or abs(a - b) <= window


def _probe(
    index: DedupIndex, keys: list[str], need: int, since: datetime, until: datetime | None
) -> list[StoryRecord]:
    """Every story whose term keys hold at least `need` of `keys`, reading the rarest keys only.

    Pigeonhole: a story holding `need` of the n keys holds at least `need - skip` of the n - skip
    rarest ones, whichever `skip` keys are left out. So the `need - PROBE_HITS` commonest keys are
    read as postings at all: the index reads the stories holding PROBE_HITS of the rest and tests
    those for the skipped keys one by one (a membership test each), returning the stories that
    hold `need` in all.
    """
    if need > len(keys):
        return []
    hits = min(PROBE_HITS, need)
    skip = need - hits
    if not skip:
        return index.stories_sharing(keys, since, need, until)
    counts = index.story_term_counts(keys, since, until, TERM_COUNT_CAP)
    keys = sorted(keys, key=lambda key: (counts.get(key, 0), key))
    rare, common = keys[: len(keys) - skip], keys[len(keys) - skip :]
    return index.stories_sharing(rare, since, hits, until, others=common, total=need)


def matching_stories(
    terms: list[str],
    when: datetime | None,
    index: DedupIndex,
    window: timedelta,
    seen: datetime | None = None,
) -> list[StoryRecord]:
    """Stories an article with these terms can join (enough shared terms, in the window), oldest first.

    Exact: the same stories as reading every story that shares STORY_MIN_SHARED terms and checking
    each (tests/test_story_index.py). Stories are indexed by size class (term_class): a full story
    must share more terms than a small one, so more of the commonest terms are skipped for it.
    """
    # An undated article (a plain-text file) may belong to a story of any time before it was first `seen`.
    since = when - window if when else _EPOCH
    latest = when or seen
    until = latest + window if latest else None  # a back-filled article: not every later story either
    found: dict[str, StoryRecord] = {}
    for mark, need in _class_needs(len(terms)).items():
        for story in _probe(index, [mark + term for term in terms], need, since, until):
            found.setdefault(story.story_id, story)
    matches = []
    for story in found.values():
        shared = len(set(terms) & set(story.terms))
        if _within(when, story.published_at, window) and shared >= needed_shared(
            len(terms), len(story.terms)
        ):
            matches.append(story)
    return sorted(matches, key=lambda story: (story.published_at or _EPOCH, story.story_id))


def assign_story(article: Article, index: DedupIndex, window: timedelta) -> str:
    """The story id of a canonical article: an existing story with enough shared terms, or a new one."""
    terms = story_terms(article)
    when = article.published_at
    with index.story_lock():  # two reports of one event stored at once must not found two stories
        best_id, best_score = None, 0.0
        for story in matching_stories(terms, when, index, window, seen=article.first_seen_at):
            score = len(set(terms) & set(story.terms)) / max(1, min(len(terms), len(story.terms)))
            if score > best_score:
                best_id, best_score = story.story_id, score
        if best_id is not None:
            return best_id
        index.put_story(
            StoryRecord(
                story_id=article.id,
                terms=terms,
                title=article.title,
                # The stated date when there is one (dated_at may predate a copy that changed published_at);
                # an undated article's story: when it was first seen.
                published_at=when or article.dated_at,
                term_class=term_class(len(terms)),
            )
        )
    return article.id
