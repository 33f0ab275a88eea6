"""Two `kliping ingest` processes on one embedded data dir, each with one article of every identical pair.

    python ops/eval_concurrent_alerts.py --runs 20 --pairs 8

Every pair is one story that matches a standing rule with a webhook (a loopback server of our own):
each run must raise exactly one alert and one POST per story. Prints one row per run and the total
(issue 18, item 6: the story assignment and the alert claim of the two processes race).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.support.faults import HOOK_PATH, RULE_WORD, hook_posts, write_articles  # noqa: E402
from tests.support.http_server import FixtureServer  # noqa: E402

KLIPING = [sys.executable, "-m", "workers.cli"]
SEEDS = Path(__file__).resolve().parent.parent / "seeds"


def run_once(
    root: Path, pairs: int, server: FixtureServer, seed: int
) -> tuple[int, int, int, int, int, float]:
    """One run: stories stored, alerts (and distinct stories among them), POSTs (and distinct alerts), seconds."""
    env = {**os.environ, "KLIPING_DATA_DIR": str(root / "data"), "KLIPING_FETCH_ALLOW_PRIVATE": "true"}
    env.pop("KLIPING_REDIS_URL", None)
    env.pop("KLIPING_ELASTICSEARCH_URL", None)
    # The five seed reports (one event: they join one story) and distinct generated stories.
    articles = [
        *sorted(SEEDS.glob("*.txt")),
        *write_articles(root / "src", pairs - 5, match_every=1, seed=seed),
    ]
    for side in ("a", "b"):
        (root / side).mkdir()
        for path in articles:
            shutil.copy(path, root / side / path.name)
    subprocess.run(
        [*KLIPING, "rules", "add", "watch", f"{RULE_WORD} OR Kursk", "--webhook", server.url(HOOK_PATH)],
        env=env,
        check=True,
        capture_output=True,
    )
    before = len(hook_posts(server))
    started = time.monotonic()
    procs = [
        subprocess.Popen([*KLIPING, "ingest", str(root / side)], env=env, stdout=subprocess.DEVNULL)
        for side in ("a", "b")
    ]
    for proc in procs:
        proc.wait(timeout=600)
    seconds = time.monotonic() - started
    alerts = _json_lines([*KLIPING, "alerts", "--json"], env)
    stories = {a["dedup"]["story_id"] for a in _json_lines([*KLIPING, "export"], env)}
    posts = hook_posts(server)[before:]
    per_alert = Counter(json.loads(body)["alert_id"] for body in posts)
    alerted = Counter(a["story_id"] for a in alerts)
    return len(stories), len(alerts), len(alerted), len(posts), len(per_alert), seconds


def _json_lines(argv: list[str], env: dict[str, str]) -> list[dict]:
    lines = subprocess.run(argv, env=env, check=True, capture_output=True, text=True).stdout.splitlines()
    return [json.loads(line) for line in lines if line.strip()]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--pairs", type=int, default=8)
    args = parser.parse_args()
    bad = 0
    with FixtureServer() as server:
        server.route(HOOK_PATH, body=b"ok", content_type="text/plain")
        for run in range(args.runs):
            with tempfile.TemporaryDirectory(prefix="kliping-alerts-") as tmp:
                stories, alerts, alerted, posts, posted, seconds = run_once(
                    Path(tmp), args.pairs, server, seed=100 + run
                )
            ok = stories == alerts == alerted == posts == posted
            bad += not ok
            print(
                f"run {run + 1:2d}: {2 * args.pairs} articles in {stories} stories, {alerts} alerts "
                f"({alerted} stories), {posts} POSTs ({posted} alerts), {seconds:.1f} s "
                f"{'ok' if ok else 'DUPLICATE/MISSING'}",
                flush=True,
            )
    print(f"{args.runs - bad} of {args.runs} runs gave exactly one alert and one POST per story")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
