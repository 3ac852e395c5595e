#!/usr/bin/env bash
# Dashboard benchmarks: bench/dashboard/run.sh latency|render|logs|upload|all
#   latency  state change -> browser DOM (docker kill -> status chip `exited`; target p95 < 250 ms)
#   render   tasks page with 1,000 tasks (seeded in SQLite) until all rows are in the DOM (target < 1 s)
#   logs     a circuit following hello's HELLO_LINES output (target < 50 MB extra server memory)
#   upload   a MIB-sized file (default 256) picked on the Files page: throughput, and app memory while it streams
# Each builds the committed HEAD of this repository in a private clone (never in the working tree),
# starts its own app instance with a fresh data directory, runs, prints its figures, writes them to
# bench/results/dashboard-<name>.txt, and removes its app, containers and directories.
#
# Environment (all optional):
#   DASH_SRC       private clone to build in                 (default /tmp/dash-bench)
#   DASH_DATA      data directory of the app instance         (default /tmp/dash-bench-data, wiped)
#   DASH_PORT      port on 127.0.0.1                          (default 18282)
#   DASH_PASSWORD  admin password                             (default benchpass123)
#   DOCKER         docker CLI                                 (default /usr/bin/docker, API 1.41)
#   DASH_MAX_LOAD  wait (at most DASH_LOAD_WAIT s) until the 1-min load is below this (default 4, wait 300)
#   DASH_APP_ENV   extra VAR=value settings for the app, space-separated (default: none)
#   DASH_TAG       results go to bench/results/dashboard-NAME.TAG.txt (for A/B runs with DASH_APP_ENV)
#   DASH_KEEP_SRC  1 = keep the clone afterwards (faster reruns)
#   SAMPLES / RUNS / ROWS / LINES / MIB   sizes (defaults 25 / 7 / 1000 / 1000000 / 256)
#   CPUS           logs only: the hello task's options.cpus, to pace its output (e.g. 0.15 for ~10,000 lines/s)
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
DASH_SRC=${DASH_SRC:-/tmp/dash-bench}
DASH_DATA=${DASH_DATA:-/tmp/dash-bench-data}
DASH_PORT=${DASH_PORT:-18282}
DASH_PASSWORD=${DASH_PASSWORD:-benchpass123}
DASH_URL=http://127.0.0.1:$DASH_PORT
DOCKER=${DOCKER:-/usr/bin/docker}
export DOCKER_API_VERSION=${DOCKER_API_VERSION:-1.41}
DASH_MAX_LOAD=${DASH_MAX_LOAD:-4}
DASH_LOAD_WAIT=${DASH_LOAD_WAIT:-300}
IDS_FILE=$DASH_DATA.task-ids # outside DASH_DATA: it spans the benchmarks of one `all` run
DRIVER=$DASH_SRC/bench/dashboard/DashboardBench/bin/Release/net10.0/DashboardBench.dll
APP_PID=""

log() { echo "[dash] $*" >&2; }

prepare() {
    [ "$DASH_SRC" != "$REPO" ] || { log "DASH_SRC must not be the repository itself"; exit 2; }
    [ -x /usr/bin/chromium ] || { log "/usr/bin/chromium is missing: apt-get install -y chromium"; exit 2; }
    command -v sqlite3 >/dev/null || { log "sqlite3 is missing: apt-get install -y sqlite3"; exit 2; }
    command -v jq >/dev/null || { log "jq is missing: apt-get install -y jq"; exit 2; }
    local head; head=$(git -C "$REPO" rev-parse HEAD)
    if [ ! -d "$DASH_SRC/.git" ] || [ "$(git -C "$DASH_SRC" rev-parse HEAD)" != "$head" ]; then
        log "cloning $REPO @ ${head:0:10} into $DASH_SRC"
        rm -rf "$DASH_SRC"
        git clone -q "$REPO" "$DASH_SRC"
        git -C "$DASH_SRC" checkout -q --detach "$head"
    fi
    mkdir -p "$DASH_SRC/bench/dashboard"
    tar -C "$HERE" --exclude=bin --exclude=obj -cf - . | tar -C "$DASH_SRC/bench/dashboard" -xf -
    log "building Rosetta.App and the dashboard driver (Release) in $DASH_SRC"
    (cd "$DASH_SRC" && dotnet build Rosetta.App -c Release -nologo -v q >"$DASH_SRC/build-app.log" 2>&1) \
        || { tail -30 "$DASH_SRC/build-app.log"; exit 1; }
    (cd "$DASH_SRC" && dotnet build bench/dashboard/DashboardBench -c Release -nologo -v q >"$DASH_SRC/build-driver.log" 2>&1) \
        || { tail -30 "$DASH_SRC/build-driver.log"; exit 1; }
}

