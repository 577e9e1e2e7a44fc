#!/bin/sh
# flood_guard.sh: a flood of read requests that are never acknowledged, from
# 200 loopback addresses in four /24s, must not take the transfer slots from a
# client that answers: real tftp-hpa and curl fetches succeed during it, the
# refusals are counted in /metrics, and the log gets rate-limited lines and a
# summary, not a line per refusal.
. "$(dirname "$0")/lib.sh"
heavy_test_lock

need_cmd python3 curl tftp
make_tmpdir
gen_files
pick_port APORT
# 200 transfers in all; the budget of unanswered ones (max-unacked, at most
# half of that) and per /24 (max-unacked-per-prefix) keep their defaults.
daemon_start --max-transfers 200 --timeout-ms 1000 --retries 5 \
    --admin-listen "127.0.0.1:$APORT" --log-level info
BASE="http://127.0.0.1:$APORT"
FLOOD_SECONDS=8

python3 "$top_srcdir/tests/integration/tftp_flood.py" --port "$PORT" --nets 77.0-3 --hosts 50 \
    --rate 1500 --seconds "$FLOOD_SECONDS" --drain 1 --out "$TMPD/flood.json" >/dev/null &
FLOOD_PID=$!
sleep 2

# Real clients from 127.0.0.1 (a /24 of their own) while the flood runs.
n=0
while [ $n -lt 3 ]; do
    n=$((n + 1))
    hpa_get size_1048576.bin "$TMPD/out/hpa.$n"
    check_fetch "tftp-hpa fetch $n of 1 MiB during the flood" $? "$ROOT/size_1048576.bin" "$TMPD/out/hpa.$n"
    timeout 60 curl -s -o "$TMPD/out/curl.$n" "tftp://127.0.0.1:$PORT/size_513.bin"
    check_fetch "curl fetch $n during the flood" $? "$ROOT/size_513.bin" "$TMPD/out/curl.$n"
done
kill -0 "$FLOOD_PID" 2>/dev/null && pass "the real fetches ran while the flood did" ||
    fail "the flood ended before the real fetches did: they were not tested under it"
wait "$FLOOD_PID" || die "the flood tool failed"
cat "$TMPD/flood.json"

# /metrics: the refusals by limit, and the unanswered transfers that ended.
PW=$(cat "$TMPD/data/initial-admin-password" 2>/dev/null) || die "no initial admin password"
curl -s --max-time 10 -c "$TMPD/jar" -H 'Content-Type: application/json' \
    -d "{\"user\":\"admin\",\"password\":\"$PW\"}" "$BASE/api/v1/session" >/dev/null ||
    die "cannot log in to the admin interface"
curl -s --max-time 10 -b "$TMPD/jar" -o "$TMPD/metrics" "$BASE/metrics" || die "no /metrics"
# metric NAME: its value in the last /metrics read, or "none".
metric() {
    awk -v k="$1" '$1 == k { print $2; found = 1 } END { if (!found) print "none" }' "$TMPD/metrics"
}
# num VALUE: VALUE when it is a number, else 0 (for comparisons).
num() {
    case "$1" in '' | *[!0-9]*) echo 0 ;; *) echo "$1" ;; esac
}
prefix=$(metric 'loadsd_tftp_refused_total{limit="max_unacked_per_prefix"}')
unacked=$(metric 'loadsd_tftp_refused_total{limit="max_unacked"}')
client=$(metric 'loadsd_tftp_refused_total{limit="max_transfers_per_client"}')
transfers=$(metric 'loadsd_tftp_refused_total{limit="max_transfers"}')
busy=$(metric 'loadsd_tftp_refused_busy_total')
expired=$(metric 'loadsd_tftp_unacked_ended_total{how="expired"}')
evicted=$(metric 'loadsd_tftp_unacked_ended_total{how="evicted"}')
echo "  metrics: refused $busy: per prefix $prefix, unanswered in all $unacked, per client $client," \
    "all transfers $transfers; unanswered transfers ended: expired $expired, evicted $evicted"
by_limit=$(($(num "$prefix") + $(num "$unacked") + $(num "$client") + $(num "$transfers")))
case "$prefix$unacked$client$transfers$expired$evicted" in
*none*) fail "/metrics lacks the refusal counters: $(grep tftp "$TMPD/metrics" | head -20)" ;;
*)
    if [ "$by_limit" -ge 1000 ] && [ "$by_limit" = "$busy" ]; then
        pass "/metrics counts the $busy refusals by the limit that refused them"
    else
        fail "/metrics: $by_limit refusals by limit, $busy in all, for a flood"
    fi
    ;;
esac

# The log: at most a few lines a window per kind of noise, then a summary.
daemon_log_wait 'flood guard:' 15
lines=$(grep -c 'refused "' "$DAEMON_LOG")
ends=$(grep -c 'ended: ' "$DAEMON_LOG")
echo "  log: $lines refusal lines, $ends end-of-transfer lines, for $busy refusals"
if [ "$lines" -le 60 ] && [ "$(num "$busy")" -ge 1000 ]; then
    pass "refusals are logged at a limited rate ($lines lines for $busy)"
else
    fail "$lines refusal lines for $busy refusals: not rate-limited"
fi
if grep -q 'flood guard: [0-9]* refusals and unanswered transfers' "$DAEMON_LOG"; then
    pass "a summary line counts what had no line of its own"
    grep 'flood guard:' "$DAEMON_LOG" | tail -n 1
else
    fail "no summary line in the log"
fi

# Once the flood is over, everything it held is given back.
i=0
while [ $i -lt 100 ]; do
    curl -s --max-time 10 -b "$TMPD/jar" -o "$TMPD/metrics" "$BASE/metrics"
    [ "$(metric loadsd_tftp_transfers_unacked)" = 0 ] && break
    sleep 0.1
    i=$((i + 1))
done
if [ "$(metric loadsd_tftp_transfers_unacked)" = 0 ] && [ "$(metric loadsd_tftp_transfers_active)" = 0 ]; then
    pass "no transfer left running or unanswered after the flood"
else
    fail "after the flood: $(metric loadsd_tftp_transfers_active) running, $(metric loadsd_tftp_transfers_unacked) unanswered"
fi
hpa_get size_513.bin "$TMPD/out/after"
check_fetch "tftp-hpa after the flood" $? "$ROOT/size_513.bin" "$TMPD/out/after"

daemon_stop
finish
