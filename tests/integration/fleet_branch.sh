#!/bin/sh
# fleet_branch.sh: a branch reports to its central (issue 15, docs/FLEET.md).
# A real central loadsd (admin API, file service) and a real branch loadsd
# (--upstream the central's file service, --central its admin API,
# --central-token-file) on loopback. The central registers the branch and
# assigns a device, whose load it holds, to branch:NAME. Checked: the branch
# reports within seconds; the central's want list names the load; the branch
# stages it by itself and the central's view then holds it complete; the
# central's config for the device names the branch in loadServer only then;
# a load set for the device at the central is staged by the branch within
# seconds (the want list polled by its tag), not at its next report.
# Refused at start: --central without a token file, a missing or empty one.
# A wrong token (SIGHUP after a change): a clear error in the branch's log,
# its stage card says failing, and it keeps serving. The central away:
# retried with backoff, one log line, the branch serving on.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/catalog_lib.sh"
. "$(dirname "$0")/admin_lib.sh"
. "$(dirname "$0")/branch_lib.sh"

need_cmd curl python3 xmllint
cat_setup
LOAD=SIP41.9-4-2SR3-1S
MAC=001122AABBCC
BRANCH=berlin-1
CDATA="$TMPD/central"
cat_init "$CDATA"
bundle "$TMPD/a.zip" "$TMPD/a.json" --format zip --component-headers all --load "$LOAD" --size-kb 256
ctl "$CDATA" import "$TMPD/a.zip" >/dev/null || die "import at the central failed: $CTL_ERR"
LOAD2=SIP41.9-4-2SR4-1S
bundle "$TMPD/b.zip" "$TMPD/b.json" --format zip --component-headers all --load "$LOAD2" --size-kb 256
ctl "$CDATA" import "$TMPD/b.zip" >/dev/null || die "import of $LOAD2 at the central failed: $CTL_ERR"

# ---- the central: admin API and file service ----
fleet_central "$CDATA" "$MAC" "$LOAD" info
CBASE="$BASE"
CAUTH="Authorization: Bearer $CTOKEN"

# ---- the branch registered at the central, the device pointed at it ----
req add POST /api/v1/branches -H "$CAUTH" -H 'Content-Type: application/json' \
    -d "{\"name\": \"$BRANCH\", \"address\": \"127.0.0.1\"}"
expect "POST /api/v1/branches $BRANCH" 201
BTOKEN=$(jq_py add 'j["token"]')
[ -n "$BTOKEN" ] || die "no token in the answer: $(cat "$TMPD/add.body")"
umask 077
printf '%s\n' "$BTOKEN" >"$TMPD/btoken"
ctl "$CDATA" device set "$MAC" load_server "branch:$BRANCH" >/dev/null ||
    die "device set load_server failed: $CTL_ERR"
req want GET /api/v1/fleet/want -H "Authorization: Bearer $BTOKEN"
check "the central's want list for $BRANCH names $LOAD" want '",".join(j["want"])' "$LOAD"

# render_server: the loadServer of the central's config for the device.
render_server() {
    ctl "$CDATA" render "$MAC" --from 127.0.0.1 >"$TMPD/render.xml" 2>/dev/null
    xmllint --xpath 'string(/device/vendorConfig/loadServer)' "$TMPD/render.xml" 2>/dev/null
}
ls_before=$(render_server)
[ "$ls_before" != 127.0.0.1 ] && pass "before any report the config names no branch (loadServer \"$ls_before\")" ||
    fail "the config names the branch before it reported"

# ---- refusals at start ----
BDATA="$TMPD/branch"
cat_init "$BDATA"
# start_refused LABEL WANT ARGS...: loadsd exits 2 at once, WANT in its stderr.
start_refused() {
    _label=$1
    _want=$2
    shift 2
    "$LOADSD" --foreground --config "$CONFIG_FILE" --data-dir "$BDATA" --admin-listen none \
        --files-listen none --tftp-listen "127.0.0.1:$CTPORT" "$@" >/dev/null 2>"$TMPD/refused.err" </dev/null
    _rc=$?
    if [ "$_rc" = 2 ] && grep -q -- "$_want" "$TMPD/refused.err"; then
        pass "$_label: exit 2, \"$(head -1 "$TMPD/refused.err")\""
    else
        fail "$_label: exit $_rc, \"$(head -3 "$TMPD/refused.err")\""
    fi
}
: >"$TMPD/empty"
start_refused "--central without a token file" "needs central-token-file" --central "$BASE"
start_refused "a token file that is not there" "cannot read $TMPD/none" --central "$BASE" \
    --central-token-file "$TMPD/none"
start_refused "an empty token file" "is empty" --central "$BASE" --central-token-file "$TMPD/empty"
start_refused "a tftp:// central" "http:// or https://" --central "tftp://127.0.0.1" \
    --central-token-file "$TMPD/btoken"

# ---- the branch: empty, its upstream the central's file service ----
echo "a long admin password" | ctl "$BDATA" user add boss --role admin --password-stdin >/dev/null ||
    die "user add at the branch failed: $CTL_ERR"
