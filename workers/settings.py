"""One settings object: ``KLIPING_*`` environment variables, optionally from a ``.env`` file."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import platformdirs
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

# The checkout (tests and ops scripts only: an installed package has none).
PROJECT_ROOT = Path(__file__).resolve().parent.parent
# Data shipped inside the package (models, word lists, the source registry, Kibana objects).
PACKAGE_DATA = Path(__file__).resolve().parent / "data"
DEFAULT_SOURCES_FILE = PACKAGE_DATA / "sources.json"


def _default_data_dir() -> Path:
    return Path(platformdirs.user_data_dir("kliping", appauthor=False))


def _default_sources_file() -> Path:
    return DEFAULT_SOURCES_FILE


class Settings(BaseSettings):
    """Configuration of Kliping; every field is documented in the README."""

    model_config = SettingsConfigDict(env_prefix="KLIPING_", env_file=".env", extra="ignore")

    data_dir: Path = Field(default_factory=_default_data_dir, description="embedded store folder")
    sources_file: Path = Field(default_factory=_default_sources_file, description="source registry JSON")
    redis_url: str | None = Field(default=None, description="Redis URL: broker and shared state")
    # Redis Sentinel instead of one Redis host: "host:port,host:port" of the Sentinels and the name
    # they know the master by. Broker, results and shared state then follow the master through a
    # failover. KLIPING_REDIS_URL, when also set, gives only the database and password (its host is
    # not used): redis://:PASSWORD@kliping/0.
    redis_sentinels: str | None = None
    redis_sentinel_master: str = "kliping"
    redis_sentinel_password: str | None = None  # when the Sentinels themselves require AUTH
    elasticsearch_url: str | None = Field(
        default=None, description="Elasticsearch URL; several nodes comma-separated"
    )
    elasticsearch_api_key: str | None = None
    elasticsearch_username: str | None = None
    elasticsearch_password: str | None = None
    elasticsearch_index: str = "kliping-articles"
    elasticsearch_timeout: float = 60.0
    # `kliping kibana setup` with Kibana security on: basic auth (or its --api-key)
    kibana_username: str | None = None
    kibana_password: str | None = None
    redis_prefix: str = "kliping"

    user_agent: str = "Kliping/0.1 (+https://github.com/kliping/kliping)"
    contact_url: str = "https://github.com/kliping/kliping"
    fetch_connect_timeout: float = 10.0
    fetch_read_timeout: float = 30.0
    fetch_max_bytes: int = 5 * 1024 * 1024
    fetch_max_redirects: int = 5
    fetch_allow_private: bool = False
    fetch_host_interval: float = 1.0
    respect_robots: bool = True
    raw_retention_days: int = 30  # fetched pages kept (gzip) under data_dir/raw for `reextract`; 0: off

    max_file_bytes: int = 20 * 1024 * 1024
    story_window_days: int = 3
    task_time_limit: int = 300
    task_max_retries: int = 5
    # Most inputs per ingest task in the distributed mode: their index writes go in one bulk
    # request before the task is acknowledged. Bigger bulks cost the index less per article
    # (osmem, ops/benchmark_pipeline.py: 23 ms of server CPU per article in bulks of 10, 12 ms in
    # bulks of 50; Elastic advises bulks of several MB, 50 articles are ~0.5 MB); 1: a task per input.
    ingest_batch_size: int = Field(default=50, ge=1)
    # A submission is split into at least this many tasks (while it has inputs for them), so a
    # small job (a feed poll of 30 items) still spreads over the worker processes.
    ingest_min_tasks: int = Field(default=8, ge=1)
    worker_concurrency: int | None = None
    # Seconds after its worker's last lease renewal before a task left unacknowledged (its worker
    # died) is redelivered; None: 60 (workers/runtime/lease.py). Live workers renew every sixth of it.
    visibility_timeout: int | None = None
    # Seconds running tasks get to finish after SIGTERM before they are requeued (soft shutdown).
    worker_shutdown_timeout: float = 10.0
    # Seconds a task keeps retrying while Elasticsearch or Redis is down (BackendUnavailable), counted
    # from its first failure: an outage of the cluster is not the input's fault, and a restart or
    # failover takes minutes. Other transient errors (a website down) retry task_max_retries times.
    outage_retry_seconds: int = 1800
    log_level: str = "INFO"
    log_json: bool | None = (
        None  # JSON log lines; None: in the distributed mode (workers, beat), text otherwise
    )
    metrics_port: int = 9108  # `kliping metrics` serves Prometheus metrics here

    @property
    def distributed(self) -> bool:
        """True when Redis and Elasticsearch are configured: ingest goes through Celery."""
        return bool(self.redis_configured and self.elasticsearch_url)

    @property
    def redis_configured(self) -> bool:
        """True when Redis is reachable through KLIPING_REDIS_URL or KLIPING_REDIS_SENTINELS."""
        return bool(self.redis_url or self.redis_sentinels)

    @property
    def db_path(self) -> Path:
        """The embedded SQLite store."""
        return self.data_dir / "kliping.sqlite3"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings (read once)."""
    return Settings()
