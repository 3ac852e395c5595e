#!/usr/bin/env bash
# Benchmark — Slurm (issue 6): 100 queued jobs tracked with one squeue call per interval.
#   A task fills the demo node (all its CPUs), then 100 `hello` tasks of 1 CPU each wait behind it
#   (PENDING, reason Resources/Priority). Once all show `queued` and no launch is in its first
#   seconds, the app's own count of squeue listings (a debug line per listing) is read over six poll
#   intervals; then one of the queued jobs is cancelled behind the platform's back and the time until
#   the API shows it `exited` is measured. Target: one listing per interval, a change seen within
#   one interval (shipped 5 s) + 250 ms.
# Usage: bench/slurm-queue.sh [JOBS]   (default 100). Needs ./rosetta.sh infra and root.
# Cancels every job of its own tasks on exit (by job id, found by the tasks' job names).
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
BENCH_APP_ENV="${BENCH_APP_ENV:-} Rosetta__Ssh__PlatformKeyPath=$ROSETTA_PLATFORM_KEY Rosetta__Demo__Slurm__Host=127.0.0.1 Rosetta__Demo__Slurm__Port=$ROSETTA_DEMO_SSH_PORT Rosetta__Demo__Slurm__Username=$ROSETTA_DEMO_USER Logging__LogLevel__Rosetta.Core.Backends.Slurm=Debug"
JOBS=${1:-100}
INTERVAL=5        # the shipped Rosetta:Slurm:PollIntervalSeconds
FAST_SECONDS=3    # the shipped Rosetta:Slurm:StartFastPollSeconds
WINDOW_INTERVALS=6

ms() { date +%s%3N; }
json_field() { sed -n "s/.*\"$1\":\"\\([^\"]*\\)\".*/\\1/p" | head -1; }
api() { curl -s -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' "$@"; }
status_of() { api "$BENCH_URL/api/v1/tasks/$1" | json_field status; }
start_task() { api -X POST "$BENCH_URL/api/v1/tasks" -d "{\"software\":\"hello\",\"computing\":\"demo-slurm\",\"options\":{\"cpus\":$1}}" | json_field id; }
job_of() { squeue -h -t all -n "rosetta-$1" -o %i; }
listings() { grep -c 'squeue on demo-slurm' "$BENCH_DATA/app.log" || true; }
count_status() { api "$BENCH_URL/api/v1/tasks" | grep -o "\"status\":\"$1\"" | wc -l; }

# Only this run's jobs: those named after a task id this run created (ids file), in one squeue.
own_jobs() {
    [ -s "$IDS_FILE" ] || return 0
    squeue -h -t PENDING,RUNNING,COMPLETING -o '%j %i' | grep -F -f <(sed 's/^/rosetta-/; s/$/ /' "$IDS_FILE") | cut -d' ' -f2 || true
}
cancel_own_jobs() {
    local jobs
    jobs=$(own_jobs)
    [ -z "$jobs" ] || scancel $jobs
}

run() {
    TOKEN=$(curl -s -X POST "$BENCH_URL/api/v1/tokens" -H 'Content-Type: application/json' \
        -d "{\"username\":\"admin\",\"password\":\"$BENCH_PASSWORD\"}" | json_field token)
    local cpus blocker ids=() i id t0 n before after elapsed job
    cpus=$(sinfo -h -N -o %c | head -1)
    blocker=$(start_task "$cpus"); echo "$blocker" >>"$IDS_FILE"
    until [ "$(status_of "$blocker")" = running ]; do sleep 0.2; done
    t0=$(ms)
    for ((i = 0; i < JOBS; i++)); do id=$(start_task 1); echo "$id" >>"$IDS_FILE"; ids+=("$id"); done
    echo "submitted $JOBS tasks of 1 CPU behind a task holding all $cpus CPUs in $(($(ms) - t0)) ms (POSTs)"
    until [ "$(count_status queued)" -ge "$JOBS" ]; do sleep 0.5; done
    echo "all $JOBS queued after $(($(ms) - t0)) ms; squeue shows $(squeue -h -t PENDING -u "$ROSETTA_DEMO_USER" -o %i | wc -l) pending jobs of the demo user"
    sleep $((FAST_SECONDS + INTERVAL))
    before=$(listings); t0=$(ms)
    sleep $((WINDOW_INTERVALS * INTERVAL))
    after=$(listings); elapsed=$(($(ms) - t0))
    echo "squeue listings while $JOBS jobs were queued: $((after - before)) in $elapsed ms ($(awk -v e="$elapsed" -v i="$INTERVAL" 'BEGIN { printf "%.1f", e / 1000 / i }') intervals of $INTERVAL s)"
    id=${ids[$((JOBS / 2))]}; job=$(job_of "$id")
    t0=$(ms); scancel "$job"
    until [ "$(status_of "$id")" = exited ]; do sleep 0.02; done
    echo "external scancel of one queued job → task exited in the API: $(($(ms) - t0)) ms (target $((INTERVAL * 1000 + 250)) ms)"
    t0=$(ms)
    for id in "${ids[@]}"; do api -X POST "$BENCH_URL/api/v1/tasks/$id/stop" >/dev/null & done; wait
    api -X POST "$BENCH_URL/api/v1/tasks/$blocker/stop" >/dev/null
    until [ -z "$(own_jobs)" ]; do sleep 0.5; done
    echo "all stopped (every job cancelled) in $(($(ms) - t0)) ms"
}

prepare
start_app
trap 'rc=$?; cancel_own_jobs; (exit $rc); cleanup' EXIT
results_to slurm-queue run
