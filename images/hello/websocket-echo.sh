#!/bin/sh
# One connection of rosetta/hello's WebSocket echo mode (HELLO_WEBSOCKET_ECHO=1).
# `nc -ll -e` runs this per connection with the client socket as stdin/stdout;
# stderr is the container's log. POSIX sh under busybox ash, no other program:
#   - a WebSocket upgrade (any path) is accepted (RFC 6455 handshake), then every
#     text/binary frame is echoed back unchanged, pings get pongs, a close is
#     answered with a close. Nothing is ever sent unprompted: a connection nobody
#     uses stays silent, which is what the platform's idle-WebSocket test needs.
#   - any other request gets 200 text/plain (so the platform's readiness probe passes).
# Payloads up to 65535 bytes; a longer frame is refused with close code 1009.
set -u

CR=$(printf '\r')
GUID=258EAFA5-E914-47DA-95CA-C5AB0DC85B11

# The request line and headers. ash's `read` takes one byte at a time from a
# socket, so nothing after the blank line is consumed here.
IFS= read -r request_line || exit 0
key="" upgrade=""
while IFS= read -r line; do
    line=${line%"$CR"}
    [ -z "$line" ] && break
    name=$(printf '%s' "${line%%:*}" | tr 'A-Z' 'a-z')
    value=${line#*:}
    value=${value#"${value%%[! ]*}"}
    case "$name" in
        sec-websocket-key) key=$value ;;
        upgrade) upgrade=$(printf '%s' "$value" | tr 'A-Z' 'a-z') ;;
    esac
done

if [ "$upgrade" != websocket ] || [ -z "$key" ]; then
    body="hello: WebSocket echo (${request_line%"$CR"})"
    printf 'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s' "${#body}" "$body"
    exit 0
fi

accept=$(printf '%s%s' "$key" "$GUID" | sha1sum | cut -c1-40 | xxd -r -p | base64)
printf 'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: %s\r\n\r\n' "$accept"
echo "hello: websocket opened (${request_line%"$CR"})" >&2

# read_bytes N: the next N bytes of the socket as decimal numbers (empty at end of stream).
read_bytes() { [ "$1" -gt 0 ] && dd bs=1 count="$1" 2>/dev/null | od -An -v -tu1; }

# octal N: N (0-255) as a printf escape, built with arithmetic only (no fork per byte).
octal() { printf '\\%d%d%d' $(($1 / 64)) $(($1 / 8 % 8)) $(($1 % 8)); }

# send_frame FIRST_BYTE ESCAPED_PAYLOAD LENGTH: one unmasked server frame.
send_frame() {
    if [ "$3" -lt 126 ]; then header="$(octal "$1")$(octal "$3")"
    else header="$(octal "$1")$(octal 126)$(octal $(($3 / 256)))$(octal $(($3 % 256)))"
    fi
    printf "$header$2"
}

while :; do
    set -- $(read_bytes 2)
    [ $# -eq 2 ] || exit 0
    first=$(($1 & 143)) opcode=$(($1 & 15)) length=$(($2 & 127))
    if [ "$length" -eq 126 ]; then
        set -- $(read_bytes 2)
        length=$(($1 * 256 + $2))
    elif [ "$length" -eq 127 ]; then
        send_frame 136 "$(octal 3)$(octal 241)" 2   # close 1009: message too big
        exit 0
    fi
    set -- $(read_bytes 4)
    [ $# -eq 4 ] || exit 0
    m0=$1 m1=$2 m2=$3 m3=$4
    payload="" i=0
    for byte in $(read_bytes "$length"); do
        case $((i % 4)) in 0) m=$m0 ;; 1) m=$m1 ;; 2) m=$m2 ;; *) m=$m3 ;; esac
        payload="$payload\\$(((byte ^ m) / 64))$(((byte ^ m) / 8 % 8))$(((byte ^ m) % 8))"
        i=$((i + 1))
    done
    case "$opcode" in
        8) send_frame 136 "$payload" "$length"; exit 0 ;;  # close: answer and end
        9) send_frame 138 "$payload" "$length" ;;          # ping: pong
        10) ;;                                              # pong: nothing to do
        *) send_frame "$first" "$payload" "$length" ;;      # data: echo
    esac
done
