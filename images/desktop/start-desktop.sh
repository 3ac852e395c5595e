#!/bin/bash
# Entrypoint of rosetta/desktop (runs as scientist, uid 1000, under tini -g).
#   BASE_PORT      port of noVNC (HTTP) and its WebSocket /websockify, default 8590
#   VNC_PASSWORD   VNC password (only the first 8 characters count); unset or
#                  empty: a random one nobody knows. It goes to a mode-600 file
#                  through vncpasswd's stdin, never onto a command line.
#   VNC_VIEW_ONLY_PASSWORD  optional second password: whoever logs in with it
#                  sees the desktop, but Xvnc ignores their keyboard, mouse,
#                  clipboard and resizes (the same 8-character rule and file).
#   VNC_GEOMETRY   initial desktop size, default 1280x800 (clients may resize it)
# Xvnc listens on 127.0.0.1:5901 (display :1) only; websockify is the one way in.
# The container ends when Xvnc, websockify or the session (fluxbox) ends.
set -euo pipefail

say() { printf 'start-desktop: %s\n' "$*"; }
fail() { printf 'start-desktop: %s\n' "$*" >&2; exit 2; }

port="${BASE_PORT:-8590}"
case "$port" in '' | *[!0-9]*) fail "BASE_PORT must be a number, got '$port'" ;; esac
{ [ "$port" -ge 1 ] && [ "$port" -le 65535 ] && [ "$port" -ne 5901 ]; } \
    || fail "BASE_PORT must be 1-65535 and not 5901 (VNC), got '$port'"

geometry="${VNC_GEOMETRY:-1280x800}"
[[ "$geometry" =~ ^[1-9][0-9]{2,4}x[1-9][0-9]{2,4}$ ]] \
    || fail "VNC_GEOMETRY must look like 1280x800, got '$geometry'"

display=:1
vnc_port=5901
vnc_dir="$HOME/.vnc"
passwd_file="$vnc_dir/passwd"

# --- VNC password file (mode 600); printf is a shell builtin, so the password
# never appears in an argument list.
umask 077
mkdir -p "$vnc_dir"
chmod 700 "$vnc_dir"
rm -f "$passwd_file.tmp"
if [ -n "${VNC_PASSWORD:-}" ]; then
    [ "${#VNC_PASSWORD}" -gt 8 ] && say "note: VNC uses only the first 8 characters of VNC_PASSWORD"
    full="$VNC_PASSWORD"
else
    say "VNC_PASSWORD is not set: using a random password (not shown); set VNC_PASSWORD to connect"
    # 8 characters of base64 (48 bits): VNC reads only 8, and nothing slows down guessing.
    full="$(head -c 6 /dev/urandom | base64 | tr '+/' '-_')"
fi
# The file holds the full password, then the view-only one (vncpasswd -f takes up to two lines).
# VNC keys on the first 8 bytes (not characters), so compare those.
first8() { printf '%s' "$1" | head -c 8; }
if [ -n "${VNC_VIEW_ONLY_PASSWORD:-}" ] && [ "$(first8 "$VNC_VIEW_ONLY_PASSWORD")" = "$(first8 "$full")" ]; then
    # Xvnc tries the full password first, so this one would give full control.
    say "VNC_VIEW_ONLY_PASSWORD is ignored: its first 8 bytes are those of VNC_PASSWORD"
elif [ -n "${VNC_VIEW_ONLY_PASSWORD:-}" ]; then
    printf '%s\n%s\n' "$full" "$VNC_VIEW_ONLY_PASSWORD" | vncpasswd -f >"$passwd_file.tmp"
    say "a view-only password is set"
fi
[ -s "$passwd_file.tmp" ] || printf '%s\n' "$full" | vncpasswd -f >"$passwd_file.tmp"
mv -f "$passwd_file.tmp" "$passwd_file"
# Keep the passwords out of the environment of the session and its programs.
unset VNC_PASSWORD VNC_VIEW_ONLY_PASSWORD full
umask 022

# A stale lock or socket from a previous run of this container (docker restart).
rm -f "/tmp/.X${display#:}-lock" "/tmp/.X11-unix/X${display#:}"

# --- The VNC server: loopback only, VNC password, resizable, never times out.
# No blacklist: Xvnc counts every connection that has not logged in yet against its client's
# address and blocks that address after 5, and its one client address is websockify's, so any
# visitor who opened and dropped a few sockets would lock everyone out, the owner too.
Xvnc "$display" \
    -desktop "Rosetta desktop" \
    -geometry "$geometry" -depth 24 \
    -rfbport "$vnc_port" -localhost -nolisten tcp \
    -SecurityTypes VncAuth -PasswordFile "$passwd_file" \
    -AcceptSetDesktopSize=1 -UseBlacklist=0 \
    -IdleTimeout 0 -MaxDisconnectionTime 0 -MaxConnectionTime 0 -MaxIdleTime 0 &
xvnc_pid=$!

for ((i = 0; i < 100; i++)); do
    [ -S "/tmp/.X11-unix/X${display#:}" ] && break
    kill -0 "$xvnc_pid" 2>/dev/null || fail "Xvnc exited during start"
    sleep 0.1
done
[ -S "/tmp/.X11-unix/X${display#:}" ] || fail "Xvnc did not open display $display within 10 s"
export DISPLAY="$display"

# --- The storages (ROSETTA_STORAGES: the platform's bind paths, ':'-separated) as links in the
# home folder, where the terminal opens: the home folder goes with the container, they stay.
if [ -n "${ROSETTA_STORAGES:-}" ]; then
    IFS=: read -r -a storages <<<"$ROSETTA_STORAGES"
    for storage in "${storages[@]}"; do
        link="$HOME/${storage##*/}"
        [ -e "$link" ] || [ -L "$link" ] || ln -s "$storage" "$link" || say "could not link $storage into $HOME"
    done
fi

# --- The session: terminal + fluxbox, with a D-Bus session bus.
dbus-launch --exit-with-session /usr/local/bin/desktop-session.sh &
session_pid=$!

# --- noVNC web files at / and the VNC WebSocket at /websockify. The heartbeat
# (a WebSocket ping every 30 s) keeps idle connections open through proxies.
websockify --web /usr/share/novnc --heartbeat 30 "0.0.0.0:$port" "127.0.0.1:$vnc_port" &
ws_pid=$!

say "noVNC on 0.0.0.0:$port (/vnc.html, WebSocket /websockify); VNC display $display on 127.0.0.1:$vnc_port only, $geometry"

# Stop when any of the three ends, or on SIGTERM/SIGINT (docker stop).
stopping=0
trap 'stopping=1' TERM INT
set +e
wait -n "$xvnc_pid" "$session_pid" "$ws_pid"
rc=$?
if [ "$stopping" = 1 ]; then
    say "stopping"
    rc=0
else
    for p in xvnc_pid session_pid ws_pid; do
        kill -0 "${!p}" 2>/dev/null || say "${p%_pid} ended (code $rc): stopping the desktop"
    done
fi
kill "$ws_pid" "$session_pid" "$xvnc_pid" 2>/dev/null
wait
exit "$rc"
