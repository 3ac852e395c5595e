#!/usr/bin/env bash
# WebSocket benchmarks (interfaces issue): Jupyter kernel round trip, noVNC throughput, 100 held sockets.
# Usage: bench/websockets/run.sh [rtt] [vnc] [hold]     (default: all three)
# Env: HOLD_SECONDS (600), RTT_N (2000), VNC_SECONDS (20), VNC_ROUNDS (2), WS_SRC (/tmp/ws-bench),
#      WS_DATA (/tmp/ws-bench-data), WS_PORT (18383), DOCKER (/usr/bin/docker), WS_NO_BUILD=1 to reuse a build,
#      WS_TAG (results go to websocket-<name>.<tag>.txt when set), WS_APP_ENV ("K=V ..." added to the app's environment).
# Builds in a private clone of the committed HEAD (bench/websockets copied from the working tree), starts
# its own app instance, one jupyter and one desktop task; on exit stops the app and removes only the
# containers of the tasks it created. Raw outputs: bench/results/websocket-<name>.txt.
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
SRC="${WS_SRC:-/tmp/ws-bench}"
DATA="${WS_DATA:-/tmp/ws-bench-data}"
PORT="${WS_PORT:-18383}"
DOCKER="${DOCKER:-/usr/bin/docker}"
export DOCKER_API_VERSION=1.41
B="http://127.0.0.1:$PORT"
PASS=benchpass123
RESULTS="$REPO/bench/results"
SUFFIX="${WS_TAG:+.$WS_TAG}"
PHASES="${*:-rtt vnc hold}"

if [ "${WS_NO_BUILD:-}" != 1 ]; then
    rm -rf "$SRC"
    git clone -q "$REPO" "$SRC"
    rm -rf "$SRC/bench/websockets" && cp -r "$HERE" "$SRC/bench/websockets"
    rm -rf "$SRC/bench/websockets/bin" "$SRC/bench/websockets/obj"
    (cd "$SRC" && dotnet build -c Release Rosetta.App/Rosetta.App.csproj -v q -nologo >/dev/null)
    (cd "$SRC/bench/websockets" && dotnet build -c Release -v q -nologo >/dev/null)
fi
W="dotnet $SRC/bench/websockets/bin/Release/net10.0/WsBench.dll"
COMMIT="$(git -C "$SRC" rev-parse --short HEAD)"

rm -rf "$DATA" && mkdir -p "$DATA"
T0=$(date +%s)
APP_PID=
cleanup() {
    set +e
    [ -n "$APP_PID" ] && kill "$APP_PID" 2>/dev/null && wait "$APP_PID" 2>/dev/null
    if [ -f "$DATA/tasks" ]; then
        for id in $(cat "$DATA/tasks"); do
            c=$("$DOCKER" ps -aq --filter "label=rosetta.task=$id")
            [ -n "$c" ] && "$DOCKER" rm -f $c >/dev/null
        done
    fi
}
trap cleanup EXIT
(cd "$SRC" && exec env ${WS_APP_ENV:-} ASPNETCORE_URLS="$B" ConnectionStrings__Rosetta="Data Source=$DATA/r.db" Rosetta__DataDirectory="$DATA" \
    Rosetta__Admin__Password=$PASS dotnet Rosetta.App/bin/Release/net10.0/Rosetta.App.dll >"$DATA/app.log" 2>&1) &
APP_PID=$!
export WS_APP_PID=$APP_PID   # the vnc mode reports the app's CPU use per run
for _ in $(seq 1 120); do [ "$(curl -s -o /dev/null -w '%{http_code}' "$B/healthz")" = 200 ] && break; sleep 0.5; done
TOK=$(curl -sf -X POST "$B/api/v1/tokens" -H 'Content-Type: application/json' -d "{\"username\":\"admin\",\"password\":\"$PASS\"}" | python3 -c 'import sys,json;print(json.load(sys.stdin)["token"])')
AUTH=(-H "Authorization: Bearer $TOK")

