#!/usr/bin/env bash
# Install everything the tests need (Debian's Chromium for the browser test, a virtual
# environment with the package and its test extras) and run the whole test suite.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v chromium >/dev/null 2>&1; then
  if [ "$(id -u)" -eq 0 ]; then SUDO=""; else SUDO="sudo"; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium >/dev/null
fi

python3 -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q -e '.[test]'
.venv/bin/ruff check mhhs_workbench tests scripts benchmarks
# the folders are the layers: contracts in pyproject.toml, and no import cycle anywhere
.venv/bin/lint-imports --no-cache
.venv/bin/python scripts/import_cycles.py
exec .venv/bin/python -m pytest "$@"
