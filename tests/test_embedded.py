"""The embedded SQLite store: articles with FTS search, dedup claims, state and quarantine."""

from __future__ import annotations

from schemas import Article, CopyRef, Dedup, Entity, EntityType, FailedInput, InputResult, Outcome, Reason, Sentiment, SentimentLabel, Source
from workers.backends import Fingerprint, SearchQuery
from workers.backends.embedded import EmbeddedStore, fts_query


def _article(article_id: str, title: str, text: str, **extra) -> Article:
    return Article(id=article_id, input=f"{article_id}.txt", title=title, text=text, source=Source(name="Kompas", domain="kompas.com"),
                   content_hash=article_id, dedup=Dedup(canonical_id=article_id), **extra)


def test_put_get_replace_and_search(tmp_path):
    store = EmbeddedStore(tmp_path / "s.sqlite3")
    store.put(_article("a", "Banjir di Bandung", "Banjir melanda Kabupaten Bandung.",
                       entities=[Entity(name="Kabupaten Bandung", type=EntityType.LOCATION, aliases=["Bandung"])],
                       sentiment=Sentiment(label=SentimentLabel.negative, score=-0.5, confidence=0.7)))
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


def test_fts_query_is_safe_for_punctuation():
    assert fts_query('Kim Jong-un "Korea Utara" AND (Rusia OR Moskow)') == '"Kim" "Jong un" "Korea Utara" AND ( "Rusia" OR "Moskow" )'
    assert fts_query("***") == ""


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
    assert store.claim(fp, ["0:aa"]) == "one"
    assert store.claim(fp.model_copy(update={"article_id": "two", "canonical_id": "two"}), ["0:aa"]) == "one"
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