start_app() {
    (cd "$DASH_SRC" && exec env ASPNETCORE_URLS="$DASH_URL" \
        ConnectionStrings__Rosetta="Data Source=$DASH_DATA/r.db" \
        Rosetta__DataDirectory="$DASH_DATA" \
        Rosetta__Admin__Password="$DASH_PASSWORD" \
        ${DASH_APP_ENV:-} \
        dotnet Rosetta.App/bin/Release/net10.0/Rosetta.App.dll >>"$DASH_DATA/app.log" 2>&1) &
    APP_PID=$!
    local i
    for i in $(seq 1 300); do
        [ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 1 "$DASH_URL/healthz")" = 200 ] && { log "app up on $DASH_URL (pid $APP_PID)"; return; }
        kill -0 "$APP_PID" 2>/dev/null || { tail -30 "$DASH_DATA/app.log"; log "app exited"; exit 1; }
        sleep 0.2
    done
    log "app did not answer /healthz within 60 s"; tail -30 "$DASH_DATA/app.log"; exit 1
}

stop_app() {
    [ -n "$APP_PID" ] || return 0
    if kill -0 "$APP_PID" 2>/dev/null; then
        kill "$APP_PID" 2>/dev/null || true
        for _ in $(seq 1 75); do kill -0 "$APP_PID" 2>/dev/null || break; sleep 0.2; done
        kill -9 "$APP_PID" 2>/dev/null || true
    fi
    wait "$APP_PID" 2>/dev/null || true
    APP_PID=""
}

# Stops this script's app and removes the containers of the tasks this run created (only those).
cleanup() {
    local rc=$?
    stop_app
    local ids=() id leftovers=()
    [ -f "$IDS_FILE" ] && mapfile -t ids <"$IDS_FILE"
    for id in "${ids[@]}"; do
        [ -n "$id" ] || continue
        mapfile -t -O "${#leftovers[@]}" leftovers < <("$DOCKER" ps -aq --filter "label=rosetta.task=$id")
    done
    if [ "${#leftovers[@]}" -gt 0 ]; then
        log "removing ${#leftovers[@]} container(s) of this run's tasks"
        "$DOCKER" rm -f "${leftovers[@]}" >/dev/null || true
    fi
    if [ "$rc" -eq 0 ]; then
        rm -rf "$DASH_DATA" "$IDS_FILE"
        [ "${DASH_KEEP_SRC:-0}" = 1 ] || rm -rf "$DASH_SRC"
    else
        log "failed (exit $rc); the app's log stays in $DASH_DATA/app.log"
    fi
    exit "$rc"
}

fresh_instance() {
    if curl -s -o /dev/null --max-time 1 "$DASH_URL/healthz"; then log "something already listens on $DASH_URL; set DASH_PORT"; exit 2; fi
    rm -rf "$DASH_DATA"; mkdir -p "$DASH_DATA"; touch "$IDS_FILE"
}

