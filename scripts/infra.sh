# shellcheck shell=bash
# Infrastructure helpers for Rosetta, sourced by ../rosetta.sh.
#
# Every function is idempotent and returns quickly when its work is already
# done, so `./rosetta.sh run` can call them on every start. Works under
# `set -euo pipefail`.
#
#   install_packages  apt packages the platform needs (apt-get update only if something is missing)
#   start_docker      the local Docker engine, in its own process session
#   build_images      the bundled images under images/, in dependency order
#   install_test_packages  Chromium and a registry for the test suite (not part of `infra`)
#   start_registry    the loopback registry on 127.0.0.1:5000 for the pull tests

: "${ROSETTA_ROOT:=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}"

# Debian 12 ships dockerd 20.10 (API 1.41); a newer docker CLI may sit earlier
# in PATH. Pin the API version and always call Debian's CLI.
export DOCKER_API_VERSION=1.41
ROSETTA_DOCKER=/usr/bin/docker
ROSETTA_CACHE_DIR="${ROSETTA_CACHE_DIR:-/var/cache/rosetta}"
ROSETTA_DOCKERD_LOG="${ROSETTA_DOCKERD_LOG:-/var/log/rosetta-dockerd.log}"

# Packages `infra` needs: engine, image build tools, the demo SSH host, HTTP checks, and setfacl
# (acl), with which the SSH and Slurm backends let tasks on this machine write their storages.
ROSETTA_PACKAGES=(docker.io mmdebstrap busybox-static openssh-server curl ca-certificates acl)
# Only the test suite needs these.
ROSETTA_TEST_PACKAGES=(chromium docker-registry)

log() { printf '[rosetta] %s\n' "$*"; }
die() { printf '[rosetta] error: %s\n' "$*" >&2; exit 1; }

# Seconds since the epoch with sub-second precision, and the time since $1.
_now() { date +%s.%N; }
_since() { awk -v a="$1" -v b="$(_now)" 'BEGIN { printf "%.1fs", b - a }'; }

_require_root() {
    [ "$(id -u)" -eq 0 ] || die "must run as root (installs packages and starts dockerd)"
}

_pkg_installed() {
    dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'
}

# apt_install PKG... : installs the packages that are missing; apt-get update only then.
apt_install() {
    local missing=() p t
    for p in "$@"; do
        _pkg_installed "$p" || missing+=("$p")
    done
    [ "${#missing[@]}" -eq 0 ] && return 0
    _require_root
    t=$(_now)
    log "installing ${missing[*]} ..."
    export DEBIAN_FRONTEND=noninteractive
    # needrestart (if present) would prompt or print noise after each install.
    export NEEDRESTART_SUSPEND=1
    # Wait for another apt/dpkg run instead of failing on its lock.
    apt-get -o DPkg::Lock::Timeout=600 update -qq
    apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    log "installed ${missing[*]} in $(_since "$t")"
}

install_packages() {
    apt_install "${ROSETTA_PACKAGES[@]}"
}

install_test_packages() {
    apt_install "${ROSETTA_TEST_PACKAGES[@]}"
}

# A registry on 127.0.0.1:5000 for the pull tests (loopback registries need no TLS for dockerd).
start_registry() {
    curl -fsS -o /dev/null http://127.0.0.1:5000/v2/ 2>/dev/null && return 0
    local i
    install -d /var/lib/rosetta-registry
    log "starting the test registry on 127.0.0.1:5000 ..."
    setsid docker-registry serve "$ROSETTA_ROOT/scripts/registry.yml" >/var/log/rosetta-registry.log 2>&1 </dev/null &
    for ((i = 0; i < 60; i++)); do
        curl -fsS -o /dev/null http://127.0.0.1:5000/v2/ 2>/dev/null && return 0
        sleep 0.25
    done
    tail -n 20 /var/log/rosetta-registry.log >&2 || true
    die "the test registry did not answer on 127.0.0.1:5000"
}

_docker_answers() {
    [ -S /var/run/docker.sock ] && "$ROSETTA_DOCKER" version >/dev/null 2>&1
}

