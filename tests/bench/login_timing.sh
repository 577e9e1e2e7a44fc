#!/bin/sh
# login_timing.sh: does the login's answer time tell which user names exist?
# Times POST /api/v1/session for a known user with a wrong password and for
# an unknown user, interleaved, each try from its own loopback address (so no
# throttle answers instead of the KDF), and compares the medians. Not part of
# make check (tests/unit/test_auth's test_login_timing is, with a looser bound).
# Usage: login_timing.sh --build-dir DIR [--samples N] [--max-diff PERCENT]
# Exits 1 when the medians differ by more than --max-diff (default 20) %.
set -eu
. "$(dirname "$0")/bench_lib.sh"

BUILD=""
SAMPLES=25
MAX_DIFF=20
while [ $# -gt 0 ]; do
    case "$1" in
    --build-dir) BUILD=$2; shift 2 ;;
    --samples) SAMPLES=$2; shift 2 ;;
    --max-diff) MAX_DIFF=$2; shift 2 ;;
    *) echo "usage: $0 --build-dir DIR [--samples N] [--max-diff PERCENT]" >&2; exit 2 ;;
    esac
done
bench_build "$BUILD" server/loadsd admin/loadsctl
[ "$SAMPLES" -ge 5 ] && [ "$SAMPLES" -le 250 ] || { echo "--samples is 5..250" >&2; exit 2; }

bench_workdir login-timing
"$LOADSCTL" --data-dir "$W/data" init >/dev/null
echo "bench-password-1" | "$LOADSCTL" --data-dir "$W/data" user add bench --role viewer \
    --password-stdin >/dev/null
bench_start_loadsd --log-level error

# try USER ADDRESS: status and seconds of one login with a wrong password.
try() {
    curl -s -o /dev/null --interface "$2" -H Content-Type:application/json \
        -d "{\"user\":\"$1\",\"password\":\"wrong-password\"}" -w '%{http_code} %{time_total}\n' \
        "$BASE/api/v1/session"
}
n=1
while [ $n -le "$SAMPLES" ]; do
    printf 'known %s\n' "$(try bench "127.0.1.$n")" >>"$W/times.txt"
    printf 'unknown %s\n' "$(try nobody-here "127.0.2.$n")" >>"$W/times.txt"
    n=$((n + 1))
done
python3 - "$W/times.txt" "$MAX_DIFF" <<'EOF'
import statistics, sys
rows = [l.split() for l in open(sys.argv[1])]
bad = [r for r in rows if r[1] != "401"]
if bad:
    sys.exit("unexpected answers (throttled?): %s" % bad[:3])
k = [float(r[2]) * 1000 for r in rows if r[0] == "known"]
u = [float(r[2]) * 1000 for r in rows if r[0] == "unknown"]
mk, mu = statistics.median(k), statistics.median(u)
diff = abs(mu - mk) / mk * 100
print("login, %d tries each: wrong password for a known user median %.1f ms (min %.1f, max %.1f);"
      " unknown user median %.1f ms (min %.1f, max %.1f); difference %.1f %%"
      % (len(k), mk, min(k), max(k), mu, min(u), max(u), diff))
sys.exit(0 if diff <= float(sys.argv[2]) else 1)
EOF
