# lib.sh: helpers shared by the integration tests (sourced, never run alone).
# Starts one loadsd on free loopback ports in a private temp dir and counts
# results; never touches anything outside that dir, never waits unbounded.

# shellcheck shell=sh
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
export top_srcdir top_builddir

LOADSD="${LOADSD:-$top_builddir/server/loadsd}"
TFTP_RAW="$top_srcdir/tests/integration/tftp_raw.py"
TEST_NAME=$(basename "$0" .sh)
PASSED=0
FAILED=0
DAEMON_PID=""
DAEMON_LOG=""
TMPD=""
PORT=""

# Sizes every client fetches; BIG_SIZE (over 65535 blocks of 512) is added
# only where a test asks for it.
SMALL_SIZES="0 1 511 512 513 1048576"
BIG_SIZE=34000000

# ---- one CPU-heavy test at a time ---------------------------------------

# Tests that load both cores (the WAN emulator, the site and phone
# simulators, the flood test) or that a loaded machine slows past their
# waits (the browser test) hold this lock for their whole run, so that
# `make -j check` never runs two of them at once. Held on fd 9 until exit.
HEAVY_LOCK="$top_builddir/tests/heavy-test.lock"

heavy_test_lock() {
    command -v flock >/dev/null 2>&1 || return 0
    exec 9>"$HEAVY_LOCK" || return 0
    _hl0=$(date +%s%N)
    flock 9
    # In the log, for the order of TESTS in Makefile.am: a heavy suite that
    # waits here holds one of make's job slots idle.
    echo "# waited $((($(date +%s%N) - _hl0) / 1000000)) ms for the heavy-test lock"
}

# ---- results -----------------------------------------------------------

log_tail() {
    if [ -n "$DAEMON_LOG" ] && [ -f "$DAEMON_LOG" ]; then
        echo "---- last lines of the loadsd log ($DAEMON_LOG) ----"
        tail -n 25 "$DAEMON_LOG"
        echo "----"
    fi
}

pass() {
    PASSED=$((PASSED + 1))
    echo "PASS: $*"
}

fail() {
    FAILED=$((FAILED + 1))
    echo "FAIL: $*"
    log_tail
}

# Ends the script: the summary line, then 0 only when nothing failed.
finish() {
    daemon_stop_quiet
    echo "$PASSED passed, $FAILED failed"
    [ "$FAILED" -eq 0 ] && [ "$PASSED" -gt 0 ]
    exit $?
}

# Exit 77 (automake SKIP) only when a client program is truly missing.
# `packaging/quickstart check` installs every client, so it counts such a
# skip as a failure: on a machine it set up, it is a missing install step.
skip() {
    echo "SKIP: $*"
    exit 77
}

# A skip that no install step can prevent (the machine lacks a capability,
# such as mounting): quickstart check reports it and lets it pass.
skip_by_nature() {
    echo "SKIP (by nature): $*"
    exit 77
}

need_cmd() {
    for c in "$@"; do
        command -v "$c" >/dev/null 2>&1 || skip "$c is not installed"
    done
}

# Hard error (automake ERROR): the test itself cannot run.
die() {
    echo "ERROR: $*"
    log_tail
    exit 99
}

# ---- temp dir, ports -----------------------------------------------------

cleanup() {
    if [ -n "$DAEMON_PID" ] && kill -0 "$DAEMON_PID" 2>/dev/null; then
        kill -TERM "$DAEMON_PID" 2>/dev/null
        i=0
        while kill -0 "$DAEMON_PID" 2>/dev/null && [ $i -lt 50 ]; do
            sleep 0.1
            i=$((i + 1))
        done
        kill -KILL "$DAEMON_PID" 2>/dev/null
    fi
    if [ -n "$TMPD" ] && [ -d "$TMPD" ]; then
        if [ -n "${KEEP_TMPDIR:-}" ]; then
            echo "kept $TMPD"
        else
            rm -rf "$TMPD"
        fi
    fi
    # shellcheck disable=SC2086 # the reserved ports' directories, one word each
    [ -z "${PORTS_HELD:-}" ] || rmdir $PORTS_HELD 2>/dev/null
}

