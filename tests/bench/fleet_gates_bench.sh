#!/bin/sh
# fleet_gates_bench.sh: what the fleet gate costs the admin API at fleet
# scale (issue 15), on an optimised build, loopback only; not part of make
# check. N devices (default 40,000) of one model whose default is a signed
# load; three quarters name one of 4 branches (branch:b0..b3) as their load
# server, the rest none; b0 holds the load complete, b1 is staging it, b2
# holds nothing, b3 never reported; stage_first on. Measures p50/p99 of
# GET /api/v1/fleet/gates, /api/v1/stats and a devices page (limit 50), each
# one pass over every device through the fleet gate (the first request after
# a change, which reads the provisioning snapshot, printed apart).
# Usage: fleet_gates_bench.sh --build-dir DIR [--devices N] [--requests N]
set -eu

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
[ -n "$BUILD" ] || { echo "--build-dir is required" >&2; exit 2; }
SRC=$(cd "$(dirname "$0")/../.." && pwd)
LOADSD="$BUILD/server/loadsd"
LOADSCTL="$BUILD/admin/loadsctl"
[ -x "$LOADSD" ] && [ -x "$LOADSCTL" ] || { echo "build server/loadsd and admin/loadsctl in $BUILD" >&2; exit 2; }
if nm "$LOADSD" 2>/dev/null | grep -q __asan_init; then
    echo "refusing: $LOADSD is an ASan build" >&2
    exit 2
fi

W=$(mktemp -d /tmp/fleet-gates-bench.XXXXXX)
PID=""
cleanup() {
    [ -n "$PID" ] && kill "$PID" 2>/dev/null && wait "$PID" 2>/dev/null
    rm -rf "$W"
}
trap cleanup EXIT INT TERM
mkdir -p "$W/root"
LOAD=SIP41.9-4-2SR3-1S
python3 "$SRC/tests/tools/mkbundle.py" keys "$W/keys" >/dev/null
python3 "$SRC/tests/tools/mkbundle.py" bundle --keys "$W/keys" --out "$W/fw.zip" --format zip \
    --load "$LOAD" --component-headers all --size-kb 4 >/dev/null
"$LOADSCTL" --data-dir "$W/data" trust add "$W/keys/vendor.pem" >/dev/null
"$LOADSCTL" --data-dir "$W/data" import "$W/fw.zip" >/dev/null
"$LOADSCTL" --data-dir "$W/data" default-load set 7961 "$LOAD" >/dev/null
"$LOADSCTL" --data-dir "$W/data" enterprise set stage_first on >/dev/null

TPORT=$(shuf -i 30000-39999 -n 1)
APORT=$(shuf -i 40000-49999 -n 1)
printf 'threads = 2\n' >"$W/conf"
"$LOADSD" --foreground --config "$W/conf" --tftp-listen "127.0.0.1:$TPORT" --serve-dir "$W/root" \
    --data-dir "$W/data" --admin-listen "127.0.0.1:$APORT" --files-listen none \
    --log-level warn 2>"$W/loadsd.log" &
PID=$!
i=0
until [ -f "$W/data/initial-admin-password" ] && curl -s -o /dev/null "http://127.0.0.1:$APORT/api/v1/session"; do
    i=$((i + 1)); [ $i -lt 100 ] || { echo "loadsd did not start" >&2; exit 1; }; sleep 0.1
done

python3 - "$APORT" "$W" "$DEVICES" "$REQUESTS" "$LOAD" <<'PY'
import http.client, json, sys, time

port, w, devices, requests, load = int(sys.argv[1]), sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
c = http.client.HTTPConnection("127.0.0.1", port)

def call(method, path, body=None, ctype="application/json", headers=None):
    h = dict(headers or {})
    if body is not None:
        h["Content-Type"] = ctype
        body = body if isinstance(body, (bytes, str)) else json.dumps(body)
    c.request(method, path, body=body, headers=h)
    r = c.getresponse()
    data = r.read()
    return r.status, (json.loads(data) if data[:1] in (b"{", b"[") else data)

pw = open(w + "/data/initial-admin-password").read().strip()
c.request("POST", "/api/v1/session", body=json.dumps({"user": "admin", "password": pw}),
          headers={"Content-Type": "application/json"})
r = c.getresponse(); login = json.loads(r.read())
cookie = r.getheader("Set-Cookie").split(";")[0]
_, tok = call("POST", "/api/v1/tokens", {"name": "bench"},
              headers={"Cookie": cookie, "X-CSRF-Token": login["csrf_token"]})
A = {"Authorization": "Bearer " + tok["token"]}

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
PY
