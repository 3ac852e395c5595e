#!/usr/bin/env bash
# Benchmark — the first launch of a docker task on an SSH host with a read-write storage that already
# holds many files (issue 7): the platform's ACL grant (ContainerCli.GrantTaskAccess) is recursive the
# first time, so it visits every entry; later launches touch the folder only. Runs that exact command
# as the demo SSH login on folders of N files (100 per subfolder) and times the first and the second
# grant. SSH's own round trip (bench/ssh.sh) comes on top and is not included.
# Usage: bench/acl-grant.sh [COUNTS="1000 10000 100000"]. Needs ./rosetta.sh infra (demo user, acl), root.
BENCH_SRC=${BENCH_SRC:-/tmp/bench-src-acl}
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
COUNTS=${1:-1000 10000 100000}
USER_NAME=${ROSETTA_DEMO_USER:-rosetta-demo}
WORK=/tmp/bench-acl-$$

clone_head
build_ceilings
trap 'rm -rf "$WORK"' EXIT
mkdir -p "$WORK" && chown "$USER_NAME" "$WORK"

as_login() { runuser -u "$USER_NAME" -- sh -c "$1"; }
seconds() { local t0 t1; t0=$(date +%s.%N); as_login "$1"; t1=$(date +%s.%N); echo "$t1 - $t0" | bc; }

measure() {
    printf '%-9s %-12s %-12s %s\n' files first-grant second-grant "entries with uid 1000 (of all)"
    for n in $COUNTS; do
        local folder="$WORK/f$n" command
        as_login "mkdir -p '$folder' && cd '$folder' && i=0; while [ \$i -lt $((n / 100)) ]; do mkdir d\$i && (cd d\$i && seq 1 100 | xargs touch); i=\$((i + 1)); done"
        command=$($CEILINGS grant-command "$folder")
        sync
        local first second granted total
        first=$(seconds "$command")
        second=$(seconds "$command")
        total=$(find "$folder" | wc -l)
        granted=$(getfacl -Rpn "$folder" 2>/dev/null | grep -c '^user:1000:rw')
        printf '%-9s %-12s %-12s %s of %s\n' "$n" "${first}s" "${second}s" "$granted" "$total"
        rm -rf "$folder"
    done
    echo
    echo "# command: $(basename "$0") \"$COUNTS\"; the grant as run (for FOLDER):"
    $CEILINGS grant-command FOLDER
}

results_to acl-grant measure