wait_for_load() {
    local waited=0 load
    while :; do
        load=$(cut -d' ' -f1 /proc/loadavg)
        awk -v l="$load" -v m="$DASH_MAX_LOAD" 'BEGIN{exit !(l < m)}' && { echo "# load ok before measuring: $(cut -d' ' -f1-3 /proc/loadavg) (waited ${waited} s)"; return; }
        if [ "$waited" -ge "$DASH_LOAD_WAIT" ]; then
            echo "# WARNING: load still $(cut -d' ' -f1-3 /proc/loadavg) after waiting ${waited} s (limit $DASH_MAX_LOAD); measuring anyway"
            return
        fi
        sleep 15; waited=$((waited + 15))
    done
}

driver() { dotnet "$DRIVER" "$@" --url "$DASH_URL" --password "$DASH_PASSWORD" --ids-file "$IDS_FILE" --docker "$DOCKER"; }

machine_note() {
    echo "# date: $(date -u '+%Y-%m-%d %H:%M UTC')"
    echo "# machine: $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB RAM, $(uname -sr), $(. /etc/os-release && echo "$PRETTY_NAME")"
    echo "# chromium: $(/usr/bin/chromium --version 2>/dev/null | head -1); docker engine $("$DOCKER" version --format '{{.Server.Version}}' 2>/dev/null || echo '?'); dotnet $(dotnet --version)"
    echo "# app: $(git -C "$DASH_SRC" rev-parse --short HEAD) ($(git -C "$DASH_SRC" log -1 --format=%s | cut -c1-70)), Release build, SQLite, fresh data directory, settings: shipped${DASH_APP_ENV:+ + $DASH_APP_ENV}"
    echo "# load at start (1/5/15 min): $(cut -d' ' -f1-3 /proc/loadavg)"
    echo "# other processes using CPU: $(ps -eo pcpu=,comm= --sort=-pcpu | head -4 | awk '{printf "%s %s%%; ", $2, $1}')"
}

# Runs one benchmark in this shell (so the EXIT trap knows its app) with its output also kept in
# bench/results/dashboard-NAME.txt: results_to NAME FUNCTION
results_to() {
    local name=$1; shift
    mkdir -p "$REPO/bench/results"
    exec 3>&1 4>&2 > >(tee "$REPO/bench/results/dashboard-$name${DASH_TAG:+.$DASH_TAG}.txt") 2>&1
    machine_note; echo
    "$@"
    echo; echo "# load at end: $(cut -d' ' -f1-3 /proc/loadavg)"
    exec 1>&3 2>&4 3>&- 4>&-
    sleep 0.5 # let tee finish the file
}

# ------------------------------------------------------------------ the three benchmarks

bench_latency() {
    fresh_instance
    # Millisecond UTC timestamps on the app's console lines (a log format setting only) let the
    # driver place the monitor's "running -> exited" line between the engine event and the page.
    DASH_APP_ENV="Logging__Console__FormatterName=simple Logging__Console__FormatterOptions__SingleLine=true Logging__Console__FormatterOptions__UseUtcTimestamp=true Logging__Console__FormatterOptions__TimestampFormat=yyyy-MM-ddTHH:mm:ss.fff_ ${DASH_APP_ENV:-}" start_app
    echo "# app log format for this run: single-line console entries with UTC millisecond timestamps (Logging__Console__FormatterOptions__*)"
    wait_for_load
    driver latency --samples "${SAMPLES:-25}" --warmup 2 --app-log "$DASH_DATA/app.log"
    stop_app
}

