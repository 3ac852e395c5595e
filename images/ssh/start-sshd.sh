#!/bin/bash
# Entrypoint of rosetta/ssh (runs as root under tini; sshd needs root to switch
# users, every session runs as the unprivileged user).
#   SSH_PORT             port sshd listens on (0.0.0.0), default 2222
#   SSH_USER             login user, default scientist (uid 1000, home /home/$SSH_USER, bash)
#   SSH_PASSWORD         the user's password; enables PasswordAuthentication.
#                        Unset or empty: no password login (keys only).
#   SSH_AUTHORIZED_KEYS  OpenSSH public key lines for ~/.ssh/authorized_keys
# Secrets go through stdin (chpasswd) and files, never onto a command line.
set -euo pipefail

say() { printf 'start-sshd: %s\n' "$*"; }
fail() { printf 'start-sshd: %s\n' "$*" >&2; exit 2; }

port="${SSH_PORT:-2222}"
case "$port" in '' | *[!0-9]*) fail "SSH_PORT must be a number, got '$port'" ;; esac
{ [ "$port" -ge 1 ] && [ "$port" -le 65535 ]; } || fail "SSH_PORT must be 1-65535, got '$port'"

user="${SSH_USER:-scientist}"
[[ "$user" =~ ^[a-z_][a-z0-9_-]{0,31}$ ]] \
    || fail "SSH_USER must be a lower-case user name ([a-z_][a-z0-9_-]*, at most 32), got '$user'"
[ "$user" != root ] || fail "SSH_USER must not be root"
uid=1000
home="/home/$user"

# --- The user (kept across `docker restart`: created only if missing).
if id -u "$user" >/dev/null 2>&1; then
    [ "$(id -u "$user")" = "$uid" ] || fail "user '$user' already exists with uid $(id -u "$user"), not $uid"
else
    if getent passwd "$uid" >/dev/null; then
        fail "uid $uid already belongs to '$(getent passwd "$uid" | cut -d: -f1)'"
    fi
    # A mounted home directory may already exist: useradd then keeps its files.
    useradd --create-home --home-dir "$home" --uid "$uid" --user-group \
        --shell /bin/bash "$user"
fi
home=$(getent passwd "$user" | cut -d: -f6)

# --- Password. With UsePAM no, sshd itself checks /etc/shadow: a locked
# account ('!') refuses even key logins, '*' allows keys but no password.
if [ -n "${SSH_PASSWORD:-}" ]; then
    case "$SSH_PASSWORD" in *$'\n'* | *$'\r'*) fail "SSH_PASSWORD must be a single line" ;; esac
    printf '%s:%s\n' "$user" "$SSH_PASSWORD" | chpasswd
    password_auth=yes
else
    usermod -p '*' "$user"
    password_auth=no
fi
unset SSH_PASSWORD

# --- Authorized keys: replaced by SSH_AUTHORIZED_KEYS when it is given,
# otherwise a file already in the home directory is kept.
install -d -m 700 -o "$user" -g "$user" "$home/.ssh"
if [ -n "${SSH_AUTHORIZED_KEYS:-}" ]; then
    (umask 077 && printf '%s\n' "$SSH_AUTHORIZED_KEYS" >"$home/.ssh/authorized_keys.tmp")
    chown "$user:$user" "$home/.ssh/authorized_keys.tmp"
    mv -f "$home/.ssh/authorized_keys.tmp" "$home/.ssh/authorized_keys"
fi
keys=0
if [ -f "$home/.ssh/authorized_keys" ]; then
    chown "$user:$user" "$home/.ssh/authorized_keys"
    chmod 600 "$home/.ssh/authorized_keys"
    keys=$(grep -c '^[[:space:]]*[^#[:space:]]' "$home/.ssh/authorized_keys" || true)
fi
unset SSH_AUTHORIZED_KEYS
[ "$password_auth" = yes ] || [ "$keys" -gt 0 ] \
    || say "warning: neither SSH_PASSWORD nor SSH_AUTHORIZED_KEYS is set: nobody can log in"

# --- Host keys: made on first start of this container (not in the image).
ssh-keygen -A >/dev/null

install -d -m 0755 /run/sshd
cat >/etc/ssh/sshd_config <<CONF
# Written by start-sshd.sh at container start.
Port $port
ListenAddress 0.0.0.0
# IPv4 only: sshd's X11 forwarding fails when it cannot bind ::1 (containers without IPv6).
AddressFamily inet
HostKey /etc/ssh/ssh_host_ed25519_key
HostKey /etc/ssh/ssh_host_ecdsa_key
HostKey /etc/ssh/ssh_host_rsa_key
PermitRootLogin no
AllowUsers $user
PubkeyAuthentication yes
AuthorizedKeysFile .ssh/authorized_keys
PasswordAuthentication $password_auth
PermitEmptyPasswords no
KbdInteractiveAuthentication no
UsePAM no
X11Forwarding yes
X11UseLocalhost yes
AllowTcpForwarding yes
PrintMotd no
AcceptEnv LANG LC_*
Subsystem sftp internal-sftp
# Notice dead clients (3 unanswered keepalives, 90 s); idle sessions stay open.
ClientAliveInterval 30
PidFile /run/sshd.pid
CONF
/usr/sbin/sshd -t || fail "invalid sshd configuration"

auth="public key ($keys key(s))"
[ "$password_auth" = yes ] && auth="$auth and password"
say "sshd on 0.0.0.0:$port for user $user (uid $uid), $auth"
exec /usr/sbin/sshd -D -e
