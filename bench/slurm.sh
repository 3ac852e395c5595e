#!/usr/bin/env bash
# Benchmark — the Slurm backend (issue 6), on the demo single-node cluster through the demo sshd:
#   1. submit → interface reachable: POST /api/v1/tasks (hello on demo-slurm) until /t/{id}/ answers
#      200, against the scheduler's own start latency (sbatch --parsable until squeue says RUNNING)
#      on the idle node. Target: within 2 s of it.
#   2. a job cancelled outside the platform (scancel) until the API shows the task exited: target
#      one poll interval (Rosetta:Slurm:PollIntervalSeconds, shipped 5 s) + 250 ms.
# Usage: bench/slurm.sh [ITERATIONS]   (default 8). Needs ./rosetta.sh infra and root.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# shellcheck source=../scripts/infra.sh
source "$REPO/scripts/infra.sh"
# shellcheck source=../scripts/demo-sshd.sh
source "$REPO/scripts/demo-sshd.sh"
# shellcheck source=../scripts/slurm.sh
source "$REPO/scripts/slurm.sh"
start_demo_sshd
start_slurm
authorize_platform_key
BENCH_APP_ENV="${BENCH_APP_ENV:-} Rosetta__Ssh__PlatformKeyPath=$ROSETTA_PLATFORM_KEY Rosetta__Demo__Slurm__Host=127.0.0.1 Rosetta__Demo__Slurm__Port=$ROSETTA_DEMO_SSH_PORT Rosetta__Demo__Slurm__Username=$ROSETTA_DEMO_USER"
ITERATIONS=${1:-8}

ms() { date +%s%3N; }
json_field() { sed -n "s/.*\"$1\":\"\\([^\"]*\\)\".*/\\1/p" | head -1; }
median() { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : int((v[NR / 2] + v[NR / 2 + 1]) / 2) }'; }

api() { curl -s -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' "$@"; }
status_of() { api "$BENCH_URL/api/v1/tasks/$1" | json_field status; }
# Idle node, and Slurm's main scheduler free to run at once: it runs at most every sched_min_interval
# (2 s by default), so a job submitted just after another was placed waits up to 2 s in PENDING. Without
# the pause, the platform's job (submitted right after the scheduler-only one) paid that wait every time
# (2.5 s from submit to allocation in slurmctld.log) and the baseline did not.
wait_idle_node() {
    while [ -n "$(squeue -h -t PENDING,RUNNING,COMPLETING -o %i)" ]; do sleep 0.2; done
    sleep 2.5
}

# The scheduler alone: sbatch as the demo user until squeue shows the job RUNNING.
scheduler_start_ms() {
    local t0 id
    t0=$(ms)
    id=$(runuser -u "$ROSETTA_DEMO_USER" -- sbatch --parsable -o /dev/null --wrap 'sleep 30')
    until [ "$(squeue -h -j "$id" -o %T)" = RUNNING ]; do sleep 0.02; done
    echo $(($(ms) - t0))
    scancel "$id"
}

# The platform: POST until the proxied interface answers 200. Also, from the engine's own
# timestamps on the node: when the job's container was created and when hello said it listens.
platform_start_ms() {
    local t0 id total created listening
    t0=$(ms)
    id=$(api -X POST "$BENCH_URL/api/v1/tasks" -d '{"software":"hello","computing":"demo-slurm"}' | json_field id)
    echo "$id" >>"$IDS_FILE"
    until [ "$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $TOKEN" "$BENCH_URL/t/$id/")" = 200 ]; do sleep 0.02; done
    total=$(($(ms) - t0))
    created=$(($(date -d "$("$DOCKER" inspect -f '{{.Created}}' "rosetta-$id")" +%s%3N) - t0))
    listening=$(($(date -d "$("$DOCKER" logs -t "rosetta-$id" 2>&1 | grep -m1 listening | cut -d' ' -f1)" +%s%3N) - t0))
    echo "$total $id $created $listening"
}

# scancel behind the platform's back until the API says exited.
external_cancel_ms() {
    local id=$1 job t0
    job=$(squeue -h -t all -n "rosetta-$id" -o %i)
    t0=$(ms)
    scancel "$job"
    until [ "$(status_of "$id")" = exited ]; do sleep 0.02; done
    echo $(($(ms) - t0))
}

run() {
    TOKEN=$(curl -s -X POST "$BENCH_URL/api/v1/tokens" -H 'Content-Type: application/json' \
        -d "{\"username\":\"admin\",\"password\":\"$BENCH_PASSWORD\"}" | json_field token)
    local sched=() plat=() cancel=() after=() i s p id c created listening
    # One warm-up task: the first SSH connection and host-key pinning are not what is measured.
    read -r p id _ < <(platform_start_ms); api -X POST "$BENCH_URL/api/v1/tasks/$id/stop" >/dev/null; wait_idle_node
    # container_created / listening: POST → the node's docker created the container / hello listens
    # (the engine's timestamps); after_listening: hello listening → /t/{id}/ answered (the platform).
    echo "iteration scheduler_ms platform_ms overhead_ms container_created_ms listening_ms after_listening_ms cancel_seen_ms"
    for ((i = 1; i <= ITERATIONS; i++)); do
        wait_idle_node
        s=$(scheduler_start_ms); wait_idle_node
        read -r p id created listening < <(platform_start_ms)
        c=$(external_cancel_ms "$id"); wait_idle_node
        echo "$i $s $p $((p - s)) $created $listening $((p - listening)) $c"
        sched+=("$s"); plat+=("$p"); cancel+=("$c"); after+=("$((p - listening))")
    done
    echo
    echo "median scheduler start (sbatch → RUNNING): $(printf '%s\n' "${sched[@]}" | median) ms"
    echo "median platform start (POST → /t/{id}/ 200): $(printf '%s\n' "${plat[@]}" | median) ms"
    echo "median hello listening → /t/{id}/ 200 (the platform's part after the node): $(printf '%s\n' "${after[@]}" | median) ms"
    echo "median external scancel → task exited in the API: $(printf '%s\n' "${cancel[@]}" | median) ms, max $(printf '%s\n' "${cancel[@]}" | sort -n | tail -1) ms (poll interval 5 s)"
}

prepare
start_app
results_to slurm run
