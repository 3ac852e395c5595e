#!/usr/bin/env bash
# Benchmark 2 — concurrent starts: N simultaneous POST /api/v1/tasks for `hello`, wait until all are
# running, check that none was lost (listed by the API, a running labelled container, proxy answers),
# then stop and delete them all.
# Usage: bench/concurrent-starts.sh [N]   (default 50)
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
prepare
start_app
results_to concurrent-starts run_bench concurrent --count "${1:-50}" --timeout 180
