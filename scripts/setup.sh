#!/usr/bin/env bash
# Sets everything up from a fresh clone: virtualenv, Python and npm packages, the front-end
# bundle, compiled translations and the database schema. Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."

python_bin="${PYTHON:-$(command -v python3.11 || command -v python3)}"
if [ ! -x .venv/bin/python ]; then
  echo "==> creating .venv with $python_bin"
  "$python_bin" -m venv .venv
fi

# Reinstall only when requirements.txt changed since the last successful install.
stamp=.venv/.requirements.sha256
wanted=$(sha256sum requirements.txt | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null)" != "$wanted" ]; then
  echo "==> installing Python packages"
  .venv/bin/python -m pip install --quiet --disable-pip-version-check -r requirements.txt
  echo "$wanted" > "$stamp"
fi

if ! command -v npm >/dev/null 2>&1; then
  echo "==> installing Node.js and npm (needed to build the front-end bundle)"
  apt-get update -qq && apt-get install -y -qq nodejs npm >/dev/null
fi
stamp=node_modules/.package-lock.sha256
wanted=$(sha256sum package-lock.json | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null)" != "$wanted" ]; then
  echo "==> installing npm packages"
  npm ci --no-audit --no-fund --loglevel=error
  echo "$wanted" > "$stamp"
fi
echo "==> building the front-end bundle"
npm run --silent build

echo "==> compiling translations"
.venv/bin/pybabel compile -d translations

echo "==> creating or migrating the database"
.venv/bin/flask --app wsgi db upgrade
