#!/usr/bin/env bash
# Install the project and run the whole test suite (the README's test command).
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m venv .venv
.venv/bin/pip install -q --upgrade pip
.venv/bin/pip install -q -e '.[dev,postgres,parquet]'
.venv/bin/ruff check .
.venv/bin/mypy newsarchive spiders pipelines
.venv/bin/python -m pytest "$@"
