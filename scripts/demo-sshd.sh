# shellcheck shell=bash
# The demo SSH host: a separate sshd on 127.0.0.1:2222 (never the machine's own sshd), with a demo
# user who may use the Docker engine. Sourced by scripts/infra.sh; idempotent.
#
# The demo user is in the `docker` group, which is root-equivalent on this host: this is a demo and
# test fixture on loopback, not something to expose.

ROSETTA_DEMO_USER="${ROSETTA_DEMO_USER:-rosetta-demo}"
ROSETTA_DEMO_SSH_PORT="${ROSETTA_DEMO_SSH_PORT:-2222}"
ROSETTA_DEMO_SSHD_DIR="${ROSETTA_DEMO_SSHD_DIR:-/var/lib/rosetta/demo-sshd}"

_demo_sshd_answers() {
    # sshd sends its banner first: "SSH-2.0-…"
    timeout 2 bash -c "exec 3<>/dev/tcp/127.0.0.1/$ROSETTA_DEMO_SSH_PORT && head -c 4 <&3" 2>/dev/null | grep -q '^SSH-'
}

start_demo_sshd() {
    _demo_sshd_answers && return 0
    _require_root
    local dir="$ROSETTA_DEMO_SSHD_DIR" user="$ROSETTA_DEMO_USER" i
    install -d -m 0755 /run/sshd "$dir"
    if ! id "$user" >/dev/null 2>&1; then
        useradd --create-home --shell /bin/bash "$user"
    fi
    # useradd locks the account, and with UsePAM no sshd then refuses even key logins.
    usermod -p '*' "$user"
    getent group docker >/dev/null && usermod -aG docker "$user"
    install -d -m 0700 -o "$user" -g "$user" "/home/$user/.ssh"
    touch "/home/$user/.ssh/authorized_keys"
    chown "$user:$user" "/home/$user/.ssh/authorized_keys"
    chmod 0600 "/home/$user/.ssh/authorized_keys"
    [ -f "$dir/ssh_host_ed25519_key" ] || ssh-keygen -q -t ed25519 -N '' -f "$dir/ssh_host_ed25519_key"
    cat >"$dir/sshd_config" <<CONF
ListenAddress 127.0.0.1
Port $ROSETTA_DEMO_SSH_PORT
HostKey $dir/ssh_host_ed25519_key
PidFile $dir/sshd.pid
AuthenticationMethods publickey
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
AllowUsers $user
PermitRootLogin no
X11Forwarding no
AllowTcpForwarding yes
MaxSessions 32
Subsystem sftp internal-sftp
CONF
    log "starting the demo sshd on 127.0.0.1:$ROSETTA_DEMO_SSH_PORT (user $user) ..."
    setsid /usr/sbin/sshd -D -f "$dir/sshd_config" -E /var/log/rosetta-demo-sshd.log </dev/null >/dev/null 2>&1 &
    for ((i = 0; i < 40; i++)); do
        _demo_sshd_answers && return 0
        sleep 0.25
    done
    tail -n 20 /var/log/rosetta-demo-sshd.log >&2 || true
    die "the demo sshd did not answer on 127.0.0.1:$ROSETTA_DEMO_SSH_PORT"
}

# The platform key: the SSH key with which the platform logs into platform-wide SSH resources
# (Rosetta:Ssh:PlatformKeyPath). `demo` makes one and lets it log into the demo host.
ROSETTA_PLATFORM_KEY="${ROSETTA_PLATFORM_KEY:-/var/lib/rosetta/platform-ssh/id_ed25519}"

authorize_platform_key() {
    _require_root
    local key="$ROSETTA_PLATFORM_KEY" user="$ROSETTA_DEMO_USER" keys
    if [ ! -f "$key" ]; then
        install -d -m 0700 "$(dirname "$key")"
        ssh-keygen -q -t ed25519 -N '' -C "rosetta-platform@$(hostname)" -f "$key"
    fi
    keys="/home/$user/.ssh/authorized_keys"
    grep -qxF "$(cat "$key.pub")" "$keys" 2>/dev/null || cat "$key.pub" >>"$keys"
}

