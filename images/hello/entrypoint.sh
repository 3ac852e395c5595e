#!/bin/sh
# Entrypoint of rosetta/hello (POSIX sh, runs under busybox ash).
#   HELLO_EXIT_CODE=N  print "hello: exiting with code N" and exit N at once
#   HELLO_LINES=N      print "line 1".."line N" to stdout before serving
#   PORT=N             port to listen on (default 8080)
#   ROSETTA_BASE_PATH  serve the site under this path (e.g. /t/abc/) instead of /
#   HELLO_WEBSOCKET_ECHO=1  serve a WebSocket echo (websocket-echo.sh) instead of files
set -eu

is_number() {
    case "${1:-}" in
        '' | *[!0-9]*) return 1 ;;
        *) return 0 ;;
    esac
}

if [ -n "${HELLO_EXIT_CODE:-}" ]; then
    if ! is_number "$HELLO_EXIT_CODE" || [ "$HELLO_EXIT_CODE" -gt 255 ]; then
        echo "hello: HELLO_EXIT_CODE must be a number 0-255, got '$HELLO_EXIT_CODE'" >&2
        exit 2
    fi
    echo "hello: exiting with code $HELLO_EXIT_CODE"
    exit "$HELLO_EXIT_CODE"
fi

port="${PORT:-8080}"
if ! is_number "$port" || [ "$port" -lt 1 ] || [ "$port" -gt 65535 ]; then
    echo "hello: PORT must be a number 1-65535, got '$port'" >&2
    exit 2
fi

if [ -n "${HELLO_LINES:-}" ]; then
    if ! is_number "$HELLO_LINES"; then
        echo "hello: HELLO_LINES must be a number, got '$HELLO_LINES'" >&2
        exit 2
    fi
    i=1
    while [ "$i" -le "$HELLO_LINES" ]; do
        echo "line $i"
        i=$((i + 1))
    done
fi

case "${HELLO_WEBSOCKET_ECHO:-}" in
    '' | 0 | 1) ;;
    *) echo "hello: HELLO_WEBSOCKET_ECHO must be 0 or 1, got '$HELLO_WEBSOCKET_ECHO'" >&2; exit 2 ;;
esac

# The site's root. Under a base path, httpd serves a tree in /tmp whose only
# entry is that path, a link to /www: the pages answer there and nowhere else,
# so software that expects its prefix kept is told apart from one that does not.
root=/www
base=${ROSETTA_BASE_PATH:-/}
case "$base" in
    /*) ;;
    *) echo "hello: ROSETTA_BASE_PATH must start with /, got '$base'" >&2; exit 2 ;;
esac
case "$base" in
    *[!A-Za-z0-9/._-]* | *..*)
        echo "hello: ROSETTA_BASE_PATH may hold only letters, digits and / . _ - (no ..), got '$base'" >&2
        exit 2 ;;
esac
while [ "${base%/}" != "$base" ]; do base=${base%/}; done
if [ -n "$base" ]; then
    root=/tmp/www
    mkdir -p "$root${base%/*}"
    ln -s /www "$root$base"
fi

echo "hello: listening on port $port"
# httpd (or nc) as PID 1 would ignore SIGTERM (no handler), making `docker stop`
# wait 10 s for SIGKILL: keep the shell as PID 1 and stop the server on TERM/INT.
if [ "${HELLO_WEBSOCKET_ECHO:-}" = 1 ]; then
    # -ll: keep listening, one websocket-echo.sh per connection.
    nc -ll -p "$port" -e /bin/sh /websocket-echo.sh &
else
    # -f: foreground, -v: log each request to stderr.
    httpd -f -v -p "$port" -h "$root" &
fi
pid=$!
trap 'kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; echo "hello: stopped"; exit 0' TERM INT
# wait returns early when a trapped signal arrives; otherwise httpd's status.
set +e
wait "$pid"
rc=$?
echo "hello: server ended with code $rc"
exit "$rc"