make_tmpdir() {
    TMPD=$(mktemp -d "${TMPDIR:-/tmp}/loadsd-$TEST_NAME.XXXXXX") || die "mktemp failed"
    trap cleanup EXIT
    trap 'exit 130' INT TERM
    ROOT="$TMPD/root"
    mkdir -p "$ROOT" "$TMPD/out" || die "mkdir failed"
    # A config file of our own keeps a host's /etc/loadsd out of the test;
    # scripts may append settings to it before daemon_start.
    CONFIG_FILE="$TMPD/loadsd.conf"
    # The HTTP file service stays off (its default port is fixed); a test that
    # wants it passes --files-listen with a port of its own.
    printf '# %s\nthreads = 2\nfiles-listen = none\n' "$TEST_NAME" >"$CONFIG_FILE" || die "cannot write $CONFIG_FILE"
}

# hpa_watched DIR [OPENCOUNT-OPTION...]: tftpd-hpa serving DIR on a free
# loopback port (UPORT), its opens (and with --reads its reads) logged by
# tests/tools/opencount.py to $TMPD/opens.log; HPA_PID, COUNT_PID; both
# stopped on exit.
hpa_watched() {
    _dir=$1
    shift
    python3 "$top_srcdir/tests/tools/opencount.py" "$@" "$_dir" >"$TMPD/opens.log" 2>&1 &
    COUNT_PID=$!
    pick_port UPORT
    in.tftpd -L -s "$_dir" -a "127.0.0.1:$UPORT" -u "$(id -un)" </dev/null >"$TMPD/hpa.log" 2>&1 &
    HPA_PID=$!
    trap 'kill -TERM $HPA_PID $COUNT_PID 2>/dev/null; cleanup' EXIT
    _i=0
    until grep -q ready "$TMPD/opens.log" 2>/dev/null; do
        _i=$((_i + 1))
        [ $_i -lt 50 ] || die "opencount.py does not start: $(cat "$TMPD/opens.log")"
        sleep 0.1
    done
}

# The highest port a test picks: below the kernel's ephemeral range when
# there is room, so that no client socket (this test's or a parallel one's)
# can take it between the pick and the daemon's bind.
port_high() {
    _low=$(cut -f1 /proc/sys/net/ipv4/ip_local_port_range 2>/dev/null)
    case "$_low" in
    '' | *[!0-9]*) echo 59000 ;;
    *) if [ "$_low" -gt 21000 ] && [ "$_low" -le 60001 ]; then echo $((_low - 1)); else echo 59000; fi ;;
    esac
}

# pick_free VAR u|t: sets VAR to a UDP (u) or TCP (t) port from 20000 to
# port_high that no socket on this machine uses, reserved against the tests
# running beside this one (a directory in PORTS_DIR, made atomically, gone
# when this test exits; one left by a killed test counts after an hour).
PORTS_DIR=/tmp/loadsd-test-ports
pick_free() {
    _hi=$(port_high)
    mkdir -p "$PORTS_DIR" 2>/dev/null
    find "$PORTS_DIR" -mindepth 1 -maxdepth 1 -mmin +60 -exec rmdir {} + 2>/dev/null
    _i=0
    while [ $_i -lt 100 ]; do
        _i=$((_i + 1))
        _p=$(shuf -i "20000-$_hi" -n 1)
        [ -z "$(ss -H"$2"an "sport = :$_p" 2>/dev/null)" ] || continue
        mkdir "$PORTS_DIR/$2$_p" 2>/dev/null || continue
        PORTS_HELD="${PORTS_HELD:-} $PORTS_DIR/$2$_p"
        eval "$1=$_p"
        return 0
    done
    die "no free port found"
}

# pick_port VAR: a UDP port (pick_free). pick_tcp_port VAR: a TCP one.
pick_port() { pick_free "$1" u; }
pick_tcp_port() { pick_free "$1" t; }

# ---- test files ----------------------------------------------------------

# Writes size_N.bin for every size in SMALL_SIZES, and BIG_SIZE when $1 = big.
gen_files() {
    for s in $SMALL_SIZES; do
        head -c "$s" /dev/urandom >"$ROOT/size_$s.bin" || die "cannot write test file"
    done
    if [ "${1:-}" = big ]; then
        head -c "$BIG_SIZE" /dev/urandom >"$ROOT/size_$BIG_SIZE.bin" || die "cannot write test file"
    fi
    echo ready >"$ROOT/ready.txt"
}

