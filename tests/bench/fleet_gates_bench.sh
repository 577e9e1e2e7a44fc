#!/bin/sh
# fleet_gates_bench.sh: what the fleet gate costs the admin API at fleet
# scale (issue 15), on an optimised build, loopback only; not part of make
# check. N devices (default 40,000) of one model whose default is a signed
# load; three quarters name one of 4 branches (branch:b0..b3) as their load
# server, the rest none; b0 holds the load complete, b1 is staging it, b2
# holds nothing, b3 never reported; stage_first on. Measures p50/p99 of
# GET /api/v1/fleet/gates, /api/v1/stats and a devices page (limit 50), each
# one pass over every device through the fleet gate (the first request after
# a change, which reads the provisioning snapshot, printed apart), and of a
# device change (answered once the daemon's snapshot holds it).
# Usage: [BENCH_LOG_LEVEL=info] fleet_gates_bench.sh --build-dir DIR [--devices N] [--requests N]
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/bench_lib.sh"

BUILD=""
DEVICES=40000
REQUESTS=50
while [ $# -gt 0 ]; do
    case "$1" in
    --build-dir) BUILD=$2; shift 2 ;;
    --devices) DEVICES=$2; shift 2 ;;
    --requests) REQUESTS=$2; shift 2 ;;
    *) echo "usage: $0 --build-dir DIR [--devices N] [--requests N]" >&2; exit 2 ;;
    esac
done
bench_setup fleet-gates-bench server/loadsd admin/loadsctl

LOAD=SIP41.9-4-2SR3-1S
python3 "$HERE/../tools/mkbundle.py" keys "$W/keys" >/dev/null
python3 "$HERE/../tools/mkbundle.py" bundle --keys "$W/keys" --out "$W/fw.zip" --format zip \
    --load "$LOAD" --component-headers all --size-kb 4 >/dev/null
"$LOADSCTL" --data-dir "$W/data" trust add "$W/keys/vendor.pem" >/dev/null
"$LOADSCTL" --data-dir "$W/data" import "$W/fw.zip" >/dev/null
"$LOADSCTL" --data-dir "$W/data" default-load set 7961 "$LOAD" >/dev/null
"$LOADSCTL" --data-dir "$W/data" enterprise set stage_first on >/dev/null

printf 'threads = 2\n' >"$W/conf"
bench_start_loadsd --initial-password --config "$W/conf" --serve-dir "$W/root" --files-listen none \
    --log-level "${BENCH_LOG_LEVEL:-warn}"

python3 - "$HERE" "$APORT" "$W" "$DEVICES" "$REQUESTS" "$LOAD" <<'PY'
import sys, time

sys.path.insert(0, sys.argv.pop(1))  # the bench dir
import benchadmin

port, w, devices, requests, load = int(sys.argv[1]), sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
api = benchadmin.Api(port)
call = api.call
A = {"Authorization": "Bearer " + benchadmin.admin_token(api, w + "/data")}

tokens = {}
for b in range(4):
    st, j = call("POST", "/api/v1/branches", {"name": "b%d" % b, "address": "10.200.0.%d" % (b + 1)}, headers=A)
    assert st == 201, (st, j)
    tokens[b] = j["token"]
for b, loads in [(0, [{"name": load, "state": "complete", "files_have": 6, "files_total": 6,
                       "bytes_have": 6000, "bytes_total": 6000}]),
                 (1, [{"name": load, "state": "staging", "files_have": 3, "files_total": 6,
                       "bytes_have": 3000, "bytes_total": 6000, "eta_s": 240}]),
                 (2, [])]:
    st, j = call("POST", "/api/v1/fleet/report", {"version": "0.1.0", "time": 1765000000, "free_bytes": 1,
                                                  "loads": loads, "phones": []},
                 headers={"Authorization": "Bearer " + tokens[b]})
    assert st == 200, (st, j)

csv = ["mac,model,profile,description,load,peer_firmware_sharing,load_server"]
for n in range(devices):
    ls = "branch:b%d" % (n % 4) if n % 4 != 3 or n % 8 == 3 else ""
    csv.append("00BB%08X,Cisco 7961,,desk %d,,,%s" % (n, n, ls))
t0 = time.monotonic()
st, j = call("POST", "/api/v1/devices/import", "\r\n".join(csv) + "\r\n", "text/csv", A)
assert st == 202, (st, j)
while True:
    _, row = call("GET", "/api/v1/jobs/%d" % j["id"], headers=A)
    if row["state"] in ("done", "failed"):
        break
    time.sleep(0.05)
assert row["state"] == "done" and row["report"]["added"] == devices, row
print("CSV import of %d devices: %.1f s" % (devices, time.monotonic() - t0))
s0 = time.perf_counter()
st, _ = call("GET", "/api/v1/stats", headers=A)
print("GET /api/v1/stats, the first after the import (reads the snapshot): %.0f ms"
      % ((time.perf_counter() - s0) * 1000))
gates = call("GET", "/api/v1/fleet/gates", headers=A)[0] == 200  # an older build has none

def pct(t, p):
    return t[min(len(t) - 1, int(round(p / 100.0 * len(t) + 0.5)) - 1)]

def latency(label, path, n):
    t = []
    call("GET", path, headers=A)  # the first after a change reads the snapshot: not counted
    for _ in range(n):
        s = time.perf_counter()
        st, body = call("GET", path, headers=A)
        t.append((time.perf_counter() - s) * 1000)
        assert st == 200, (st, body)
    t.sort()
    print("%s (%d devices, %d requests): p50 %.1f ms, p99 %.1f ms, max %.1f ms"
          % (label, devices, n, pct(t, 50), pct(t, 99), t[-1]))
    return body

if gates:
    g = latency("GET /api/v1/fleet/gates", "/api/v1/fleet/gates", requests)
    print("  totals %s, %d groups; e.g. %s" % (g["totals"], len(g["groups"]), g["groups"][0]["text"] if g["groups"] else "-"))
s = latency("GET /api/v1/stats", "/api/v1/stats", requests)
print("  fleet_gate %s" % s["devices"].get("fleet_gate"))
latency("GET /api/v1/devices?limit=50", "/api/v1/devices?limit=50", requests)
if gates:
    latency("GET /api/v1/devices?gate=central&limit=50", "/api/v1/devices?gate=central&limit=50", requests)

# A write is answered once the daemon serves it (read-your-writes, where the
# build has it): the time of one device change includes that rebuild.
t = []
for n in range(requests):
    s = time.perf_counter()
    st, body = call("PUT", "/api/v1/devices/00BB%08X" % n, {"description": "moved %d" % n}, headers=A)
    t.append((time.perf_counter() - s) * 1000)
    assert st == 200, (st, body)
t.sort()
print("PUT /api/v1/devices/MAC (%d devices, %d writes): p50 %.1f ms, p99 %.1f ms, max %.1f ms"
      % (devices, requests, pct(t, 50), pct(t, 99), t[-1]))
PY
# With BENCH_LOG_LEVEL=info (or debug): how long the last snapshot rebuilds
# took, from the daemon's log.
[ "${BENCH_LOG_LEVEL:-warn}" = warn ] ||
    grep -E "config snapshot generation|recorded the load" "$W/loadsd.log" | tail -4