# Copies IMAGE (tag latest) from the system docker into another engine's store unless that store
# holds the same build already (the rosetta.source-hash label). $2 runs a shell command as the
# store's owner; $3 is that store's engine (podman names local images localhost/…). Returns 1 when
# nothing was copied, so callers can prune only after a copy.
copy_image_if_changed() {
    local image="$1" run_as="$2" engine="$3" ref="$1:latest" want have
    [ "$engine" = podman ] && ref="localhost/$ref"
    want=$(docker image inspect "$image:latest" --format '{{index .Config.Labels "rosetta.source-hash"}}')
    have=$("$run_as" "$engine image inspect $ref --format '{{index .Config.Labels \"rosetta.source-hash\"}}'" 2>/dev/null || true)
    [ -n "$want" ] && [ "$want" = "$have" ] && return 1
    log "copying $image into $ROSETTA_DEMO_USER's $engine store ..."
    docker save "$image:latest" | "$run_as" "$engine load -q" >/dev/null \
        || die "$engine could not load $image for $ROSETTA_DEMO_USER"
}

as_demo_user() { runuser -u "$ROSETTA_DEMO_USER" -- sh -c "cd && $1"; }

# Rootless Podman for the demo user, so the SSH backend runs with both engines here: the packages,
# the tun device slirp4netns needs (0600 on this machine kind; 0666 is Debian's usual mode), and the
# bundled hello and desktop images copied from Docker's store into the demo user's (only when they
# changed; the replaced copies are pruned).
prepare_demo_podman() {
    apt_install podman uidmap slirp4netns
    local image copied=0
    [ -c /dev/net/tun ] && chmod 0666 /dev/net/tun
    for image in rosetta/hello rosetta/desktop; do
        copy_image_if_changed "$image" as_demo_user podman && copied=1
    done
    [ "$copied" -eq 0 ] || as_demo_user 'podman image prune -f' >/dev/null
}

# Rootless docker for the demo user: its own daemon (rootlesskit, slirp4netns) on
# /run/user/UID/docker.sock, so the SSH backend's tests cover a host whose docker maps container
# uids to the login's subordinate ones. Sessions reach it with DOCKER_HOST; the demo sshd's own
# sessions keep the system engine. rosetta/hello is copied into it (only when it changed).
ROSETTA_DEMO_ROOTLESS_LOG="${ROSETTA_DEMO_ROOTLESS_LOG:-/var/lib/rosetta/demo-rootless-docker.log}"

start_demo_rootless_docker() {
    apt_install rootlesskit slirp4netns uidmap
    local user="$ROSETTA_DEMO_USER" runtime host i
    runtime="/run/user/$(id -u "$user")"
    host="unix://$runtime/docker.sock"
    install -d -o "$user" -g "$user" -m 700 "$runtime"
    as_rootless() { runuser -u "$user" -- env DOCKER_HOST="$host" XDG_RUNTIME_DIR="$runtime" sh -c "cd && $1"; }
    if ! as_rootless 'docker version' >/dev/null 2>&1; then
        log "starting rootless dockerd for $user (log: $ROSETTA_DEMO_ROOTLESS_LOG) ..."
        install -d "$(dirname "$ROSETTA_DEMO_ROOTLESS_LOG")"
        as_rootless 'PATH=/usr/share/docker.io/contrib:/usr/sbin:/sbin:$PATH exec setsid dockerd-rootless.sh' \
            >"$ROSETTA_DEMO_ROOTLESS_LOG" 2>&1 </dev/null &
        for ((i = 0; i < 300; i++)); do
            as_rootless 'docker version' >/dev/null 2>&1 && break
            sleep 0.1
        done
        as_rootless 'docker version' >/dev/null 2>&1 \
            || { tail -20 "$ROSETTA_DEMO_ROOTLESS_LOG" >&2; die "rootless dockerd for $user did not start within 30 s"; }
    fi
    copy_image_if_changed rosetta/hello as_rootless docker || true
}
