#!/bin/bash
# tests/bench/run.sh: loadsd against tftpd-hpa, atftpd and dnsmasq in one run,
# same client (tftp_loadgen), inside a network namespace of its own; prints a
# Markdown table. Needs root; not part of `make check`; sends nothing off-box.
set -euo pipefail

SCRIPT_DIR=$(cd "$(dirname "$0")" && pwd)
BUILD_DIR=${top_builddir:-$(cd "$SCRIPT_DIR/../.." && pwd)}
PEERS_DIR=/tmp/loadsd-bench-peers
REPS=5
OUT=
SERVERS="loadsd tftpd-hpa atftpd dnsmasq"
SCENARIOS="a b c d50 d500 e2000"
BASE_DIR=                # --base-build: a second loadsd build, run as "loadsd-base"
ALLOW_ASAN=no
INSTALL=yes
KEEP=no
REFERENCE=yes
WAIT_IDLE=0             # seconds to wait for a quiet machine before starting
NICE=-20                # servers and client alike, to shield them from other work
LG_TIMEOUT_MS=1000
LG_MAX_SECONDS=180       # one loadgen run never takes longer than this
READY_TRIES=100          # x 0.1 s to wait for a server's port
STOP_TRIES=50            # x 0.1 s to wait for a server to exit after SIGTERM
FILE_BIG_BYTES=7400000   # "one 7.4 MB file" (MB = 10^6 bytes throughout)
FILE_SMALL_BYTES=1000000 # "1 MB transfers"
RSS_TARGET_KIB=65536     # 2,000-transfer target: RSS under 64 MiB
HWM_TARGET_KIB=49152     # issue 17: 10,000 concurrent transfers in VmHWM under 48 MiB
CMDLINE="$0 $*"

usage() {
    cat <<EOF
usage: $0 [--build-dir DIR] [--peers-dir DIR] [--reps N] [--servers "LIST"]
          [--scenarios "LIST"] [--out FILE] [--no-install] [--allow-asan] [--keep]
          [--wait-idle SECONDS] [--nice N] [--no-reference] [--base-build DIR]
Runs as root. Scenarios: a b c d50 d500 e2000, and for issue 17: l1 l50 l500 l2000
(lock-step 1 MB transfers at 1, 50, 500, 2,000 at once) and h10000 (10,000 at once,
loadsd builds only: VmHWM). Servers: loadsd (default thread count) loadsd-t1
(--threads 1) loadsd-base (the loadsd of --base-build DIR, default threads)
tftpd-hpa atftpd dnsmasq.
In (a), (b) and (d) it also runs tests/bench/uring_ref when built, a reference
for the least a lock-step sender can cost (not a peer: no ratio or target uses
it); --no-reference leaves it out.
EOF
}

die() {
    echo "run.sh: $*" >&2
    exit 1
}

while [ $# -gt 0 ]; do
    case "$1" in
    --build-dir) BUILD_DIR=$2; shift 2 ;;
    --peers-dir) PEERS_DIR=$2; shift 2 ;;
    --reps) REPS=$2; shift 2 ;;
    --servers) SERVERS=$2; shift 2 ;;
    --scenarios) SCENARIOS=$2; shift 2 ;;
    --out) OUT=$2; shift 2 ;;
    --no-install) INSTALL=no; shift ;;
    --allow-asan) ALLOW_ASAN=yes; shift ;;
    --keep) KEEP=yes; shift ;;
    --no-reference) REFERENCE=no; shift ;;
    --wait-idle) WAIT_IDLE=$2; shift 2 ;;
    --nice) NICE=$2; shift 2 ;;
    --base-build) BASE_DIR=$2; shift 2 ;;
    -h | --help) usage; exit 0 ;;
    *) usage >&2; exit 2 ;;
    esac
done
case "$REPS" in '' | *[!0-9]*) die "--reps wants a number" ;; esac
case "$WAIT_IDLE" in '' | *[!0-9]*) die "--wait-idle wants a number of seconds" ;; esac
case "${NICE#-}" in '' | *[!0-9]*) die "--nice wants a number from -20 to 19" ;; esac
[ "$REPS" -ge 1 ] && [ "$REPS" -le 50 ] || die "--reps wants 1..50"
[ "$(id -u)" = 0 ] || die "needs root (network namespace, cgroups)"

LOADSD=$BUILD_DIR/server/loadsd
LOADGEN=$BUILD_DIR/tests/bench/tftp_loadgen
UDP_FLOOR=$BUILD_DIR/tests/bench/udp_floor
URING_REF=$BUILD_DIR/tests/bench/uring_ref
REFS=                    # "uring-ref" when built (configure found liburing)

log() { echo "[$(date +%T)] $*" >&2; }

# ---------- binaries ----------

is_asan() { nm "$1" 2>/dev/null | grep -q '__asan_init' || ldd "$1" 2>/dev/null | grep -q libasan; }