start_task() { # software -> task id, waits for running
    local id
    id=$(curl -sf -X POST "$B/api/v1/tasks" "${AUTH[@]}" -H 'Content-Type: application/json' -d "{\"software\":\"$1\",\"computing\":\"local\"}" | python3 -c 'import sys,json;print(json.load(sys.stdin)["id"])')
    echo "$id" >>"$DATA/tasks"
    for _ in $(seq 1 240); do
        st=$(curl -sf "$B/api/v1/tasks/$id" "${AUTH[@]}" | python3 -c 'import sys,json;print(json.load(sys.stdin)["status"])')
        [ "$st" = running ] && break
        [ "$st" = failed ] && { echo "task $id failed" >&2; exit 1; }
        sleep 0.5
    done
    echo "$id"
}
# The baselines without the platform: the port published on 127.0.0.1 (through Docker's userland
# proxy) and the container's own address on the bridge (no proxy at all).
directs() {
    local c mapping
    c=$("$DOCKER" ps -q --filter "label=rosetta.task=$1")
    mapping=$("$DOCKER" port "$c" | head -1)   # e.g. "8888/tcp -> 127.0.0.1:33474"
    echo "published=127.0.0.1:${mapping##*:},container=$("$DOCKER" inspect -f '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}' "$c"):${mapping%%/*}"
}
env_of() { "$DOCKER" inspect -f '{{range .Config.Env}}{{println .}}{{end}}' "$("$DOCKER" ps -q --filter "label=rosetta.task=$1")" | grep "^$2=" | cut -d= -f2-; }
header() { echo "# app $COMMIT at $B; $(date -u +%FT%TZ); loadavg $(cat /proc/loadavg); $(nproc) cores"; }

if [[ " $PHASES " == *" rtt "* || " $PHASES " == *" hold "* ]]; then
    J=$(start_task jupyter); JDIRECT=$(directs "$J"); JTOK=$(env_of "$J" JUPYTER_TOKEN)
    sleep 2
    new_kernel() { curl -sf -X POST "$B/t/$J/api/kernels" "${AUTH[@]}" -H 'Content-Type: application/json' -d '{"name":"python3"}' | python3 -c 'import sys,json;print(json.load(sys.stdin)["id"])'; }
fi
if [[ " $PHASES " == *" rtt "* ]]; then
    K=$(new_kernel)
    { header; $W rtt "$B" "$TOK" "$J" "$K" "$JDIRECT" "$JTOK" "${RTT_N:-2000}" 100; } 2>&1 | tee "$RESULTS/websocket-rtt$SUFFIX.txt"
fi
if [[ " $PHASES " == *" vnc "* ]]; then
    D=$(start_task desktop); DDIRECT=$(directs "$D"); VPW=$(env_of "$D" VNC_PASSWORD)
    sleep 3
    { header; $W vnc "$B" "$TOK" "$D" "$DDIRECT" "$VPW" "${VNC_SECONDS:-20}" "${VNC_ROUNDS:-2}"; } 2>&1 | tee "$RESULTS/websocket-vnc$SUFFIX.txt"
fi
if [[ " $PHASES " == *" hold "* ]]; then
    KS=$(for _ in 1 2 3 4; do new_kernel; done | paste -sd,); KIDLE=$(new_kernel)
    { header; $W hold "$B" "$TOK" "$J" "$KS" "$KIDLE" "${HOLD_SECONDS:-600}" 100 5 || true
      echo "# docker kill/die/destroy events for this run's task containers (an external removal shows here):"
      for id in $(cat "$DATA/tasks"); do timeout 5 "$DOCKER" events --since "$T0" --until "$(date +%s)" --filter "container=rosetta-$id" \
          --filter event=kill --filter event=die --filter event=destroy --format '{{.Time}} {{.Action}} {{.Actor.Attributes.name}} signal={{.Actor.Attributes.signal}}' || true; done
      echo "# app log lines matching fail/warn/error (case-insensitive) during the whole run:"; grep -ciE 'fail|warn|error' "$DATA/app.log" || true; } 2>&1 | tee "$RESULTS/websocket-hold$SUFFIX.txt"
fi
