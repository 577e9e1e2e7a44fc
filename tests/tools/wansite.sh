# wansite.sh: a branch site in two network namespaces, central and branch,
# joined by wanemu over a TUN device in each (sourced; POSIX sh, set -u safe).
# Uses only the RFC 2544 benchmarking range 198.18.0.0/15; touches nothing
# outside the two namespaces it creates.
#
#   central ${PREFIX}c: wan0 198.18.0.1, route 198.19.0.0/16 dev wan0
#   branch  ${PREFIX}b: wan0 198.19.0.1 (the branch loadsd), route
#           198.18.0.0/16 dev wan0, phones 198.19.0.10 .. 198.19.3.250 on lo
#   wanemu --a ${PREFIX}c:wan0 --b ${PREFIX}b:wan0: a->b is "down" (central to branch)
#
# Functions: wansite_can_run, wansite_up PREFIX [wanemu options...],
# wansite_add_phones N, wansite_phone_addr I, wansite_stats, wansite_down.
# Run commands in a namespace with `ip netns exec "$WANSITE_B" cmd`.

# shellcheck shell=sh
WANEMU=${WANEMU:-${top_builddir:-${top_srcdir:-.}}/tests/tools/wanemu}
WANSITE_CENTRAL_ADDR=198.18.0.1
WANSITE_BRANCH_ADDR=198.19.0.1
WANSITE_PHONES_MAX=1009 # 198.19.0.10 .. 198.19.3.250
WANSITE_C=""
WANSITE_B=""
WANSITE_PID=""
WANSITE_TMP=""
WANSITE_NPHONES=0
WANSITE_WHY=""

# 0 when this machine can build a site (root, /dev/net/tun, `ip netns`);
# else 1, with the reason in WANSITE_WHY and on stderr.
wansite_can_run() {
    WANSITE_WHY=""
    if [ "$(id -u)" != 0 ]; then
        WANSITE_WHY="not root (network namespaces and TUN devices need root)"
    elif [ ! -c /dev/net/tun ]; then
        WANSITE_WHY="/dev/net/tun is missing"
    elif ! command -v ip >/dev/null 2>&1; then
        WANSITE_WHY="ip (iproute2) is not installed"
    elif ! ip netns add "wansite-probe$$" 2>/dev/null; then
        WANSITE_WHY="ip netns add fails here"
    else
        ip netns del "wansite-probe$$" 2>/dev/null
        return 0
    fi
    echo "wansite: cannot run: $WANSITE_WHY" >&2
    return 1
}

# One namespace: lo up, no IPv6 (nothing but the test's own traffic crosses
# the link), a persistent TUN wan0 with one address and one route.
_wansite_ns() {
    ip netns add "$1" &&
        ip -n "$1" link set lo up &&
        ip netns exec "$1" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1 &&
        ip -n "$1" tuntap add dev wan0 mode tun &&
        ip -n "$1" link set wan0 up &&
        ip -n "$1" addr add "$2/32" dev wan0 &&
        ip -n "$1" route add "$3" dev wan0
}

# 0 while process $1 runs (a zombie, exited but not yet waited for, does not).
_wansite_alive() {
    [ -r "/proc/$1/stat" ] && ! sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | grep -q '^Z'
}

# Waits (at most 5 s) until the stats file exists and differs from inode $1.
_wansite_wait_stats() {
    _ws_i=0
    while [ $_ws_i -lt 100 ]; do
        if [ -f "$WANSITE_STATS" ] && [ "$(stat -c %i "$WANSITE_STATS" 2>/dev/null)" != "$1" ]; then
            return 0
        fi
        if ! _wansite_alive "$WANSITE_PID"; then
            echo "wansite: wanemu (pid $WANSITE_PID) exited" >&2
            return 1
        fi
        sleep 0.05
        _ws_i=$((_ws_i + 1))
    done
    echo "wansite: no stats from wanemu in $WANSITE_STATS after 5 s" >&2
    return 1
}

