#!/usr/bin/env bash
# Lint and type-check digitnet: ruff (rules in ruff.toml) over src, tests and examples (notebooks
# included), then mypy (settings in mypy.ini) over src/digitnet and tests. Exits non-zero on any finding.
# Needs ruff and mypy on PATH or in the running Python (both are in digitnet's `test` extra).
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON="${PYTHON:-python}"
for tool in ruff mypy; do
  if ! "$PYTHON" -c "import $tool" >/dev/null 2>&1; then
    echo "lint: $tool is not installed in $("$PYTHON" -c 'import sys; print(sys.prefix)'); pip install -e '.[test]'" >&2
    exit 2
  fi
done

echo "ruff check src tests examples"
"$PYTHON" -m ruff check --no-cache src tests examples
echo "mypy (mypy.ini: src/digitnet, tests)"
"$PYTHON" -m mypy
