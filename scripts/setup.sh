#!/usr/bin/env bash
# Set up hydrofw on a fresh machine: a virtual environment in .venv with the core and every
# first-party plugin distribution installed in editable mode. `--test` adds the test tools.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
extra=""
[ "${1:-}" = "--test" ] && extra="[test]"
args=(-e ".${extra}")
for dist in plugins/*/; do
  [ -f "$dist/pyproject.toml" ] && args+=(-e "$dist")
done
.venv/bin/python -m pip install --quiet --disable-pip-version-check "${args[@]}"
