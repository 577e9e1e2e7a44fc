#!/bin/sh
# fleet_probe.sh: the central probes an unmanaged load server (issue 15):
# tftpd-hpa holds a load's .loads file and all but one component; a device's
# load_server is that host; with probe_load_servers on, loadsctl probe and
# GET /api/v1/probes show the load incomplete (n-1 of n); the missing file
# added: complete; a file of another size: incomplete again. The gate
# follows: the device's config names no loadServer while the load is
# incomplete there, and 127.0.0.1 once it is complete. tftpd-hpa's
# opens and reads (it logs only to syslog; tests/tools/opencount.py --reads
# watches them with inotify) show one RRQ per file per round, no faster
# than --probe-rate, a round no more often than fleet_max_age_s / 2, and no
# DATA sent (a file opened, never read).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/catalog_lib.sh"
. "$(dirname "$0")/admin_lib.sh"

need_cmd curl python3 in.tftpd
cat_setup
LOAD=SIP41.9-4-2SR3-1S
MAC=001122AABB01
RATE=5
# A round (3 loads, 18 requests at RATE a second) takes about 4 s: results
# are re-probed every MAX_AGE / 2 s and must stay fresh (MAX_AGE) meanwhile.
MAX_AGE=12
D="$TMPD/central"
UP="$TMPD/up"
mkdir -p "$UP"
bundle "$TMPD/b" "$TMPD/b.json" --format dir --component-headers all --load "$LOAD" --size-kb 64
man_files "$TMPD/b.json" >"$TMPD/files.list"
n=$(wc -l <"$TMPD/files.list")
[ "$n" -ge 3 ] || die "the bundle has $n files, want 3 or more"
comp=$(awk '$1 !~ /\.loads$/ { print $1; exit }' "$TMPD/files.list")
comp2=$(awk -v c="$comp" '$1 !~ /\.loads$/ && $1 != c { print $1; exit }' "$TMPD/files.list")
# Two more loads, whole at the load server, on two more devices: a round
# is then 3 loads' files, enough requests for the pace to show.
bundle "$TMPD/b2" "$TMPD/b2.json" --format dir --load SIP42.9-4-2SR3-1S --seed 2 --size-kb 8
bundle "$TMPD/b3" "$TMPD/b3.json" --format dir --load SIP70.9-4-2SR3-1S --seed 3 --size-kb 8
cp "$TMPD/b/"* "$TMPD/b2/"* "$TMPD/b3/"* "$UP/"
rm -f "$UP/$comp"

# ---- the central: the load, a device pointed at 127.0.0.1, probing on ----
cat_init "$D"
ctl "$D" import "$TMPD/b/"* >/dev/null || die "import failed: $CTL_ERR"
ctl "$D" default-load set 7961 "$LOAD" >/dev/null || die "default-load set: $CTL_ERR"
ctl "$D" device add "$MAC" --model 7961 >/dev/null || die "device add: $CTL_ERR"
ctl "$D" device set "$MAC" load_server 127.0.0.1 >/dev/null || die "device set: $CTL_ERR"
ctl "$D" import "$TMPD/b2/"* "$TMPD/b3/"* >/dev/null || die "import failed: $CTL_ERR"
for k in 2 3; do
    ctl "$D" device add "001122AABB0$k" --model 7961 >/dev/null || die "device add: $CTL_ERR"
    ctl "$D" device set "001122AABB0$k" load "$(basename "$TMPD/b$k/"SIP*.loads .loads)" \
        >/dev/null || die "device set load: $CTL_ERR"
    ctl "$D" device set "001122AABB0$k" load_server 127.0.0.1 >/dev/null || die "device set: $CTL_ERR"
done
ctl "$D" enterprise set probe_load_servers on >/dev/null || die "probe_load_servers: $CTL_ERR"
ctl "$D" enterprise set fleet_max_age_s "$MAX_AGE" >/dev/null || die "fleet_max_age_s: $CTL_ERR"

