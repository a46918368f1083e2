#!/usr/bin/env bash
# A larger run of the reconciler lifecycle property (test/handlers/lifecycle).
#   scripts/lifecycle-soak.sh [runs] [seed]
# LIFECYCLE_IGNORE=cat1,cat2 looks past known failures; LIFECYCLE_SHRINK=0 stops at the first failure unshrunk.
set -euo pipefail
cd "$(dirname "$0")/.."
export LIFECYCLE_RUNS="${1:-2000}"
# a new seed each run unless one is given (the test command runs a fixed one)
export LIFECYCLE_SEED="${2:-${LIFECYCLE_SEED:-$RANDOM$RANDOM}}"
echo "lifecycle soak: $LIFECYCLE_RUNS runs, seed $LIFECYCLE_SEED"
exec npx jest --testTimeout=3600000 test/handlers/lifecycle/lifecycle.test.ts
