#!/usr/bin/env bash
# Benchmark — storages (issue 7): a 1 GiB file uploaded (PUT) and downloaded through the platform API
# against a plain `cp` (local storage) and `scp` to the demo sshd (sftp storage) of the same file
# (target: the platform at >= 80 % of their throughput); listing a folder of 10,000 entries through the
# API (target < 1 s); the app's RSS sampled every 100 ms during each transfer (target: flat, no growth
# in proportion to the file).
# Usage: bench/storage.sh [SIZE_MIB=1024] [LISTINGS=5]. Needs ./rosetta.sh infra (demo sshd), root, curl.
# PARTS="local sftp listing" (default all) runs only some parts, for A/B runs of one of them.
# ROUNDS=3 (default): the transfers and their baselines run that many times, alternating, and the
# verdict compares medians (a single cp on this machine ranged from 0.7 to 5 GB/s between runs).
BENCH_SRC=${BENCH_SRC:-/tmp/bench-src-storage}
BENCH_DATA=${BENCH_DATA:-/tmp/bench-data-storage}
BENCH_PORT=${BENCH_PORT:-18183}
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# shellcheck source=../scripts/infra.sh
source "$REPO/scripts/infra.sh"
# shellcheck source=../scripts/demo-sshd.sh
source "$REPO/scripts/demo-sshd.sh"
start_demo_sshd
authorize_platform_key
BENCH_APP_ENV="${BENCH_APP_ENV:-} Rosetta__Ssh__PlatformKeyPath=$ROSETTA_PLATFORM_KEY Rosetta__Demo__Ssh__Port=$ROSETTA_DEMO_SSH_PORT Rosetta__Demo__Ssh__Username=$ROSETTA_DEMO_USER"
SIZE_MIB=${1:-1024}
LISTINGS=${2:-5}
PARTS=${PARTS:-local sftp listing}
ROUNDS=${ROUNDS:-3}
part() { [[ " $PARTS " == *" $1 "* ]]; }
WORK=$BENCH_DATA/work
REMOTE=/tmp/bench-sftp-$$ # the sftp storage's base on the demo host (this machine's file system)

prepare
build_ceilings
SINK_PID=""
start_app
trap 'rc=$?; [ -z "$SINK_PID" ] || kill "$SINK_PID" 2>/dev/null; rm -rf "$REMOTE"; (exit $rc); cleanup' EXIT

now() { date +%s.%N; }
# seconds between two `now`s, and MiB/s for SIZE_MIB in that time
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b - a }'; }
rate() { awk -v s="$1" -v m="$SIZE_MIB" 'BEGIN { printf "%.0f", m / s }'; }
rss_kib() { awk '/VmRSS/ { print $2 }' "/proc/$APP_PID/status"; }
# CPU seconds the app has used so far (user + system), from /proc/PID/stat
cpu_s() { awk -v hz="$(getconf CLK_TCK)" '{ printf "%.2f", ($14 + $15) / hz }' "/proc/$APP_PID/stat"; }

# Samples the app's RSS every 100 ms into a file until stopped; prints "start max" in MiB.
SAMPLER=""
sample_start() { : >"$WORK/rss"; (while :; do rss_kib >>"$WORK/rss"; sleep 0.1; done) & SAMPLER=$!; }
sample_stop() {
    kill "$SAMPLER" 2>/dev/null; wait "$SAMPLER" 2>/dev/null || true
    awk 'NR == 1 { first = $1 } { if ($1 > max) max = $1 } END { printf "%d %d", first / 1024, max / 1024 }' "$WORK/rss"
}

# run_transfer LABEL BASELINE_SECONDS COMMAND... : times the command with the RSS sampled, prints a row.
run_transfer() {
    local label=$1 baseline=$2; shift 2
    sample_start
    local c0 c1; c0=$(cpu_s)
    local t0 t1; t0=$(now); "$@"; t1=$(now)
    c1=$(cpu_s)
    local rss; rss=$(sample_stop)
    local s; s=$(elapsed "$t0" "$t1")
    LAST_S=$s
    printf '%-34s %7ss %6s MiB/s  %5s%% of baseline  RSS start/max %s MiB  app CPU %ss\n' "$label" "$s" "$(rate "$s")" \
        "$(awk -v b="$baseline" -v s="$s" 'BEGIN { printf "%.0f", 100 * b / s }')" "${rss/ //}" "$(elapsed "$c0" "$c1")"
}

timed() { local t0 t1; t0=$(now); "$@"; t1=$(now); elapsed "$t0" "$t1"; }

