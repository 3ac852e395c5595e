#!/usr/bin/env bash
# Benchmark — the SSH backend (issue 5), against the demo SSH host on 127.0.0.1:2222 whose engine is
# this machine's: start overhead over local (target < 500 ms), GET latency through the tunnel
# (target: within 1 ms of the host's port at p50), 20 tasks sharing one SSH connection.
# Usage: bench/ssh.sh [ITERATIONS]   (default 10). Needs ./rosetta.sh infra (demo sshd) and root.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# shellcheck source=../scripts/infra.sh
source "$REPO/scripts/infra.sh"
# shellcheck source=../scripts/demo-sshd.sh
source "$REPO/scripts/demo-sshd.sh"
start_demo_sshd
authorize_platform_key
BENCH_APP_ENV="${BENCH_APP_ENV:-} Rosetta__Ssh__PlatformKeyPath=$ROSETTA_PLATFORM_KEY Rosetta__Demo__Ssh__Port=$ROSETTA_DEMO_SSH_PORT Rosetta__Demo__Ssh__Username=$ROSETTA_DEMO_USER"
prepare
start_app
results_to ssh run_bench ssh --iterations "${1:-10}" --requests 3000 --poll-ms 20 --app-pid "$APP_PID"
