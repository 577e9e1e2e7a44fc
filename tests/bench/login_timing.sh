#!/bin/sh
# login_timing.sh: does the login's answer time tell which user names exist?
# Times POST /api/v1/session for a known user with a wrong password and for
# an unknown user, interleaved, each try from its own loopback address (so no
# throttle answers instead of the KDF), and compares the medians. Not part of
# make check (tests/unit/test_auth's test_login_timing is, with a looser bound).
# Usage: login_timing.sh --build-dir DIR [--samples N] [--max-diff PERCENT]
# Exits 1 when the medians differ by more than --max-diff (default 20) %.
set -eu

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
[ -n "$BUILD" ] || { echo "--build-dir is required" >&2; exit 2; }
LOADSD="$BUILD/server/loadsd"
LOADSCTL="$BUILD/admin/loadsctl"
[ -x "$LOADSD" ] && [ -x "$LOADSCTL" ] || { echo "build server/loadsd and admin/loadsctl in $BUILD" >&2; exit 2; }
[ "$SAMPLES" -ge 5 ] && [ "$SAMPLES" -le 250 ] || { echo "--samples is 5..250" >&2; exit 2; }

W=$(mktemp -d /tmp/login-timing.XXXXXX)
PID=""
cleanup() {
    [ -n "$PID" ] && kill "$PID" 2>/dev/null && wait "$PID" 2>/dev/null
    rm -rf "$W"
}
trap cleanup EXIT INT TERM
TPORT=$(shuf -i 30000-39999 -n 1)
APORT=$(shuf -i 40000-49999 -n 1)
"$LOADSCTL" --data-dir "$W/data" init >/dev/null
echo "bench-password-1" | "$LOADSCTL" --data-dir "$W/data" user add bench --role viewer \
    --password-stdin >/dev/null
"$LOADSD" --foreground --tftp-listen "127.0.0.1:$TPORT" --data-dir "$W/data" \
    --admin-listen "127.0.0.1:$APORT" --log-level error 2>"$W/loadsd.log" &
PID=$!
BASE="http://127.0.0.1:$APORT"
i=0
until curl -s -o /dev/null "$BASE/api/v1/session"; do
    i=$((i + 1)); [ $i -lt 100 ] || { echo "loadsd did not start" >&2; exit 1; }; sleep 0.1
done

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
