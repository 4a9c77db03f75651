#!/usr/bin/env bash
# Sets everything up and runs the app on the embedded SQLite database, on 0.0.0.0:5000.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
.venv/bin/flask --app wsgi ensure-demo-therapist
exec .venv/bin/python -m facilitator.serve "$@"
