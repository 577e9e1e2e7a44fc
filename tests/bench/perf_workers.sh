#!/bin/sh
# perf_workers.sh: where the CPU of more TFTP workers goes (issue 17): loadsd
# with its default thread count and with --threads 1, alternating, each under
# the same lock-step load from tftp_loadgen on loopback, with `perf stat` on
# the daemon (CPU time, context switches, migrations). Needs perf; not part of
# make check. Usage: perf_workers.sh --build-dir DIR [--concurrency N]
# [--count N] [--rounds R]
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/bench_lib.sh"

BUILD=""
CONC=2000
COUNT=""
ROUNDS=2
while [ $# -gt 0 ]; do
    case "$1" in
    --build-dir) BUILD=$2; shift 2 ;;
    --concurrency) CONC=$2; shift 2 ;;
    --count) COUNT=$2; shift 2 ;;
    --rounds) ROUNDS=$2; shift 2 ;;
    *) echo "usage: $0 --build-dir DIR [--concurrency N] [--count N] [--rounds R]" >&2; exit 2 ;;
    esac
done
[ -n "$COUNT" ] || COUNT=$CONC
command -v perf >/dev/null || { echo "perf is not installed (Debian: linux-perf)" >&2; exit 2; }
bench_setup perf-workers server/loadsd tests/bench/tftp_loadgen
LOADGEN="$BUILD/tests/bench/tftp_loadgen"
head -c 1000000 /dev/urandom >"$W/root/fw1m.bin"

echo "loadsd $LOADSD; $COUNT x 1 MB, $CONC at a time, blksize 1468; $(nproc) CPUs"
for round in $(seq "$ROUNDS"); do
    for threads in default 1; do
        rm -rf "$W/data"
        TPORT=$(shuf -i 30000-39999 -n 1)
        set -- --foreground --config /dev/null --data-dir "$W/data" --tftp-listen "127.0.0.1:$TPORT" \
            --serve-dir "$W/root" --max-transfers 10000 --max-transfers-per-client 10000 \
            --max-unacked 10000 --max-unacked-per-prefix 10000 --log-level warn \
            --admin-listen none --files-listen none --scrub-interval 0
        [ "$threads" = default ] || set -- "$@" --threads "$threads"
        "$LOADSD" "$@" 2>"$W/loadsd.log" &
        PID=$!
        i=0
        until ss -Hlun "sport = :$TPORT" | grep -q .; do
            i=$((i + 1))
            [ $i -lt 100 ] || { echo "loadsd did not start" >&2; cat "$W/loadsd.log" >&2; exit 1; }
            sleep 0.1
        done
        perf stat -e task-clock,context-switches,cpu-migrations -p "$PID" -o "$W/perf" &
        PERF=$!
        sleep 0.2
        "$LOADGEN" --server "127.0.0.1:$TPORT" --file fw1m.bin --count "$COUNT" --concurrency "$CONC" \
            --blksize 1468 --expect-size 1000000 --timeout-ms 1000 --json >"$W/lg.json"
        kill -INT "$PERF"
        wait "$PERF" || true
        kill "$PID"
        wait "$PID" || true
        PID=""
        python3 - "$W/lg.json" "$W/perf" "$round" "$threads" <<'PY'
import json, re, sys

lg = json.load(open(sys.argv[1]))
perf = {}
for line in open(sys.argv[2]):
    m = re.match(r"\s*([\d,.]+)\s+(?:msec\s+)?([\w-]+)", line)
    if m:
        perf[m.group(2)] = float(m.group(1).replace(",", ""))
mb = lg["bytes"] / 1e6
print("round %s, threads %-7s: wall %6.2f s, ok %d, failed %d, server CPU %.3f ms/MB, "
      "%d context switches, %d migrations"
      % (sys.argv[3], sys.argv[4], lg["wall_s"], lg["ok"], lg["failed"],
         perf.get("task-clock", 0) / mb if mb else 0, perf.get("context-switches", 0),
         perf.get("cpu-migrations", 0)))
PY
    done
done
