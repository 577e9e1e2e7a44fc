#!/usr/bin/env bash
# csv_bench.sh: times `loadsctl devices import` of 10,000 rows into a fresh
# data directory (issue 4 target: under 5 s). Median of 5 runs; use an
# optimised build: tests/bench/csv_bench.sh BUILD_DIR (default: the tree).
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-$top}
ctl="$build/admin/loadsctl"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

python3 - "$tmp/devices.csv" <<'PY'
import sys
with open(sys.argv[1], "w") as f:
    f.write("mac,model,profile,description,load,peer_firmware_sharing,load_server\r\n")
    models = ["Cisco 7961", "7965", "Cisco 8841", "7942"]
    for i in range(10000):
        f.write("0A%010X,%s,,\"Desk %d, floor %d\",,%s,%s\r\n" % (
            i, models[i % 4], i, i % 40, ["on", "off", ""][i % 3],
            "ls%d.example" % (i % 7) if i % 2 else ""))
PY
times=()
for run in 1 2 3 4 5; do
    rm -rf "$tmp/data"
    "$ctl" --data-dir "$tmp/data" init >/dev/null
    t0=$(date +%s%N)
    "$ctl" --data-dir "$tmp/data" devices import "$tmp/devices.csv" >/dev/null
    t1=$(date +%s%N)
    times+=($(((t1 - t0) / 1000000)))
done
median=$(printf '%s\n' "${times[@]}" | sort -n | sed -n 3p)
echo "10,000-row CSV import, 5 runs (ms): ${times[*]}; median ${median} ms (target < 5000)"
