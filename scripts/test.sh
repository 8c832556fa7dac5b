#!/usr/bin/env bash
# Run s2b's test suite: set up first when needed (idempotent, quick when already done), then
# pytest (its 25 slowest tests listed at the end, to keep the suite short). Extra arguments go to
# pytest, e.g. `bash scripts/test.sh tests/s2b_env -k zork1`.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export S2B_GAMES_DIR=${S2B_GAMES_DIR:-$(cd .. && pwd)/shared/games}
start=$SECONDS
status=0
.venv/bin/python -m pytest --durations=25 "$@" || status=$?
echo "test suite finished in $((SECONDS - start)) s (exit $status)"
exit $status
