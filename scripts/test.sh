#!/usr/bin/env bash
# Run s2b's test suite: set up first when needed (idempotent, quick when already done), then
# pytest. Extra arguments go to pytest, e.g. `bash scripts/test.sh tests/s2b_env -k zork1`.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export S2B_GAMES_DIR=${S2B_GAMES_DIR:-$(cd .. && pwd)/shared/games}
start=$SECONDS
status=0
.venv/bin/python -m pytest "$@" || status=$?
echo "test suite finished in $((SECONDS - start)) s (exit $status)"
exit $status
