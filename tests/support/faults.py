"""Shared pieces of the fault-injection tests: a generated batch, the exact counts, the report row.

A batch is N distinct Indonesian-looking text articles (distinct stories: no two are near
duplicates); every `match_every`-th mentions the word a standing rule watches, so the number of
alerts it must raise is known in advance. ``tally`` reads back what the deployment holds: the
articles in Elasticsearch (and duplicate ids among them), the alerts in Redis and the webhook
POSTs the local server received.
"""

from __future__ import annotations

import json
import random
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from celery import states

from schemas import Outcome
from schemas.monitor import DeliveryState, Rule
from tests.support.http_server import FixtureServer
from workers.backends.elastic.index import ElasticIndex, make_client
from workers.backends.monitor_state import RedisMonitorStore
from workers.runtime.producer import follow, producer_app
from workers.runtime.wiring import redis_client  # KLIPING_REDIS_URL's server or the Sentinels' master
from workers.settings import Settings

RULE_NAME, RULE_WORD = "gempa-watch", "gempa"  # the rule every batch is watched by
FINISH_TIMEOUT = 240.0  # a generous guard, not a measurement: a 2-core machine shared with other tests
SLOW_SECONDS = 8.0  # a slow page outlives the tests' soft shutdown (3 s) and visibility timeout (8 s + sweep)
HOOK_PATH = "/hook"
WORDS = (
    "pemerintah daerah warga kota desa pasar harga beras jalan sekolah rumah sakit kantor bupati gubernur "
    "menteri polisi petani nelayan pelabuhan bandara kereta listrik air bersih sungai hutan lahan tambang "
    "pajak anggaran proyek jembatan banjir musim hujan kemarau panen pupuk subsidi bantuan keluarga anak "
    "guru murid ujian kampus mahasiswa peneliti dokter pasien obat vaksin klinik puskesmas laporan rapat "
    "dewan partai pemilu calon suara kampanye relawan organisasi perusahaan pekerja upah pabrik ekspor impor "
    "investasi bank kredit koperasi usaha kecil toko pedagang pembeli konsumen produk layanan digital aplikasi "
    "internet sinyal menara pemuda olahraga stadion turnamen juara pelatih pemain festival budaya seni musik "
    "tari wisata pantai gunung danau hotel tamu kapal laut pulau provinsi kabupaten kecamatan kelurahan"
).split()
VERBS = "membahas meninjau meresmikan menolak mendukung mengumumkan menyiapkan memeriksa membangun menunda".split()


def write_articles(folder: Path, count: int, match_every: int = 10, seed: int = 9) -> list[Path]:
    """`count` distinct article files; every `match_every`-th one mentions RULE_WORD."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    paths = []
    for n in range(count):
        sentences = []
        for _ in range(8):
            words = rng.sample(WORDS, 10)
            sentences.append(
                f"{words[0].capitalize()} {' '.join(words[1:4])} {rng.choice(VERBS)} {' '.join(words[4:])} "
                f"nomor {rng.randint(10, 9999)}."
            )
        if n % match_every == 0:
            sentences.insert(
                1, f"Warga merasakan {RULE_WORD} bermagnitudo {n % 7 + 3} pagi tadi di wilayah itu."
            )
        title = f"Laporan {n}: {' '.join(rng.sample(WORDS, 5)).title()}"
        path = folder / f"article_{n:04d}.txt"
        path.write_text(f"{title}\n\n" + "\n\n".join(sentences) + "\n", encoding="utf-8")
        paths.append(path)
    return paths


def expected_alerts(count: int, match_every: int = 10) -> int:
    """Alerts a batch of `write_articles(count, match_every)` must raise: one per matching article."""
    return len(range(0, count, match_every))


def add_rule(settings: Settings, webhook: str | None) -> None:
    """Install the batch's standing rule (its alerts POSTed to `webhook`)."""
    RedisMonitorStore(redis_client(settings), settings.redis_prefix).add_rule(
        Rule(name=RULE_NAME, query=RULE_WORD, webhook=webhook)
    )


@dataclass
class Tally:
    """What the deployment holds after a scenario."""

    indexed: int  # documents in the index
    distinct_ids: int
    duplicates: int  # documents beyond one per id
    inputs_indexed: int  # distinct inputs among the documents
    alerts: int  # alerts raised (Redis)
    delivered: int  # alerts whose delivery is recorded `delivered`
    posts: int  # webhook POSTs received
    alert_ids_posted: int  # distinct alert ids among the POSTs


