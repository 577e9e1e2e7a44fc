# bench_lib.sh: what the admin-API benchmarks share (sourced, never run
# alone): the build-tree checks, a private work dir removed on exit, loadsd
# started on it with free random loopback ports. Loopback only.

# shellcheck shell=sh

# bench_build DIR TOOL...: LOADSD and LOADSCTL of the build tree DIR (the
# --build-dir argument); exits 2 unless every TOOL (a path in DIR) is built.
bench_build() {
    [ -n "$1" ] || { echo "--build-dir is required" >&2; exit 2; }
    BUILD=$1
    shift
    LOADSD="$BUILD/server/loadsd"
    # shellcheck disable=SC2034 # for the caller
    LOADSCTL="$BUILD/admin/loadsctl"
    for _bb_tool; do
        [ -x "$BUILD/$_bb_tool" ] || { echo "build $* in $BUILD" >&2; exit 2; }
    done
}

# bench_refuse_asan: exits 2 when $LOADSD is a sanitizer build (ASan changes
# the figures).
bench_refuse_asan() {
    if nm "$LOADSD" 2>/dev/null | grep -q __asan_init; then
        echo "refusing: $LOADSD is an ASan build" >&2
        exit 2
    fi
}

# bench_setup NAME TOOL...: bench_build $BUILD TOOL..., bench_refuse_asan,
# bench_workdir NAME: what a benchmark of an optimised build does first.
bench_setup() {
    _bs_name=$1
    shift
    bench_build "$BUILD" "$@"
    bench_refuse_asan
    bench_workdir "$_bs_name"
}

# bench_cleanup: stops loadsd ($PID) and removes the work dir $W.
bench_cleanup() {
    [ -n "$PID" ] && kill "$PID" 2>/dev/null && wait "$PID" 2>/dev/null
    rm -rf "$W"
}

# bench_workdir NAME: a fresh work dir /tmp/NAME.XXXXXX in $W (with an
# empty serve dir $W/root), removed (and loadsd stopped) on exit.
bench_workdir() {
    W=$(mktemp -d "/tmp/$1.XXXXXX")
    PID=""
    trap bench_cleanup EXIT INT TERM
    mkdir -p "$W/root"
}

# bench_start_loadsd [--initial-password] ARGS...: loadsd in the foreground
# on $W/data with ARGS, TFTP on 127.0.0.1:$TPORT, the admin API at $BASE
# (127.0.0.1:$APORT), its log in $W/loadsd.log, its pid in $PID. Returns
# once the API answers and, with --initial-password, loadsd has written the
# first admin's password; exits 1 after 10 s.
bench_start_loadsd() {
    _bs_pw=""
    if [ "${1:-}" = --initial-password ]; then
        _bs_pw="$W/data/initial-admin-password"
        shift
    fi
    TPORT=$(shuf -i 30000-39999 -n 1)
    APORT=$(shuf -i 40000-49999 -n 1)
    BASE="http://127.0.0.1:$APORT"
    "$LOADSD" --foreground --tftp-listen "127.0.0.1:$TPORT" --data-dir "$W/data" \
        --admin-listen "127.0.0.1:$APORT" "$@" 2>"$W/loadsd.log" &
    PID=$!
    _bs_i=0
    until { [ -z "$_bs_pw" ] || [ -f "$_bs_pw" ]; } && curl -s -o /dev/null "$BASE/api/v1/session"; do
        _bs_i=$((_bs_i + 1))
        [ $_bs_i -lt 100 ] || { echo "loadsd did not start" >&2; cat "$W/loadsd.log" >&2; exit 1; }
        sleep 0.1
    done
}
