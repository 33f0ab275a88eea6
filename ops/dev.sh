#!/usr/bin/env bash
# Set up (once, and again whenever pyproject.toml changes) a virtualenv in .venv with Kliping
# and its test dependencies, then run the given command inside it.
#   ops/dev.sh kliping ingest seeds/      ops/dev.sh pytest
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="${KLIPING_VENV:-$root/.venv}"
python="${PYTHON:-python3}"
stamp="$venv/.kliping-installed"
if [ ! -x "$venv/bin/python" ]; then
    echo "kliping: creating virtualenv in $venv" >&2
    "$python" -m venv "$venv"
fi
if [ ! -f "$stamp" ] || [ "$root/pyproject.toml" -nt "$stamp" ]; then
    echo "kliping: installing dependencies (first run only)" >&2
    "$venv/bin/python" -m pip install --quiet --upgrade pip >&2
    "$venv/bin/python" -m pip install --quiet -e "$root[test]" >&2
    touch "$stamp"
fi
export PATH="$venv/bin:$PATH"
if [ "${1:-}" != "kliping" ]; then
    cd "$root"  # pytest, ops/… scripts: run in the checkout; kliping: where you are (your relative paths)
fi
if [ "${1:-}" = "pytest" ] || [ "${1:-}" = "ops/check.sh" ]; then
    "$root/ops/install_browser.sh"  # the web view's browser tests drive Debian's chromium
fi
if [ "$#" -eq 0 ]; then
    exec "$venv/bin/kliping" --help
fi
exec "$@"
