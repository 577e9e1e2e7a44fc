#!/bin/sh
# fleet_report_bench.sh: the central's cost of many branches reporting
# (issue 15, docs/FLEET.md), on an optimised build, loopback only; not part
# of make check. A central loadsd with 3 loads, 1,000 branches registered
# through the API, a /26 site rule per branch (branch:NAME) and 40 phones
# seen in each (40,000 devices). fleet_report.py then sends realistic
# reports (3 loads held, 40 phones) open-loop: once per branch every 6 s
# (the first reports), every 60 s (the contract's schedule), every 6 s (10x
# headroom), and every 6 s with holdings that change each time (the fleet
# view rebuilt every report). Measured per phase: the central's CPU
# (utime+stime from /proc/PID/stat) per report and as a share of one core,
# p50/p99/max answer time, errors. --mode poll: after the first reports, the
# branches' want-list polls instead (GET /api/v1/fleet/want with
# If-None-Match, 1 per branch every 5 s: 304s, then a load assigned so each
# list moves once); --mode all: both.
# Usage: fleet_report_bench.sh --build-dir DIR [--branches N] [--mode report|poll|all] [--json FILE]
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/bench_lib.sh"

BUILD=""
BRANCHES=1000
JSON=""
MODE=report
while [ $# -gt 0 ]; do
    case "$1" in
    --build-dir) BUILD=$2; shift 2 ;;
    --branches) BRANCHES=$2; shift 2 ;;
    --json) JSON=$2; shift 2 ;;
    --mode) MODE=$2; shift 2 ;;
    *) echo "usage: $0 --build-dir DIR [--branches N] [--mode report|poll|all] [--json FILE]" >&2; exit 2 ;;
    esac
done
bench_setup fleet-report-bench server/loadsd admin/loadsctl

# 3 small signed loads; the two models' defaults are the first two.
python3 "$HERE/../tools/mkbundle.py" keys "$W/keys" >/dev/null
"$LOADSCTL" --data-dir "$W/data" init >/dev/null
"$LOADSCTL" --data-dir "$W/data" trust add "$W/keys/vendor.pem" >/dev/null
LOADS=""
for l in SIP45.9-4-2SR3-1S SIP88.14-2-1-0001-14 SIP99.14-2-1-0001-14; do
    python3 "$HERE/../tools/mkbundle.py" bundle --keys "$W/keys" --out "$W/$l.zip" --format zip --load "$l" \
        --size-kb 16 --component-headers all >/dev/null
    "$LOADSCTL" --data-dir "$W/data" import "$W/$l.zip" >/dev/null
    LOADS="${LOADS:+$LOADS,}$l"
done
"$LOADSCTL" --data-dir "$W/data" default-load set "Cisco 7965" SIP45.9-4-2SR3-1S >/dev/null
"$LOADSCTL" --data-dir "$W/data" default-load set "Cisco 8845" SIP88.14-2-1-0001-14 >/dev/null
echo "a long bench password" | "$LOADSCTL" --data-dir "$W/data" user add bench --role admin --password-stdin >/dev/null
TOKEN=$("$LOADSCTL" --data-dir "$W/data" token add bench --name bench)

: >"$W/conf"
bench_start_loadsd --config "$W/conf" --serve-dir "$W/root" --files-listen none --scrub-interval 0 \
    --log-level warn
echo "fleet_report_bench: $(nproc) CPUs, $(uname -r), loadsd pid $PID" >&2
python3 "$HERE/fleet_report.py" --port "$APORT" --pid "$PID" --data-dir "$W/data" --loads "$LOADS" \
    --token "$TOKEN" --branches "$BRANCHES" --mode "$MODE" ${JSON:+--json "$JSON"}
