#!/usr/bin/env bash
# Rosetta entry point. See README.md and /docs for the operator contract.
#
#   ./rosetta.sh infra   install packages, start the Docker engine, build the bundled images, start the demo SSH host and Slurm; returns
#   ./rosetta.sh run     infra, then start the app (dotnet run --project Rosetta.App -c Release)
#   ./rosetta.sh demo    like run, plus demo computing resources (SSH host, Slurm)
#   ./rosetta.sh test    infra + Chromium, then the whole test suite; last line "N passed, N failed, N skipped"
#
# The app reads appsettings.json and the environment (ASPNETCORE_URLS,
# ConnectionStrings__Rosetta, Rosetta__Admin__Password, ...): this script never
# passes --urls or a connection string, so several instances can run side by side.
set -euo pipefail

ROSETTA_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
export ROSETTA_ROOT
cd "$ROSETTA_ROOT"

# shellcheck source=scripts/infra.sh
. "$ROSETTA_ROOT/scripts/infra.sh"
# shellcheck source=scripts/demo-sshd.sh
. "$ROSETTA_ROOT/scripts/demo-sshd.sh"
# shellcheck source=scripts/slurm.sh
. "$ROSETTA_ROOT/scripts/slurm.sh"

usage() {
    cat <<'EOF'
usage: ./rosetta.sh COMMAND

commands:
  infra   install what is missing, start the Docker engine, build the bundled images, start the demo
          SSH host and single-node Slurm; then return
  run     infra, then start the Rosetta app; extra arguments go to the app. Configuration comes
          from appsettings.json and the environment (ASPNETCORE_URLS, ConnectionStrings__Rosetta,
          Rosetta__Admin__Password, ...)
  demo    like run, plus the demo SSH host and Slurm cluster as computing resources
  test    infra plus Chromium, then run the test suite (results under TestResults/)
EOF
}

# Starts the app in the foreground (exec: signals go to it only; dockerd and the tasks live in their
# own sessions and outlive it). A small gen-0 budget keeps the server's memory flat while circuits
# follow fast logs (bench/README.md, Dashboard: +45 MB instead of +50 MB at ~25,000 lines/s); the GC
# reads it only from the environment, and an operator's own value wins.
launch_app() {
    export DOTNET_GCgen0size="${DOTNET_GCgen0size:-0x800000}"
    exec dotnet run --project Rosetta.App -c Release -- "$@"
}

cmd_infra() {
    local t
    t=$(_now)
    install_packages
    start_docker
    build_images
    start_demo_sshd
    prepare_demo_podman
    start_demo_rootless_docker
    # The single-node Slurm cluster on loopback; its jobs run as the demo SSH user.
    start_slurm
    log "infra ready in $(_since "$t")"
}

# Extra arguments go to the app, e.g. ./rosetta.sh run --urls http://127.0.0.1:9090
cmd_run() {
    cmd_infra
    launch_app "$@"
}

cmd_demo() {
    cmd_infra
    # The demo SSH host (started by infra) becomes the platform-wide computing `demo-ssh`, reached
    # with the platform key; the values below are defaults the environment may override.
    authorize_platform_key
    export Rosetta__Ssh__PlatformKeyPath="${Rosetta__Ssh__PlatformKeyPath:-$ROSETTA_PLATFORM_KEY}"
    export Rosetta__Demo__Ssh__Host="${Rosetta__Demo__Ssh__Host:-127.0.0.1}"
    export Rosetta__Demo__Ssh__Port="${Rosetta__Demo__Ssh__Port:-$ROSETTA_DEMO_SSH_PORT}"
    export Rosetta__Demo__Ssh__Username="${Rosetta__Demo__Ssh__Username:-$ROSETTA_DEMO_USER}"
    # The demo Slurm cluster (started by infra), with the demo SSH host as its login host: `demo-slurm`.
    export Rosetta__Demo__Slurm__Host="${Rosetta__Demo__Slurm__Host:-127.0.0.1}"
    export Rosetta__Demo__Slurm__Port="${Rosetta__Demo__Slurm__Port:-$ROSETTA_DEMO_SSH_PORT}"
    export Rosetta__Demo__Slurm__Username="${Rosetta__Demo__Slurm__Username:-$ROSETTA_DEMO_USER}"
    launch_app "$@"
}

# trx_summary FILE... : sums the <Counters> of the .trx files and prints
# "passed failed skipped total" (grep/sed/awk only: no python on a fresh machine).
trx_summary() {
    cat "$@" | tr '\n\r' '  ' | grep -o '<Counters [^>]*>' | awk '
        function attr(s, name,    m) {
            if (match(s, " " name "=\"[0-9]+\"")) {
                m = substr(s, RSTART, RLENGTH)
                gsub(/[^0-9]/, "", m)
                return m + 0
            }
            return 0
        }
        {
            total += attr($0, "total"); executed += attr($0, "executed")
            passed += attr($0, "passed")
            failed += attr($0, "failed") + attr($0, "error") + attr($0, "timeout") + attr($0, "aborted")
            ne = attr($0, "notExecuted"); d = attr($0, "total") - attr($0, "executed")
            skipped += (ne > d ? ne : d)
        }
        END { printf "%d %d %d %d\n", passed, failed, skipped, total }'
}

cmd_test() {
    cmd_infra
    install_test_packages
    start_registry
    # The demo sshd (from infra) serves the SSH backend's tests; they authorise their own keys.
    # The Slurm tests submit through the same sshd to the cluster infra started.

    local results="${ROSETTA_TEST_RESULTS:-$ROSETTA_ROOT/TestResults}" rc=0
    local trx=() passed failed skipped total
    mkdir -p "$results"
    find "$results" -name '*.trx' -delete

    log "running the test suite (results in $results) ..."
    # CI and every other variable pass through from the environment.
    dotnet test Rosetta.Blazor.sln -c Release \
        --logger "trx;LogFilePrefix=results" \
        --results-directory "$results" </dev/null || rc=$?

    mapfile -t trx < <(find "$results" -name '*.trx' | LC_ALL=C sort)
    if [ "${#trx[@]}" -eq 0 ]; then
        log "no .trx results found in $results (dotnet test exit code $rc)"
        echo "0 passed, 0 failed, 0 skipped"
        exit 1
    fi
    read -r passed failed skipped total < <(trx_summary "${trx[@]}")
    if [ "$rc" -ne 0 ]; then
        log "dotnet test exited with code $rc"
    fi
    if [ "$total" -eq 0 ] || [ "$((total - skipped))" -le 0 ]; then
        log "no tests ran"
        [ "$rc" -ne 0 ] || rc=1
    fi
    if [ "$failed" -ne 0 ] && [ "$rc" -eq 0 ]; then
        rc=1
    fi
    echo "$passed passed, $failed failed, $skipped skipped"
    exit "$rc"
}

case "${1:-}" in
    infra) cmd_infra ;;
    run) shift; cmd_run "$@" ;;
    demo) shift; cmd_demo "$@" ;;
    test) cmd_test ;;
    -h | --help | help) usage ;;
    *)
        usage >&2
        exit 2
        ;;
esac
