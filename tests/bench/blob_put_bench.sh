#!/bin/sh
# blob_put_bench.sh: times blobstore_put_fd (tests/bench/blob_put) against
# `sha256sum FILE` + `cp FILE` + `sync COPY` of the same bytes on the same disk
# and prints the ratio and the peak RSS. Never run by make check.
#
# usage: blob_put_bench.sh [PATH/TO/tests/bench/blob_put]
# env:   WORKDIR (default /var/tmp; must be on the disk to measure), SIZE_MB
#        (default 200), RUNS (default 3, best run counts), COLD=1 to drop the
#        page cache before every run (root), else the input is read once first
#        (warm) before every run. Both sides are prepared the same way.
# Targets (issue 3): ratio >= 0.7, peak RSS < 64 MB. Exit 1 if one is missed.
set -eu

BLOB_PUT=${1:-./tests/bench/blob_put}
WORKDIR=${WORKDIR:-/var/tmp}
SIZE_MB=${SIZE_MB:-200}
RUNS=${RUNS:-3}
COLD=${COLD:-0}

[ -x "$BLOB_PUT" ] || {
    echo "blob_put_bench: no driver at $BLOB_PUT (make tests/bench/blob_put)" >&2
    exit 2
}
work=$(mktemp -d "$WORKDIR/blob_bench.XXXXXX")
trap 'rm -rf "$work"' EXIT INT TERM
input=$work/input
head -c "${SIZE_MB}M" /dev/urandom >"$input"
sync

now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", b - a }'; }
min() { awk -v a="$1" -v b="$2" 'BEGIN { print (a == "" || b < a) ? b : a }'; }

prepare() {
    if [ "$COLD" = 1 ]; then
        sync
        echo 3 >/proc/sys/vm/drop_caches
    else
        cat "$input" >/dev/null
    fi
}

baseline_once() {
    rm -f "$work/copy"
    prepare
    t0=$(now)
    sha256sum "$input" >/dev/null
    cp "$input" "$work/copy"
    sync "$work/copy" # blobstore_put_fd fsyncs: so does the baseline
    elapsed "$t0" "$(now)"
}

put_once() {
    rm -rf "$work/data"
    prepare
    t0=$(now)
    "$BLOB_PUT" "$work/data" "$input" >"$work/put.out"
    elapsed "$t0" "$(now)"
}

best_base=
best_put=
rss_kb=0
i=0
while [ "$i" -lt "$RUNS" ]; do
    b=$(baseline_once)
    p=$(put_once)
    r=$(sed -n 's/.*maxrss_kb=\([0-9]*\).*/\1/p' "$work/put.out")
    echo "run $i: sha256sum+cp+sync ${b}s, blob put ${p}s ($(cat "$work/put.out"))"
    best_base=$(min "$best_base" "$b")
    best_put=$(min "$best_put" "$p")
    [ "$r" -gt "$rss_kb" ] && rss_kb=$r
    i=$((i + 1))
done

ratio=$(awk -v b="$best_base" -v p="$best_put" 'BEGIN { printf "%.2f", b / p }')
mbs=$(awk -v s="$SIZE_MB" -v p="$best_put" 'BEGIN { printf "%.0f", s * 1.048576 / p }')
echo "size ${SIZE_MB} MiB, $([ "$COLD" = 1 ] && echo cold || echo warm) cache, best of $RUNS:"
echo "  sha256sum+cp+sync ${best_base}s, blob put ${best_put}s (${mbs} MB/s)"
echo "  ratio (baseline time / put time) ${ratio} (target >= 0.7)"
echo "  peak RSS of the put ${rss_kb} kB (target < 65536 kB)"
awk -v r="$ratio" -v m="$rss_kb" 'BEGIN { exit !(r >= 0.7 && m < 65536) }'
