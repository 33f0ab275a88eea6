"""Where rules, alerts, deliveries and hourly rule counts live: SQLite (embedded) or Redis (distributed).

The one-alert-per-rule-per-story guarantee is a create-once claim keyed by the deterministic
alert id (schemas.monitor.alert_id): a UNIQUE insert in SQLite, ``SET NX`` in Redis, so two
workers seeing two copies of one story at the same moment agree on a single alert. Deliveries
are claimed the same way: ``swap_delivery`` is a compare-and-set (a conditional UPDATE in
SQLite, a Lua script in Redis).

Redis keys (``p`` is ``Settings.redis_prefix``): ``p:monitor:rules`` hash name → Rule JSON,
``p:monitor:version`` counter bumped on every rule change, ``p:monitor:claim:<alert id>``
the claim (NX), ``p:monitor:alert:<id>`` Alert JSON, ``p:monitor:attached:<id>`` set of
attached article ids, ``p:monitor:delivery:<id>`` Delivery JSON, ``p:monitor:alerts`` sorted
set of alert ids by creation time, ``p:monitor:hits:<rule>`` hash hour → matching articles.
"""

from __future__ import annotations

import sqlite3
import threading
import weakref
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from schemas.monitor import Alert, Delivery, Rule
from workers.ports import MonitorStore  # noqa: F401 - the protocol these implement

if TYPE_CHECKING:  # for annotations only: the embedded mode runs without the redis package loaded
    import redis

_SCHEMA = """
CREATE TABLE IF NOT EXISTS monitor_rules (name TEXT PRIMARY KEY, data TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS monitor_meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS monitor_alerts (id TEXT PRIMARY KEY, created_at TEXT NOT NULL, data TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS monitor_alerts_created ON monitor_alerts (created_at);
CREATE TABLE IF NOT EXISTS monitor_attached (alert_id TEXT NOT NULL, article_id TEXT NOT NULL,
    PRIMARY KEY (alert_id, article_id));
CREATE TABLE IF NOT EXISTS monitor_delivery (alert_id TEXT PRIMARY KEY, data TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS monitor_hits (rule TEXT NOT NULL, hour INTEGER NOT NULL, n INTEGER NOT NULL,
    PRIMARY KEY (rule, hour));
"""


