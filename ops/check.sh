#!/usr/bin/env bash
# The project's checks, what CI runs (.ci/run) and the README's test command: lint, format, types,
# import layers, then the test suite. Arguments go to pytest:
#   ops/dev.sh ops/check.sh                                  everything
#   ops/dev.sh ops/check.sh -m "not faults and not slow"    checks + the fast subset
# Run inside the project's virtualenv (ops/dev.sh puts it on PATH).
set -euo pipefail
cd "$(dirname "$0")/.."
step() { echo "== $*" >&2; }
step "ruff check";        ruff check .
step "ruff format";       ruff format --check --quiet .
step "mypy";              mypy          # files and settings: [tool.mypy] in pyproject.toml
step "import contracts";  lint-imports  # [tool.importlinter] in pyproject.toml
step "pytest";            exec pytest "$@"