# cnf_test_setup CMD...: what a test of the configs phones fetch needs:
# loadsctl built ($LOADSCTL), curl (with TFTP) and each CMD installed, the
# temp dir with $ROOT/ready.txt, the data dir's path in $DATA.
cnf_test_setup() {
    LOADSCTL="${LOADSCTL:-$top_builddir/admin/loadsctl}"
    [ -x "$LOADSCTL" ] || die "$LOADSCTL is not built"
    need_cmd curl "$@"
    curl -V | grep -q -i 'protocols:.* tftp' || skip "this curl has no TFTP support"
    make_tmpdir
    echo ready >"$ROOT/ready.txt"
    DATA="$TMPD/data"
}

# signed_loads DATADIR LOAD...: test keys in $TMPD/keys, DATADIR (created
# when new) trusting their vendor certificate, and each LOAD a small signed
# zip ($TMPD/LOAD.zip: 4 KiB files, every component header) imported there
# with loadsctl. Setup: a failure stops the test.
signed_loads() {
    _sl_dd=$1
    shift
    _sl_ctl="${LOADSCTL:-$top_builddir/admin/loadsctl}"
    _sl_mk="$top_srcdir/tests/tools/mkbundle.py"
    python3 "$_sl_mk" keys "$TMPD/keys" >/dev/null || die "mkbundle keys failed"
    _sl_out=$("$_sl_ctl" --data-dir "$_sl_dd" trust add "$TMPD/keys/vendor.pem" 2>&1) ||
        die "loadsctl trust add: $_sl_out"
    for _sl_l; do
        python3 "$_sl_mk" bundle --keys "$TMPD/keys" --out "$TMPD/$_sl_l.zip" --format zip --load "$_sl_l" \
            --component-headers all --size-kb 4 >/dev/null || die "mkbundle bundle $_sl_l failed"
        _sl_out=$("$_sl_ctl" --data-dir "$_sl_dd" import "$TMPD/$_sl_l.zip" 2>&1) ||
            die "loadsctl import $_sl_l: $_sl_out"
    done
}

sha() {
    sha256sum "$1" | cut -d' ' -f1
}

# same_file EXPECTED GOT: 0 when both exist and have the same SHA-256.
same_file() {
    [ -f "$1" ] && [ -f "$2" ] && [ "$(sha "$1")" = "$(sha "$2")" ]
}

# check_fetch LABEL RC EXPECTED GOT: one PASS or FAIL for a client's fetch.
check_fetch() {
    if [ "$2" -ne 0 ]; then
        fail "$1: client exit status $2"
    elif ! same_file "$3" "$4"; then
        fail "$1: SHA-256 differs ($(wc -c <"$4" 2>/dev/null || echo no) bytes, want $(wc -c <"$3"))"
    else
        pass "$1"
    fi
}

# ---- the daemon ----------------------------------------------------------

# probe HOST PORT: one quick RRQ of ready.txt; 0 once it comes back.
probe() {
    timeout 5 python3 "$TFTP_RAW" --host "$1" --port "$2" --get ready.txt \
        --out "$TMPD/ready.out" --wait 0.3 >/dev/null 2>&1 &&
        same_file "$ROOT/ready.txt" "$TMPD/ready.out"
}

# daemon_start [EXTRA FLAGS...]: runs loadsd on 127.0.0.1:$PORT (picked here
# unless already set) serving $ROOT, then waits (at most 10 s) until it
# answers a request. Extra flags come last, so they may add listeners.
daemon_start() {
    [ -x "$LOADSD" ] || die "$LOADSD is not built"
    command -v python3 >/dev/null 2>&1 || skip "python3 is not installed"
    [ -n "$PORT" ] || pick_port PORT
    DAEMON_LOG="$TMPD/loadsd.$PORT.log"
    # Once loadsd has a catalog, it gets a data dir of its own in $TMPD:
    # a test never creates or touches the host's /var/lib/loadsd.
    if "$LOADSD" --help 2>/dev/null | grep -q -e '--data-dir'; then
        set -- --data-dir "$TMPD/data" "$@"
    fi
    echo "starting: $LOADSD --foreground --config $CONFIG_FILE --tftp-listen 127.0.0.1:$PORT --serve-dir $ROOT --log-level debug $*"
    "$LOADSD" --foreground --config "$CONFIG_FILE" --tftp-listen "127.0.0.1:$PORT" \
        --serve-dir "$ROOT" --log-level debug "$@" 2>"$DAEMON_LOG" </dev/null &
    DAEMON_PID=$!
    end=$(($(date +%s) + 10))
    while [ "$(date +%s)" -le "$end" ]; do
        if ! kill -0 "$DAEMON_PID" 2>/dev/null; then
            wait "$DAEMON_PID"
            rc=$?
            DAEMON_PID=""
            die "loadsd exited with status $rc while starting"
        fi
        if probe 127.0.0.1 "$PORT"; then
            return 0
        fi
        sleep 0.2
    done
    die "loadsd did not answer within 10 s"
}

