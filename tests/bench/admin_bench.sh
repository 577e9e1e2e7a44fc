#!/bin/sh
# admin_bench.sh: the admin interface's performance figures (issue 5), on an
# optimised build, loopback only; not part of make check. Measures:
#  1. p50/p99 of GET /api/v1/devices?offset=N&limit=50 with 10,000 devices;
#  2. a 500 MB upload: MB/s and loadsd's peak RSS growth (VmHWM);
#  3. TFTP throughput alone, then while wrk loads GET /api/v1/loads.
# Usage: admin_bench.sh --build-dir DIR [--upload-mb 500] [--wrk-seconds 20]
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/bench_lib.sh"

BUILD=""
UPLOAD_MB=500
WRK_SECONDS=20
REQUESTS=500
TFTP_COUNT=150
while [ $# -gt 0 ]; do
    case "$1" in
    --build-dir) BUILD=$2; shift 2 ;;
    --upload-mb) UPLOAD_MB=$2; shift 2 ;;
    --wrk-seconds) WRK_SECONDS=$2; shift 2 ;;
    --requests) REQUESTS=$2; shift 2 ;;
    *) echo "usage: $0 --build-dir DIR [--upload-mb N] [--wrk-seconds S] [--requests N]" >&2; exit 2 ;;
    esac
done
bench_setup admin-bench server/loadsd tests/bench/tftp_loadgen
LOADGEN="$BUILD/tests/bench/tftp_loadgen"
command -v wrk >/dev/null || { echo "wrk is not installed (apt-get install wrk)" >&2; exit 2; }

head -c 20000000 /dev/urandom >"$W/root/fw.bin"
printf 'threads = 2\n' >"$W/conf"
bench_start_loadsd --initial-password --config "$W/conf" --serve-dir "$W/root" \
    --upload-max-mb $((UPLOAD_MB + 16)) --log-level warn
TOKEN=$(python3 "$HERE/benchadmin.py" token "$APORT" "$W/data")
AUTH="Authorization: Bearer $TOKEN"

# ---- 1. 10,000 devices, paging latency ----
python3 - "$W/devices.csv" <<'EOF'
import sys
with open(sys.argv[1], "w") as f:
    f.write("mac,model,profile,description,load,peer_firmware_sharing,load_server\r\n")
    for n in range(10000):
        f.write("00AA%08X,Cisco 7961,,desk %d floor %d,,,\r\n" % (n, n, n % 40))
EOF
# The import is a job (202 {"id"}): wait for it before measuring.
JOB=$(curl -s -H "$AUTH" -H "Content-Type: text/csv" --data-binary "@$W/devices.csv" \
    "$BASE/api/v1/devices/import" | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
until curl -s -H "$AUTH" "$BASE/api/v1/jobs/$JOB" | grep -q '"state": *"\(done\|failed\)"'; do sleep 0.2; done
python3 - "$W/urls.cfg" "$BASE" "$REQUESTS" <<'EOF'
import random, sys
random.seed(5)
with open(sys.argv[1], "w") as f:
    for _ in range(int(sys.argv[3])):
        f.write('url = "%s/api/v1/devices?offset=%d&limit=50"\noutput = "/dev/null"\n'
                % (sys.argv[2], random.randrange(0, 9950)))
EOF
curl -s -H "$AUTH" -K "$W/urls.cfg" -w '%{http_code} %{time_total}\n' >"$W/times.txt"
python3 - "$W/times.txt" <<'EOF'
import sys
rows = [l.split() for l in open(sys.argv[1])]
bad = [r for r in rows if r[0] != "200"]
t = sorted(float(r[1]) * 1000 for r in rows)
pct = lambda p: t[min(len(t) - 1, int(round(p / 100.0 * len(t) + 0.5)) - 1)]
print("devices page (10,000 devices, limit 50, %d requests, %d errors): p50 %.2f ms, p99 %.2f ms, max %.2f ms"
      % (len(t), len(bad), pct(50), pct(99), t[-1]))
EOF
curl -s -H "$AUTH" -o /dev/null -w 'search q=floor%%2017 page: %{time_total} s\n' \
    "$BASE/api/v1/devices?q=floor%2017&offset=100&limit=50"

# ---- 2. a large upload ----
hwm() { awk '/^VmHWM/ {print $2}' "/proc/$PID/status"; }
head -c $((UPLOAD_MB * 1000000)) /dev/urandom >"$W/big.zip"
sync
before=$(hwm)
curl -s -H "$AUTH" -F "file=@$W/big.zip" -o "$W/upload.json" \
    -w '%{http_code} %{size_upload} %{time_total}\n' "$BASE/api/v1/uploads" >"$W/upload.txt"
after=$(hwm)
read -r code bytes secs <"$W/upload.txt"
python3 -c 'import sys; c,b,s,h0,h1=sys.argv[1:]; print("upload %d MB: HTTP %s, %.1f s, %.0f MB/s; VmHWM %d -> %d KiB (+%.1f MiB)" % (int(b)/1e6, c, float(s), int(b)/1e6/float(s), int(h0), int(h1), (int(h1)-int(h0))/1024.0))' \
    "$code" "$bytes" "$secs" "$before" "$after"
JOB=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["id"])' "$W/upload.json")
i=0
while [ $i -lt 600 ]; do
    st=$(curl -s -H "$AUTH" "$BASE/api/v1/jobs/$JOB" | python3 -c 'import json,sys; print(json.load(sys.stdin)["state"])')
    case "$st" in done | failed) break ;; esac
    sleep 0.5
    i=$((i + 1))
done
echo "upload job $JOB: $st (random bytes named .zip: the import refuses them; the figure is the upload)"
rm -f "$W/big.zip"

# ---- 3. TFTP throughput with and without admin load ----
loadgen() {
    "$LOADGEN" --server "127.0.0.1:$TPORT" --file fw.bin --count "$1" --concurrency 4 \
        --blksize 1468 --windowsize 16 --json
}
mbps() { python3 -c 'import json,sys; j=json.load(sys.stdin); print(j.get("mb_per_s", j.get("throughput_mb_s", j)))'; }
loadgen 4 >/dev/null
ALONE=$(loadgen "$TFTP_COUNT")
echo "$ALONE" >"$W/alone.json"
cat >"$W/auth.lua" <<EOF
wrk.headers["Authorization"] = "Bearer $TOKEN"
EOF
# with_wrk NICE: TFTP while wrk (itself at nice NICE: on a 2-core loopback
# machine the client competes for the same CPUs) floods GET /api/v1/loads.
with_wrk() {
    nice -n "$1" wrk -t1 -c8 -d"${WRK_SECONDS}s" -s "$W/auth.lua" --latency "$BASE/api/v1/loads" >"$W/wrk$1.txt" &
    WRK=$!
    sleep 1
    LOADED=$(loadgen "$TFTP_COUNT")
    wait $WRK
    echo "TFTP with wrk (client nice $1): $LOADED"
    grep -E "Requests/sec|99%|50%" "$W/wrk$1.txt" | sed 's/^/  wrk GET \/api\/v1\/loads: /'
}
echo "TFTP alone:     $ALONE"
with_wrk 0
with_wrk 19
AGAIN=$(loadgen "$TFTP_COUNT")
echo "TFTP alone again: $AGAIN"
