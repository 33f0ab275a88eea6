"""The embedded store: one SQLite file holding articles (FTS5 search), the dedup index and state."""

from __future__ import annotations

import contextlib
import sqlite3
import threading
import weakref
from collections.abc import Collection, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

from schemas import Article, CopyRef, FailedInput, InputResult, utcnow
from workers.load import input_key
from workers.monitor.compile import SEARCH_FIELDS, fts_match, fts_where, has_not, search_fields
from workers.monitor.query import parse
from workers.ports import Claim, Fingerprint, SearchQuery, StoryRecord, add_copy_ref

_SCHEMA = """
PRAGMA journal_mode = WAL;
PRAGMA synchronous = NORMAL;
-- A checkpoint (WAL pages copied into the database, then fsync) every 10,000 pages (40 MB) instead
-- of SQLite's 1,000: an article dirties ~70 pages (64 of them LSH bands at random places), so the
-- default checkpointed every ~15 articles. The store calls timed over 1,000 benchmark articles:
-- 2.4 → 2.0 ms an article (register 0.87 → 0.68 ms, put_story 0.52 → 0.35 ms a call).
PRAGMA wal_autocheckpoint = 10000;
CREATE TABLE IF NOT EXISTS articles (
    id TEXT PRIMARY KEY,
    content_hash TEXT NOT NULL,
    published_at TEXT,
    dated_at TEXT,
    source_name TEXT,
    source_domain TEXT,
    sentiment TEXT,
    data TEXT NOT NULL
);
-- Row i of the search index is the article of rowid i: FTS5 has no index on its columns, so a
-- lookup by id would read the whole table (23 ms a write at 20,000 articles, growing with them).
-- The columns hold tokens computed by the query language (workers.monitor.compile.search_fields),
-- already folded and split by spaces: FTS5's tokeniser only splits them again ('_' is a word
-- character in Python's tokeniser, so it is one here too).
CREATE VIRTUAL TABLE IF NOT EXISTS articles_fts USING fts5(
    id UNINDEXED, title_tokens, text_tokens, title_roots, text_roots,
    tokenize = "unicode61 remove_diacritics 0 tokenchars '_'"
);
CREATE TABLE IF NOT EXISTS article_entities (
    article_id TEXT NOT NULL, name TEXT NOT NULL, type TEXT NOT NULL, mentions INTEGER NOT NULL,
    canonical TEXT NOT NULL, tone TEXT
);
CREATE INDEX IF NOT EXISTS article_entities_name ON article_entities (name);
CREATE INDEX IF NOT EXISTS article_entities_article ON article_entities (article_id);
CREATE TABLE IF NOT EXISTS dedup_hash (body_hash TEXT PRIMARY KEY, canonical_id TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS dedup_fp (article_id TEXT PRIMARY KEY, data TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS dedup_band (band TEXT NOT NULL, canonical_id TEXT NOT NULL, PRIMARY KEY (band, canonical_id));
CREATE TABLE IF NOT EXISTS dedup_member (canonical_id TEXT NOT NULL, article_id TEXT NOT NULL, PRIMARY KEY (canonical_id, article_id));
CREATE TABLE IF NOT EXISTS stories (story_id TEXT PRIMARY KEY, at TEXT NOT NULL, data TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS stories_at ON stories (at);
CREATE TABLE IF NOT EXISTS story_terms (term TEXT NOT NULL, story_id TEXT NOT NULL, at TEXT NOT NULL, PRIMARY KEY (term, story_id));
-- Covering (story_id in the index): a lookup reads only the index, not a table row per posting;
-- with common terms in thousands of stories of the window that was 14 → 4 ms a lookup at 10,000
-- stories (ops/benchmark_stories.py). It replaces the (term, at) index of earlier stores.
DROP INDEX IF EXISTS story_terms_term_at;
CREATE INDEX IF NOT EXISTS story_terms_term_at_story ON story_terms (term, at, story_id);
INSERT OR IGNORE INTO story_terms SELECT j.value, s.story_id, s.at FROM stories s, json_each(s.data, '$.terms') j
    WHERE NOT EXISTS (SELECT 1 FROM story_terms);
-- Stories per term-index key (all times), kept by put_story: story lookups skip the commonest of an
-- article's terms, and a count capped at 64 ranked most terms alike at 100,000 stories, so common
-- terms were read as rare ones (94 ms a lookup, ops/benchmark_stories.py).
CREATE TABLE IF NOT EXISTS story_term_df (term TEXT PRIMARY KEY, n INTEGER NOT NULL) WITHOUT ROWID;
INSERT OR IGNORE INTO story_term_df SELECT term, count(*) FROM story_terms
    WHERE NOT EXISTS (SELECT 1 FROM story_term_df) GROUP BY term;
CREATE TABLE IF NOT EXISTS outcomes (input TEXT PRIMARY KEY, outcome TEXT NOT NULL, data TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS failed (id TEXT PRIMARY KEY, data TEXT NOT NULL);
"""
# Version 1: articles_fts rows keyed by the article's rowid. Version 2: the search columns hold the
# query language's tokens and stem candidates. Version 3: article_entities.tone, the tone toward a
# person or organisation (NULL for entities enriched before). An earlier store is brought up to date
# when opened: its search index rebuilt from the articles, the tone column added. Version 4: articles.dated_at
# (UTC, the date filters and sorting use: published, else first seen), filled for stored articles from their
# published_at or, undated, their first fetch; their JSON gets first_seen_at, dated_at and date_source.
SCHEMA_VERSION = 4
_FTS_COLUMNS = "rowid, id, title_tokens, text_tokens, title_roots, text_roots"


