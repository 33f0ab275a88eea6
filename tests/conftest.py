"""Shared fixtures: settings on a temporary data dir, the seed files, real services."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.fixtures import es_url, osmem_server, osmem_url, redis_prefix, redis_url  # noqa: F401 - shared fixtures
from workers.settings import PROJECT_ROOT, Settings

SEEDS_DIR = PROJECT_ROOT / "seeds"


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Embedded-mode settings on a fresh data dir; loopback fetching allowed for the local test server."""
    return Settings(
        data_dir=tmp_path / "data", redis_url=None, elasticsearch_url=None, fetch_allow_private=True
    )


@pytest.fixture
def seed_paths() -> list[Path]:
    """The five seed articles."""
    paths = sorted(SEEDS_DIR.glob("*.txt"))
    assert len(paths) == 5
    return paths


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every test in tests/test_faults_*.py is a fault-injection test (marker `faults`)."""
    for item in items:
        if item.path.name.startswith("test_faults_"):
            item.add_marker(pytest.mark.faults)
