#!/bin/bash
# tests/fuzz/run-all.sh: runs every fuzz target already built (tests/fuzz/fuzz_*
# in the build directory) against a copy of its seed corpus for SECONDS each,
# JOBS at a time, and prints one line per target: executions, speed, result.
# Builds nothing (see README.md, "Build"); never writes into the source tree.
set -u

usage() {
    cat <<EOF
usage: $0 SECONDS [JOBS]
  SECONDS  how long each target runs (-max_total_time)
  JOBS     targets run at once (default 1)
Environment: BUILD_DIR (the directory configured with --enable-fuzzing; default
the current directory), WORK_DIR (corpus copies, logs and crash inputs; default
a new directory under \${TMPDIR:-/tmp}, kept and printed at the end).
Exit status: 0 when every target ran its time without a finding, 1 otherwise,
2 when no target is built.
EOF
}

case "${1:-}" in '' | *[!0-9]*) usage >&2; exit 2 ;; esac
SECONDS_EACH=$1
JOBS=${2:-1}
case "$JOBS" in '' | *[!0-9]* | 0) usage >&2; exit 2 ;; esac
SRC_DIR=$(cd "$(dirname "$0")" && pwd)
BUILD_DIR=${BUILD_DIR:-$PWD}
WORK_DIR=${WORK_DIR:-$(mktemp -d "${TMPDIR:-/tmp}/loadsd-fuzz.XXXXXX")}
mkdir -p "$WORK_DIR" || exit 2

# seeds TARGET: the seed directory of a target ("" for none) and its extra flags.
seeds() {
    case "$1" in
    fuzz_tftp_request) echo "corpus" ;;
    fuzz_sgn) echo "corpus_sgn" ;;
    fuzz_loads) echo "corpus_loads" ;;
    fuzz_csv) echo "corpus_csv" ;;
    fuzz_unpack) echo "corpus_unpack" ;;
    fuzz_config) echo "corpus_config" ;;
    fuzz_cnf_template) echo "corpus_cnf" ;;
    fuzz_files_request) echo "corpus_files" ;;
    fuzz_manifest) echo "corpus_manifest" ;;
    fuzz_devquery) echo "corpus_devquery" ;;
    fuzz_fleet_answer) echo "corpus_fleet_answer" ;;
    fuzz_fleet_report) echo "corpus_fleet" ;;
    *) echo "" ;;
    esac
}

flags() {
    case "$1" in
    fuzz_tftp_request) echo "-max_len=600" ;;
    fuzz_cnf_template) echo "-dict=$SRC_DIR/cnf_template.dict" ;;
    *) echo "" ;;
    esac
}

# stat NAME LOG: one value of libFuzzer's -print_final_stats block.
stat() {
    sed -n "s/^stat::$1: *//p" "$2" | tail -n 1
}

# verdict LOG STATUS: what the run found, in a word or two.
verdict() {
    if [ "$2" -eq 0 ]; then
        echo "ok"
    elif grep -q 'ERROR: libFuzzer: timeout' "$1"; then
        echo "TIMEOUT"
    elif grep -q 'ERROR: libFuzzer: out-of-memory' "$1"; then
        echo "OUT-OF-MEMORY"
    elif grep -q 'ERROR: LeakSanitizer' "$1"; then
        echo "LEAK"
    elif grep -q -e 'ERROR: AddressSanitizer' -e 'runtime error:' -e 'invariant broken' \
        -e 'ERROR: libFuzzer: deadly signal' "$1"; then
        echo "CRASH"
    else
        echo "FAILED (exit $2)"
    fi
}

# run_one TARGET: one target for SECONDS_EACH; writes WORK_DIR/TARGET.result.
run_one() {
    local t=$1 bin="$BUILD_DIR/tests/fuzz/$1" log="$WORK_DIR/$1.log" corpus="$WORK_DIR/$1.corpus"
    local seed rc execs speed artifact
    seed=$(seeds "$t")
    mkdir -p "$corpus" "$WORK_DIR/artifacts"
    # libFuzzer adds what it finds to the first corpus directory: a copy.
    [ -n "$seed" ] && cp -pR "$SRC_DIR/$seed/." "$corpus/"
    # shellcheck disable=SC2046
    "$bin" -max_total_time="$SECONDS_EACH" -timeout=25 -print_final_stats=1 \
        -artifact_prefix="$WORK_DIR/artifacts/$t-" $(flags "$t") "$corpus" >"$log" 2>&1
    rc=$?
    execs=$(stat number_of_executed_units "$log")
    speed=$(stat average_exec_per_sec "$log")
    artifact=$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$log" | tail -n 1)
    printf '%-20s %12s execs %8s/s  corpus %5s -> %-5s %s%s\n' "$t" "${execs:-?}" "${speed:-?}" \
        "$(find "$SRC_DIR/${seed:-.nothing}" -type f 2>/dev/null | wc -l)" \
        "$(find "$corpus" -type f | wc -l)" "$(verdict "$log" "$rc")" \
        "${artifact:+ (input: $artifact)}" >"$WORK_DIR/$t.result"
}

targets=()
for bin in "$BUILD_DIR"/tests/fuzz/fuzz_*; do
    [ -x "$bin" ] && [ -f "$bin" ] && case "$bin" in *.o) ;; *) targets+=("$(basename "$bin")") ;; esac
done
if [ ${#targets[@]} -eq 0 ]; then
    echo "run-all.sh: no fuzz target built in $BUILD_DIR/tests/fuzz (see tests/fuzz/README.md)" >&2
    exit 2
fi

echo "${#targets[@]} targets, ${SECONDS_EACH} s each, $JOBS at a time; logs in $WORK_DIR"
running=0
for t in "${targets[@]}"; do
    if [ "$running" -ge "$JOBS" ]; then
        wait -n
        running=$((running - 1))
    fi
    run_one "$t" &
    running=$((running + 1))
done
wait

status=0
for t in "${targets[@]}"; do
    cat "$WORK_DIR/$t.result"
    grep -q ' ok$' "$WORK_DIR/$t.result" || status=1
done
exit $status
