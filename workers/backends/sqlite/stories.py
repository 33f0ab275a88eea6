"""The embedded store's story index: stories and the term index that finds them."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime, timedelta

from schemas import utcnow
from workers.backends.sqlite.connection import Connection
from workers.ports import StoryRecord

# Zone offsets run from -12:00 to +14:00: local ISO times sort within 26 hours of time order.
_ZONE_SLACK = timedelta(hours=27)


# The term keys a stored story was indexed under, read from its stored data (story_id: the parameter).
_OLD_TERMS = (
    "(SELECT coalesce(json_extract(s.data, '$.term_class'), '') || j.value"
    " FROM stories s, json_each(s.data, '$.terms') j WHERE s.story_id = ?)"
)


class StoryRows(Connection):
    """The story part of DedupIndex on SQLite (story_lock is the connection's)."""

    def stories_sharing(
        self,
        terms: list[str],
        since: datetime,
        min_shared: int,
        until: datetime | None = None,
        others: Collection[str] = (),
        total: int = 0,
    ) -> list[StoryRecord]:
        """Stories of `since` to `until` (None: no end) with at least `min_shared` of the terms, and
        `total` of the terms and `others` together, oldest first.

        The term index is read for the terms only; each story found is tested for the others by
        primary key (term, story_id). Its times are ISO text in each story's own zone, whose order
        is within a day of time order: the query takes a day more on each side, and the exact
        bounds are applied to the rows it returns.
        """
        terms = list(dict.fromkeys(terms))
        if not terms:
            return []
        extra = [term for term in dict.fromkeys(others) if term not in terms]
        marks = ",".join("?" * len(terms))
        last = (until + _ZONE_SLACK).isoformat() if until else "~"  # "~" sorts after every ISO time
        sql = (
            "SELECT s.at, s.story_id, s.data FROM stories s JOIN (SELECT story_id, count(*) AS n FROM story_terms"
            f" WHERE term IN ({marks}) AND at >= ? AND at <= ? GROUP BY story_id HAVING count(*) >= ?) t"
            " ON t.story_id = s.story_id"
        )
        params: tuple = (*terms, (since - _ZONE_SLACK).isoformat(), last, min_shared)
        if extra:
            sql += (
                " WHERE t.n + (SELECT count(*) FROM story_terms o WHERE o.story_id = t.story_id"
                f" AND o.term IN ({','.join('?' * len(extra))})) >= ?"
            )
            params = (*params, *extra, total)
        rows = self._rows(sql, params)
        found = sorted(
            (datetime.fromisoformat(at), story_id, data) for at, story_id, data in rows
        )  # as Redis: time, then id
        return [
            StoryRecord.model_validate_json(data)
            for at, _, data in found
            if since <= at and (until is None or at <= until)
        ]

    def story_term_counts(
        self, terms: list[str], since: datetime, until: datetime | None, cap: int
    ) -> dict[str, int]:
        """Stories per term key, of all times (story_term_df: one primary-key read a term, exact
        whatever the term's frequency); the window and `cap` are unused, the counts only order terms."""
        terms = list(dict.fromkeys(terms))
        if not terms:
            return {}
        marks = ",".join("?" * len(terms))
        return dict(self._rows(f"SELECT term, n FROM story_term_df WHERE term IN ({marks})", tuple(terms)))

    def put_story(self, story: StoryRecord) -> None:
        """Create or refresh a story and its term index."""
        at = (story.published_at or utcnow()).isoformat()
        self._tx(
            [
                # The old term rows by primary key (term, story_id), their terms read from the stored story:
                # by story_id alone the delete read the whole term index, which made put_story grow with
                # the store (0.2 → 1.2 ms from 1,000 to 6,000 articles).
                (
                    "UPDATE story_term_df SET n = n - 1 WHERE term IN (SELECT o.term FROM story_terms o"
                    f" WHERE o.story_id = ? AND o.term IN {_OLD_TERMS})",
                    (story.story_id, story.story_id),
                ),
                (
                    f"DELETE FROM story_terms WHERE story_id = ? AND term IN {_OLD_TERMS}",
                    (story.story_id, story.story_id),
                ),
                (
                    "INSERT OR REPLACE INTO stories VALUES (?, ?, ?)",
                    (story.story_id, at, story.model_dump_json()),
                ),
                *(
                    ("INSERT OR IGNORE INTO story_terms VALUES (?, ?, ?)", (term, story.story_id, at))
                    for term in story.index_terms()
                ),
                *(
                    (
                        "INSERT INTO story_term_df VALUES (?, 1) ON CONFLICT (term) DO UPDATE SET n = n + 1",
                        (term,),
                    )
                    for term in story.index_terms()
                ),
            ]
        )
