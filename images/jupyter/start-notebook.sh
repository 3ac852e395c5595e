#!/bin/sh
# Entrypoint of rosetta/jupyter.
#   JUPYTER_TOKEN  token; read by Jupyter itself from the environment so it never
#                  appears on a command line (unset: Jupyter generates a random one
#                  and prints it to the log)
#   BASE_URL       URL prefix, default "/" (e.g. /t/<task id>/)
#   JUPYTER_PORT   port, default 8888
#   JUPYTER_ALLOW_ORIGIN  optional NotebookApp.allow_origin (e.g. '*' or an origin)
# Extra arguments are passed on to the notebook server.
set -eu

port="${JUPYTER_PORT:-8888}"
case "$port" in
    '' | *[!0-9]*) echo "start-notebook: JUPYTER_PORT must be a number, got '$port'" >&2; exit 2 ;;
esac

base_url="${BASE_URL:-/}"
case "$base_url" in /*) ;; *) base_url="/$base_url" ;; esac
case "$base_url" in */) ;; *) base_url="$base_url/" ;; esac

set -- --NotebookApp.base_url="$base_url" "$@"
if [ -n "${JUPYTER_ALLOW_ORIGIN:-}" ]; then
    set -- --NotebookApp.allow_origin="$JUPYTER_ALLOW_ORIGIN" "$@"
fi

# The storages (ROSETTA_STORAGES: the platform's bind paths, ':'-separated) appear in the notebook
# root as links named after their folder: the home folder goes with the container, they stay.
home="${HOME:-/home/jovyan}"
if [ -n "${ROSETTA_STORAGES:-}" ]; then
    set -f
    old_ifs=$IFS
    IFS=:
    for storage in $ROSETTA_STORAGES; do
        link="$home/${storage##*/}"
        [ -e "$link" ] || [ -L "$link" ] || ln -s "$storage" "$link" || echo "start-notebook: could not link $storage into $home" >&2
    done
    IFS=$old_ifs
    set +f
fi

# Terminals are off: Debian bookworm's xterm.js (libjs-xterm 3.8.1) is packaged as a CommonJS
# module a browser cannot load, so Jupyter's terminal page would open blank. A shell is a
# `!command` in a cell, or the desktop and ssh software.
echo "start-notebook: Jupyter Notebook on 0.0.0.0:$port, base URL $base_url"
exec python3 -m notebook \
    --no-browser \
    --NotebookApp.terminals_enabled=False \
    --ip=0.0.0.0 \
    --port="$port" \
    --NotebookApp.port_retries=0 \
    --NotebookApp.allow_remote_access=True \
    --notebook-dir="$home" \
    "$@"
