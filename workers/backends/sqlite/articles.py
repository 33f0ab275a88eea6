"""The embedded store's articles: their rows, entity rows and full-text search (FTS5)."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator

from schemas import Article, CopyRef
from workers.backends.sqlite.connection import Connection
from workers.backends.sqlite.schema import fts_insert, utc_key
from workers.monitor.compile import fts_match, fts_where, has_not
from workers.monitor.query import parse
from workers.ports import SearchQuery, add_copy_ref


class ArticleRows(Connection):
    """ArticleIndex on SQLite: an article's row, its search row and its entity rows."""

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
            fts_insert(None, article.id, article.title, article.text),
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