check_binaries() {
    [ -x "$LOADGEN" ] || die "$LOADGEN missing: make tests/bench/tftp_loadgen in $BUILD_DIR"
    case " $SERVERS " in *" loadsd "* | *" loadsd-t1 "*) [ -x "$LOADSD" ] || die "$LOADSD missing: make server/loadsd" ;; esac
    case " $SERVERS " in *" loadsd-base "*) [ -x "$BASE_DIR/server/loadsd" ] || die "loadsd-base wants --base-build DIR with server/loadsd built" ;; esac
    for b in "$LOADGEN" "$LOADSD" "$BASE_DIR/server/loadsd"; do
        [ -x "$b" ] || continue
        if is_asan "$b" && [ "$ALLOW_ASAN" = no ]; then
            die "$b is built with sanitizers: benchmark an optimised build (configure without --enable-asan) or pass --allow-asan"
        fi
    done
    if [ "$REFERENCE" = yes ] && [ -x "$URING_REF" ]; then REFS=uring-ref; fi
}

# The peers conflict as Debian packages, so they are unpacked side by side
# instead of installed: no service is ever enabled or started by a package.
PEER_DEBS="tftpd-hpa atftpd dnsmasq-base"
PEER_LIBS="libwrap0 libnetfilter-conntrack3 libnftables1"

peer_bin() {
    case "$1" in
    tftpd-hpa) echo "$PEERS_DIR/root/usr/sbin/in.tftpd" ;;
    atftpd) echo "$PEERS_DIR/root/usr/sbin/atftpd" ;;
    dnsmasq) echo "$PEERS_DIR/root/usr/sbin/dnsmasq" ;;
    esac
}

is_loadsd() { case "$1" in loadsd | loadsd-t1 | loadsd-base) return 0 ;; esac; return 1; }

peer_missing_libs() { ldd "$1" 2>/dev/null | grep -q 'not found'; }

