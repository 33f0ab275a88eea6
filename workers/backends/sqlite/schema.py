"""The embedded store's tables, its schema version and the migration of stores written by earlier versions."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime

from schemas import Article
from workers.monitor.compile import SEARCH_FIELDS, search_fields

SCHEMA = """
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


def utc_key(moment: datetime) -> str:
    """A time as fixed-width UTC ISO text, whose order is time order (naive times are read as UTC)."""
    moment = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def fts_insert(rowid: int | None, article_id: str, title: str, text: str) -> tuple[str, tuple]:
    """The statement writing an article's search row (rowid None: the stored article's rowid)."""
    fields = search_fields(title, text)
    values = tuple(fields[column] for column in SEARCH_FIELDS)
    row = "?" if rowid is not None else "(SELECT rowid FROM articles WHERE id = ?)"
    return (
        f"INSERT INTO articles_fts ({_FTS_COLUMNS}) VALUES ({row}, ?, ?, ?, ?, ?)",
        (rowid if rowid is not None else article_id, article_id, *values),
    )


def migration(db: sqlite3.Connection) -> list[tuple[str, tuple]]:
    """The statements that bring a store written by an earlier version up to SCHEMA_VERSION (none when
    it is; safe to run twice)."""
    version = db.execute("PRAGMA user_version").fetchone()[0]
    if version >= SCHEMA_VERSION:
        return []
    statements: list[tuple[str, tuple]] = []
    old_columns = {row[1] for row in db.execute("PRAGMA table_info(articles_fts)")}
    if version < 2 or "title_tokens" not in old_columns:
        statements += _rebuild_search(db, old_columns)
    if "tone" not in {row[1] for row in db.execute("PRAGMA table_info(article_entities)")}:
        statements.append(("ALTER TABLE article_entities ADD COLUMN tone TEXT", ()))
    statements += _add_dated_at(db)
    return [*statements, (f"PRAGMA user_version = {SCHEMA_VERSION}", ())]


def _add_dated_at(db: sqlite3.Connection) -> list[tuple[str, tuple]]:
    """Statements that add and fill articles.dated_at (and the date fields of the stored JSON)."""
    statements: list[tuple[str, tuple]] = []
    if "dated_at" not in {row[1] for row in db.execute("PRAGMA table_info(articles)")}:
        statements.append(("ALTER TABLE articles ADD COLUMN dated_at TEXT", ()))
    statements.append(("CREATE INDEX IF NOT EXISTS articles_dated_at ON articles (dated_at)", ()))
    for article_id, data in db.execute("SELECT id, data FROM articles").fetchall():
        article = Article.model_validate_json(data)  # the model fills first_seen_at, dated_at, date_source
        assert article.dated_at is not None
        statements.append(
            (
                "UPDATE articles SET dated_at = ?, data = ? WHERE id = ?",
                (utc_key(article.dated_at), article.model_dump_json(), article_id),
            )
        )
    return statements


def _rebuild_search(db: sqlite3.Connection, old_columns: set[str]) -> list[tuple[str, tuple]]:
    """Statements that refill the search index from the articles (its table made anew when its columns are old)."""
    statements: list[tuple[str, tuple]] = []
    if "title_tokens" not in old_columns:
        create = SCHEMA[SCHEMA.index("CREATE VIRTUAL TABLE") :]
        statements += [("DROP TABLE articles_fts", ()), (create[: create.index(";")], ())]
    else:
        statements.append(("DELETE FROM articles_fts", ()))
    for rowid, article_id, title, text in db.execute(
        "SELECT rowid, id, json_extract(data, '$.title'), json_extract(data, '$.text') FROM articles"
    ).fetchall():
        statements.append(fts_insert(rowid, article_id, title or "", text or ""))
    return statements
