#!/usr/bin/env bash
# Install the project into .venv and crawl the bundled fixtures offline into articles.jsonl.
# Pass `live` to crawl the real sites instead (needs network).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$PY" -m venv .venv
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet -e .
if [ "${1:-}" = "live" ]; then
  exec .venv/bin/scrapy crawl newsites -O articles.jsonl
fi
exec .venv/bin/scrapy crawl newsites -s FIXTURES_MODE=replay -O articles.jsonl