setup_peers() {
    local need=no s b
    for s in $SERVERS; do
        is_loadsd "$s" && continue
        b=$(peer_bin "$s")
        if [ ! -x "$b" ] || peer_missing_libs "$b"; then need=yes; fi
    done
    [ $need = yes ] || return 0
    [ "$INSTALL" = yes ] || die "peers missing under $PEERS_DIR (run without --no-install)"
    log "unpacking peers into $PEERS_DIR (apt-get download + dpkg-deb -x)"
    mkdir -p "$PEERS_DIR"
    (cd "$PEERS_DIR" && apt-get download $PEER_DEBS >/dev/null) || die "apt-get download $PEER_DEBS failed (apt-get update?)"
    for deb in "$PEERS_DIR"/*.deb; do dpkg-deb -x "$deb" "$PEERS_DIR/root"; done
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $PEER_LIBS >/dev/null ||
        die "apt-get install $PEER_LIBS failed"
    for s in $SERVERS; do
        is_loadsd "$s" && continue
        b=$(peer_bin "$s")
        [ -x "$b" ] && ! peer_missing_libs "$b" || die "$s still not runnable: ldd $b"
    done
}

peer_version() {
    dpkg-deb -f "$(ls "$PEERS_DIR"/"$1"_*.deb 2>/dev/null | head -1)" Version 2>/dev/null || echo "?"
}

# ---------- namespace, data, cgroups ----------

NS=loadsd-bench-$$
WORK=
CG_MODE=
declare -A PID CGC CGM # per server: daemon pid, CPU cgroup dir, memory cgroup dir

cleanup() {
    set +e
    servers_stop_all
    ip netns del "$NS" 2>/dev/null
    [ -n "$WORK" ] && [ "$KEEP" = no ] && rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

setup_netns() {
    ip netns add "$NS" || die "ip netns add failed"
    ip -n "$NS" link set lo up
    # glibc's AI_ADDRCONFIG ignores 127.0.0.1: without a second IPv4 address,
    # in.tftpd cannot resolve "127.0.0.1" in a namespace that has only lo.
    ip -n "$NS" addr add 127.0.0.2/8 dev lo
}

setup_data() {
    WORK=$(mktemp -d /tmp/loadsd-bench.XXXXXX)
    head -c "$FILE_BIG_BYTES" /dev/urandom >"$WORK/fw7m.bin"
    head -c "$FILE_SMALL_BYTES" /dev/urandom >"$WORK/fw1m.bin"
    SHA_BIG=$(sha256sum "$WORK/fw7m.bin" | cut -d' ' -f1)
    local s
    for s in $SERVERS $REFS; do # each server its own directory (the page cache is charged to us, not it)
        mkdir -p "$WORK/root-$s"
        cp "$WORK/fw7m.bin" "$WORK/fw1m.bin" "$WORK/root-$s/"
        chmod 755 "$WORK/root-$s"
        chmod 644 "$WORK/root-$s"/*.bin
    done
    chmod 755 "$WORK"
}

# Server CPU and memory are read from cgroups so that forked children count
# (tftpd-hpa forks one per transfer): cgroup v2 cpu.stat (pure v2, or the
# "unified" hierarchy of a hybrid host) and memory.peak, or the cgroup v1
# memory controller's max_usage_in_bytes. Without writable cgroups, /proc
# accounting of the daemon (utime+stime+cutime+cstime) is used instead.
detect_cgroups() {
    local memrel
    if [ -f /sys/fs/cgroup/cgroup.controllers ] && [ -w /sys/fs/cgroup ]; then
        CG_MODE=v2
        CG_CPU_BASE=/sys/fs/cgroup
        CG_MEM_BASE=/sys/fs/cgroup
        echo "+memory +cpu" >/sys/fs/cgroup/cgroup.subtree_control 2>/dev/null || true
    elif [ -d /sys/fs/cgroup/unified ] && [ -w /sys/fs/cgroup/unified ]; then
        CG_MODE=hybrid
        CG_CPU_BASE=/sys/fs/cgroup/unified
        memrel=$(awk -F: '$2 == "memory" { print $3 }' /proc/self/cgroup)
        CG_MEM_BASE=/sys/fs/cgroup/memory$memrel
        [ -w "$CG_MEM_BASE" ] || CG_MEM_BASE=
    else
        CG_MODE=proc
    fi
}

# cg_create SERVER TAG: the server's cgroup directories for one scenario.
cg_create() {
    local s=$1 name=loadsd-bench-$$-$2
    CGC[$s]=
    CGM[$s]=
    [ "$CG_MODE" = proc ] && return 0
    CGC[$s]=$CG_CPU_BASE/$name
    mkdir "${CGC[$s]}"
    if [ "$CG_MODE" = v2 ]; then
        [ -f "${CGC[$s]}/memory.peak" ] && CGM[$s]=${CGC[$s]}
    elif [ -n "$CG_MEM_BASE" ]; then
        CGM[$s]=$CG_MEM_BASE/$name
        mkdir "${CGM[$s]}"
    fi
}

cg_procs_files() {
    [ -n "${CGC[$1]}" ] && echo "${CGC[$1]}/cgroup.procs"
    [ -n "${CGM[$1]}" ] && [ "${CGM[$1]}" != "${CGC[$1]}" ] && echo "${CGM[$1]}/cgroup.procs"
    true
}

# Ends what is left in the server's cgroup (children of the server we
# started, by their pid), then removes the cgroup directories.
cg_destroy() {
    local d p
    for d in "${CGC[$1]:-}" "${CGM[$1]:-}"; do
        [ -n "$d" ] && [ -d "$d" ] || continue
        for _ in 1 2 3 4 5 6 7 8 9 10; do
            p=$(cat "$d/cgroup.procs" 2>/dev/null)
            [ -z "$p" ] && break
            kill -KILL $p 2>/dev/null || true
            sleep 0.1
        done
        rmdir "$d" 2>/dev/null || true
    done
    CGC[$1]=
    CGM[$1]=
}

CLK_TCK=$(getconf CLK_TCK)

# CPU time the whole machine spent busy (user nice system irq softirq steal),
# in microseconds: what is left after the server and the client is others' load.
machine_busy_usec() {
    awk -v t="$CLK_TCK" '$1 == "cpu" { printf "%.0f\n", ($2 + $3 + $4 + $7 + $8 + $9) * 1e6 / t; exit }' /proc/stat
}

# Waits (at most WAIT_IDLE seconds) until the machine is nearly idle, since
# other work on the same cores distorts every number here.
wait_idle() {
    local waited=0 b0 b1
    while [ "$waited" -lt "$WAIT_IDLE" ]; do
        b0=$(machine_busy_usec)
        sleep 2
        b1=$(machine_busy_usec)
        [ $((b1 - b0)) -lt 200000 ] && return 0 # under 0.1 core busy over 2 s
        waited=$((waited + 2))
    done
    [ "$WAIT_IDLE" -eq 0 ] || log "machine still busy after ${WAIT_IDLE}s: going on anyway"
}

cpu_usec() {
    if [ -n "${CGC[$1]}" ]; then
        awk '$1 == "usage_usec" { print $2 }' "${CGC[$1]}/cpu.stat"
    else # utime stime cutime cstime: fields 14-17, counted after the ")" of comm
        sed 's/.*) //' "/proc/${PID[$1]}/stat" |
            awk -v t="$CLK_TCK" '{ printf "%.0f\n", ($12 + $13 + $14 + $15) * 1e6 / t }'
    fi
}

mem_peak_kib() {
    local f='' d=${CGM[$1]}
    if [ -n "$d" ]; then
        [ -f "$d/memory.peak" ] && f=$d/memory.peak
        [ -f "$d/memory.max_usage_in_bytes" ] && f=$d/memory.max_usage_in_bytes
    fi
    if [ -n "$f" ]; then awk '{ printf "%d\n", $1 / 1024 }' "$f"; else echo "-"; fi
}

vmhwm_kib() { awk '$1 == "VmHWM:" { print $2 }' "/proc/${PID[$1]}/status" 2>/dev/null || echo "-"; }

# ---------- servers ----------

server_port() {
    case "$1" in
    loadsd) echo 6969 ;;
    tftpd-hpa) echo 6970 ;;
    atftpd) echo 6971 ;;
    dnsmasq) echo 69 ;; # not configurable in dnsmasq: hence the namespace
    uring-ref) echo 6972 ;;
    loadsd-t1) echo 6973 ;;
    loadsd-base) echo 6974 ;;
    esac
}

server_argv() {
    local s=$1 root=$WORK/root-$1 port
    port=$(server_port "$s")
    case "$s" in
    loadsd | loadsd-t1 | loadsd-base)
        # Only the TFTP engine is measured: no admin listener, no scrubbing,
        # a data directory (empty catalog) of its own, no config file. The
        # thread count is the default (online CPUs) but for loadsd-t1; the
        # client is one host, so the per-prefix limits are lifted.
        local bin=$LOADSD threads=
        [ "$s" = loadsd-base ] && bin=$BASE_DIR/server/loadsd
        [ "$s" = loadsd-t1 ] && threads="--threads 1"
        echo "$bin --foreground --config /dev/null --data-dir $WORK/data-$s" \
            "--tftp-listen 127.0.0.1:$port --serve-dir $root $threads --max-windowsize 64" \
            "--max-transfers 10000 --max-transfers-per-client 10000 --max-unacked 10000" \
            "--max-unacked-per-prefix 10000 --log-level warn --admin-listen none --files-listen none" \
            "--scrub-interval 0"
        ;;
    tftpd-hpa) echo "$(peer_bin tftpd-hpa) -L -s $root -a 127.0.0.1:$port -u root" ;;
    atftpd)
        echo "$(peer_bin atftpd) --daemon --no-fork --port $port --bind-address 127.0.0.1" \
            "--user root --group root --maxthread 1000 --logfile /dev/null --verbose=3 $root"
        ;;
    dnsmasq)
        echo "$(peer_bin dnsmasq) --no-daemon --conf-file=/dev/null --port=0 --no-resolv --no-hosts" \
            "--enable-tftp --tftp-root=$root --tftp-max=3000 --listen-address=127.0.0.1" \
            "--bind-interfaces --user=root --group=root --pid-file= --log-facility=/dev/null"
        ;;
    uring-ref) echo "$URING_REF --port $port --root $root" ;;
    esac
}

server_ready() {
    local s=$1 port
    port=$(server_port "$s")
    for _ in $(seq "$READY_TRIES"); do
        ip netns exec "$NS" ss -Hlun "sport = :$port" 2>/dev/null | grep -q . && return 0
        kill -0 "${PID[$s]}" 2>/dev/null || return 1
        sleep 0.1
    done
    return 1
}

# Starts a server in the namespace, inside its own cgroup(s), in the
# foreground of a background job: PID[s] is the daemon itself (sh, nice and
# ip netns exec all exec).
server_start() {
    local s=$1 tag=$2 procs
    cg_create "$s" "$tag"
    procs=$(cg_procs_files "$s" | tr '\n' ' ')
    # Join the cgroups first: ip netns exec mounts a sysfs of the namespace.
    # shellcheck disable=SC2046,SC2016
    sh -c 'for f in $0; do echo $$ >"$f"; done; ulimit -n 65536 2>/dev/null; exec "$@"' \
        "$procs" nice -n "$NICE" ip netns exec "$NS" $(server_argv "$s") >"$WORK/$tag.log" 2>&1 &
    PID[$s]=$!
    server_ready "$s" || {
        cat "$WORK/$tag.log" >&2
        die "$s did not start (see above)"
    }
}

server_stop() {
    local s=$1 pid=${PID[$1]:-}
    if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
        kill -TERM "$pid" 2>/dev/null || true
        for _ in $(seq "$STOP_TRIES"); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        kill -KILL "$pid" 2>/dev/null || true
    fi
    if [ -n "$pid" ]; then wait "$pid" 2>/dev/null || true; fi
    PID[$s]=
    cg_destroy "$s"
}

servers_stop_all() {
    local s
    for s in "${!PID[@]}"; do server_stop "$s"; done
}

# ---------- scenarios ----------

# file count concurrency extra-loadgen-flags
scenario_def() {
    case "$1" in
    a) echo "fw7m.bin 1 1" ;;
    b) echo "fw7m.bin 1 1 --blksize 1468" ;;
    c) echo "fw7m.bin 1 1 --blksize 1468 --windowsize 16" ;;
    d50) echo "fw1m.bin 50 50 --blksize 1468" ;;
    d500) echo "fw1m.bin 500 500 --blksize 1468" ;;
    e2000) echo "fw1m.bin 2000 2000 --blksize 1468" ;;
    l1) echo "fw1m.bin 20 1 --blksize 1468" ;;
    l50) echo "fw1m.bin 200 50 --blksize 1468" ;;
    l500) echo "fw1m.bin 1000 500 --blksize 1468" ;;
    l2000) echo "fw1m.bin 2000 2000 --blksize 1468" ;;
    h10000) echo "fw1m.bin 10000 10000 --blksize 1468" ;;
    esac
}

scenario_title() {
    case "$1" in
    a) echo "(a) 7.4 MB, 512-byte lock-step" ;;
    b) echo "(b) 7.4 MB, blksize 1468" ;;
    c) echo "(c) 7.4 MB, blksize 1468 + windowsize 16" ;;
    d50) echo "(d) 50 x 1 MB concurrent, blksize 1468" ;;
    d500) echo "(d) 500 x 1 MB concurrent, blksize 1468" ;;
    e2000) echo "(e) 2,000 x 1 MB concurrent, blksize 1468" ;;
    l1) echo "(l) 1 at a time, 20 x 1 MB, blksize 1468" ;;
    l50) echo "(l) 50 at a time, 200 x 1 MB, blksize 1468" ;;
    l500) echo "(l) 500 at a time, 1,000 x 1 MB, blksize 1468" ;;
    l2000) echo "(l) 2,000 at a time, 2,000 x 1 MB, blksize 1468" ;;
    h10000) echo "(h) 10,000 x 1 MB concurrent, blksize 1468" ;;
    esac
}

scenario_reps() { case "$1" in e2000 | h10000) echo 1 ;; *) echo "$REPS" ;; esac; }
scenario_servers() {
    case "$1" in
    e2000) echo loadsd ;;
    h10000) echo "loadsd loadsd-t1 loadsd-base" ;;
    l*) echo "$SERVERS" ;;
    a | b | d50 | d500) echo "$SERVERS $REFS" ;; # uring_ref is lock-step only: not (c)
    *) echo "$SERVERS" ;;
    esac
}

jget() { sed -n "s/.*\"$1\":\\([^,}]*\\).*/\\1/p" <<<"$2" | tr -d '"'; }

# One loadgen run; appends a line to $RESULTS:
# scenario server rep wall_s bytes ok failed cpu_usec blksize windowsize client_cpu_s timeouts
# machine_busy_usec
run_once() {
    local sc=$1 s=$2 rep=$3 file count conc extra size json c0 c1 m0 m1 port
    read -r file count conc extra <<<"$(scenario_def "$sc") "
    port=$(server_port "$s")
    size=$FILE_SMALL_BYTES
    [ "$file" = fw7m.bin ] && size=$FILE_BIG_BYTES
    local shaopt=
    [ "$file" = fw7m.bin ] && shaopt="--expect-sha256 $SHA_BIG"
    c0=$(cpu_usec "$s")
    m0=$(machine_busy_usec)
    # shellcheck disable=SC2086
    json=$(nice -n "$NICE" ip netns exec "$NS" "$LOADGEN" --server "127.0.0.1:$port" --file "$file" --count "$count" \
        --concurrency "$conc" $extra --expect-size "$size" $shaopt --timeout-ms "$LG_TIMEOUT_MS" \
        --max-seconds "$([ "$sc" = h10000 ] && echo 600 || echo "$LG_MAX_SECONDS")" --json) || true
    c1=$(cpu_usec "$s")
    m1=$(machine_busy_usec)
    [ -n "$json" ] || json='{"wall_s":0,"bytes":0,"ok":0,"failed":'"$count"',"blksize":0,"windowsize":0,"first_error":"loadgen gave no output"}'
    [ "$rep" -ge 0 ] || return 0 # warm-up: not recorded
    echo "$sc $s $rep $(jget wall_s "$json") $(jget bytes "$json") $(jget ok "$json")" \
        "$(jget failed "$json") $((c1 - c0)) $(jget blksize "$json") $(jget windowsize "$json")" \
        "$(jget client_cpu_s "$json") $(jget timeouts "$json") $((m1 - m0))" >>"$RESULTS"
    local err
    err=$(jget first_error "$json")
    [ -z "$err" ] || log "  $s $sc rep $rep: $err"
}

# Peak memory per (scenario, server): VmHWM of the daemon, cgroup peak.
# All servers of a scenario run at once, each fresh and idle but for its
# turn; the runs go round-robin (loadsd, tftpd-hpa, atftpd, dnsmasq, loadsd,
# ...) so that a change in background load hits every server alike.
run_scenario() {
    local sc=$1 r reps s list=
    reps=$(scenario_reps "$sc")
    for s in $(scenario_servers "$sc"); do
        case " $SERVERS $REFS " in *" $s "*) list="$list $s" ;; esac
    done
    [ -n "$list" ] || return 0
    log "$(scenario_title "$sc"):$list"
    for s in $list; do server_start "$s" "$s-$sc"; done
    if [ "$sc" != e2000 ] && [ "$sc" != h10000 ]; then
        for s in $list; do run_once "$sc" "$s" -1; done # warm-up
    fi
    for r in $(seq "$reps"); do
        for s in $list; do run_once "$sc" "$s" "$r"; done
        measure_floor "$sc"
    done
    for s in $list; do
        echo "$sc $s $(vmhwm_kib "$s") $(mem_peak_kib "$s")" >>"$MEMS"
        server_stop "$s"
    done
}