start_docker() {
    _docker_answers && return 0
    _require_root
    [ -x /usr/sbin/dockerd ] || [ -x /usr/bin/dockerd ] || die "dockerd not found: run install_packages first"
    local t i
    t=$(_now)
    log "starting dockerd (log: $ROSETTA_DOCKERD_LOG) ..."
    # Own process session: the engine outlives rosetta.sh, Ctrl-C and kill -9 of `run`.
    setsid dockerd >"$ROSETTA_DOCKERD_LOG" 2>&1 </dev/null &
    for ((i = 0; i < 120; i++)); do
        if _docker_answers; then
            log "dockerd ready in $(_since "$t")"
            return 0
        fi
        sleep 0.5
    done
    tail -n 20 "$ROSETTA_DOCKERD_LOG" >&2 || true
    die "dockerd did not answer on /var/run/docker.sock within 60 s"
}

# _hash FILE... : one sha256 over the names and contents of the files.
_hash() {
    local f
    for f in "$@"; do
        printf '%s\n' "${f#"$ROSETTA_ROOT"/}"
        sha256sum <"$f"
    done | sha256sum | cut -c1-16
}

# _hash_dir DIR : hash of every file under DIR (sorted, names relative to the repo).
_hash_dir() {
    local files=()
    mapfile -t files < <(find "$1" -type f | LC_ALL=C sort)
    _hash "${files[@]}"
}

# _image_current TAG HASH : the image exists and was built from these sources.
_image_current() {
    local label
    label=$("$ROSETTA_DOCKER" image inspect -f '{{ index .Config.Labels "rosetta.source-hash" }}' "$1" 2>/dev/null) || return 1
    [ "$label" = "$2" ]
}

# rosetta/hello: FROM scratch + static busybox. The build context is a temporary
# copy of images/hello plus /bin/busybox, so the repository stays clean.
build_image_hello() {
    local tag=rosetta/hello:latest dir="$ROSETTA_ROOT/images/hello" hash ctx t
    [ -x /bin/busybox ] || die "/bin/busybox missing: install busybox-static"
    hash=$( { _hash_dir "$dir"; sha256sum </bin/busybox; } | sha256sum | cut -c1-16)
    _image_current "$tag" "$hash" && return 0
    t=$(_now)
    log "building $tag ..."
    ctx=$(mktemp -d /tmp/rosetta-hello.XXXXXX)
    cp -a "$dir/." "$ctx/"
    cp /bin/busybox "$ctx/busybox"
    if ! "$ROSETTA_DOCKER" build -q --label "rosetta.source-hash=$hash" -t "$tag" "$ctx" >/dev/null; then
        rm -rf "$ctx"
        die "docker build of $tag failed"
    fi
    rm -rf "$ctx"
    log "built $tag in $(_since "$t")"
}

