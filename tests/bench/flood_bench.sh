#!/bin/bash
# tests/bench/flood_bench.sh: loadsd under a flood of read requests that are
# never acknowledged (tests/integration/tftp_flood.py, 200 loopback addresses
# in four /24s), while real clients fetch: how many transfer slots the flood
# holds at its peak, how many legitimate fetches complete, and how many bytes
# the flood gets back per byte it sends. Not part of `make check`; loopback only.
set -euo pipefail

SCRIPT_DIR=$(cd "$(dirname "$0")" && pwd)
SRC_DIR=$(cd "$SCRIPT_DIR/../.." && pwd)
LOADSD=${LOADSD:-$SRC_DIR/server/loadsd}
RATE=4000
NETS=77.0-3
HOSTS=50
SECONDS_FLOOD=10
EXTRA=()

usage() {
    cat <<EOF
usage: $0 [--loadsd PATH] [--rate N] [--seconds S] [--nets A.B-C] [--hosts N]
          [-- EXTRA LOADSD FLAGS]
Runs one loadsd (default: the tree's) with its default limits on a free
loopback port, floods it for S seconds at N requests a second from N addresses in each of
the /24s 127.A.B.0 .. 127.A.C.0 (default 77.0-3 x 50), and prints one
Markdown table row. Legitimate clients: a loop of 1 MiB fetches from
127.0.0.250 (a /24 of its own) and one from 127.77.0.250 (inside a flooded
/24), with curl.
EOF
}

while [ $# -gt 0 ]; do
    case "$1" in
    --loadsd) LOADSD=$2; shift 2 ;;
    --rate) RATE=$2; shift 2 ;;
    --nets) NETS=$2; shift 2 ;;
    --hosts) HOSTS=$2; shift 2 ;;
    --seconds) SECONDS_FLOOD=$2; shift 2 ;;
    --) shift; EXTRA=("$@"); break ;;
    -h | --help) usage; exit 0 ;;
    *) usage >&2; exit 2 ;;
    esac
done

WORK=$(mktemp -d "${TMPDIR:-/tmp}/loadsd-flood-bench.XXXXXX")
PID=
cleanup() {
    [ -n "$PID" ] && kill "$PID" 2>/dev/null && wait "$PID" 2>/dev/null
    rm -rf "$WORK"
}
trap cleanup EXIT

mkdir -p "$WORK/root" "$WORK/data"
head -c 1048576 /dev/urandom >"$WORK/root/size_1048576.bin"
PORT=$(python3 -c 'import socket; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$LOADSD" --foreground --config /dev/null --data-dir "$WORK/data" --tftp-listen "127.0.0.1:$PORT" \
    --serve-dir "$WORK/root" --admin-listen none --scrub-interval 0 --log-level info \
    "${EXTRA[@]}" 2>"$WORK/loadsd.log" &
PID=$!
RAW="$SRC_DIR/tests/integration/tftp_raw.py"
for _ in $(seq 50); do
    python3 "$RAW" --port "$PORT" --get size_1048576.bin --out "$WORK/probe" --wait 0.3 \
        >/dev/null 2>&1 && break
    sleep 0.2
done
base_fds=$(ls "/proc/$PID/fd" | wc -l)

# legit NET NAME: curl fetches from 127.NET.0.250 in a loop while the flood sends
# (from 1 s in to its end); counts those that came back whole and the others.
legit() {
    local ok=0 bad=0 end=$(($(date +%s) + SECONDS_FLOOD - 1))
    while [ "$(date +%s)" -lt "$end" ]; do
        rm -f "$WORK/$2.out"
        if curl -s --max-time 20 --interface "127.$1.0.250" --tftp-blksize 1468 \
            -o "$WORK/$2.out" "tftp://127.0.0.1:$PORT/size_1048576.bin" &&
            cmp -s "$WORK/$2.out" "$WORK/root/size_1048576.bin"; then
            ok=$((ok + 1))
        else
            bad=$((bad + 1))
            sleep 0.2
        fi
    done
    echo "$ok $bad" >"$WORK/$2.count"
}

python3 "$SRC_DIR/tests/integration/tftp_flood.py" --port "$PORT" --nets "$NETS" --hosts "$HOSTS" \
    --rate "$RATE" --seconds "$SECONDS_FLOOD" --drain 8 --out "$WORK/flood.json.part" >/dev/null &
FLOOD=$!
sleep 1
legit 0 own &
L1=$!
legit 77 flooded &
L2=$!
peak=0
while kill -0 "$FLOOD" 2>/dev/null; do
    n=$(ls "/proc/$PID/fd" 2>/dev/null | wc -l)
    [ "$n" -gt "$peak" ] && peak=$n
    sleep 0.1
done
wait "$FLOOD"
mv "$WORK/flood.json.part" "$WORK/flood.json"
wait "$L1" "$L2"

read -r own_ok own_bad <"$WORK/own.count"
read -r fl_ok fl_bad <"$WORK/flooded.count"
python3 - "$WORK/flood.json" "$(((peak - base_fds) / 2))" "$own_ok" "$own_bad" "$fl_ok" "$fl_bad" \
    "$(grep -c ' refused "' "$WORK/loadsd.log" || true)" "$(wc -l <"$WORK/loadsd.log")" <<'EOF'
import json, sys
f = json.load(open(sys.argv[1]))
slots, own_ok, own_bad, fl_ok, fl_bad, refused_lines, lines = sys.argv[2:]
rrq = f["request_bytes"] / max(f["requests"], 1)
per_started = (f["received_data_bytes"] / f["transfers_started"]) / rrq if f["transfers_started"] else 0
print("| requests | slots held (peak) | transfers started | fetches ok/failed, own /24 | same /24 as flood | bytes out per byte in | per started transfer | refusal lines | log lines |")
print("|---|---|---|---|---|---|---|---|---|")
print("| %d in %.0f s | %s | %d | %s / %s | %s / %s | %.2f | %.0f | %s | %s |" % (
    f["requests"], f["seconds"], slots, f["transfers_started"], own_ok, own_bad, fl_ok, fl_bad,
    f["bytes_out_per_byte_in"], per_started, refused_lines, lines))
print("flood result: %s" % json.dumps(f, sort_keys=True))
EOF
