# fresh-root.sh: a fresh Debian 12 root for packaging/fresh-root-check and
# packaging/test-deb.sh (sourced): debootstrap minbase cached per day, the
# host's apt and CA configuration copied in, a private namespace to run in.
# The caller sets top and may set suite and cache_dir; needs root.

suite=${suite:-bookworm}
cache_dir=${LOADSD_FRESH_CACHE:-/var/cache/loadsd/fresh-root}

say() { printf '%s: %s\n' "$(basename "$0")" "$*" >&2; }
die() {
    say "$*"
    exit 1
}

ensure_host_tools() {
    local want=()
    command -v debootstrap >/dev/null 2>&1 || want+=(debootstrap)
    command -v unshare >/dev/null 2>&1 || want+=(util-linux)
    [ ${#want[@]} -eq 0 ] && return 0
    say "installing ${want[*]}"
    DEBIAN_FRONTEND=noninteractive apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${want[@]}" >/dev/null
}

# The host's mirror for $suite itself (not -updates or -security), from apt's
# own view of its sources, so nothing here names a mirror.
host_mirror() {
    apt-get indextargets --format '$(REPO_URI) $(RELEASE)' 'Created-By: Packages' 2>/dev/null |
        awk -v s="$suite" '$2 == s { print $1; exit }'
}

# make_root_tarball FILE: debootstrap a minbase root and pack it.
make_root_tarball() {
    local out=$1 mirror tmp
    mirror=$(host_mirror)
    [ -n "$mirror" ] || die "the host's apt sources name no $suite mirror"
    tmp=$(mktemp -d "$cache_dir/build.XXXXXX")
    say "debootstrap $suite from $mirror (cached as $out)"
    if ! debootstrap --variant=minbase --include=git,procps,iproute2,ca-certificates \
        "$suite" "$tmp/root" "$mirror" >"$tmp/debootstrap.log" 2>&1; then
        tail -n 20 "$tmp/debootstrap.log" >&2
        rm -rf "$tmp"
        die "debootstrap failed"
    fi
    rm -rf "$tmp/root/var/cache/apt/archives/"*.deb
    tar -C "$tmp/root" -cf "$out.part" . && mv "$out.part" "$out"
    rm -rf "$tmp"
}

# The day's root tarball, made when missing; older days' are removed.
root_tarball() {
    local want
    mkdir -p "$cache_dir"
    want="$cache_dir/$suite-minbase-$(date -u +%Y%m%d).tar"
    if [ ! -f "$want" ]; then
        find "$cache_dir" -maxdepth 1 -name "$suite-minbase-*.tar" -delete
        make_root_tarball "$want"
    else
        say "using the cached root $want"
    fi
    printf '%s\n' "$want"
}

# copy_host_config ROOT: the host's apt sources and settings (with the keyrings
# they name) and its local CA certificates, as the issue's new user had them.
copy_host_config() {
    local r=$1 f k
    rm -f "$r/etc/apt/sources.list" "$r/etc/apt/sources.list.d/"*
    cp -a /etc/apt/sources.list.d/. "$r/etc/apt/sources.list.d/" 2>/dev/null || true
    [ -f /etc/apt/sources.list ] && cp /etc/apt/sources.list "$r/etc/apt/sources.list"
    cp -a /etc/apt/apt.conf.d/. "$r/etc/apt/apt.conf.d/"
    for d in /etc/apt/trusted.gpg.d /etc/apt/keyrings; do
        [ -d "$d" ] && mkdir -p "$r$d" && cp -a "$d/." "$r$d/"
    done
    for f in /etc/apt/sources.list.d/*.sources; do
        [ -f "$f" ] || continue
        for k in $(sed -n 's/^Signed-By:[[:space:]]*\(\/.*\)$/\1/p' "$f"); do
            [ -f "$k" ] && mkdir -p "$r$(dirname "$k")" && cp "$k" "$r$k"
        done
    done
    if [ -d /usr/local/share/ca-certificates ]; then
        mkdir -p "$r/usr/local/share/ca-certificates"
        cp -a /usr/local/share/ca-certificates/. "$r/usr/local/share/ca-certificates/"
    fi
    cp -L /etc/resolv.conf "$r/etc/resolv.conf"
    cp /etc/hosts "$r/etc/hosts"
}

# fresh_root DIR: unpacks the day's root into DIR/root with the host's
# configuration; prints the root's path.
fresh_root() {
    local tarball r=$1/root
    tarball=$(root_tarball)
    mkdir -p "$r" && tar -C "$r" -xf "$tarball"
    copy_host_config "$r"
    chmod 700 "$r/root"
    printf '%s\n' "$r"
}

# in_root ROOT SCRIPT [VAR=VALUE...]: runs SCRIPT (a path inside the root)
# there with a clean environment plus the given variables, in a private mount
# and PID namespace, so every mount and process it leaves is gone when it
# ends, however it ends. The network is the host's (apt, npm).
in_root() {
    local r=$1 script=$2
    shift 2
    unshare --mount --pid --fork --propagation private /bin/bash -c '
        r=$1
        # The root a mount point of its own, as / is on a real machine
        # (`ip netns exec` makes / a slave mount and fails on a plain directory).
        mount --bind "$r" "$r"
        mount -t proc proc "$r/proc"
        mount -t sysfs sys "$r/sys"
        mount --rbind /dev "$r/dev"
        mount --make-rslave "$r/dev"
        mount -t tmpfs -o mode=1777 shm "$r/dev/shm"
        mount -t tmpfs -o mode=755 run "$r/run"
        script=$2
        shift 2
        exec chroot "$r" /usr/bin/env -i CI="${CI:-}" HOME=/root LANG=C.UTF-8 \
            PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
            ${NODE_EXTRA_CA_CERTS:+NODE_EXTRA_CA_CERTS="$NODE_EXTRA_CA_CERTS"} \
            "$@" "$script"' _ "$r" "$script" "$@"
}

