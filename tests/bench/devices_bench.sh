#!/bin/sh
# devices_bench.sh: the devices list and bulk changes at fleet scale (issue
# 16), on an optimised build, loopback only; not part of make check.
# 10,000 devices, 100 site rules, every device seen from an address inside
# one of them (written into device_seen directly: a fixture, as if each
# phone had asked once). Measures:
#  1. p50/p99 of GET /api/v1/devices with the effective columns, a search,
#     a filter or a sort (limit 50), N requests on one keep-alive connection;
#  2. a bulk change of all 10,000 devices (set load, then set profile), from
#     the POST to the job's end, and the same through loadsctl;
#  3. a bulk removal of 10,000 devices.
# Usage: devices_bench.sh --build-dir DIR [--requests N]
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/bench_lib.sh"

BUILD=""
REQUESTS=1000
while [ $# -gt 0 ]; do
    case "$1" in
    --build-dir) BUILD=$2; shift 2 ;;
    --requests) REQUESTS=$2; shift 2 ;;
    *) echo "usage: $0 --build-dir DIR [--requests N]" >&2; exit 2 ;;
    esac
done
bench_setup devices-bench server/loadsd admin/loadsctl

printf 'threads = 2\n' >"$W/conf"
bench_start_loadsd --initial-password --config "$W/conf" --serve-dir "$W/root" --files-listen none \
    --log-level warn

python3 - "$HERE" "$APORT" "$W" "$REQUESTS" "$LOADSCTL" <<'PY'
import json, random, sqlite3, subprocess, sys, time

sys.path.insert(0, sys.argv.pop(1))  # the bench dir
import benchadmin

port, w, requests, loadsctl = int(sys.argv[1]), sys.argv[2], int(sys.argv[3]), sys.argv[4]
api = benchadmin.Api(port)
call = api.call
A = {"Authorization": "Bearer " + benchadmin.admin_token(api, w + "/data")}

def job(resp):
    st, j = resp
    assert st == 202, (st, j)
    while True:
        _, row = call("GET", "/api/v1/jobs/%d" % j["id"], headers=A)
        if row["state"] in ("done", "failed"):
            return row
        time.sleep(0.02)

# 100 site rules 10.S.0.0/16 and a profile.
for s in range(100):
    st, _ = call("POST", "/api/v1/sites", {"cidr": "10.%d.0.0/16" % s, "load_server": "10.%d.0.5" % s}, headers=A)
    assert st == 201, st
call("POST", "/api/v1/profiles", {"name": "branch", "peer_firmware_sharing": "off"}, headers=A)
csv = ["mac,model,profile,description,load,peer_firmware_sharing,load_server"]
for n in range(10000):
    csv.append("00AA%08X,Cisco 7961,,desk %d floor %d,,," % (n, n, n % 40))
t0 = time.monotonic()
row = job(call("POST", "/api/v1/devices/import", "\r\n".join(csv) + "\r\n", "text/csv", A))
assert row["state"] == "done" and row["report"]["added"] == 10000, row
print("CSV import of 10,000 devices (one job): %.2f s" % (time.monotonic() - t0))

# Every device seen from an address in one of the 100 sites.
db = sqlite3.connect(w + "/data/catalog.db", timeout=30)
db.executemany("INSERT INTO device_seen (mac, addr, since) VALUES (?, ?, ?)",
               [("00AA%08X" % n, "10.%d.%d.%d" % (n % 100, n // 250, 1 + n % 250), 1700000000)
                for n in range(10000)])
db.commit(); db.close()
_, page = call("GET", "/api/v1/devices?limit=1", headers=A)
assert page["devices"][0]["effective"]["load_server"]["level"] == "site", page

def pct(t, p):
    return t[min(len(t) - 1, int(round(p / 100.0 * len(t) + 0.5)) - 1)]

def latency(label, paths):
    t = []
    for path in paths:
        s = time.perf_counter()
        st, body = call("GET", path, headers=A)
        t.append((time.perf_counter() - s) * 1000)
        assert st == 200, (st, body)
    t.sort()
    print("%s (%d requests): p50 %.1f ms, p99 %.1f ms, max %.1f ms" % (label, len(t), pct(t, 50), pct(t, 99), t[-1]))

random.seed(16)
latency("devices page, effective columns, search q=floor N",
        ["/api/v1/devices?q=floor%%20%d&offset=%d&limit=50" % (random.randrange(40), random.randrange(0, 200))
         for _ in range(requests)])
latency("devices page, search by SEP name",
        ["/api/v1/devices?q=SEP00AA%06X&limit=50" % random.randrange(0, 0x2710 >> 8) for _ in range(requests // 4)])
latency("devices page, site filter + sort by load server",
        ["/api/v1/devices?site=10.%d.0.0/16&sort=-load_server&limit=50" % random.randrange(100)
         for _ in range(requests // 4)])
latency("devices page, no search, sort by description, random page",
        ["/api/v1/devices?sort=description&offset=%d&limit=50" % random.randrange(0, 9950)
         for _ in range(requests // 4)])

for label, body in [("set load on 10,000 devices (search: all)",
                     {"action": "set", "filter": {}, "set": {"load": "SIP-BENCH.1"}, "force": True}),
                    ("set profile on 10,000 devices (search: all)",
                     {"action": "set", "filter": {"q": "desk"}, "set": {"profile": "branch"}})]:
    t0 = time.monotonic()
    row = job(call("POST", "/api/v1/devices/bulk", body, headers=A))
    dt = time.monotonic() - t0
    assert row["state"] == "done" and row["report"]["changed"] == 10000, row
    print("bulk %s, POST to job done: %.2f s" % (label, dt))
t0 = time.monotonic()
out = subprocess.run([loadsctl, "--data-dir", w + "/data", "--json", "devices", "set", "--search", "desk",
                      "--pfs", "on"], capture_output=True, text=True, check=True)
assert json.loads(out.stdout)["changed"] == 10000, out.stdout
print("loadsctl devices set --search desk --pfs on (10,000 devices): %.2f s" % (time.monotonic() - t0))
_, audit = call("GET", "/api/v1/audit?limit=20&action=device.bulk_set", headers=A)
print("audit rows for the three bulk sets: %d" % len(audit["entries"]))
t0 = time.monotonic()
row = job(call("POST", "/api/v1/devices/bulk", {"action": "delete", "filter": {"q": "floor"}}, headers=A))
assert row["state"] == "done" and row["report"]["changed"] == 10000, row
print("bulk removal of 10,000 devices, POST to job done: %.2f s" % (time.monotonic() - t0))
PY
