"""The wheel stands on its own: built from the checkout, installed in a fresh venv outside it, it ingests.

The registry of outlets and the Kibana objects are package data (workers/data/); nothing the
installed program reads may come from the checkout. The fresh venv reuses this environment's
dependencies through a .pth line (no download), but kliping itself is installed from the wheel.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from workers.settings import DEFAULT_SOURCES_FILE, PROJECT_ROOT

pytestmark = pytest.mark.slow

SOURCE_PARTS = ("workers", "schemas", "pyproject.toml", "README.md", "LICENSE")


def _run(*argv: str | Path, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    result = subprocess.run(
        [str(a) for a in argv], cwd=cwd, env=env, capture_output=True, text=True, timeout=600
    )
    assert result.returncode == 0, f"{argv}\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    return result


def _build_wheel(tmp_path: Path) -> Path:
    """A wheel of a copy of the checkout's sources (the build writes nothing into the checkout)."""
    source = tmp_path / "source"
    source.mkdir()
    for part in SOURCE_PARTS:
        src = PROJECT_ROOT / part
        if src.is_dir():
            shutil.copytree(src, source / part, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        else:
            shutil.copy2(src, source / part)
    dist = tmp_path / "dist"
    _run(sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", dist, source, cwd=tmp_path)
    (wheel,) = dist.glob("kliping-*.whl")
    return wheel


def _fresh_venv(tmp_path: Path, wheel: Path) -> Path:
    """A venv outside the checkout with the wheel installed; dependencies seen through this env's site-packages."""
    venv = tmp_path / "venv"
    _run(sys.executable, "-m", "venv", "--without-pip", venv, cwd=tmp_path)
    python = venv / "bin" / "python"
    site = Path(
        _run(
            python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])", cwd=tmp_path
        ).stdout.strip()
    )
    # A plain path line: this env's packages (and pip) become importable; its editable kliping does
    # not (the .pth files inside that folder are not processed), and the venv's own site comes first.
    (site / "deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    _run(python, "-m", "pip", "install", "--no-deps", "--no-index", "--quiet", wheel, cwd=tmp_path)
    return venv


def test_wheel_installed_outside_the_checkout_ingests_with_the_packaged_outlets(tmp_path: Path):
    venv = _fresh_venv(tmp_path, _build_wheel(tmp_path))
    work = tmp_path / "elsewhere"
    pages = work / "pages"
    pages.mkdir(parents=True)
    for seed in sorted((PROJECT_ROOT / "seeds").glob("*.txt")):
        shutil.copy2(seed, pages / seed.name)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KLIPING_", "PYTHON"))}
    env["KLIPING_DATA_DIR"] = str(work / "data")

    where = _run(
        venv / "bin" / "python",
        "-c",
        "import workers, workers.settings as s, workers.cli.kibana as k;"
        "print(workers.__file__); print(s.Settings().sources_file); print(k.SAVED_OBJECTS.is_file())",
        cwd=work,
        env=env,
    ).stdout.split("\n")
    assert where[0].startswith(str(venv)), where  # the installed copy, not the checkout
    assert where[1].startswith(str(venv)) and where[1].endswith("sources.json"), where
    assert where[2] == "True"  # `kliping kibana setup` has its saved objects

    kliping = venv / "bin" / "kliping"
    shown = _run(kliping, "ingest", "pages", "--show", cwd=work, env=env).stdout
    exported = [json.loads(line) for line in _run(kliping, "export", cwd=work, env=env).stdout.splitlines()]
    assert len(exported) == 5
    registry = json.loads(DEFAULT_SOURCES_FILE.read_text(encoding="utf-8"))["sources"]
    outlets = {article["source"]["name"] for article in exported}
    # Four seeds name a registered outlet (one has no outlet line): without the packaged registry
    # every one would be "unknown".
    assert outlets == {"Pantau", "Pikiran Rakyat", "SeaPRwire", "Tribunnews", "unknown"}, outlets
    assert outlets - {"unknown"} <= {outlet["name"] for outlet in registry}
    assert all(name in shown for name in outlets), shown
