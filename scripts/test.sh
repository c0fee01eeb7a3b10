#!/usr/bin/env bash
# Install what the tests need and run them: Debian's Chromium (for the web page's browser tests)
# and Fashion-MNIST (for the any-IDX-dataset tests), a virtual environment with digitnet and its
# test extras, then the linters and pytest. Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
command -v chromium >/dev/null 2>&1 || need+=(chromium)
[ -d /usr/share/datasets/fashion-mnist ] || need+=(dataset-fashion-mnist)
if [ ${#need[@]} -gt 0 ]; then
  sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

python3 -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q -e '.[test]'
if [ -x .ci/lint.sh ] || [ -f .ci/lint.sh ]; then PATH="$PWD/.venv/bin:$PATH" bash .ci/lint.sh; fi
exec .venv/bin/python -m pytest "$@"
