# Shared by bench/*.sh: builds a private copy of the app and of the benchmark driver, starts the app
# on its own port with its own data directory, and cleans up (app, tasks, containers) on exit.
# Source it; do not run it.
#
# Environment (all optional):
#   BENCH_SRC       private clone to build in          (default /tmp/bench-src)
#   BENCH_DATA      data directory of the app instance  (default /tmp/bench-data, wiped at start)
#   BENCH_PORT      port on 127.0.0.1 for the app        (default 18181)
#   BENCH_PASSWORD  admin password of the instance       (default benchpass123)
#   DOCKER          docker CLI that speaks to the engine (default /usr/bin/docker, API 1.41)
#   BENCH_APP_ENV   extra VAR=value settings for the app, space-separated, for A/B experiments,
#                   e.g. BENCH_APP_ENV="Logging__LogLevel__Yarp=Warning" (default: none, shipped settings)
set -euo pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$BENCH_DIR/.." && pwd)
BENCH_SRC=${BENCH_SRC:-/tmp/bench-src}
BENCH_DATA=${BENCH_DATA:-/tmp/bench-data}
BENCH_PORT=${BENCH_PORT:-18181}
BENCH_PASSWORD=${BENCH_PASSWORD:-benchpass123}
BENCH_URL=http://127.0.0.1:$BENCH_PORT
DOCKER=${DOCKER:-/usr/bin/docker}
export DOCKER_API_VERSION=${DOCKER_API_VERSION:-1.41}
RUN_ID=bench-$$-$(date +%s)
IDS_FILE=$BENCH_DATA/task-ids
APP_PID=""

log() { echo "[bench] $*" >&2; }

# Clone the repository's committed HEAD into BENCH_SRC (reused while HEAD is unchanged), copy this
# working tree's bench/ over it, and build the app (Release) and the driver there — never in the
# working tree itself.
prepare() {
    clone_head
    log "building Rosetta.App (Release) and bench/Rosetta.Bench in $BENCH_SRC"
    (cd "$BENCH_SRC" && dotnet build Rosetta.App -c Release -nologo -v q >"$BENCH_SRC/build-app.log" 2>&1) \
        || { tail -30 "$BENCH_SRC/build-app.log"; exit 1; }
    (cd "$BENCH_SRC" && dotnet build bench/Rosetta.Bench -c Release -nologo -v q >"$BENCH_SRC/build-bench.log" 2>&1) \
        || { tail -30 "$BENCH_SRC/build-bench.log"; exit 1; }
}

# The committed HEAD in BENCH_SRC (reused while unchanged) with this working tree's bench/ over it.
clone_head() {
    [ "$BENCH_SRC" != "$REPO" ] || { log "BENCH_SRC must not be the repository itself"; exit 2; }
    local head; head=$(git -C "$REPO" rev-parse HEAD)
    if [ ! -d "$BENCH_SRC/.git" ] || [ "$(git -C "$BENCH_SRC" rev-parse HEAD)" != "$head" ]; then
        log "cloning $REPO @ ${head:0:10} into $BENCH_SRC"
        rm -rf "$BENCH_SRC"
        git clone -q "$REPO" "$BENCH_SRC"
        git -C "$BENCH_SRC" checkout -q --detach "$head"
    fi
    tar -C "$REPO" --exclude=bin --exclude=obj --exclude=results -cf - bench | tar -C "$BENCH_SRC" -xf -
}

# bench/ceilings (Release) in BENCH_SRC; sets CEILINGS to the command that runs it.
build_ceilings() {
    log "building bench/ceilings (Release) in $BENCH_SRC"
    (cd "$BENCH_SRC" && dotnet build bench/ceilings -c Release -nologo -v q >"$BENCH_SRC/build-ceilings.log" 2>&1) \
        || { tail -30 "$BENCH_SRC/build-ceilings.log"; exit 1; }
    CEILINGS="dotnet $BENCH_SRC/bench/ceilings/bin/Release/net10.0/Ceilings.dll"
}