# ---------- report ----------

# Medians per (scenario, server) -> $WORK/summary: sc s wall mbps cpu_s cpu_ms_per_mb rss cgmem
# failed blk win client_cpu_s client_timeouts (failed and timeouts summed over the runs)
summarise() {
    awk -v mems="$MEMS" '
    BEGIN { while ((getline l < mems) > 0) { split(l, f, " "); rss[f[1] " " f[2]] = f[3]; cg[f[1] " " f[2]] = f[4] } }
    {
        k = $1 " " $2; n[k]++; if (!(k in order)) { order[k] = ++nk; keys[nk] = k }
        wall[k, n[k]] = $4; cpu[k, n[k]] = $8; bytes[k] = $5; fail[k] += $7; blk[k] = $9; win[k] = $10
        ccpu[k, n[k]] = $11; tmo[k] += $12
        other = $13 / 1e6 - $8 / 1e6 - $11; tw += $4; to += (other > 0 ? other : 0)
    }
    function median(arr, k, cnt,   i, j, t, v) {
        for (i = 1; i <= cnt; i++) v[i] = arr[k, i] + 0
        for (i = 2; i <= cnt; i++) for (j = i; j > 1 && v[j - 1] > v[j]; j--) { t = v[j]; v[j] = v[j - 1]; v[j - 1] = t }
        return cnt % 2 ? v[(cnt + 1) / 2] : (v[cnt / 2] + v[cnt / 2 + 1]) / 2
    }
    END {
        printf "%.2f\n", (tw > 0 ? to / tw : 0) > "/dev/stderr"
        for (i = 1; i <= nk; i++) {
            k = keys[i]; w = median(wall, k, n[k]); c = median(cpu, k, n[k]) / 1e6
            mb = bytes[k] / 1e6; mbps = w > 0 ? mb / w : 0
            printf "%s %.4f %.2f %.4f %.3f %s %s %d %s %s %.3f %d\n", k, w, mbps, c, (mb > 0 ? c * 1000 / mb : 0),
                rss[k], cg[k], fail[k], blk[k], win[k], median(ccpu, k, n[k]), tmo[k]
        }
    }' "$RESULTS" >"$WORK/summary" 2>"$WORK/other_load"
}