# ---- the load server: tftpd-hpa, its opens and reads watched ----
hpa_watched "$UP" --reads

pick_port APORT
cat_daemon_start "$D" --admin-listen "127.0.0.1:$APORT" --scrub-interval 0 \
    --probe-port "$UPORT" --probe-rate "$RATE"
BASE="http://127.0.0.1:$APORT"
T0=$(date +%s)

# probe_state: "STATE HAVE/TOTAL" of the load at 127.0.0.1 (loadsctl --json).
probe_state() {
    ctl "$D" --json probe show 127.0.0.1 >"$TMPD/probe.json" 2>/dev/null || return 0
    json_field "$TMPD/probe.json" \
        '[l["state"] + " " + str(l["files_have"]) + "/" + str(l["files_total"]) for l in d["hosts"][0]["loads"] if l["load"] == "'"$LOAD"'"][0]'
}

# wait_state LABEL WANT: polls probe_state for 20 s; a PASS or FAIL.
wait_state() {
    _end=$(($(date +%s) + 20))
    while [ "$(date +%s)" -le "$_end" ]; do
        got=$(probe_state)
        [ "$got" = "$2" ] && break
        sleep 0.3
    done
    if [ "$got" = "$2" ]; then pass "$1: $got"; else fail "$1: got '$got', want '$2'"; fi
}

# load_server_now: what the config loadsd renders for the device names in
# loadServer ("" when none).
load_server_now() {
    rm -f "$TMPD/cnf.xml"
    timeout 20 curl -sS -g --max-time 15 -o "$TMPD/cnf.xml" \
        "tftp://127.0.0.1:$PORT/SEP$MAC.cnf.xml" 2>/dev/null || return 0
    sed -n 's|.*<loadServer>\(.*\)</loadServer>.*|\1|p' "$TMPD/cnf.xml"
}

# wait_gate LABEL WANT: the config's loadServer is WANT within 5 s.
wait_gate() {
    i=0
    while [ $i -lt 50 ]; do
        got=$(load_server_now)
        [ "$got" = "$2" ] && break
        sleep 0.1
        i=$((i + 1))
    done
    if [ "$got" = "$2" ]; then pass "$1: loadServer \"$got\""; else fail "$1: loadServer \"$got\", want \"$2\""; fi
}

# ---- one component missing: incomplete, n-1 of n ----
wait_state "one component missing: incomplete" "incomplete $((n - 1))/$n"
why=$(json_field "$TMPD/probe.json" 'd["hosts"][0]["loads"][0]["why"]')
case "$why" in
*"$comp is missing"*) pass "why names the missing file: $why" ;;
*) fail "why does not name $comp: $why" ;;
esac
# The round may still be on the other two loads: at most 20 s more.
_end=$(($(date +%s) + 20))
while :; do
    ctl "$D" probe list >"$TMPD/list.txt" || fail "probe list: $CTL_ERR"
    grep -Eq '^127\.0\.0\.1 +2 +1 +[0-9]{4}-' "$TMPD/list.txt" && break
    [ "$(date +%s)" -le "$_end" ] || break
    sleep 0.3
done
if grep -Eq '^127\.0\.0\.1 +2 +1 +[0-9]{4}-' "$TMPD/list.txt"; then
    pass "probe list: 127.0.0.1 with 2 loads complete, 1 incomplete"
else
    fail "probe list: $(cat "$TMPD/list.txt")"
fi
admin_login "$D"
req api GET /api/v1/probes $ADMIN
expect "GET /api/v1/probes" 200
check "the API shows the same: incomplete n-1 of n" api \
    'j["hosts"][0]["loads"][0]["state"] + " " + str(j["hosts"][0]["loads"][0]["files_have"]) + "/" + str(j["hosts"][0]["loads"][0]["files_total"])' \
    "incomplete $((n - 1))/$n"
check "the API says probing is on, with the max age" api \
    'str(j["enabled"]) + " " + str(j["max_age_s"]) + " " + str(j["hosts"][0]["fresh"])' "True $MAX_AGE True"
