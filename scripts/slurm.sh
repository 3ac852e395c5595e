# shellcheck shell=bash
# The demo Slurm cluster: one node (this machine) on loopback, slurmctld + slurmd + munge, started
# in their own process sessions so they outlive the platform. Sourced by ../rosetta.sh after
# scripts/infra.sh; idempotent (returns at once when the cluster already answers).
#
# Jobs run as the demo SSH user (scripts/demo-sshd.sh), whose SSH sessions are the cluster's
# "login host". The configuration is /etc/slurm/slurm.conf, the place every Slurm client looks
# without SLURM_CONF, so sessions of any sshd find it; a slurm.conf that is not ours is never
# overwritten.

ROSETTA_SLURM_DIR="${ROSETTA_SLURM_DIR:-/var/lib/rosetta/slurm}"
ROSETTA_SLURM_CONF=/etc/slurm/slurm.conf
ROSETTA_SLURM_MARKER='# Rosetta demo cluster (scripts/slurm.sh)'
ROSETTA_SLURM_PACKAGES=(slurm-wlm munge)
# A second partition with a short time limit, so walltime limits can be tested against the scheduler.
ROSETTA_SLURM_SHORT_LIMIT="${ROSETTA_SLURM_SHORT_LIMIT:-00:02:00}"

_munge_answers() { munge -n 2>/dev/null | unmunge >/dev/null 2>&1; }

_slurm_node_idle_or_busy() {
    # sinfo -h -o %T: idle, mixed, allocated (busy is fine: jobs of a previous run).
    timeout 5 sinfo -h -N -o '%T' 2>/dev/null | grep -Eq '^(idle|mixed|allocated|completing)$'
}

start_munge() {
    _munge_answers && return 0
    _require_root
    local i
    install -d -o munge -g munge -m 0700 /etc/munge /var/lib/munge /var/log/munge
    install -d -o munge -g munge -m 0755 /run/munge
    if [ ! -s /etc/munge/munge.key ]; then
        dd if=/dev/urandom bs=1 count=1024 of=/etc/munge/munge.key status=none
        chown munge:munge /etc/munge/munge.key
        chmod 0400 /etc/munge/munge.key
    fi
    log "starting munged ..."
    setsid runuser -u munge -- /usr/sbin/munged </dev/null >/dev/null 2>&1 &
    for ((i = 0; i < 40; i++)); do
        _munge_answers && return 0
        sleep 0.25
    done
    die "munged did not start (see /var/log/munge/munged.log)"
}

# The node's memory as Slurm should announce it: a little below the real RAM, or slurmd refuses to register.
_slurm_node_memory_mb() {
    awk '/^MemTotal:/ { printf "%d", $2 / 1024 * 0.9 }' /proc/meminfo
}

write_slurm_conf() {
    local dir="$ROSETTA_SLURM_DIR" conf tmp
    install -d -m 0755 /etc/slurm "$dir" "$dir/log"
    install -d -m 0700 "$dir/state"
    # Job scripts are copied under the spool directory and run as their user: it must be traversable.
    install -d -m 0755 "$dir/spool"
    if [ -f "$ROSETTA_SLURM_CONF" ] && ! grep -qxF "$ROSETTA_SLURM_MARKER" "$ROSETTA_SLURM_CONF"; then
        die "$ROSETTA_SLURM_CONF exists and is not the demo cluster's: refusing to overwrite it"
    fi
    conf=$(cat <<CONF
$ROSETTA_SLURM_MARKER
ClusterName=rosetta-demo
SlurmctldHost=localhost
SlurmctldPort=6817
SlurmdPort=6818
SlurmUser=root
AuthType=auth/munge
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/log/slurmctld.log
SlurmdLogFile=$dir/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
# Cores only: a job without --mem does not reserve the whole node's memory.
SelectTypeParameters=CR_Core
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/filetxt
JobCompLoc=$dir/log/jobcomp.txt
MpiDefault=none
ReturnToService=2
# Ended jobs stay visible to squeue/scontrol this long (the platform reads exit codes there).
MinJobAge=3600
# Seconds between SIGTERM and SIGKILL on scancel: room for the job's trap to remove its container.
KillWait=15
SchedulerType=sched/backfill
# Jobs over a partition's limits are refused by sbatch (with its reason) instead of pending forever.
EnforcePartLimits=ALL
NodeName=localhost NodeAddr=127.0.0.1 CPUs=$(nproc) RealMemory=$(_slurm_node_memory_mb) State=UNKNOWN
PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP
PartitionName=short Nodes=ALL Default=NO MaxTime=$ROSETTA_SLURM_SHORT_LIMIT State=UP
CONF
)
    if [ "$(cat "$ROSETTA_SLURM_CONF" 2>/dev/null)" != "$conf" ]; then
        tmp="$ROSETTA_SLURM_CONF.tmp.$$"
        printf '%s\n' "$conf" >"$tmp"
        chmod 0644 "$tmp"
        mv -f "$tmp" "$ROSETTA_SLURM_CONF"
        # A running cluster picks up a changed file with reconfigure.
        pgrep -x slurmctld >/dev/null && scontrol reconfigure >/dev/null 2>&1 || true
    fi
}

start_slurm() {
    apt_install "${ROSETTA_SLURM_PACKAGES[@]}"
    start_munge
    write_slurm_conf
    if _slurm_node_idle_or_busy; then return 0; fi
    _require_root
    local dir="$ROSETTA_SLURM_DIR" t i
    t=$(_now)
    # Own sessions: the cluster outlives rosetta.sh and the platform, like the Docker engine.
    if ! pgrep -x slurmctld >/dev/null; then
        log "starting slurmctld (log: $dir/log/slurmctld.log) ..."
        setsid /usr/sbin/slurmctld </dev/null >>"$dir/log/slurmctld.out" 2>&1 &
    fi
    if ! pgrep -x slurmd >/dev/null; then
        log "starting slurmd -N localhost ..."
        setsid /usr/sbin/slurmd -N localhost </dev/null >>"$dir/log/slurmd.out" 2>&1 &
    fi
    for ((i = 0; i < 120; i++)); do
        if _slurm_node_idle_or_busy; then
            log "Slurm ready in $(_since "$t")"
            return 0
        fi
        # A node left down or drained by an earlier crash comes back by hand.
        if ((i == 20)); then scontrol update NodeName=localhost State=RESUME >/dev/null 2>&1 || true; fi
        sleep 0.25
    done
    sinfo -N -l >&2 || true
    tail -n 20 "$dir/log/slurmctld.log" "$dir/log/slurmd.log" >&2 || true
    die "the demo Slurm node did not become idle within 30 s"
}