kib_to_mib() { if [ "$1" = "-" ]; then echo "-"; else awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; fi; }

print_table() {
    local sc s w mbps cpu cpmb rss cgm fail blk win ccpu tmo
    echo "| scenario | server | negotiated blksize / window | median wall s | MB/s | server CPU s | server CPU ms per MB | peak RSS MiB (VmHWM) | cgroup memory peak MiB | client CPU s | client timeouts | failed |"
    echo "|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
    while read -r sc s w mbps cpu cpmb rss cgm fail blk win ccpu tmo; do
        echo "| $(scenario_title "$sc") | $s | $blk / $win | $w | $mbps | $cpu | $cpmb | $(kib_to_mib "$rss") | $(kib_to_mib "$cgm") | $ccpu | $tmo | $fail |"
    done <"$WORK/summary"
}

field() { awk -v sc="$1" -v s="$2" -v col="$3" '$1 == sc && $2 == s { print $col }' "$WORK/summary"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "" || b == "" || b + 0 == 0) print "-"; else printf "%.2f", a / b }'; }

print_ratios() {
    local sc s
    echo "| scenario | peer | throughput loadsd / peer | CPU per MB loadsd / peer |"
    echo "|---|---|---:|---:|"
    for sc in $SCENARIOS; do
        [ "$sc" = e2000 ] && continue
        [ "$sc" = h10000 ] && continue
        for s in $SERVERS; do
            [ "$s" = loadsd ] && continue
            echo "| $(scenario_title "$sc") | $s | $(ratio "$(field "$sc" loadsd 4)" "$(field "$sc" "$s" 4)") |" \
                "$(ratio "$(field "$sc" loadsd 6)" "$(field "$sc" "$s" 6)") |"
        done
    done
}