class SqliteMonitorStore:
    """MonitorStore in the embedded SQLite file, on its own connection and tables."""

    def __init__(self, path: Path | str):
        if str(path) != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None, timeout=30)
        # closed (WAL checkpointed) when the store goes or at exit, also on the CLI's exit without teardown
        weakref.finalize(self, self._db.close)
        self._lock = threading.RLock()
        self._db.execute("PRAGMA journal_mode = WAL")
        self._db.executescript(_SCHEMA)

    def close(self) -> None:
        """Close the connection."""
        self._db.close()

    def _run(self, sql: str, params: tuple = ()) -> sqlite3.Cursor:
        with self._lock:
            return self._db.execute(sql, params)

    def _bump(self) -> None:
        self._run(
            "INSERT INTO monitor_meta (key, value) VALUES ('version', 1)"
            " ON CONFLICT(key) DO UPDATE SET value = value + 1"
        )

    def add_rule(self, rule: Rule) -> None:
        """Create or replace a rule."""
        self._run(
            "INSERT OR REPLACE INTO monitor_rules (name, data) VALUES (?, ?)",
            (rule.name, rule.model_dump_json()),
        )
        self._bump()

    def remove_rule(self, name: str) -> bool:
        """Drop a rule; False when unknown."""
        removed = self._run("DELETE FROM monitor_rules WHERE name = ?", (name,)).rowcount > 0
        self._bump()
        return removed

    def rules(self) -> list[Rule]:
        """Every rule, by name."""
        rows = self._run("SELECT data FROM monitor_rules ORDER BY name").fetchall()
        return [Rule.model_validate_json(data) for (data,) in rows]

    def rule(self, name: str) -> Rule | None:
        """One rule, or None."""
        row = self._run("SELECT data FROM monitor_rules WHERE name = ?", (name,)).fetchone()
        return Rule.model_validate_json(row[0]) if row else None

    def version(self) -> int:
        """A number that changes whenever rules change."""
        row = self._run("SELECT value FROM monitor_meta WHERE key = 'version'").fetchone()
        return row[0] if row else 0

    def claim_alert(self, alert: Alert) -> bool:
        """Create the alert once (UNIQUE id); False when it already exists."""
        cursor = self._run(
            "INSERT OR IGNORE INTO monitor_alerts (id, created_at, data) VALUES (?, ?, ?)",
            (alert.id, alert.created_at.isoformat(), alert.model_dump_json(exclude={"attached", "delivery"})),
        )
        if cursor.rowcount:
            self.set_delivery(alert.id, alert.delivery)
        return cursor.rowcount > 0

    def attach(self, alert_id: str, article_id: str) -> None:
        """Attach a copy or later article to an alert (idempotent)."""
        self._run(
            "INSERT OR IGNORE INTO monitor_attached (alert_id, article_id) VALUES (?, ?)",
            (alert_id, article_id),
        )

    def _complete(self, data: str) -> Alert:
        alert = Alert.model_validate_json(data)
        rows = self._run(
            "SELECT article_id FROM monitor_attached WHERE alert_id = ? ORDER BY rowid", (alert.id,)
        )
        alert.attached = [article_id for (article_id,) in rows.fetchall()]
        row = self._run("SELECT data FROM monitor_delivery WHERE alert_id = ?", (alert.id,)).fetchone()
        if row:
            alert.delivery = Delivery.model_validate_json(row[0])
        return alert

    def get_alert(self, alert_id: str) -> Alert | None:
        """One alert with its attachments and delivery."""
        row = self._run("SELECT data FROM monitor_alerts WHERE id = ?", (alert_id,)).fetchone()
        return self._complete(row[0]) if row else None

    def alerts(self, since: datetime | None = None) -> list[Alert]:
        """Alerts, oldest first."""
        sql, params = "SELECT data FROM monitor_alerts", tuple[str, ...]()
        if since is not None:
            sql, params = sql + " WHERE created_at >= ?", (since.isoformat(),)
        rows = self._run(sql + " ORDER BY created_at, id", params).fetchall()
        return [self._complete(data) for (data,) in rows]

    def set_delivery(self, alert_id: str, delivery: Delivery) -> None:
        """Record the delivery state."""
        self._run(
            "INSERT OR REPLACE INTO monitor_delivery (alert_id, data) VALUES (?, ?)",
            (alert_id, delivery.model_dump_json()),
        )

    def swap_delivery(self, alert_id: str, expected: Delivery, new: Delivery) -> bool:
        """Record `new` only if the stored state is still `expected` (two senders: one wins)."""
        cursor = self._run(
            "UPDATE monitor_delivery SET data = ? WHERE alert_id = ? AND data = ?",
            (new.model_dump_json(), alert_id, expected.model_dump_json()),
        )
        return cursor.rowcount > 0

    def hit(self, rule: str, hour: int) -> int:
        """Count one matching article in an hour; the new count."""
        with self._lock:
            self._run(
                "INSERT INTO monitor_hits (rule, hour, n) VALUES (?, ?, 1)"
                " ON CONFLICT(rule, hour) DO UPDATE SET n = n + 1",
                (rule, hour),
            )
            return self._run(
                "SELECT n FROM monitor_hits WHERE rule = ? AND hour = ?", (rule, hour)
            ).fetchone()[0]

    def hourly_counts(self, rule: str, hours: list[int]) -> list[int]:
        """Counts of the given hours (0 when none)."""
        rows = dict(self._run("SELECT hour, n FROM monitor_hits WHERE rule = ?", (rule,)).fetchall())
        return [rows.get(hour, 0) for hour in hours]


# KEYS[1] = delivery key; ARGV[1] = expected JSON, ARGV[2] = new JSON. Atomic on the server.
_SWAP_SCRIPT = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[2])
  return 1