# daemon_log_wait ERE [SECONDS]: waits (at most SECONDS, 10 by default) until
# the daemon's log has a line matching ERE; 0 when it came. For what the
# daemon does on its own time: a loadsctl write (another process) seen on its
# next poll, a staging started, a refusal logged.
daemon_log_wait() {
    _lw_i=0
    while [ $_lw_i -lt $((${2:-10} * 10)) ]; do
        grep -q -E "$1" "$DAEMON_LOG" 2>/dev/null && return 0
        sleep 0.1
        _lw_i=$((_lw_i + 1))
    done
    return 1
}

# daemon_log_quiet ERE: waits (at most 10 s) until no new line matching ERE
# came for a second (four of the daemon's polls); 0 when it went quiet. A
# rebuild can bring one more (the loads the configs name are recorded on
# the tick after it): a test that counts rebuilds starts from quiet.
daemon_log_quiet() {
    _lw_i=0 _lw_last=-1 _lw_same=0
    while [ $_lw_i -lt 100 ]; do
        _lw_n=$(grep -c -E "$1" "$DAEMON_LOG" 2>/dev/null)
        if [ "$_lw_n" = "$_lw_last" ]; then
            _lw_same=$((_lw_same + 1))
            [ $_lw_same -ge 10 ] && return 0
        else
            _lw_last=$_lw_n _lw_same=0
        fi
        sleep 0.1
        _lw_i=$((_lw_i + 1))
    done
    return 1
}

daemon_alive() {
    [ -n "$DAEMON_PID" ] && kill -0 "$DAEMON_PID" 2>/dev/null
}

# daemon_stop: SIGTERM, then daemon_wait_exit.
daemon_stop() {
    if ! daemon_alive; then
        fail "loadsd is not running any more"
        DAEMON_PID=""
        return 1
    fi
    kill -TERM "$DAEMON_PID"
    daemon_wait_exit "loadsd exits 0 on SIGTERM"
}

# daemon_wait_exit LABEL: at most 30 s (the grace period for transfers is
# 10 s) for loadsd to exit, with status 0 and a log free of sanitizer
# reports. One result.
daemon_wait_exit() {
    i=0
    while kill -0 "$DAEMON_PID" 2>/dev/null && [ $i -lt 300 ]; do
        sleep 0.1
        i=$((i + 1))
    done
    if kill -0 "$DAEMON_PID" 2>/dev/null; then
        kill -KILL "$DAEMON_PID"
        wait "$DAEMON_PID" 2>/dev/null
        DAEMON_PID=""
        fail "$1: loadsd still running 30 s after SIGTERM"
        return 1
    fi
    wait "$DAEMON_PID"
    rc=$?
    DAEMON_PID=""
    PORT=""
    if [ "$rc" -ne 0 ]; then
        fail "$1: exit status $rc"
        return 1
    fi
    if grep -q -E 'AddressSanitizer|LeakSanitizer|runtime error:' "$DAEMON_LOG"; then
        fail "$1: sanitizer report in the loadsd log"
        return 1
    fi
    pass "$1"
    return 0
}

# For finish(): a daemon left running by a failed step is stopped and checked.
daemon_stop_quiet() {
    if [ -n "$DAEMON_PID" ]; then
        daemon_stop
    fi
}

# ---- clients -------------------------------------------------------------

# hpa_get REMOTE LOCAL [MODE [HOST]]: tftp-hpa fetch. tftp-hpa exits 0 even
# after an ERROR packet, so its messages decide; they are kept in HPA_OUT.
hpa_get() {
    HPA_OUT=$(timeout 60 tftp -m "${3:-binary}" "${4:-127.0.0.1}" "$PORT" -c get "$1" "$2" 2>&1)
    rc=$?
    [ -n "$HPA_OUT" ] && echo "  tftp: $HPA_OUT"
    [ "$rc" -eq 0 ] || return "$rc"
    case "$HPA_OUT" in *"Error code"* | *"timed out"* | *"rror"*) return 1 ;; esac
    return 0
}