req api404 GET /api/v1/probes/192.0.2.7 $ADMIN
expect "GET /api/v1/probes/HOST never probed" 404
wait_gate "incomplete at the host: the config names no load server (gated)" ""
line=$(ctl "$D" effective "$MAC" | grep '^loadServer')
case "$line" in
*"holds $((n - 1)) of $n files of $LOAD"*) pass "loadsctl effective says why: $line" ;;
*) fail "loadsctl effective's gate line: $line" ;;
esac

# ---- the missing file added: complete ----
cp "$TMPD/b/$comp" "$UP/$comp"
wait_state "every file there with its size: complete" "complete $n/$n"
wait_gate "complete at the host: the config names it" "127.0.0.1"

# ---- a file of another size: incomplete ----
head -c 1000 "$TMPD/b/$comp2" >"$TMPD/short"
mv "$TMPD/short" "$UP/$comp2"
wait_state "a component of another size: incomplete" "incomplete $((n - 1))/$n"
wait_gate "a short file there: gated again" ""
why=$(json_field "$TMPD/probe.json" 'd["hosts"][0]["loads"][0]["why"]')
case "$why" in
*"$comp2 is 1000 bytes there"*) pass "why names the short file: $why" ;;
*) fail "why does not name the short $comp2: $why" ;;
esac
T1=$(date +%s)

# ---- what tftpd-hpa saw ----
kill -TERM "$COUNT_PID" 2>/dev/null
wait "$COUNT_PID" 2>/dev/null
opens=$(grep -c '^open ' "$TMPD/opens.log")
reads=$(grep -c '^read ' "$TMPD/opens.log")
rounds=$(grep -c "^open $LOAD.loads " "$TMPD/opens.log")
echo "  tftpd-hpa: $opens opens (RRQs of present files), $reads reads, $rounds rounds in $((T1 - T0)) s"
[ "$reads" = 0 ] && pass "no DATA sent: tftpd-hpa never read a probed file" ||
    fail "tftpd-hpa read files $reads time(s): $(grep '^read ' "$TMPD/opens.log" | head -5)"
# A round every MAX_AGE/2 s at most (one more for the rounding of seconds).
max_rounds=$(((T1 - T0) / (MAX_AGE / 2) + 2))
[ "$rounds" -ge 3 ] && [ "$rounds" -le "$max_rounds" ] &&
    pass "$rounds rounds in $((T1 - T0)) s (at most $max_rounds at one per $((MAX_AGE / 2)) s)" ||
    fail "$rounds rounds in $((T1 - T0)) s, want 3..$max_rounds"
# The pace: requests 1/RATE s apart, so no 3-s window holds more than
# 3 * RATE + 2 (two for inotify, whose events a busy reader sees in
# batches); a burst after an idle spell would put RATE more in one.
W_MAX=$((3 * RATE + 2))
busiest=$(awk '$1 == "open" { t[n++] = $3 } END {
    m = 0
    for (i = 0; i < n; i++) { k = 0; for (j = i; j < n && t[j] < t[i] + 3.0; j++) k++; if (k > m) m = k }
    print m }' "$TMPD/opens.log")
gap=$(awk '$1 == "open" { if (p != "") { g = $3 - p; if (m == "" || g < m) m = g } p = $3 } END { printf "%.3f", m }' "$TMPD/opens.log")
echo "  busiest 3 s: $busiest requests; shortest gap: $gap s (--probe-rate $RATE)"
[ "$busiest" -le "$W_MAX" ] && pass "at most $W_MAX requests in any 3 s ($busiest)" ||
    fail "$busiest requests in 3 s, over --probe-rate $RATE"

grep -q "probe: $LOAD at 127.0.0.1: complete" "$DAEMON_LOG" &&
    pass "the log says when the load became complete" || fail "no 'complete' line in the log"
daemon_stop
ctl_sanitizer_check
finish