BATOKEN=$(ctl "$BDATA" token add boss --name test) || die "token add failed: $CTL_ERR"
chmod 640 "$TMPD/btoken"
pick_tcp_port BPORT
pick_tcp_port BAPORT
BBASE="http://127.0.0.1:$BAPORT"
cat_daemon_start "$BDATA" --files-listen "127.0.0.1:$BPORT" --upstream "$C" --scrub-interval 0 \
    --admin-listen "127.0.0.1:$BAPORT" --central "$BASE" --central-token-file "$TMPD/btoken"
grep -q "central-token-file $TMPD/btoken is readable by its group or others" "$DAEMON_LOG" &&
    pass "a token file others may read: warned" || fail "no warning about the token file's mode"
elapsed() { awk -v a="$1" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }'; }
t0=$(date +%s.%N) # the branch answers: its first report goes now

# branch_view: the central's view of the branch into req branch.
branch_view() { req branch GET "/api/v1/branches/$BRANCH" -H "$CAUTH"; }

# wait_view LABEL EXPR WANT SECONDS: polls the central's view until EXPR is WANT.
wait_view() {
    _end=$(($(date +%s) + $4))
    while [ "$(date +%s)" -le "$_end" ]; do
        branch_view
        if [ "$(jq_py branch "$2")" = "$3" ]; then
            pass "$1 after $(elapsed "$t0") s"
            return 0
        fi
        sleep 0.2
    done
    fail "$1: $2 is \"$(jq_py branch "$2")\" after $4 s ($(head -c 400 "$TMPD/branch.body"))"
    return 1
}
wait_view "the central got the branch's first report" 'j["last_report"] is not None' True 20
wait_view "the branch staged $LOAD by itself; the central holds it complete" \
    '",".join(h["name"] + ":" + h["state"] for h in j["loads"])' "$LOAD:complete" 60
check "the central sees the branch fresh" branch 'j["last_report"]["fresh"]' True
check "the central has the branch's version" branch 'j["last_report"]["version"]' "$("$LOADSD" --version | awk '{print $2}')"
grep -q "central wants $LOAD: staging it from $C" "$DAEMON_LOG" &&
    pass "the branch logs why it staged: \"$(grep -m1 "central wants" "$DAEMON_LOG" | cut -c1-120)\"" ||
    fail "no staging line in the branch's log"
n_ok=$(grep -c "reporting as branch $BRANCH" "$DAEMON_LOG")
[ "$n_ok" = 1 ] && pass "one log line for reporting ok, not one per report" ||
    fail "$n_ok 'reporting as branch' lines"
want_load_status "$BDATA" "$LOAD" verified "the branch's catalog"

# ---- the gate: the branch named once it holds the load ----
i=0
while [ "$(render_server)" != 127.0.0.1 ] && [ $i -lt 25 ]; do
    sleep 0.2
    i=$((i + 1))
done
[ "$(render_server)" = 127.0.0.1 ] && pass "the central's config now names the branch (loadServer 127.0.0.1)" ||
    fail "loadServer is \"$(render_server)\" after the branch holds $LOAD"

# ---- the inventory: a phone served by the branch, known at the central ----
# The phone (127.0.0.31) fetches its config from the central (which so
# joins its address to its MAC) and its whole load from the branch, which
# has no MAC for it: the branch's next report (a finished load is a change)
# carries it as a phone, and the central's inventory shows it on target,
# served by the branch.
PHONE=127.0.0.31
curl -s -f --max-time 10 -o "$TMPD/bmanifest.json" "http://127.0.0.1:$BPORT/manifests/v1/loads/$LOAD" ||
    die "no manifest of $LOAD at the branch"
python3 -c 'import json,sys
for f in json.load(open(sys.argv[1]))["files"]: print(f["name"])' "$TMPD/bmanifest.json" >"$TMPD/bfiles"
NFILES=$(wc -l <"$TMPD/bfiles")
curl -s -g --max-time 10 --interface "$PHONE" -o "$TMPD/phone.cnf" \
    "tftp://127.0.0.1:$CTPORT/SEP$MAC.cnf.xml" || die "the phone's config fetch from the central failed"
while read -r f; do
    curl -s -f --max-time 10 --interface "$PHONE" -o "$TMPD/out.bin" "http://127.0.0.1:$BPORT/$f" ||
        die "the phone's fetch of $f from the branch failed"
done <"$TMPD/bfiles"
t_phone=$(date +%s.%N)
want_inv="$LOAD:$NFILES/$NFILES:$BRANCH:on_target"
i=0
while [ $i -lt 60 ]; do
    ctl "$CDATA" --json inventory --stuck-s 1000 >"$TMPD/cinv.json"
    got=$(json_field "$TMPD/cinv.json" '",".join("%s:%d/%d:%s:%s" % (p["firmware"]["load"], p["firmware"]["files_done"], p["firmware"]["files_total"], p["source"], p["state"]) for p in d["phones"] if p["mac"] == "'"$MAC"'")')
    [ "$got" = "$want_inv" ] && break
    sleep 0.25
    i=$((i + 1))