# Zone offsets run from -12:00 to +14:00: local ISO times sort within 26 hours of time order.
_ZONE_SLACK = timedelta(hours=27)


# The term keys a stored story was indexed under, read from its stored data (story_id: the parameter).
_OLD_TERMS = (
    "(SELECT coalesce(json_extract(s.data, '$.term_class'), '') || j.value"
    " FROM stories s, json_each(s.data, '$.terms') j WHERE s.story_id = ?)"
)


def utc_key(moment: datetime) -> str:
    """A time as fixed-width UTC ISO text, whose order is time order (naive times are read as UTC)."""
    moment = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _fts_insert(rowid: int | None, article_id: str, title: str, text: str) -> tuple[str, tuple]:
    """The statement writing an article's search row (rowid None: the stored article's rowid)."""
    fields = search_fields(title, text)
    values = tuple(fields[column] for column in SEARCH_FIELDS)
    row = "?" if rowid is not None else "(SELECT rowid FROM articles WHERE id = ?)"
    return (
        f"INSERT INTO articles_fts ({_FTS_COLUMNS}) VALUES ({row}, ?, ?, ?, ?, ?)",
        (rowid if rowid is not None else article_id, article_id, *values),
    )


class EmbeddedStore:
    """SQLite implementation of ArticleIndex, DedupIndex and StateStore for the embedded mode."""

    def __init__(self, path: Path | str):
        if str(path) != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
        # closed (WAL checkpointed) when the store goes or at exit, also on the CLI's exit without teardown
        weakref.finalize(self, self._db.close)
        self._lock = threading.RLock()
        self._db.executescript(_SCHEMA)
        self._migrate()

    def _migrate(self) -> None:
        """Bring a store written by an earlier version up to SCHEMA_VERSION (safe to run twice)."""
        version = self._db.execute("PRAGMA user_version").fetchone()[0]
        if version >= SCHEMA_VERSION:
            return
        statements: list[tuple[str, tuple]] = []
        old_columns = {row[1] for row in self._db.execute("PRAGMA table_info(articles_fts)")}
        if version < 2 or "title_tokens" not in old_columns:
            statements += self._rebuild_search(old_columns)
        if "tone" not in {row[1] for row in self._db.execute("PRAGMA table_info(article_entities)")}:
            statements.append(("ALTER TABLE article_entities ADD COLUMN tone TEXT", ()))
        statements += self._add_dated_at()
        self._tx([*statements, (f"PRAGMA user_version = {SCHEMA_VERSION}", ())])

    def _add_dated_at(self) -> list[tuple[str, tuple]]:
        """Statements that add and fill articles.dated_at (and the date fields of the stored JSON)."""
        statements: list[tuple[str, tuple]] = []
        if "dated_at" not in {row[1] for row in self._db.execute("PRAGMA table_info(articles)")}:
            statements.append(("ALTER TABLE articles ADD COLUMN dated_at TEXT", ()))
        statements.append(("CREATE INDEX IF NOT EXISTS articles_dated_at ON articles (dated_at)", ()))
        for article_id, data in self._db.execute("SELECT id, data FROM articles").fetchall():
            article = Article.model_validate_json(
                data
            )  # the model fills first_seen_at, dated_at, date_source
            assert article.dated_at is not None
            statements.append(
                (
                    "UPDATE articles SET dated_at = ?, data = ? WHERE id = ?",
                    (utc_key(article.dated_at), article.model_dump_json(), article_id),
                )
            )
        return statements

    def _rebuild_search(self, old_columns: set[str]) -> list[tuple[str, tuple]]:
        """Statements that refill the search index from the articles (its table made anew when its columns are old)."""
        statements: list[tuple[str, tuple]] = []
        if "title_tokens" not in old_columns:
            create = _SCHEMA[_SCHEMA.index("CREATE VIRTUAL TABLE") :]
            statements += [("DROP TABLE articles_fts", ()), (create[: create.index(";")], ())]
        else:
            statements.append(("DELETE FROM articles_fts", ()))
        for rowid, article_id, title, text in self._db.execute(
            "SELECT rowid, id, json_extract(data, '$.title'), json_extract(data, '$.text') FROM articles"
        ).fetchall():
            statements.append(_fts_insert(rowid, article_id, title or "", text or ""))
        return statements

    def close(self) -> None:
        """Close the database."""
        self._db.close()

    def _tx(self, statements: list[tuple[str, tuple]]) -> None:
        with self._lock:
            if self._db.in_transaction:  # inside story_lock: its transaction commits them
                for sql, params in statements:
                    self._db.execute(sql, params)
                return
            self._db.execute("BEGIN IMMEDIATE")
            try:
                for sql, params in statements:
                    self._db.execute(sql, params)
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    @contextlib.contextmanager
    def story_lock(self) -> Iterator[None]:
        """One write transaction (BEGIN IMMEDIATE) around finding and creating a story: two processes
        on this file cannot both find no story for one event and each create their own."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def _rows(self, sql: str, params: tuple = ()) -> list[tuple]:
        with self._lock:
            return self._db.execute(sql, params).fetchall()

    # --- ArticleIndex -------------------------------------------------------------------------

    def get(self, article_id: str) -> Article | None:
        """The stored article, or None."""
        rows = self._rows("SELECT data FROM articles WHERE id = ?", (article_id,))
        return Article.model_validate_json(rows[0][0]) if rows else None

    def put(self, article: Article) -> None:
        """Create or replace an article, its search row and its entity rows in one transaction."""
        statements: list[tuple[str, tuple]] = [
            (
                # An upsert, not INSERT OR REPLACE: the row keeps its rowid, which keys its search row.
                "INSERT INTO articles (id, content_hash, published_at, dated_at, source_name, source_domain, sentiment,"
                " data) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET content_hash = excluded.content_hash,"
                " published_at = excluded.published_at, dated_at = excluded.dated_at, source_name = excluded.source_name,"
                " source_domain = excluded.source_domain, sentiment = excluded.sentiment, data = excluded.data",
                (
                    article.id,
                    article.content_hash,
                    article.published_at.isoformat() if article.published_at else None,
                    utc_key(article.dated_at or article.fetched_at),
                    article.source.name,
                    article.source.domain,
                    article.sentiment.label.value if article.sentiment else None,
                    article.model_dump_json(),
                ),
            ),
            (
                "DELETE FROM articles_fts WHERE rowid = (SELECT rowid FROM articles WHERE id = ?)",
                (article.id,),
            ),
            _fts_insert(None, article.id, article.title, article.text),
            ("DELETE FROM article_entities WHERE article_id = ?", (article.id,)),
        ]
        for entity in article.entities:
            tone = entity.sentiment.label.value if entity.sentiment else None
            for name in {entity.name.lower(), *(alias.lower() for alias in entity.aliases)}:
                statements.append(
                    (
                        "INSERT INTO article_entities (article_id, name, type, mentions, canonical, tone)"
                        " VALUES (?, ?, ?, ?, ?, ?)",
                        (article.id, name, entity.type.value, entity.mentions, entity.name, tone),
                    )
                )
        self._tx(statements)

    def add_copy(self, canonical_id: str, ref: CopyRef) -> None:
        """Record a copy on its canonical article (idempotent)."""
        with self._lock:
            canonical = self.get(canonical_id)
            if canonical is not None and add_copy_ref(canonical, ref):
                self._tx(
                    [
                        (
                            "UPDATE articles SET data = ? WHERE id = ?",
                            (canonical.model_dump_json(), canonical_id),
                        )
                    ]
                )

    def search(self, query: SearchQuery) -> list[Article]:
        """Articles matching the query (FTS5 rank when there is text, newest first otherwise)."""
        where, params, order = list[str](), list[str | int](), "a.dated_at DESC"
        sql = "SELECT a.data FROM articles a"
        node = parse(query.text) if query.text and query.text.strip() else None
        if node is not None and not has_not(node):  # one MATCH: ranked by FTS5's bm25
            sql += " JOIN articles_fts f ON f.rowid = a.rowid"
            where.append("articles_fts MATCH ?")
            params.append(fts_match(node))
            order = "f.rank"
        elif node is not None:  # NOT needs SQL around the MATCHes; newest first
            condition, match_params = fts_where(node)
            where.append(condition)
            params += match_params
        if query.entity and query.sentiment:  # the tone toward that entity, not the article's sentiment
            where.append("a.id IN (SELECT article_id FROM article_entities WHERE name = ? AND tone = ?)")
            params += [query.entity.lower(), query.sentiment.value]
        elif query.entity:
            where.append("a.id IN (SELECT article_id FROM article_entities WHERE name = ?)")
            params.append(query.entity.lower())
        if query.source:
            where.append("(lower(a.source_name) = ? OR lower(a.source_domain) = ?)")
            params += [query.source.lower()] * 2
        if query.since:
            where.append("a.dated_at >= ?")
            params.append(utc_key(query.since))
        if query.until:
            where.append("a.dated_at < ?")
            params.append(utc_key(query.until))
        if query.sentiment and not query.entity:
            where.append("a.sentiment = ?")
            params.append(query.sentiment.value)
        if query.story_id:
            where.append("json_extract(a.data, '$.dedup.story_id') = ?")
            params.append(query.story_id)
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += f" ORDER BY {order} LIMIT ?"
        params.append(query.limit)
        try:
            rows = self._rows(sql, tuple(params))
        except sqlite3.OperationalError as exc:  # a compiler bug, not the analyst's: say so plainly
            raise RuntimeError(f"the search index refused the compiled query {params}: {exc}") from exc
        return [Article.model_validate_json(row[0]) for row in rows]

    def ids_starting(self, prefix: str, limit: int = 10) -> list[str]:
        """Stored article ids beginning with `prefix` (for ids typed short), sorted."""
        end = prefix[:-1] + chr(ord(prefix[-1]) + 1) if prefix else ""
        sql = "SELECT id FROM articles WHERE id >= ? AND id < ? ORDER BY id LIMIT ?"
        return [row[0] for row in self._rows(sql, (prefix, end, limit))] if prefix else []

    def iter_articles(self) -> Iterator[Article]:
        """Every stored article, in id order."""
        with self._lock:
            ids = [row[0] for row in self._db.execute("SELECT id FROM articles ORDER BY id")]
        for article_id in ids:
            article = self.get(article_id)
            if article is not None:
                yield article

    def count(self) -> int:
        """Number of stored articles."""
        return self._rows("SELECT count(*) FROM articles")[0][0]

    # --- DedupIndex ---------------------------------------------------------------------------

    def find_exact(self, body_hash: str) -> str | None:
        """Canonical id registered for an identical body."""
        rows = self._rows("SELECT canonical_id FROM dedup_hash WHERE body_hash = ?", (body_hash,))
        return rows[0][0] if rows else None

    def candidates(self, bands: list[str]) -> set[str]:
        """Canonical ids sharing at least one LSH band."""
        if not bands:
            return set()
        marks = ",".join("?" * len(bands))
        return {
            row[0]
            for row in self._rows(
                f"SELECT DISTINCT canonical_id FROM dedup_band WHERE band IN ({marks})", tuple(bands)
            )
        }

    def fingerprint(self, article_id: str) -> Fingerprint | None:
        """The stored fingerprint of an article."""
        rows = self._rows("SELECT data FROM dedup_fp WHERE article_id = ?", (article_id,))
        return Fingerprint.model_validate_json(rows[0][0]) if rows else None

    def register(self, fp: Fingerprint, bands: list[str], seen: Collection[str] | None = None) -> Claim:
        """Register in one transaction, with the same rules as the Redis claim script."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                claim = self._register(fp, bands, seen)
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")
        return claim

    def _register(self, fp: Fingerprint, bands: list[str], seen: Collection[str] | None) -> Claim:
        db, is_copy = self._db, fp.canonical_id != fp.article_id
        if is_copy:
            current = self._canonical_of(fp.canonical_id)
            if current is not None and current != fp.canonical_id:
                return Claim(moved_to=current)
        elif seen is not None and bands:
            marks = ",".join("?" * len(bands))
            found = {
                row[0]
                for row in db.execute(
                    f"SELECT DISTINCT canonical_id FROM dedup_band WHERE band IN ({marks})", tuple(bands)
                )
            }
            fresh = sorted(found - set(seen) - {fp.article_id})
            if fresh:
                return Claim(candidates=fresh)
        db.execute("INSERT OR IGNORE INTO dedup_hash VALUES (?, ?)", (fp.body_hash, fp.canonical_id))
        winner = db.execute(
            "SELECT canonical_id FROM dedup_hash WHERE body_hash = ?", (fp.body_hash,)
        ).fetchone()[0]
        if winner == fp.canonical_id:
            db.execute("INSERT OR REPLACE INTO dedup_fp VALUES (?, ?)", (fp.article_id, fp.model_dump_json()))
            if is_copy:
                db.execute(
                    "INSERT OR IGNORE INTO dedup_member VALUES (?, ?)", (fp.canonical_id, fp.article_id)
                )
            else:
                db.executemany(
                    "INSERT OR IGNORE INTO dedup_band VALUES (?, ?)", [(b, fp.article_id) for b in bands]
                )
        return Claim(winner=winner)

    def _canonical_of(self, article_id: str) -> str | None:
        row = self._db.execute("SELECT data FROM dedup_fp WHERE article_id = ?", (article_id,)).fetchone()
        return Fingerprint.model_validate_json(row[0]).canonical_id if row else None

    def repoint(self, fp: Fingerprint, old_id: str, bands: list[str], old_bands: list[str]) -> Claim:
        """Make fp the canonical of old_id's group in one transaction (idempotent, like the Redis script)."""
        with self._lock:
            db = self._db
            db.execute("BEGIN IMMEDIATE")
            try:
                current = self._canonical_of(old_id)
                if current is None or current != old_id:
                    db.execute("ROLLBACK")
                    return Claim(gone=True) if current is None else Claim(moved_to=current)
                members = [
                    row[0]
                    for row in db.execute(
                        "SELECT article_id FROM dedup_member WHERE canonical_id = ?", (old_id,)
                    )
                ]
                for member in [*members, old_id]:
                    if member == fp.article_id:
                        continue
                    row = db.execute("SELECT data FROM dedup_fp WHERE article_id = ?", (member,)).fetchone()
                    if row:
                        moved = Fingerprint.model_validate_json(row[0]).model_copy(
                            update={"canonical_id": fp.article_id}
                        )
                        db.execute(
                            "UPDATE dedup_fp SET data = ? WHERE article_id = ?",
                            (moved.model_dump_json(), member),
                        )
                        db.execute(
                            "UPDATE dedup_hash SET canonical_id = ? WHERE body_hash = ? AND canonical_id = ?",
                            (fp.article_id, moved.body_hash, old_id),
                        )
                    db.execute("INSERT OR IGNORE INTO dedup_member VALUES (?, ?)", (fp.article_id, member))
                db.execute("DELETE FROM dedup_member WHERE canonical_id = ?", (old_id,))
                # by its bands: the primary key (band, canonical_id) finds them; by canonical_id alone
                # it would read all 64 rows of every canonical in the store
                db.executemany(
                    "DELETE FROM dedup_band WHERE band = ? AND canonical_id = ?",
                    [(b, old_id) for b in old_bands],
                )
                db.execute(
                    "INSERT OR REPLACE INTO dedup_fp VALUES (?, ?)", (fp.article_id, fp.model_dump_json())
                )
                db.execute("INSERT OR REPLACE INTO dedup_hash VALUES (?, ?)", (fp.body_hash, fp.article_id))
                db.executemany(
                    "INSERT OR IGNORE INTO dedup_band VALUES (?, ?)", [(b, fp.article_id) for b in bands]
                )
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")
        return Claim(winner=fp.article_id)

    def members(self, canonical_id: str) -> list[Fingerprint]:
        """Fingerprints of a canonical's copies."""
        rows = self._rows(
            "SELECT f.data FROM dedup_member m JOIN dedup_fp f ON f.article_id = m.article_id"
            " WHERE m.canonical_id = ? ORDER BY m.article_id",
            (canonical_id,),
        )
        return [Fingerprint.model_validate_json(row[0]) for row in rows]

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

    # --- StateStore ---------------------------------------------------------------------------

    def record(self, result: InputResult) -> None:
        """Remember the latest outcome of an input."""
        self._tx(
            [
                (
                    "INSERT OR REPLACE INTO outcomes VALUES (?, ?, ?)",
                    (input_key(result.input), result.outcome.value, result.model_dump_json()),
                )
            ]
        )

    def quarantine(self, failed: FailedInput) -> None:
        """Keep a failed input for replay (attempts add up across replays)."""
        rows = self._rows("SELECT data FROM failed WHERE id = ?", (failed.id,))
        if rows:
            failed = failed.model_copy(
                update={"attempts": FailedInput.model_validate_json(rows[0][0]).attempts + 1}
            )
        self._tx([("INSERT OR REPLACE INTO failed VALUES (?, ?)", (failed.id, failed.model_dump_json()))])

    def release(self, failed_id: str) -> None:
        """Drop an input from the quarantine."""
        self._tx([("DELETE FROM failed WHERE id = ?", (failed_id,))])

    def failed(self) -> list[FailedInput]:
        """Quarantined inputs, oldest first."""
        items = [FailedInput.model_validate_json(row[0]) for row in self._rows("SELECT data FROM failed")]
        return sorted(items, key=lambda item: item.failed_at)

    def outcome_counts(self) -> dict[str, int]:
        """Counts of the latest outcome of every input ever recorded."""
        return dict(self._rows("SELECT outcome, count(*) FROM outcomes GROUP BY outcome"))