# met A OP B: "**met**" when A OP B holds (OP is <, <=, >=).
met() {
    awk -v a="$1" -v op="$2" -v b="$3" 'BEGIN {
        ok = (op == "<") ? a + 0 < b + 0 : (op == "<=") ? a + 0 <= b + 0 : a + 0 >= b + 0
        print (ok ? "**met**" : "**not met**") }'
}

# The kernel's own cost of a lock-step block at blksize 1468 (udp_floor, in
# the namespace), measured after each round of runs of a lock-step scenario at
# blksize 1468, so under the same conditions as those runs; appends
# "scenario cross_ms_per_mb same_ms_per_mb lockstep_ms_per_mb" to
# $WORK/floor.runs. The lock-step floor (one thread serving as many
# transfers at once as the (l) scenario, wake-ups paid) only for (l): "-"
# for the others.
measure_floor() {
    local sc=$1 out ls=-
    case "$sc" in b | d50 | d500 | l*) ;; *) return 0 ;; esac
    [ -x "$UDP_FLOOR" ] || return 0
    case "$sc" in l*) ls=${sc#l} ;; esac
    out=$(ip netns exec "$NS" nice -n "$NICE" "$UDP_FLOOR" --blksize 1468 \
        $([ "$ls" = - ] || echo "--lockstep $ls")) || return 0
    echo "$sc $(sed -n 's/.*"cross_cpu":{[^}]*"server_ms_per_mb":\([0-9.]*\).*/\1/p' <<<"$out")" \
        "$(sed -n 's/.*"same_cpu":{[^}]*"server_ms_per_mb":\([0-9.]*\).*/\1/p' <<<"$out")" \
        "$(sed -n 's/.*"lockstep":{[^}]*"server_ms_per_mb":\([0-9.]*\).*/\1/p' <<<"$out" | grep . || echo -)" \
        >>"$WORK/floor.runs"
}

