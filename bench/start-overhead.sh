#!/usr/bin/env bash
# Benchmark 1 — start overhead: POST /api/v1/tasks until /t/{id}/ answers 200, versus a bare
# `docker run -d -p 127.0.0.1::8080 rosetta/hello` until its published port answers 200.
# Usage: bench/start-overhead.sh [ITERATIONS]   (default 15; target: platform within 150 ms of baseline)
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
prepare
start_app
results_to start-overhead run_bench start-overhead --iterations "${1:-15}" --poll-ms 20
