"""The monitor stage in the embedded pipeline: one alert per rule per story, copies attached, spikes."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
import redis

from schemas import Outcome, SentimentLabel
from schemas.monitor import Alert, AlertKind, DeliveryState, Rule, alert_id
from workers.backends.monitor_state import RedisMonitorStore, SqliteMonitorStore
from workers.monitor.alerts import monitor
from workers.monitor.match import Matcher
from workers.monitor.spike import MIN_SPIKE_COUNT, is_spike, poisson_tail
from workers.runtime.embedded import run
from workers.runtime.wiring import embedded_context
from workers.settings import PROJECT_ROOT

ENRICH = PROJECT_ROOT / "tests" / "fixtures" / "enrich"


@pytest.fixture
def ctx(settings):
    context = embedded_context(settings)
    store = context.monitor.store
    store.add_rule(Rule(name="ukraina", query='Ukraina OR Ukrainian OR "Korea Utara"'))
    store.add_rule(Rule(name="banjir", query="banjir AND NOT gempa"))
    store.add_rule(
        Rule(name="banjir-tanpa-longsor", query="banjir AND NOT (gempa OR longsor)")
    )  # the flood text has longsor
    store.add_rule(
        Rule(name="negatif-korut", query="kursk", sentiment=SentimentLabel.negative, entity="Kim Jong Un")
    )
    store.add_rule(Rule(name="positif-korut", query="kursk", sentiment=SentimentLabel.positive))
    store.add_rule(Rule(name="sepi", query='"tidak ada berita ini"'))
    return context


def _reprint(tmp_path):
    original = next((PROJECT_ROOT / "seeds").glob("004_*.txt")).read_text(encoding="utf-8")
    path = tmp_path / "reprint.txt"
    path.write_text(
        "Putin berterima kasih kepada Korea Utara\n\n" + original.replace("(SeaPRwire) – ", "MOSKOW - "),
        encoding="utf-8",
    )
    return path


def test_rule_fires_once_per_story_and_copies_fire_nothing(ctx, seed_paths, tmp_path):
    inputs = [str(p) for p in seed_paths] + [
        str(ENRICH / "english_summit.txt"),
        str(ENRICH / "bandung_banjir.txt"),
    ]
    results = list(run(inputs, ctx))
    assert [r.outcome for r in results] == [Outcome.indexed] * 7, [r.reason for r in results]
    store = ctx.monitor.store
    alerts = store.alerts()
    by_rule: dict[str, list[Alert]] = {}
    for alert in alerts:
        by_rule.setdefault(alert.rule, []).append(alert)
    seeds = {ctx.index.get(r.id).dedup.story_id for r in results[:5]}
    assert len(seeds) == 1  # the five seeds are one story...
    [seed_alert] = [a for a in by_rule["ukraina"] if a.story_id in seeds]  # ...so one alert
    assert len(by_rule["ukraina"]) == 2  # plus the English summit, another story
    assert seed_alert.article_id == results[0].id and len(seed_alert.attached) == 4
    assert "korea utara" in " ".join(seed_alert.matched_terms).lower()
    assert [a.article_id for a in by_rule["banjir"]] == [results[6].id]
    assert by_rule["banjir"][0].matched_terms == ["banjir"]
    assert "sepi" not in by_rule and "banjir-tanpa-longsor" not in by_rule
    assert [a.story_id for a in by_rule["negatif-korut"]] == [seed_alert.story_id]  # every seed is negative
    assert "positif-korut" not in by_rule
    assert all(a.delivery.state == DeliveryState.none for a in alerts)  # no webhooks configured

    [copy] = list(run([str(_reprint(tmp_path))], ctx))
    assert copy.outcome == Outcome.copy
    after = store.alerts()
    assert [a.id for a in after] == [a.id for a in alerts]  # nothing new fired
    assert copy.id in store.get_alert(seed_alert.id).attached

    changed = tmp_path / "003_changed.txt"  # a later, changed version of a seed: attached, not re-fired
    changed.write_text(
        seed_paths[3].read_text(encoding="utf-8") + "\nPembaruan: pasukan Korea Utara ditarik.",
        encoding="utf-8",
    )
    list(run([str(changed)], ctx))
    assert [a.id for a in store.alerts()] == [a.id for a in alerts]

    again = list(run(inputs, ctx))  # an idempotent re-run fires nothing either
    assert {r.outcome for r in again} == {Outcome.unchanged}
    assert len(store.alerts()) == len(alerts)


def test_rule_filters_entity_source_sentiment(ctx, seed_paths):
    list(run([str(p) for p in seed_paths], ctx))
    articles = list(ctx.index.iter_articles())
    store = ctx.monitor.store
    for name, rule in {
        "pantau": Rule(name="pantau", query="kursk", source="pantau"),
        "positif": Rule(name="positif", query="kursk", sentiment=SentimentLabel.positive),
        "kim": Rule(name="kim", query="kursk", entity="kim jong un"),
    }.items():
        matched = {m.rule.name for a in articles for m in Matcher([rule]).match(a)}
        expected_any = {
            "pantau": any(a.source.name == "Pantau" for a in articles),
            "positif": any(a.sentiment and a.sentiment.label == SentimentLabel.positive for a in articles),
            "kim": any(e.name == "Kim Jong Un" for a in articles for e in a.entities),
        }[name]
        assert (name in matched) is expected_any
    pantau = [a for a in articles if Matcher([Rule(name="p", query="kursk", source="Pantau")]).match(a)]
    assert {a.source.name for a in pantau} == {"Pantau"}
    assert store.version() > 0


def test_spike_statistic():
    assert poisson_tail(0, 3.0) == 1.0
    assert poisson_tail(1, 2.0) == pytest.approx(1 - 2.718281828**-2.0)
    assert not is_spike(MIN_SPIKE_COUNT - 1, [0] * 24)
    assert is_spike(10, [1] * 24)
    assert not is_spike(10, [9, 11] * 12)  # a busy rule's usual level is not a spike
    assert is_spike(10, [])  # no history: judged against MIN_RATE


def test_spike_alert_once_per_hour(settings, seed_paths):
    ctx = embedded_context(settings)
    store = ctx.monitor.store
    store.add_rule(Rule(name="kursk", query="kursk", spike=True))
    list(run([str(p) for p in seed_paths], ctx))
    articles = list(ctx.index.iter_articles())
    now = 1_750_000_000.0
    for hour_back in range(1, 25):  # a quiet day: one match an hour
        store.hit("kursk", int(now // 3600) - hour_back)
    matcher = Matcher(store.rules())
    spikes = []
    for _ in range(3):  # fifteen matches within the hour
        for article in articles:
            spikes += [a for a in monitor(article, matcher, store, now=now) if a.kind == AlertKind.spike]
    assert len(spikes) == 1 and spikes[0].story_id == f"spike:{int(now // 3600)}"


def test_redis_claim_is_shared_by_two_stores(redis_url, redis_prefix):
    first = RedisMonitorStore(redis.Redis.from_url(redis_url, decode_responses=True), redis_prefix)
    second = RedisMonitorStore(redis.Redis.from_url(redis_url, decode_responses=True), redis_prefix)
    first.add_rule(Rule(name="r", query="kursk", webhook="http://127.0.0.1:9/hook"))
    assert [r.name for r in second.rules()] == ["r"] and second.version() == 1
    alert = Alert(id=alert_id("r", "s1"), rule="r", story_id="s1", article_id="a1", title="t")
    assert first.claim_alert(alert) is True
    assert second.claim_alert(alert.model_copy(update={"article_id": "a2"})) is False
    second.attach(alert.id, "a2")
    stored = first.get_alert(alert.id)
    assert stored.article_id == "a1" and stored.attached == ["a2"]
    assert [a.id for a in second.alerts()] == [alert.id]
    assert first.hit("r", 5) == 1 and second.hit("r", 5) == 2 and first.hourly_counts("r", [4, 5]) == [0, 2]
    assert second.remove_rule("r") and first.rules() == []


@pytest.mark.slow
def test_cli_rules_and_alerts(tmp_path):
    def kliping(*args: str) -> subprocess.CompletedProcess:
        env = {k: v for k, v in os.environ.items() if not k.startswith("KLIPING_")}
        env["KLIPING_DATA_DIR"] = str(tmp_path / "data")
        return subprocess.run(
            [sys.executable, "-m", "workers.cli", *args],
            cwd=PROJECT_ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )

    assert (
        kliping("rules", "add", "korut", '"Korea Utara" OR Korut', "--source", "Pikiran Rakyat").returncode
        == 0
    )
    refused = kliping("rules", "add", "rusak", "(kursk")
    assert refused.returncode == 2 and "missing" in refused.stderr
    assert "korut" in kliping("rules", "list").stdout
    assert kliping("ingest", "seeds/").returncode == 0
    lines = [json.loads(line) for line in kliping("alerts", "--json").stdout.splitlines()]
    assert len(lines) == 1 and lines[0]["rule"] == "korut" and lines[0]["outlet"] == "Pikiran Rakyat"
    assert lines[0]["delivery"]["state"] == "none"
    listed = kliping("alerts", "--since", "2000-01-01").stdout
    assert "korut" in listed and "none" in listed
    assert kliping("alerts", "--since", "2999-01-01").stdout.strip() == "no alerts"
    assert kliping("rules", "remove", "korut").returncode == 0
    assert kliping("rules", "remove", "korut").returncode == 1
    assert SqliteMonitorStore(tmp_path / "data" / "kliping.sqlite3").rules() == []