def tally(settings: Settings, hook_posts: list[bytes] | None = None) -> Tally:
    """Count the index, the alerts and the webhook POSTs of this deployment."""
    index = ElasticIndex(make_client(settings), settings.elasticsearch_index)
    index.refresh()
    articles = list(index.iter_articles())
    ids = Counter(a.id for a in articles)
    store = RedisMonitorStore(redis_client(settings), settings.redis_prefix)
    posts = hook_posts or []
    alerts = store.alerts()
    return Tally(
        indexed=index.count(),
        distinct_ids=len(ids),
        duplicates=sum(n - 1 for n in ids.values()),
        inputs_indexed=len({a.input for a in articles}),
        alerts=len(alerts),
        delivered=sum(alert.delivery.state == DeliveryState.delivered for alert in alerts),
        posts=len(posts),
        alert_ids_posted=len({json.loads(body)["alert_id"] for body in posts}),
    )


def assert_exactly_once(settings: Settings, task_ids: list[str], inputs: list, server, alerts: int) -> Tally:
    """Every input ended once, not failed; index and alerts have exact counts; every alert was POSTed."""
    results = list(follow(task_ids, settings, timeout=FINISH_TIMEOUT))
    assert sorted(r.input for r in results) == sorted(str(p) for p in inputs)
    outcomes = Counter(r.outcome for r in results)
    # A task killed after its write re-runs as `unchanged`: same document, nothing new.
    assert set(outcomes) <= {Outcome.indexed, Outcome.unchanged}, (
        outcomes,
        [r for r in results if r.outcome not in (Outcome.indexed, Outcome.unchanged)],
    )
    # A sender killed between claiming a delivery and recording it leaves a `sending` lease (60 s);
    # the alert is then POSTed (again) with the same Idempotency-Key once it expires: alert ids
    # are exact, POSTs may exceed them by the deliveries a kill interrupted.
    wait_until(
        lambda: tally(settings, hook_posts(server)).alert_ids_posted >= alerts, 120, "every alert POSTed"
    )
    counts = tally(settings, hook_posts(server))
    assert counts.indexed == counts.distinct_ids == counts.inputs_indexed == len(inputs)
    assert counts.duplicates == 0
    assert counts.alerts == counts.alert_ids_posted == alerts
    return counts


def wait_until(condition: Callable[[], bool], timeout: float, what: str, interval: float = 0.2) -> float:
    """Poll `condition` until true; the seconds it took (AssertionError naming `what` after `timeout`)."""
    started = time.monotonic()
    while not condition():
        assert time.monotonic() - started < timeout, f"{what}: not within {timeout} s"
        time.sleep(interval)
    return time.monotonic() - started


def in_flight(settings: Settings) -> set[str]:
    """Ids of the tasks delivered to a worker and not yet acknowledged (Redis transport's `unacked` hash)."""
    client = redis_client(settings)
    values = client.hvals(f"{settings.redis_prefix}:celery:unacked")
    return {json.loads(value)[0]["headers"]["id"] for value in values}


def report(fault: str, articles_in: int, counts: Tally, recover_seconds: float) -> None:
    """Print the scenario's row of the fault table (visible with `pytest -s`)."""
    print(
        f"\nFAULT-ROW | {fault} | in {articles_in} | indexed {counts.indexed} | duplicates {counts.duplicates} "
        f"| alerts {counts.alerts}, delivered {counts.delivered} (webhook POSTs {counts.posts}) "
        f"| recovered in {recover_seconds:.1f} s",
        flush=True,
    )


@pytest.fixture
def hook():
    """A local webhook receiver on HOOK_PATH; `hook_posts(server)` lists the bodies it got."""
    with FixtureServer() as server:
        server.route(HOOK_PATH, "ok", content_type="text/plain")
        yield server


def hook_posts(server: FixtureServer) -> list[bytes]:
    """Bodies of the POSTs the webhook receiver got."""
    return [hit.body for hit in server.requests if hit.method == "POST" and hit.path == HOOK_PATH]


def _final_results(settings: Settings, task_ids: list[str]) -> list[dict]:
    """The stored results of the tasks that have a final one (not just STARTED: results track the start too)."""
    backend = producer_app(settings).backend
    values = backend.mget([backend.get_key_for_task(task_id) for task_id in task_ids])
    metas = [backend.decode_result(value) for value in values if value is not None]
    return [meta for meta in metas if meta["status"] in states.READY_STATES]


def finished(settings: Settings, task_ids: list[str]) -> int:
    """How many of the tasks have a final result."""
    return len(_final_results(settings, task_ids))


def finished_inputs(settings: Settings, task_ids: list[str]) -> int:
    """How many inputs of the tasks have a final result (a batch task counts its inputs)."""
    return sum(
        len(meta["result"]) if isinstance(meta["result"], list) else 1
        for meta in _final_results(settings, task_ids)
    )


def article_html(path: Path) -> str:
    """A generated article file as a small HTML news page (title, paragraphs)."""
    title, *paragraphs = [block for block in path.read_text(encoding="utf-8").split("\n\n") if block.strip()]
    body = "".join(f"<p>{p.strip()}</p>" for p in paragraphs)
    return (
        f"<!doctype html><html lang='id'><head><meta charset='utf-8'><title>{title.strip()}</title></head>"
        f"<body><article><h1>{title.strip()}</h1>{body}</article></body></html>"
    )
