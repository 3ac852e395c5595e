#!/usr/bin/env bash
# Benchmark 3 — proxy latency: small GETs through /t/{id}/ (Bearer) versus straight to the
# container's published port, with a sequential HttpClient loop and with wrk (-t1, -c1 and -c10).
# Usage: bench/proxy-latency.sh [WRK_SECONDS]   (default 10; target: proxy adds < 1 ms median)
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
command -v wrk >/dev/null || { echo "wrk is missing: apt-get install -y wrk" >&2; exit 2; }
prepare
start_app

proxy_bench() {
    run_bench proxy-latency --requests 3000 --wrk-seconds "${1:-10}" || return $?
    echo "# the app's console log during the run: $(wc -l <"$BENCH_DATA/app.log") lines; entries by level and category:"
    grep -oE '^(trce|dbug|info|warn|fail|crit): [^[]+' "$BENCH_DATA/app.log" | sort | uniq -c | sort -rn | head -6 | sed 's/^/#   /'
}
results_to proxy-latency proxy_bench "${1:-10}"