done
[ "$got" = "$want_inv" ] &&
    pass "the central's inventory: $MAC $got, $(elapsed "$t_phone") s after its last file at the branch" ||
    fail "the central's inventory for $MAC: \"$got\" (want $want_inv) $(head -c 600 "$TMPD/cinv.json")"

# ---- the branch's own view of it ----
BASE="$BBASE"
req stage GET /api/v1/stage -H "Authorization: Bearer $BATOKEN"
expect "GET /api/v1/stage at the branch" 200
summary=$(jq_py stage 'j["central"]["summary"]')
case $summary in
"central: $CBASE, last report "*" s ago, ok") pass "the branch's stage card: \"$summary\"" ;;
*) fail "the branch's stage card says \"$summary\"" ;;
esac

# ---- the want list moves: the branch learns it between reports ----
# Reports go every 60 s; between them the branch asks for its want list
# with the list's tag every 5 s (a 304 while it stands), so a load set at
# the central is staged within seconds, and reported soon after.
t0=$(date +%s.%N)
ctl "$CDATA" device set "$MAC" load "$LOAD2" >/dev/null || die "device set load $LOAD2 failed: $CTL_ERR"
daemon_log_wait "central wants $LOAD2: staging it" &&
    pass "the branch started staging $LOAD2 $(elapsed "$t0") s after the device's load changed at the central (reports every 60 s)" ||
    fail "the branch did not start staging $LOAD2 within 10 s of the change at the central"
BASE="$CBASE"
wait_view "the central's view: the branch holds $LOAD2 complete" \
    '",".join(h["name"] + ":" + h["state"] for h in j["loads"] if h["name"] == "'"$LOAD2"'")' "$LOAD2:complete" 20
BASE="$BBASE"
req stage GET /api/v1/stage -H "Authorization: Bearer $BATOKEN"
check "the branch's stage card: the want list polled every 5 s" stage 'j["central"]["want_poll_s"]' 5
grep -q "asking for the want list failed" "$DAEMON_LOG" &&
    fail "a poll failed: $(grep -m1 "asking for the want list failed" "$DAEMON_LOG")" ||
    pass "no poll failed"

# ---- a wrong token: a clear error, and the branch keeps serving ----
printf 'not-the-token\n' >"$TMPD/btoken"
kill -HUP "$DAEMON_PID"
daemon_log_wait "refused this branch's token"
line=$(grep -m1 "refused this branch's token" "$DAEMON_LOG")
case $line in
*"HTTP 401"*"check --central-token-file"*) pass "a wrong token: \"$(echo "$line" | cut -c1-160)\"" ;;
*) fail "a wrong token: no clear error in the branch's log (\"$line\")" ;;
esac
req stage GET /api/v1/stage -H "Authorization: Bearer $BATOKEN"
summary=$(jq_py stage 'j["central"]["summary"]')
case $summary in
*"failing since "*"refused this branch's token"*) pass "the stage card says failing: \"$(echo "$summary" | cut -c1-120)\"" ;;
*) fail "the stage card says \"$summary\"" ;;
esac
want=$(man_files "$TMPD/a.json" | head -1)
fname=${want%% *}
rm -f "$TMPD/out/served"
curl -s -o "$TMPD/out/served" "http://127.0.0.1:$BPORT/$fname"
[ "$(sha "$TMPD/out/served")" = "$(echo "$want" | awk '{print $3}')" ] &&
    pass "the branch keeps serving $fname" || fail "the branch does not serve $fname"
daemon_alive && pass "the branch is still running" || fail "the branch stopped"

# ---- the central away: retried with backoff, one log line, serving on ----
kill -TERM "$CENTRAL_PID"
wait "$CENTRAL_PID" && pass "the central exits 0" || fail "the central's exit status"
printf '%s\n' "$BTOKEN" >"$TMPD/btoken"
kill -HUP "$DAEMON_PID"
sleep 17 # tries at 0, 5 and 15 s
n_away=$(grep -c "report failed: http://127.0.0.1:$CAPORT/api/v1/fleet/report: " "$DAEMON_LOG")
[ "$n_away" = 1 ] && pass "the central away: one log line in 17 s of retries: \"$(grep -m1 "report failed: http://127.0.0.1:$CAPORT" "$DAEMON_LOG" | cut -c1-150)\"" ||
    fail "the central away: $n_away log lines"
curl -s -o "$TMPD/out/served" "http://127.0.0.1:$BPORT/$fname"
[ "$(sha "$TMPD/out/served")" = "$(echo "$want" | awk '{print $3}')" ] &&
    pass "the branch serves $fname with its central away" || fail "the branch does not serve $fname"
daemon_stop
grep -q -E 'AddressSanitizer|LeakSanitizer|runtime error:' "$TMPD/central.log" &&
    fail "sanitizer report in the central's log" || true
ctl_sanitizer_check
finish