# floor_median SCENARIO COLUMN: the median udp_floor figure of a scenario's
# rounds (column 2 cross-CPU, 3 same CPU, 4 lock-step; lower middle for an
# even count).
floor_median() {
    awk -v sc="$1" -v c="$2" '$1 == sc && $c != "-" { print $c }' "$WORK/floor.runs" 2>/dev/null | sort -g |
        awk '{ v[NR] = $1 } END { if (NR > 0) print v[int((NR + 1) / 2)] }'
}

best_peer_cpu() {
    local sc=$1 s v best=
    for s in $SERVERS; do
        is_loadsd "$s" && continue
        v=$(field "$sc" "$s" 6)
        [ -n "$v" ] || continue
        if [ -z "$best" ] || awk -v a="$v" -v b="$best" 'BEGIN { exit !(a < b) }'; then best=$v; fi
    done
    echo "$best"
}

print_floor() {
    local cross same sc best
    [ -s "$WORK/floor.runs" ] || return 0
    echo "Kernel floor (\`tests/bench/udp_floor --blksize 1468\`, run in the namespace after each"
    echo "round of (b) and (d), median over the rounds): the CPU a server spends in the kernel per"
    echo "lock-step block, one 1,472-byte DATA sent and one ACK received, with no syscall per"
    echo "datagram and no wake-up, the client's half on the other CPU (on one CPU, hot caches, in"
    echo "brackets). uring_ref: the reference sender run beside the peers (tests/bench/README.md)."
    echo
    echo "| scenario | best peer ms/MB | target: 0.5x best peer | kernel floor ms/MB | floor / best peer | uring_ref / best peer | loadsd / floor |"
    echo "|---|---:|---:|---:|---:|---:|---:|"
    for sc in b d50 d500; do
        best=$(best_peer_cpu "$sc")
        cross=$(floor_median "$sc" 2)
        same=$(floor_median "$sc" 3)
        [ -n "$best" ] && [ -n "$cross" ] || continue
        echo "| $(scenario_title "$sc") | $best | $(awk -v b="$best" 'BEGIN { printf "%.3f", b / 2 }') |" \
            "$cross ($same) | $(ratio "$cross" "$best")x | $(ratio "$(field "$sc" uring-ref 6)" "$best")x |" \
            "$(ratio "$(field "$sc" loadsd 6)" "$cross")x |"
    done
}

print_targets() {
    local r sc best fail rss
    echo "| target | measured | result |"
    echo "|---|---|---|"
    r=$(ratio "$(field c loadsd 4)" "$(field c atftpd 4)")
    [ "$r" = - ] || echo "| (c) throughput >= 1.5x atftpd | ${r}x | $(met "$r" ">=" 1.5) |"
    for sc in b c d50 d500; do
        best=$(best_peer_cpu "$sc")
        r=$(ratio "$(field "$sc" loadsd 6)" "$best")
        [ "$r" = - ] || echo "| $(scenario_title "$sc"): CPU per MB <= 0.5x best peer ($best ms/MB) | ${r}x ($(field "$sc" loadsd 6) ms/MB) | $(met "$r" "<=" 0.5) |"
    done
    fail=$(field e2000 loadsd 9)
    rss=$(field e2000 loadsd 7)
    if [ -n "$fail" ]; then
        echo "| (e) 2,000 concurrent 1 MB transfers all complete | $(awk -v f="$fail" 'BEGIN { print 2000 - f }') of 2000 | $(met "$fail" "<=" 0) |"
        echo "| (e) loadsd RSS < 64 MiB | $(kib_to_mib "$rss") MiB VmHWM | $(met "$rss" "<" "$RSS_TARGET_KIB") |"
    fi
}