start_app() {
    if curl -s -o /dev/null --max-time 1 "$BENCH_URL/healthz"; then
        log "something already listens on $BENCH_URL; set BENCH_PORT"; exit 2
    fi
    rm -rf "$BENCH_DATA"; mkdir -p "$BENCH_DATA"; : >"$IDS_FILE"
    trap cleanup EXIT
    trap 'exit 130' INT TERM
    (cd "$BENCH_SRC" && exec env ASPNETCORE_URLS="$BENCH_URL" \
        ConnectionStrings__Rosetta="Data Source=$BENCH_DATA/r.db" \
        Rosetta__DataDirectory="$BENCH_DATA" \
        Rosetta__Admin__Password="$BENCH_PASSWORD" \
        ${BENCH_APP_ENV:-} \
        dotnet Rosetta.App/bin/Release/net10.0/Rosetta.App.dll >"$BENCH_DATA/app.log" 2>&1) &
    APP_PID=$!
    local i
    for i in $(seq 1 300); do
        [ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 1 "$BENCH_URL/healthz")" = 200 ] && { log "app up on $BENCH_URL (pid $APP_PID)"; return; }
        kill -0 "$APP_PID" 2>/dev/null || { tail -30 "$BENCH_DATA/app.log"; log "app exited"; exit 1; }
        sleep 0.2
    done
    log "app did not answer /healthz within 60 s"; tail -30 "$BENCH_DATA/app.log"; exit 1
}

# Stops the app instance this script started, then force-removes any container that carries the
# label of a task this run created or of this run's baseline containers.
cleanup() {
    local rc=$?
    if [ -n "$APP_PID" ] && kill -0 "$APP_PID" 2>/dev/null; then
        kill "$APP_PID" 2>/dev/null || true
        for _ in $(seq 1 75); do kill -0 "$APP_PID" 2>/dev/null || break; sleep 0.2; done
        kill -9 "$APP_PID" 2>/dev/null || true
    fi
    local ids=() id
    [ -f "$IDS_FILE" ] && mapfile -t ids <"$IDS_FILE"
    local leftovers=()
    for id in "${ids[@]}"; do
        [ -n "$id" ] || continue
        mapfile -t -O "${#leftovers[@]}" leftovers < <("$DOCKER" ps -aq --filter "label=rosetta.task=$id")
    done
    mapfile -t -O "${#leftovers[@]}" leftovers < <("$DOCKER" ps -aq --filter "label=rosetta.bench=$RUN_ID")
    if [ "${#leftovers[@]}" -gt 0 ]; then
        log "removing ${#leftovers[@]} leftover container(s)"
        "$DOCKER" rm -f "${leftovers[@]}" >/dev/null || true
    fi
    if [ "$rc" -eq 0 ]; then rm -rf "$BENCH_DATA"; else log "failed (exit $rc); the app's log stays in $BENCH_DATA/app.log"; fi
    exit "$rc"
}

# Runs the driver against the instance: run_bench COMMAND [--option value ...]
run_bench() {
    dotnet "$BENCH_SRC/bench/Rosetta.Bench/bin/Release/net10.0/Rosetta.Bench.dll" "$@" \
        --url "$BENCH_URL" --password "$BENCH_PASSWORD" --ids-file "$IDS_FILE" --run-id "$RUN_ID" --docker "$DOCKER"
}

# A header for the results file: when, where, what.
machine_note() {
    echo "# date: $(date -u '+%Y-%m-%d %H:%M UTC')"
    echo "# machine: $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB RAM, $(uname -sr), $(. /etc/os-release && echo "$PRETTY_NAME")"
    echo "# docker engine: $("$DOCKER" version --format '{{.Server.Version}}' 2>/dev/null || echo '?'); dotnet $(dotnet --version)"
    echo "# app: $(git -C "$REPO" rev-parse --short HEAD) ($(git -C "$REPO" log -1 --format=%s | cut -c1-70)), Release build, SQLite, fresh data directory"
    echo "# app settings: shipped appsettings.json${BENCH_APP_ENV:+, plus $BENCH_APP_ENV}"
    echo "# load before start (1/5/15 min): $(cut -d' ' -f1-3 /proc/loadavg)"
}

# Runs the benchmark and keeps its output: results_to NAME COMMAND... (into results/NAME.txt, or
# results/NAME.$BENCH_TAG.txt when BENCH_TAG is set, so a new run keeps the earlier ones)
results_to() {
    local name=$1${BENCH_TAG:+.$BENCH_TAG}; shift
    mkdir -p "$BENCH_DIR/results"
    { machine_note; echo; local rc=0; "$@" || rc=$?; echo; echo "# load after: $(cut -d' ' -f1-3 /proc/loadavg)"; return $rc; } 2>&1 | tee "$BENCH_DIR/results/$name.txt"
}