# Builds the site and starts wanemu with the given options; waits until
# both TUNs are attached. Sets WANSITE_C, WANSITE_B, WANSITE_PID and, unless
# the caller set it, WANSITE_STATS (in a temp dir wansite_down removes).
wansite_up() {
    if [ $# -lt 1 ] || [ -z "$1" ]; then
        echo "wansite_up: usage: wansite_up PREFIX [wanemu options...]" >&2
        return 2
    fi
    WANSITE_C="${1}c"
    WANSITE_B="${1}b"
    WANSITE_NPHONES=0
    shift
    if [ ! -x "$WANEMU" ]; then
        echo "wansite: $WANEMU is not built (make tests/tools/wanemu)" >&2
        return 1
    fi
    if [ -z "${WANSITE_STATS:-}" ]; then
        WANSITE_TMP=$(mktemp -d "${TMPDIR:-/tmp}/wansite.XXXXXX") || return 1
        WANSITE_STATS="$WANSITE_TMP/wanemu.json"
    fi
    if ! _wansite_ns "$WANSITE_C" "$WANSITE_CENTRAL_ADDR" 198.19.0.0/16 ||
        ! _wansite_ns "$WANSITE_B" "$WANSITE_BRANCH_ADDR" 198.18.0.0/16; then
        echo "wansite: cannot build the namespaces $WANSITE_C and $WANSITE_B" >&2
        wansite_down
        return 1
    fi
    rm -f "$WANSITE_STATS"
    "$WANEMU" --a "$WANSITE_C:wan0" --b "$WANSITE_B:wan0" --stats "$WANSITE_STATS" "$@" &
    WANSITE_PID=$!
    if ! _wansite_wait_stats none; then
        wansite_down
        return 1
    fi
}

# Prints the I-th phone address (0-based): 198.19.0.10 onwards, in order.
wansite_phone_addr() {
    if [ "$1" -lt 0 ] || [ "$1" -ge "$WANSITE_PHONES_MAX" ]; then
        echo "wansite_phone_addr: $1 is not in 0..$((WANSITE_PHONES_MAX - 1))" >&2
        return 1
    fi
    _ws_n=$(($1 + 10))
    echo "198.19.$((_ws_n / 256)).$((_ws_n % 256))"
}

# Adds N more phone addresses (/32 on the branch's lo), after those added before.
wansite_add_phones() {
    _ws_end=$((WANSITE_NPHONES + $1))
    if [ "$_ws_end" -gt "$WANSITE_PHONES_MAX" ]; then
        echo "wansite_add_phones: at most $WANSITE_PHONES_MAX phones" >&2
        return 1
    fi
    _ws_i=$WANSITE_NPHONES
    while [ "$_ws_i" -lt "$_ws_end" ]; do
        echo "address add $(wansite_phone_addr "$_ws_i")/32 dev lo"
        _ws_i=$((_ws_i + 1))
    done | ip -n "$WANSITE_B" -batch - || return 1
    WANSITE_NPHONES=$_ws_end
}

# Asks wanemu for fresh counters (SIGUSR1) and prints its JSON.
wansite_stats() {
    _ws_old=$(stat -c %i "$WANSITE_STATS" 2>/dev/null || echo none)
    kill -USR1 "$WANSITE_PID" 2>/dev/null || {
        echo "wansite: wanemu is not running" >&2
        return 1
    }
    _wansite_wait_stats "$_ws_old" && cat "$WANSITE_STATS"
}

# Stops wanemu (SIGTERM: it writes its last counters) and deletes both
# namespaces. Safe to call twice and from a trap.
wansite_down() {
    if [ -n "$WANSITE_PID" ]; then
        kill -TERM "$WANSITE_PID" 2>/dev/null
        _ws_i=0
        while _wansite_alive "$WANSITE_PID" && [ $_ws_i -lt 50 ]; do
            sleep 0.1
            _ws_i=$((_ws_i + 1))
        done
        kill -KILL "$WANSITE_PID" 2>/dev/null
        wait "$WANSITE_PID" 2>/dev/null
        WANSITE_PID=""
    fi
    for _ws_ns in $WANSITE_C $WANSITE_B; do
        ip netns del "$_ws_ns" 2>/dev/null
    done
    WANSITE_C=""
    WANSITE_B=""
    if [ -n "$WANSITE_TMP" ]; then
        rm -rf "$WANSITE_TMP"
        WANSITE_TMP=""
        WANSITE_STATS=""
    fi
    return 0
}