# Seconds per round of each transfer, by name, and the summary line comparing their medians.
declare -A ROUND_SECONDS
record() { ROUND_SECONDS[$1]+="$2 "; }
median_of() { printf '%s\n' ${ROUND_SECONDS[$1]} | sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
summary() { # LABEL PLATFORM_NAME BASELINE_NAME
    local p b; p=$(median_of "$2"); b=$(median_of "$3")
    printf '%-34s median %6s MiB/s vs %6s MiB/s = %3s%%   (rounds, s: %s/ %s)\n' "$1" "$(rate "$p")" "$(rate "$b")" \
        "$(awk -v b="$b" -v p="$p" 'BEGIN { printf "%.0f", 100 * b / p }')" "${ROUND_SECONDS[$2]}" "${ROUND_SECONDS[$3]}"
}

# Context for the local rows: the same curl against Kestrel with nothing else to do (PUT drops the
# bytes, GET sends the file), i.e. what any upload or download over HTTP can reach on this machine.
http_ceiling() {
    local port=$((BENCH_PORT + 1))
    $CEILINGS http-sink "$port" "$WORK/source.bin" & SINK_PID=$!
    local i; for ((i = 0; i < 100; i++)); do curl -sf -o /dev/null "http://127.0.0.1:$port/file" -r 0-0 && break; sleep 0.1; done
    local up down
    up=$(timed curl -sf -o "$WORK/sink-count" -H 'Expect:' -T "$WORK/source.bin" "http://127.0.0.1:$port/upload")
    [ "$(cat "$WORK/sink-count")" = "$((SIZE_MIB * 1024 * 1024))" ] || { log "the HTTP sink did not receive the whole file"; exit 1; }
    down=$(timed curl -sf -o "$WORK/sink-down.bin" "http://127.0.0.1:$port/file")
    cmp -s "$WORK/source.bin" "$WORK/sink-down.bin" || { log "the HTTP sink's download differs"; exit 1; }
    printf '%-34s %7ss %6s MiB/s  (context: Kestrel alone drops the bytes)\n' "HTTP alone upload (curl -T)" "$up" "$(rate "$up")"
    printf '%-34s %7ss %6s MiB/s  (context: Kestrel alone sends the file)\n' "HTTP alone download (curl -o)" "$down" "$(rate "$down")"
    rm -f "$WORK/sink-down.bin" "$WORK/sink-count"
    kill "$SINK_PID"; wait "$SINK_PID" 2>/dev/null || true; SINK_PID=""
}

bench() {
    mkdir -p "$WORK"
    local token
    token=$(curl -sf "$BENCH_URL/api/v1/tokens" -H 'Content-Type: application/json' \
        -d "{\"username\":\"admin\",\"password\":\"$BENCH_PASSWORD\"}" | sed -E 's/.*"token":"([^"]+)".*/\1/')
    local auth=(-H "Authorization: Bearer $token")
    local api=$BENCH_URL/api/v1/storages
    curl -sf "${auth[@]}" -H 'Content-Type: application/json' "$api" -d "{\"id\":\"bench-sftp\",\"name\":\"bench sftp\",\"kind\":\"sftp\",\"computing\":\"demo-ssh\",\"basePath\":\"$REMOTE/\$USER\",\"bindPath\":\"/storages/bench-sftp\"}" >/dev/null
    curl -sf "${auth[@]}" "$api/personal/files" >/dev/null   # makes the personal folder
    curl -sf "${auth[@]}" "$api/bench-sftp/files" >/dev/null # makes the remote folder, connects SFTP
    local personal=$BENCH_DATA/storage/users/admin remote=$REMOTE/admin
    local ssh_opts=(-q -i "$ROSETTA_PLATFORM_KEY" -P "$ROSETTA_DEMO_SSH_PORT" -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null)
    local remote_login=$ROSETTA_DEMO_USER@127.0.0.1

    echo "== ${SIZE_MIB} MiB transfers (file from /dev/urandom, in the page cache; every target on the same disk)"
    head -c "$((SIZE_MIB * 1024 * 1024))" /dev/urandom >"$WORK/source.bin"
    chmod 0644 "$WORK/source.bin"
    echo "app RSS before: $(( $(rss_kib) / 1024 )) MiB"

    local cp_up cp_down scp_up scp_down round
    for ((round = 1; round <= ROUNDS; round++)); do
    echo "-- round $round of $ROUNDS"
    if part local; then
    cp_up=$(timed cp "$WORK/source.bin" "$WORK/cp.bin")
    printf '%-34s %7ss %6s MiB/s\n' "cp (baseline, local)" "$cp_up" "$(rate "$cp_up")"
    record cp_up "$cp_up"
    if ((round == 1)); then
    # cp copies inside the kernel (copy_file_range); for context, a copy through user space:
    local cat_up; cat_up=$(timed sh -c "cat '$WORK/source.bin' >'$WORK/cat.bin'")
    printf '%-34s %7ss %6s MiB/s\n' "cat > file (context, local)" "$cat_up" "$(rate "$cat_up")"
    rm -f "$WORK/cat.bin"
    fi
    run_transfer "local upload (PUT, curl -T)" "$cp_up" \
        curl -sf -o /dev/null "${auth[@]}" -H 'Expect:' -T "$WORK/source.bin" "$api/personal/files?path=big.bin"
    record local_up "$LAST_S"
    cmp -s "$WORK/source.bin" "$personal/big.bin" || { log "local upload differs"; exit 1; }
    cp_down=$(timed cp "$personal/big.bin" "$WORK/cp-down.bin")
    record cp_down "$cp_down"
    rm -f "$WORK/cp.bin" "$WORK/cp-down.bin"
    run_transfer "local download (GET, curl -o)" "$cp_down" \
        curl -sf -o "$WORK/down.bin" "${auth[@]}" "$api/personal/download?path=big.bin"
    record local_down "$LAST_S"
    cmp -s "$WORK/source.bin" "$WORK/down.bin" || { log "local download differs"; exit 1; }
    rm -f "$WORK/down.bin" "$personal/big.bin"
    if ((round == 1)); then http_ceiling; fi
    fi

    if part sftp; then
    scp_up=$(timed scp "${ssh_opts[@]}" "$WORK/source.bin" "$remote_login:$remote/scp.bin")
    printf '%-34s %7ss %6s MiB/s\n' "scp upload (baseline, demo sshd)" "$scp_up" "$(rate "$scp_up")"
    record scp_up "$scp_up"
    rm -f "$remote/scp.bin"
    run_transfer "sftp upload (PUT, curl -T)" "$scp_up" \
        curl -sf -o /dev/null "${auth[@]}" -H 'Expect:' -T "$WORK/source.bin" "$api/bench-sftp/files?path=big.bin"
    record sftp_up "$LAST_S"
    cmp -s "$WORK/source.bin" "$remote/big.bin" || { log "sftp upload differs"; exit 1; }
    scp_down=$(timed scp "${ssh_opts[@]}" "$remote_login:$remote/big.bin" "$WORK/scp-down.bin")
    printf '%-34s %7ss %6s MiB/s\n' "scp download (baseline, demo sshd)" "$scp_down" "$(rate "$scp_down")"
    record scp_down "$scp_down"
    rm -f "$WORK/scp-down.bin"
    run_transfer "sftp download (GET, curl -o)" "$scp_down" \
        curl -sf -o "$WORK/down.bin" "${auth[@]}" "$api/bench-sftp/download?path=big.bin"
    record sftp_down "$LAST_S"
    cmp -s "$WORK/source.bin" "$WORK/down.bin" || { log "sftp download differs"; exit 1; }
    rm -f "$WORK/down.bin" "$remote/big.bin"
    if ((round == 1)); then
    echo "SSH.NET alone (context: its own UploadFile/DownloadFile, the platform's cipher order, no platform):"
    $CEILINGS sftp 127.0.0.1 "$ROSETTA_DEMO_SSH_PORT" "$ROSETTA_DEMO_USER" "$ROSETTA_PLATFORM_KEY" "$WORK/source.bin" "$remote/ceiling.bin" | sed 's/^/  /'
    fi
    fi
    done
    echo "-- medians of $ROUNDS rounds (platform vs its baseline)"
    if part local; then
    summary "local upload vs cp" local_up cp_up
    summary "local download vs cp" local_down cp_down
    fi
    if part sftp; then
    summary "sftp upload vs scp" sftp_up scp_up
    summary "sftp download vs scp" sftp_down scp_down
    fi
    rm -f "$WORK/source.bin"
    echo "app RSS after: $(( $(rss_kib) / 1024 )) MiB"

    part listing || return 0
    echo
    echo "== listing a folder of 10,000 files through the API ($LISTINGS runs after one warm-up; seconds)"
    mkdir -p "$personal/many"
    (cd "$personal/many" && seq -f 'file-%05g.txt' 1 10000 | xargs touch)
    install -d -o "$ROSETTA_DEMO_USER" "$remote/many"
    (cd "$remote/many" && seq -f 'file-%05g.txt' 1 10000 | xargs touch)
    local storage i times
    for storage in personal bench-sftp; do
        curl -sf -o /dev/null "${auth[@]}" "$api/$storage/files?path=many"
        times=()
        for ((i = 0; i < LISTINGS; i++)); do
            times+=("$(curl -sf -o "$WORK/listing.json" -w '%{time_total}' "${auth[@]}" "$api/$storage/files?path=many")")
        done
        local entries; entries=$(grep -o '"name":' "$WORK/listing.json" | wc -l)
        printf '%-12s entries %5d  median %ss  all: %s\n' "$storage" "$entries" \
            "$(printf '%s\n' "${times[@]}" | sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }')" "${times[*]}"
    done
}

results_to storage bench