# Issue 17's targets, from the (l) and (h) scenarios of this run.
print_targets17() {
    local sc r cross fail hwm
    case " $SCENARIOS " in *" l"* | *" h10000 "*) ;; *) return 0 ;; esac
    echo "Issue 17 (load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)):"
    echo
    echo "| target | measured | result |"
    echo "|---|---|---|"
    for sc in l1 l50 l500 l2000; do
        [ -n "$(field "$sc" loadsd 6)" ] || continue
        r=$(ratio "$(field "$sc" loadsd 6)" "$(field "$sc" loadsd-t1 6)")
        [ "$r" = - ] || echo "| $(scenario_title "$sc"): CPU per MB <= 1.1x --threads 1 | ${r}x ($(field "$sc" loadsd 6) / $(field "$sc" loadsd-t1 6) ms/MB) | $(met "$r" "<=" 1.1) |"
        r=$(ratio "$(field "$sc" loadsd 6)" "$(field "$sc" dnsmasq 6)")
        [ "$r" = - ] || echo "| $(scenario_title "$sc"): CPU per MB <= 1.0x dnsmasq | ${r}x ($(field "$sc" dnsmasq 6) ms/MB) | $(met "$r" "<=" 1.0) |"
        cross=$(floor_median "$sc" 2)
        r=$(ratio "$(field "$sc" loadsd 6)" "$cross")
        [ "$r" = - ] || echo "| $(scenario_title "$sc"): CPU per MB <= 2.2x kernel floor | ${r}x ($cross ms/MB) | $(met "$r" "<=" 2.2) |"
        cross=$(floor_median "$sc" 4)
        r=$(ratio "$(field "$sc" loadsd 6)" "$cross")
        [ "$r" = - ] || echo "| $(scenario_title "$sc"): CPU per MB <= 2.2x lock-step floor (wake-ups paid) | ${r}x ($cross ms/MB) | $(met "$r" "<=" 2.2) |"
        r=$(ratio "$(field "$sc" loadsd 6)" "$(field "$sc" loadsd-base 6)")
        [ "$r" = - ] || echo "| $(scenario_title "$sc"): CPU per MB against loadsd-base | ${r}x | - |"
    done
    r=$(ratio "$(field l2000 loadsd 4)" "$(field l2000 loadsd-t1 4)")
    [ "$r" = - ] || echo "| (l) 2,000 at a time: throughput >= 1.8x --threads 1 | ${r}x ($(field l2000 loadsd 4) / $(field l2000 loadsd-t1 4) MB/s) | $(met "$r" ">=" 1.8) |"
    for s in loadsd loadsd-t1 loadsd-base; do
        fail=$(field h10000 "$s" 9)
        hwm=$(field h10000 "$s" 7)
        [ -n "$fail" ] || continue
        echo "| (h) $s: 10,000 concurrent complete, VmHWM < 48 MiB | $((10000 - fail)) of 10000, $(kib_to_mib "$hwm") MiB | $(met "$fail" "<=" 0) $(met "$hwm" "<" "$HWM_TARGET_KIB") |"
    done
}

machine_line() {
    echo "date $(date -u '+%Y-%m-%d %H:%M UTC'); $(nproc) CPUs, $(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo);" \
        "kernel $(uname -r); cgroup accounting: $CG_MODE"
}

report() {
    local s
    echo "Command: \`$CMDLINE\`"
    echo
    echo "Machine: $(machine_line)."
    echo
    printf 'Servers: loadsd (%s)' "$LOADSD"
    [ -z "$BASE_DIR" ] || printf ', loadsd-base (%s)' "$BASE_DIR/server/loadsd"
    for s in $SERVERS; do
        case "$s" in
        tftpd-hpa) printf ', tftpd-hpa %s' "$(peer_version tftpd-hpa)" ;;
        atftpd) printf ', atftpd %s' "$(peer_version atftpd)" ;;
        dnsmasq) printf ', dnsmasq %s' "$(peer_version dnsmasq-base)" ;;
        esac
    done
    [ -z "$REFS" ] || printf '; in (a), (b) and (d) also the reference uring_ref (%s)' "$URING_REF"
    echo "; all in one network namespace on its loopback, client tftp_loadgen in the same namespace."
    echo
    echo "Median of $REPS runs after one warm-up run per server ((e): one run); in each scenario all"
    echo "servers run at once, idle but for their turn, and the runs go round-robin. MB = 10^6 bytes."
    echo "CPU used by other work on the machine during the measured runs (machine busy time"
    echo "minus server and client, /proc/stat): $(cat "$WORK/other_load") cores on average;"
    echo "servers and client ran at nice $NICE."
    echo
    print_table
    echo
    print_ratios
    echo
    print_targets
    echo
    print_floor
    echo
    print_targets17
}

# ---------- main ----------

main() {
    local sc
    check_binaries
    setup_peers
    setup_netns
    setup_data
    detect_cgroups
    RESULTS=$WORK/results
    MEMS=$WORK/mems
    : >"$RESULTS"
    : >"$MEMS"
    log "work dir $WORK, namespace $NS, cgroup accounting $CG_MODE"
    wait_idle
    : >"$WORK/floor.runs"
    for sc in $SCENARIOS; do run_scenario "$sc"; done
    summarise
    if [ -n "$OUT" ]; then report | tee "$OUT"; else report; fi
}

main