# _build_base_image NAME : rosetta/NAME-base:latest, a Debian bookworm root
# filesystem from mmdebstrap (the machine's own apt sources) with the packages of
# images/NAME/packages.txt, imported with `docker import`. The tarball is cached
# under $ROSETTA_CACHE_DIR, keyed by the package list, so rebuilding the image
# (or re-importing after `docker system prune`) does not redo mmdebstrap.
_build_base_image() {
    local name=$1 tag="rosetta/$1-base:latest" list="$ROSETTA_ROOT/images/$1/packages.txt"
    local hash pkgs tar tmp t
    [ -s "$list" ] || die "$list missing"
    # The mmdebstrap options below are part of the recipe: bump v1 when changing them.
    hash=$( { echo "mmdebstrap-v1"; grep -v '^[[:space:]]*\(#\|$\)' "$list"; } | sha256sum | cut -c1-16)
    _image_current "$tag" "$hash" && return 0
    tar="$ROSETTA_CACHE_DIR/$name-base-$hash.tar"
    if [ ! -s "$tar" ]; then
        t=$(_now)
        pkgs=$(grep -v '^[[:space:]]*\(#\|$\)' "$list" | tr -s ' \n' ',' | sed 's/,$//')
        log "mmdebstrap bookworm for $tag with $pkgs (1.5-3 min, more on a busy machine) ..."
        mkdir -p "$ROSETTA_CACHE_DIR"
        tmp="$ROSETTA_CACHE_DIR/.$name-base-$hash.tar.tmp"
        rm -f "$tmp"
        # No mirror argument: use this machine's apt sources (no registry needed).
        if ! mmdebstrap --quiet --variant=apt --format=tar \
            --include="$pkgs" \
            --dpkgopt='path-exclude=/usr/share/man/*' \
            --dpkgopt='path-exclude=/usr/share/locale/*' \
            --dpkgopt='path-include=/usr/share/locale/locale.alias' \
            --dpkgopt='path-exclude=/usr/share/doc/*' \
            --dpkgopt='path-include=/usr/share/doc/*/copyright' \
            bookworm "$tmp"; then
            rm -f "$tmp"
            die "mmdebstrap for $tag failed"
        fi
        mv -f "$tmp" "$tar"
        # Drop tarballs of older package lists.
        find "$ROSETTA_CACHE_DIR" -maxdepth 1 -name "$name-base-*.tar" ! -name "$name-base-$hash.tar" -delete
        log "mmdebstrap done in $(_since "$t") ($(du -h "$tar" | cut -f1))"
    fi
    t=$(_now)
    log "importing $tag ..."
    "$ROSETTA_DOCKER" import \
        --change "LABEL rosetta.source-hash=$hash" \
        --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
        --change 'ENV LANG=C.UTF-8' \
        --change 'CMD ["/bin/bash"]' \
        "$tar" "$tag" >/dev/null || die "docker import of $tag failed"
    log "imported $tag in $(_since "$t")"
}

# _build_image_on_base NAME : rosetta/NAME:latest, `docker build` of images/NAME
# FROM rosetta/NAME-base (its .dockerignore keeps the context small). The hash
# covers the folder and the base image id, so a new base rebuilds the image.
_build_image_on_base() {
    local tag="rosetta/$1:latest" dir="$ROSETTA_ROOT/images/$1" hash base t
    base=$("$ROSETTA_DOCKER" image inspect -f '{{ .Id }}' "rosetta/$1-base:latest") \
        || die "rosetta/$1-base:latest missing"
    hash=$( { _hash_dir "$dir"; echo "$base"; } | sha256sum | cut -c1-16)
    _image_current "$tag" "$hash" && return 0
    t=$(_now)
    log "building $tag ..."
    "$ROSETTA_DOCKER" build -q --label "rosetta.source-hash=$hash" -t "$tag" "$dir" >/dev/null \
        || die "docker build of $tag failed"
    log "built $tag in $(_since "$t") ($("$ROSETTA_DOCKER" image inspect -f '{{ .Size }}' "$tag" | awk '{ printf "%d MB", $1 / 1e6 }'))"
}

# rosetta/jupyter: Jupyter Notebook (user jovyan, start-notebook.sh) on rosetta/jupyter-base.
build_image_jupyter_base() { _build_base_image jupyter; }
build_image_jupyter() { _build_image_on_base jupyter; }

# rosetta/desktop: TigerVNC + fluxbox + xterm behind websockify/noVNC (images/desktop).
build_image_desktop_base() { _build_base_image desktop; }
build_image_desktop() { _build_image_on_base desktop; }

# rosetta/ssh: OpenSSH server with one unprivileged user (images/ssh).
build_image_ssh_base() { _build_base_image ssh; }
build_image_ssh() { _build_image_on_base ssh; }

# Builds every bundled image whose tag is missing or whose sources changed
# (label rosetta.source-hash), in dependency order. Set ROSETTA_SKIP_IMAGES=1 to skip.
build_images() {
    [ "${ROSETTA_SKIP_IMAGES:-0}" = 1 ] && return 0
    build_image_hello
    build_image_jupyter_base
    build_image_jupyter
    build_image_desktop_base
    build_image_desktop
    build_image_ssh_base
    build_image_ssh
}
