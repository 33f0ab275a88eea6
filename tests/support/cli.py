"""Running the `kliping` command in a subprocess, as a user would, on a data dir of the test's own."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from workers.settings import PROJECT_ROOT


def cli_env(data: Path, **settings: str) -> dict[str, str]:
    """This environment without any KLIPING_* variable, plus the data dir and `settings` (name → KLIPING_NAME)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("KLIPING_")}
    env["KLIPING_DATA_DIR"] = str(data)
    env.update({f"KLIPING_{name.upper()}": value for name, value in settings.items()})
    return env


def run_cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    """`python -m workers.cli ARGS` in the checkout; the timeout bounds a hung test, it is not a speed claim."""
    return subprocess.run(
        [sys.executable, "-m", "workers.cli", *args],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def kliping(data: Path, *args: str, **settings: str) -> subprocess.CompletedProcess:
    """The command on data dir `data` with only the given settings (e.g. fetch_allow_private="true")."""
    return run_cli(cli_env(data, **settings), *args)
