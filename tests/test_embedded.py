"""The embedded SQLite store: articles with FTS search, dedup claims, state and quarantine."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta, timezone

from schemas import (
    Article,
    CopyRef,
    DateSource,
    Dedup,
    Entity,
    EntityType,
    FailedInput,
    InputResult,
    Outcome,
    Reason,
    Sentiment,
    SentimentLabel,
    Source,
)
from workers.backends.sqlite.store import SCHEMA_VERSION, EmbeddedStore
from workers.ports import Fingerprint, SearchQuery


def _article(article_id: str, title: str, text: str, **extra) -> Article:
    return Article(
        id=article_id,
        input=f"{article_id}.txt",
        title=title,
        text=text,
        source=Source(name="Kompas", domain="kompas.com"),
        content_hash=article_id,
        dedup=Dedup(canonical_id=article_id),
        **extra,
    )


def test_put_get_replace_and_search(tmp_path):
    store = EmbeddedStore(tmp_path / "s.sqlite3")
    store.put(
        _article(
            "a",
            "Banjir di Bandung",
            "Banjir melanda Kabupaten Bandung.",
            entities=[Entity(name="Kabupaten Bandung", type=EntityType.LOCATION, aliases=["Bandung"])],
            sentiment=Sentiment(label=SentimentLabel.negative, score=-0.5, confidence=0.7),
        )
    )
    store.put(_article("b", "Rupiah menguat", "Rupiah menguat terhadap dolar AS."))
    store.put(_article("b", "Rupiah menguat lagi", "Rupiah menguat terhadap dolar AS hari ini."))
    assert store.count() == 2
    assert store.get("b").title == "Rupiah menguat lagi"
    assert [a.id for a in store.search(SearchQuery(text="banjir"))] == ["a"]
    assert [a.id for a in store.search(SearchQuery(text="rupiah"))] == ["b"]
    assert [a.id for a in store.search(SearchQuery(entity="bandung"))] == ["a"]
    assert [a.id for a in store.search(SearchQuery(sentiment=SentimentLabel.negative))] == ["a"]
    assert {a.id for a in store.search(SearchQuery(source="KOMPAS"))} == {"a", "b"}
    assert store.search(SearchQuery(text="banjir AND NOT bandung")) == []
    assert [a.id for a in store.search(SearchQuery(text='"rupiah menguat" OR gempa'))] == ["b"]


def _person(name: str, tone: SentimentLabel | None) -> Entity:
    sentiment = Sentiment(label=tone, score=0.0, confidence=0.8) if tone else None
    return Entity(name=name, type=EntityType.PERSON, aliases=[name], sentiment=sentiment)


def test_entity_with_sentiment_searches_the_tone_toward_that_entity(tmp_path):
    store = EmbeddedStore(tmp_path / "s.sqlite3")
    negative, positive = SentimentLabel.negative, SentimentLabel.positive
    # a: a negative article that speaks well of Kim; b: a positive article that speaks ill of him
    store.put(
        _article(
            "a", "A", "a", entities=[_person("Kim Jong Un", positive)], sentiment=Sentiment(label=negative)
        )
    )
    store.put(
        _article(
            "b", "B", "b", entities=[_person("Kim Jong Un", negative)], sentiment=Sentiment(label=positive)
        )
    )
    store.put(
        _article("c", "C", "c", entities=[_person("Putin", negative)], sentiment=Sentiment(label=negative))
    )
    store.put(
        _article("d", "D", "d", entities=[_person("Kim Jong Un", None)], sentiment=Sentiment(label=negative))
    )
    search = lambda **kw: sorted(a.id for a in store.search(SearchQuery(**kw)))  # noqa: E731
    assert search(entity="kim jong un", sentiment=negative) == ["b"]
    assert search(entity="Kim Jong Un", sentiment=positive) == ["a"]
    assert search(entity="Kim Jong Un") == ["a", "b", "d"]
    assert search(sentiment=negative) == ["a", "c", "d"]  # without --entity: the article's sentiment


def test_a_store_without_entity_tones_gets_the_column(tmp_path):
    path = tmp_path / "s.sqlite3"
    db = sqlite3.connect(path)  # the article_entities table of version 1, before tones
    db.executescript(
        "CREATE TABLE article_entities (article_id TEXT NOT NULL, name TEXT NOT NULL, type TEXT NOT NULL,"
        " mentions INTEGER NOT NULL, canonical TEXT NOT NULL); PRAGMA user_version = 1;"
    )
    db.close()
    store = EmbeddedStore(path)
    assert store._rows("PRAGMA user_version") == [(SCHEMA_VERSION,)]
    store.put(_article("k", "K", "k", entities=[_person("Kim Jong Un", SentimentLabel.negative)]))
    assert store._rows("SELECT name, tone FROM article_entities") == [("kim jong un", "negative")]
    assert [
        a.id for a in store.search(SearchQuery(entity="kim jong un", sentiment=SentimentLabel.negative))
    ] == ["k"]


def test_a_replaced_article_keeps_one_search_row_under_its_rowid(tmp_path):
    store = EmbeddedStore(tmp_path / "s.sqlite3")
    for n in range(3):
        store.put(_article(f"x{n}", "Judul", f"Kata{n} pertama."))
    store.put(_article("x1", "Judul baru", "Kata lain sama sekali."))
    rows = store._rows(
        "SELECT a.id, f.id, f.title_tokens FROM articles a JOIN articles_fts f ON f.rowid = a.rowid ORDER BY a.id"
    )
    assert rows == [("x0", "x0", "judul"), ("x1", "x1", "judul baru"), ("x2", "x2", "judul")]
    assert store._rows("SELECT count(*) FROM articles_fts") == [(3,)]
    assert store.search(SearchQuery(text="kata1")) == []


def test_a_store_of_the_earlier_layout_gets_its_search_index_rebuilt(tmp_path):
    path = tmp_path / "s.sqlite3"
    store = EmbeddedStore(path)
    store.put(_article("old", "Gempa di Cianjur", "Gempa mengguncang Cianjur pagi ini."))
    store.put(_article("new", "Rupiah menguat", "Rupiah menguat terhadap dolar AS."))
    store.close()
    db = sqlite3.connect(path)  # the layout before version 1: raw text, search rows under rowids of their own
    db.executescript(
        "DROP TABLE articles_fts; CREATE VIRTUAL TABLE articles_fts USING fts5(id UNINDEXED, title, text);"
        " INSERT INTO articles_fts (rowid, id, title, text) VALUES"
        " (70, 'old', 'Gempa di Cianjur', 'Gempa mengguncang Cianjur pagi ini.'),"
        " (71, 'new', 'Rupiah menguat', 'Rupiah menguat terhadap dolar AS.'); PRAGMA user_version = 0;"
    )
    db.close()
    store = EmbeddedStore(path)
    assert store._rows("PRAGMA user_version") == [(SCHEMA_VERSION,)]
    assert [a.id for a in store.search(SearchQuery(text="cianjur"))] == ["old"]
    store.put(_article("old", "Gempa susulan", "Gempa susulan terasa di Sukabumi."))
    assert store.search(SearchQuery(text="cianjur")) == []
    assert [a.id for a in store.search(SearchQuery(text="sukabumi"))] == ["old"]
    assert store._rows("SELECT count(*) FROM articles_fts") == [(2,)]


def test_add_copy_is_idempotent(tmp_path):
    store = EmbeddedStore(tmp_path / "s.sqlite3")
    store.put(_article("c", "Judul", "Teks"))
    ref = CopyRef(id="x", outlet="Detik", url="https://detik.com/x")
    store.add_copy("c", ref)
    store.add_copy("c", ref)
    assert store.get("c").dedup.copy_count == 1


def test_claim_first_body_wins(tmp_path):
    store = EmbeddedStore(tmp_path / "s.sqlite3")
    fp = Fingerprint(article_id="one", canonical_id="one", body_hash="h", signature=[1, 2], shingles=2)
    assert store.register(fp, ["0:aa"]).winner == "one"
    assert (
        store.register(fp.model_copy(update={"article_id": "two", "canonical_id": "two"}), ["0:aa"]).winner
        == "one"
    )
    assert store.candidates(["0:aa"]) == {"one"}


def test_outcomes_and_quarantine(tmp_path):
    store = EmbeddedStore(tmp_path / "s.sqlite3")
    store.record(InputResult(input="a", outcome=Outcome.indexed, id="a"))
    store.record(InputResult(input="a", outcome=Outcome.unchanged, id="a"))
    store.record(InputResult(input="b", outcome=Outcome.failed))
    assert store.outcome_counts() == {"unchanged": 1, "failed": 1}
    item = FailedInput(id="f1", input="b", reason=Reason.timeout, error="timed out")
    store.quarantine(item)
    store.quarantine(item)
    assert [(f.id, f.attempts) for f in store.failed()] == [("f1", 2)]
    store.release("f1")
    assert store.failed() == []


def test_writes_stay_in_the_wal_until_many_pages_and_survive_reopening(tmp_path):
    path = tmp_path / "s.sqlite3"
    store = EmbeddedStore(path)
    assert store._db.execute("PRAGMA wal_autocheckpoint").fetchone()[0] == 10000
    for n in range(80):  # ~18 pages a put: past SQLite's default 1,000-page checkpoint, under ours
        store.put(_article(f"a{n}", f"Judul {n}", "Kata " * 2000 + str(n)))
    _, frames, _ = store._db.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
    assert frames > 1000  # all still in the log: no checkpoint ran on the way
    store.close()
    assert EmbeddedStore(path).count() == 80  # closing checkpointed, nothing lost


def test_dated_at_is_published_else_first_seen_and_filters_and_sorts(tmp_path):
    store = EmbeddedStore(tmp_path / "s.sqlite3")
    wib = timezone(timedelta(hours=7))
    stated = _article("stated", "A", "a", published_at=datetime(2025, 4, 28, 21, 14, tzinfo=wib))
    seen = _article("seen", "B", "b", fetched_at=datetime(2025, 5, 2, 8, 0, tzinfo=UTC))
    assert (stated.dated_at, stated.date_source) == (stated.published_at, DateSource.page)
    assert (seen.dated_at, seen.first_seen_at, seen.date_source) == (seen.fetched_at,) * 2 + (
        DateSource.first_seen,
    )
    store.put(stated)
    store.put(seen)
    assert store.get("seen") == seen
    search = lambda **kw: [a.id for a in store.search(SearchQuery(**kw))]  # noqa: E731
    assert search() == ["seen", "stated"]  # newest first, by dated_at
    # 21:14 WIB is 14:14 UTC: compared as moments, not as text in each article's zone
    assert search(since=datetime(2025, 4, 28, 14, 14, tzinfo=UTC)) == ["seen", "stated"]
    assert search(since=datetime(2025, 4, 28, 14, 15, tzinfo=UTC)) == ["seen"]
    assert search(until=datetime(2025, 5, 1, tzinfo=UTC)) == ["stated"]
    assert search(since=datetime(2025, 5, 1, tzinfo=UTC), until=datetime(2025, 5, 3, tzinfo=UTC)) == ["seen"]


def test_a_store_of_schema_3_gets_dated_at_from_published_or_ingestion_time(tmp_path):
    path = tmp_path / "s.sqlite3"
    db = sqlite3.connect(path)  # version 3: no dated_at column, stored JSON without the date fields
    db.executescript(
        "CREATE TABLE articles (id TEXT PRIMARY KEY, content_hash TEXT NOT NULL, published_at TEXT,"
        " source_name TEXT, source_domain TEXT, sentiment TEXT, data TEXT NOT NULL); PRAGMA user_version = 3;"
    )
    exclude = {"first_seen_at", "dated_at", "date_source"}
    old = {
        "dated": _article("dated", "A", "a", published_at=datetime(2024, 1, 2, 3, 4, tzinfo=UTC)),
        "undated": _article("undated", "B", "b", fetched_at=datetime(2024, 6, 1, 12, 0, tzinfo=UTC)),
    }
    for article in old.values():
        data = article.model_dump_json(exclude=exclude)
        assert "dated_at" not in data
        published = article.published_at.isoformat() if article.published_at else None
        db.execute(
            "INSERT INTO articles VALUES (?, ?, ?, ?, ?, ?, ?)",
            (article.id, article.content_hash, published, "Kompas", "kompas.com", None, data),
        )
    db.commit()
    db.close()
    store = EmbeddedStore(path)
    assert store._rows("PRAGMA user_version") == [(SCHEMA_VERSION,)]
    assert store._rows("SELECT id, dated_at FROM articles ORDER BY id") == [
        ("dated", "2024-01-02T03:04:00.000000Z"),
        ("undated", "2024-06-01T12:00:00.000000Z"),
    ]
    dated, undated = store.get("dated"), store.get("undated")
    assert (dated.dated_at, dated.date_source) == (old["dated"].published_at, DateSource.page)
    assert (undated.dated_at, undated.first_seen_at, undated.date_source) == (
        old["undated"].fetched_at,
        old["undated"].fetched_at,
        DateSource.first_seen,
    )
    since = [a.id for a in store.search(SearchQuery(since=datetime(2024, 3, 1, tzinfo=UTC)))]
    assert since == ["undated"]
    EmbeddedStore(path)  # opened again: nothing left to migrate