bench_render() {
    local rows=${ROWS:-1000}
    fresh_instance; start_app
    # One real task as the template row (hello, run, stopped by the API), so every column has the
    # format the app itself writes; then the app stops and SQLite gets rows-1 copies of it.
    local token id status
    token=$(curl -sf -X POST "$DASH_URL/api/v1/tokens" -H 'Content-Type: application/json' \
        -d "{\"username\":\"admin\",\"password\":\"$DASH_PASSWORD\"}" | jq -r .token)
    id=$(curl -sf -X POST "$DASH_URL/api/v1/tasks" -H "Authorization: Bearer $token" -H 'Content-Type: application/json' \
        -d '{"name":"dash-row-0000","software":"hello","computing":"local"}' | jq -r .id)
    echo "$id" >>"$IDS_FILE"
    for _ in $(seq 1 600); do
        status=$(curl -sf "$DASH_URL/api/v1/tasks/$id" -H "Authorization: Bearer $token" | jq -r .status)
        [ "$status" = running ] && break; sleep 0.2
    done
    curl -sf -o /dev/null -X POST "$DASH_URL/api/v1/tasks/$id/stop" -H "Authorization: Bearer $token"
    for _ in $(seq 1 600); do
        status=$(curl -sf "$DASH_URL/api/v1/tasks/$id" -H "Authorization: Bearer $token" | jq -r .status)
        [ "$status" = stopped ] && break; sleep 0.2
    done
    [ "$status" = stopped ] || { log "template task did not stop ($status)"; return 1; }
    stop_app
    sqlite3 "$DASH_DATA/r.db" <<SQL
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $rows - 1)
INSERT INTO Tasks (Id, BackendId, ComputingId, CreatedAt, EndedAt, Error, ExitCode, ForwardedPort, ImageDigest, ImageReference,
                   InterfaceHost, InterfacePort, InterfaceProtocol, Name, Options, OwnerId, ProtectedSecret, ProxyAuthorizationScheme,
                   ProxyKeepsPrefix, SoftwareId, StartedAt, Status, StatusDetail, UpdatedAt)
SELECT printf('dab0%012x', i), NULL, t.ComputingId, strftime('%Y-%m-%d %H:%M:%f', t.CreatedAt, printf('-%d minutes', i)),
       t.EndedAt, NULL, CASE WHEN i % 2 = 0 THEN 0 ELSE t.ExitCode END, NULL, t.ImageDigest, t.ImageReference,
       NULL, NULL, t.InterfaceProtocol, printf('dash-row-%04d', i), t.Options, t.OwnerId, NULL, t.ProxyAuthorizationScheme,
       t.ProxyKeepsPrefix, t.SoftwareId, t.StartedAt, CASE WHEN i % 2 = 0 THEN 'Exited' ELSE t.Status END, NULL, t.UpdatedAt
FROM n, (SELECT * FROM Tasks WHERE Id = '$id') AS t;
SQL
    echo "# seeded: $(sqlite3 "$DASH_DATA/r.db" "SELECT count(*) FROM Tasks") rows in Tasks ($(sqlite3 "$DASH_DATA/r.db" "SELECT group_concat(Status || '=' || c, ', ') FROM (SELECT Status, count(*) c FROM Tasks GROUP BY Status)")); template row: $(sqlite3 "$DASH_DATA/r.db" "SELECT Status, CreatedAt FROM Tasks WHERE Id='$id'")"
    start_app
    wait_for_load
    driver render --rows "$rows" --runs "${RUNS:-7}" --warmup 2
    stop_app
}

bench_logs() {
    fresh_instance; start_app
    wait_for_load
    # The app's own process (dotnet Rosetta.App.dll), started by this script.
    driver logs --pid "$APP_PID" --lines "${LINES:-1000000}" ${CPUS:+--cpus "$CPUS"}
    stop_app
}

bench_upload() {
    fresh_instance; start_app
    wait_for_load
    driver upload --pid "$APP_PID" --mib "${MIB:-256}"
    stop_app
}

what=${1:-}
case "$what" in
    latency|render|logs|upload|all) ;;
    *) echo "usage: $0 latency|render|logs|upload|all" >&2; exit 2 ;;
esac
trap cleanup EXIT
trap 'exit 130' INT TERM
touch "$IDS_FILE"
prepare
if [ "$what" = all ]; then
    results_to latency bench_latency
    results_to render bench_render
    results_to logs bench_logs
    results_to upload bench_upload
else
    results_to "$what" "bench_$what"
fi
