#!/usr/bin/env bash
# Sets everything up and runs the whole test suite (lint, then pytest).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh

# The browser tests drive Debian's Chromium; in CI it is installed when missing.
if ! command -v chromium >/dev/null 2>&1; then
  if [ "${CI:-}" = "true" ] || [ "$(id -u)" = "0" ]; then
    echo "==> installing Chromium for the browser tests"
    apt-get update -qq && apt-get install -y -qq chromium fonts-dejavu-core >/dev/null
  else
    echo "==> Chromium is not installed: the browser tests will be skipped"
  fi
fi
# The record tests render the session PDF to PNG with poppler's pdftoppm.
if ! command -v pdftoppm >/dev/null 2>&1; then
  if [ "${CI:-}" = "true" ] || [ "$(id -u)" = "0" ]; then
    echo "==> installing poppler-utils for the PDF tests"
    apt-get update -qq && apt-get install -y -qq poppler-utils >/dev/null
  else
    echo "==> pdftoppm is not installed: the PDF pages will not be rendered"
  fi
fi

# The multi-process test runs Debian's nginx in front of two server processes.
if ! command -v nginx >/dev/null 2>&1 && [ ! -x /usr/sbin/nginx ]; then
  if [ "${CI:-}" = "true" ] || [ "$(id -u)" = "0" ]; then
    echo "==> installing nginx for the multi-process test"
    apt-get update -qq && apt-get install -y -qq nginx >/dev/null
  else
    echo "==> nginx is not installed: the multi-process test will be skipped"
  fi
fi

echo "==> ruff"
.venv/bin/ruff check .
echo "==> pytest"
exec .venv/bin/python -m pytest "$@"