end
return 0
"""

# Hourly counts are only read for the spike baseline window; a week covers any sane window.
HITS_TTL_SECONDS = 7 * 24 * 3600


class RedisMonitorStore:
    """MonitorStore in Redis, shared by every worker (claims with SET NX)."""

    def __init__(self, client: redis.Redis, prefix: str):
        self._r = client
        self._p = f"{prefix}:monitor"
        self._swap = client.register_script(_SWAP_SCRIPT)

    def add_rule(self, rule: Rule) -> None:
        """Create or replace a rule."""
        self._r.hset(f"{self._p}:rules", rule.name, rule.model_dump_json())
        self._r.incr(f"{self._p}:version")

    def remove_rule(self, name: str) -> bool:
        """Drop a rule; False when unknown."""
        removed = bool(self._r.hdel(f"{self._p}:rules", name))
        self._r.incr(f"{self._p}:version")
        return removed

    def rules(self) -> list[Rule]:
        """Every rule, by name."""
        data = self._r.hgetall(f"{self._p}:rules")
        return [Rule.model_validate_json(data[name]) for name in sorted(data)]

    def rule(self, name: str) -> Rule | None:
        """One rule, or None."""
        data = self._r.hget(f"{self._p}:rules", name)
        return Rule.model_validate_json(data) if data else None

    def version(self) -> int:
        """A number that changes whenever rules change."""
        return int(self._r.get(f"{self._p}:version") or 0)

    def claim_alert(self, alert: Alert) -> bool:
        """Create the alert once (SET NX on its id); False when another worker or run made it."""
        if not self._r.set(f"{self._p}:claim:{alert.id}", "1", nx=True):
            return False
        pipe = self._r.pipeline()
        pipe.set(f"{self._p}:alert:{alert.id}", alert.model_dump_json(exclude={"attached", "delivery"}))
        pipe.set(f"{self._p}:delivery:{alert.id}", alert.delivery.model_dump_json())
        pipe.zadd(f"{self._p}:alerts", {alert.id: alert.created_at.timestamp()})
        pipe.execute()
        return True

    def attach(self, alert_id: str, article_id: str) -> None:
        """Attach a copy or later article to an alert (a set: idempotent)."""
        self._r.sadd(f"{self._p}:attached:{alert_id}", article_id)

    def get_alert(self, alert_id: str) -> Alert | None:
        """One alert with its attachments and delivery."""
        data = self._r.get(f"{self._p}:alert:{alert_id}")
        if not data:
            return None
        alert = Alert.model_validate_json(data)
        alert.attached = sorted(self._r.smembers(f"{self._p}:attached:{alert_id}"))  # type: ignore[arg-type]  # str: decode_responses
        delivery = self._r.get(f"{self._p}:delivery:{alert_id}")
        if delivery:
            alert.delivery = Delivery.model_validate_json(delivery)
        return alert

    def alerts(self, since: datetime | None = None) -> list[Alert]:
        """Alerts, oldest first."""
        low = since.timestamp() if since else "-inf"
        ids = self._r.zrangebyscore(f"{self._p}:alerts", low, "+inf")
        return [alert for alert in map(self.get_alert, ids) if alert is not None]  # type: ignore[arg-type]  # str ids

    def set_delivery(self, alert_id: str, delivery: Delivery) -> None:
        """Record the delivery state."""
        self._r.set(f"{self._p}:delivery:{alert_id}", delivery.model_dump_json())

    def swap_delivery(self, alert_id: str, expected: Delivery, new: Delivery) -> bool:
        """Record `new` only if the stored state is still `expected` (two workers: one wins)."""
        key = f"{self._p}:delivery:{alert_id}"
        return bool(self._swap(keys=[key], args=[expected.model_dump_json(), new.model_dump_json()]))

    def hit(self, rule: str, hour: int) -> int:
        """Count one matching article in an hour; the new count."""
        key = f"{self._p}:hits:{rule}"
        pipe = self._r.pipeline()
        pipe.hincrby(key, str(hour), 1)
        pipe.expire(key, HITS_TTL_SECONDS)
        return int(pipe.execute()[0])

    def hourly_counts(self, rule: str, hours: list[int]) -> list[int]:
        """Counts of the given hours (0 when none)."""
        if not hours:
            return []
        values = self._r.hmget(f"{self._p}:hits:{rule}", [str(h) for h in hours])
        return [int(v or 0) for v in values]
