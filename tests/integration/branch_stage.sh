#!/bin/sh
# branch_stage.sh: pre-staging from an upstream (issue 14). A central loadsd
# holds four loads; a branch loadsd (--upstream, through tests/tools/
# tamper_proxy.py) holds none. `loadsctl stage` on the branch's data dir while
# the branch runs imports a load whole (verified, source the upstream), after
# which phones' fetches of all its files from the branch (tftp-hpa, curl) cost
# the central no request at all. POST /api/v1/stage answers 202 and GET shows
# the pull done, with progress figures; bad names, a load held already and a
# branch without upstream are refused. --stage-rate 2000 holds a ~1 MB staged
# pull to about 2000 kbit/s (at least 3 s). --stage-window set to hours that
# exclude now keeps a staged load queued, saying why, while a phone's request
# for that load pulls it at once.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/catalog_lib.sh"
. "$(dirname "$0")/branch_lib.sh"
. "$(dirname "$0")/admin_lib.sh"

need_cmd curl python3 ss tftp
cat_setup
LOAD=SIP41.9-4-2SR3-1S
LOAD2=SIP45.9-4-2SR3-1S
LOAD3=SIP70.9-4-2SR3-1S
LOAD4=SIP75.9-4-2SR3-1S
CDATA="$TMPD/central"
cat_init "$CDATA"
bundle "$TMPD/b.zip" "$TMPD/b.json" --format zip --component-headers all --size-kb 128
bundle "$TMPD/b2.zip" "$TMPD/b2.json" --format zip --component-headers all --load "$LOAD2" --seed 2
bundle "$TMPD/b3.zip" "$TMPD/b3.json" --format zip --component-headers all --load "$LOAD3" --seed 3 \
    --size-kb 200
bundle "$TMPD/b4.zip" "$TMPD/b4.json" --format zip --component-headers all --load "$LOAD4" --seed 4
for b in b b2 b3 b4; do
    ctl "$CDATA" import "$TMPD/$b.zip" >/dev/null || die "import of $b at the central failed: $CTL_ERR"
done

# ---- the central (file service only) and a proxy that logs each request ----
central_start "$CDATA"
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b - a }'; }
central_gets() { grep -c 'http GET "/\(blobs\|manifests\)/' "$TMPD/central.log"; }

# ---- the branch: empty, an admin token, rate-capped staging ----
BDATA="$TMPD/branch"
cat_init "$BDATA"
echo "a long admin password" | ctl "$BDATA" user add boss --role admin --password-stdin >/dev/null ||
    die "user add failed: $CTL_ERR"
TOKEN=$(ctl "$BDATA" token add boss --name test) || die "token add failed: $CTL_ERR"
pick_tcp_port BPORT
pick_tcp_port APORT
B="http://127.0.0.1:$BPORT"
BASE="http://127.0.0.1:$APORT"
AUTH="Authorization: Bearer $TOKEN"
cat_daemon_start "$BDATA" --files-listen "127.0.0.1:$BPORT" --upstream "$P/" --scrub-interval 0 \
    --admin-listen "127.0.0.1:$APORT" --stage-rate 2000
admin_wait

# ---- loadsctl stage: refusals, then one load, the upstream from a config file ----
printf 'data-dir = %s\n' "$BDATA" >"$TMPD/noup.conf"
if ctl "$BDATA" --config "$TMPD/noup.conf" stage "$LOAD" >/dev/null; then
    fail "loadsctl stage without an upstream succeeded"
else
    [ "$ctl_rc" = 1 ] && case $CTL_ERR in *"no upstream"*) true ;; *) false ;; esac &&
        pass "loadsctl stage without an upstream: exit 1, \"$CTL_ERR\"" ||
        fail "loadsctl stage without an upstream: exit $ctl_rc, \"$CTL_ERR\""
fi
ctl "$BDATA" stage "NOSUCH.1-2-3" --upstream "$P" >/dev/null
[ "$ctl_rc" = 1 ] && pass "loadsctl stage of a load the central lacks: exit 1, \"$(echo "$CTL_ERR" | tail -1)\"" ||
    fail "loadsctl stage NOSUCH: exit $ctl_rc"
printf 'upstream = %s/\nstage-rate = 0\n' "$P" >"$TMPD/branch.conf"
before=$(central_gets)
t0=$(date +%s.%N)
if ctl "$BDATA" --config "$TMPD/branch.conf" stage "$LOAD" >"$TMPD/stage.out"; then
    t1=$(date +%s.%N)
    out=$(cat "$TMPD/stage.out")
    pass "loadsctl stage $LOAD: exit 0 in $(elapsed "$t0" "$t1") s: \"$out\""
else
    fail "loadsctl stage $LOAD: exit $ctl_rc, \"$CTL_ERR\""
fi
nprog=$(echo "$CTL_ERR" | grep -c "^staging $LOAD: [0-9]*/[0-9]* files, .* kbit/s, ETA")
[ "$nprog" -ge 1 ] && echo "$CTL_ERR" | grep -q "^staged $LOAD: 6/6 files" &&
    pass "progress on stderr: $nprog line(s), last \"$(echo "$CTL_ERR" | tail -1)\"" ||
    fail "progress lines: $(echo "$CTL_ERR" | head -5)"
st=$(load_status "$BDATA" "$LOAD")
[ "$st" = verified ] && pass "the branch's catalog: $LOAD verified" || fail "$LOAD is '$st'"
src=$(sql "$BDATA" "SELECT i.source FROM imports i JOIN loads l ON l.import_id = i.id WHERE l.name = '$LOAD'")
[ "$src" = "upstream $P" ] && pass "its import's source: \"$src\"" || fail "import source: \"$src\""
origin=$(ctl "$BDATA" --json loads | python3 -c 'import json,sys; print([l["origin"] for l in json.load(sys.stdin) if l["name"] == sys.argv[1]][0])' "$LOAD")
[ "$origin" = "upstream $P" ] && pass "loadsctl --json loads: origin \"$origin\"" || fail "origin: \"$origin\""
[ "$(sql "$BDATA" "SELECT count(*) FROM audit WHERE action = 'stage' AND object = '$LOAD'")" = 1 ] &&
    pass "an audit row 'stage' for $LOAD" || fail "no audit row for the stage"
ctl "$BDATA" stage "$LOAD" --upstream "$P" >/dev/null
[ "$ctl_rc" = 1 ] && pass "staging it again: exit 1, \"$CTL_ERR\"" || fail "staging again: exit $ctl_rc"

# Phones now: every file byte-exact from the branch, not one request at the central
# (once the daemon's catalog snapshot has the load: it polls every 250 ms).
daemon_log_wait "catalog snapshot generation .* 1 loads served" 5
staged=$(central_gets)
man_files "$TMPD/b.json" >"$TMPD/want.list"
nfiles=$(wc -l <"$TMPD/want.list")
ok=0
i=0
while [ $i -lt 50 ] && ! curl -sf -o /dev/null "$B/$LOAD.loads"; do
    i=$((i + 1))
    sleep 0.2
done
while read -r name size want; do
    rm -f "$TMPD/out/$name"
    (cd "$TMPD/out" && timeout 20 tftp -m octet 127.0.0.1 "$PORT" -c get "$name" >/dev/null 2>&1)
    [ "$(sha "$TMPD/out/$name" 2>/dev/null)" = "$want" ] && ok=$((ok + 1))
    curl -s -o "$TMPD/out/h-$name" "$B/$name"
    [ "$(sha "$TMPD/out/h-$name" 2>/dev/null)" = "$want" ] && ok=$((ok + 1))
done <"$TMPD/want.list"
after=$(central_gets)
[ $ok -eq $((2 * nfiles)) ] && pass "phones: all $nfiles files byte-exact over TFTP and HTTP from the branch" ||
    fail "phones: $ok of $((2 * nfiles)) fetches byte-exact"
[ "$after" -eq "$staged" ] &&
    pass "the central: $((staged - before)) request(s) while staging, 0 while phones fetched" ||
    fail "the central got $((after - staged)) request(s) while phones fetched"

# ---- POST /api/v1/stage ----
req nosuch POST /api/v1/stage -H "$AUTH" -H Content-Type:application/json -d '{"load":"../x"}'
expect "POST a bad name" 400
req noname POST /api/v1/stage -H "$AUTH" -H Content-Type:application/json -d '{}'
expect "POST without load" 400
req held POST /api/v1/stage -H "$AUTH" -H Content-Type:application/json -d "{\"load\":\"$LOAD\"}"
expect "POST a load held already" 409
req stage2 POST /api/v1/stage -H "$AUTH" -H Content-Type:application/json -d "{\"load\":\"$LOAD2.loads\"}"
expect "POST /api/v1/stage $LOAD2" 202
check "the 202 names the load, staged" stage2 "j['load'] + ' ' + str(j['staged'])" "$LOAD2 True"
i=0
state=""
while [ $i -lt 100 ]; do
    req list GET /api/v1/stage -H "$AUTH"
    state=$(jq_py list "[e['state'] for e in j['entries'] if e['load'] == '$LOAD2'][0]")
    [ "$state" = done ] && break
    i=$((i + 1))
    sleep 0.2
done
[ "$state" = done ] && pass "GET /api/v1/stage: $LOAD2 done after about $((i / 5)) s" ||
    fail "GET /api/v1/stage: $LOAD2 is '$state'"
check "GET names the upstream and the cap" list "j['upstream'] + ' ' + str(j['stage_rate_kbit'])" "$P 2000"
check "its progress: every file and byte" list \
    "[(e['files_done'] == e['files_total'] == 6, e['bytes_done'] == e['bytes_total'] > 0, e['eta_s']) for e in j['entries'] if e['load'] == '$LOAD2'][0]" \
    "(True, True, 0)"
want_load_status "$BDATA" "$LOAD2" verified "the branch's catalog after the API's stage"
[ "$(sql "$BDATA" "SELECT count(*) FROM audit WHERE action = 'stage' AND object = '$LOAD2' AND actor = 'boss'")" = 1 ] &&
    pass "an audit row 'stage' by boss" || fail "no audit row for the API's stage"

# ---- --stage-rate 2000: a ~1 MB load at about 250 000 bytes/s ----
t0=$(date +%s.%N)
req stage3 POST /api/v1/stage -H "$AUTH" -H Content-Type:application/json -d "{\"load\":\"$LOAD3\"}"
expect "POST /api/v1/stage $LOAD3" 202
i=0
state=""
while [ $i -lt 300 ]; do
    req list3 GET /api/v1/stage -H "$AUTH"
    state=$(jq_py list3 "[e['state'] for e in j['entries'] if e['load'] == '$LOAD3'][0]")
    [ "$state" = done ] && break
    [ "$state" = running ] && [ -z "${seen:-}" ] &&
        seen=$(jq_py list3 "[(e['files_done'], e['bytes_done'], e['rate'], e['eta_s']) for e in j['entries'] if e['load'] == '$LOAD3'][0]")
    i=$((i + 1))
    sleep 0.1
done
t1=$(date +%s.%N)
bytes=$(jq_py list3 "[e['bytes_got'] for e in j['entries'] if e['load'] == '$LOAD3'][0]")
rate=$(jq_py list3 "[e['rate'] for e in j['entries'] if e['load'] == '$LOAD3'][0]")
secs=$(elapsed "$t0" "$t1")
echo "  $LOAD3: $bytes bytes in $secs s; the entry's rate $rate bytes/s = $((rate * 8 / 1000)) kbit/s (cap 2000); while running: $seen"
if [ "$state" = done ] && awk -v s="$secs" 'BEGIN { exit !(s >= 3) }'; then
    pass "--stage-rate 2000: $bytes bytes took $secs s (>= 3 s), $((rate * 8 / 1000)) kbit/s"
else
    fail "--stage-rate 2000: state '$state' after $secs s"
fi
[ -n "${seen:-}" ] && pass "progress while running (files, bytes, rate, ETA): $seen" ||
    fail "no progress seen while $LOAD3 ran"

# ---- --stage-window that excludes now: queued, saying so; a phone still pulls at once ----
daemon_stop
h=$(( ($(date +%-H) + 2) % 24 ))
WIN=$(printf '%02d:00-%02d:00' "$h" $(( (h + 1) % 24 )))
cat_daemon_start "$BDATA" --files-listen "127.0.0.1:$BPORT" --upstream "$P/" --scrub-interval 0 \
    --admin-listen "127.0.0.1:$APORT" --stage-window "$WIN"
admin_wait
before=$(central_gets)
req stage4 POST /api/v1/stage -H "$AUTH" -H Content-Type:application/json -d "{\"load\":\"$LOAD4\"}"
expect "POST /api/v1/stage $LOAD4 outside the window $WIN" 202
sleep 3
req list4 GET /api/v1/stage -H "$AUTH"
check "after 3 s: still queued, saying why" list4 \
    "[e['state'] + ': ' + e['why'] for e in j['entries'] if e['load'] == '$LOAD4'][0]" \
    "queued: waiting for the stage window $WIN"
[ "$(central_gets)" -eq "$before" ] && pass "... and not one request at the central" ||
    fail "the central got $(($(central_gets) - before)) request(s) outside the window"
t0=$(date +%s.%N)
i=0
c=""
while [ $i -lt 100 ]; do
    c=$(curl -s -o "$TMPD/out/l4" -w '%{http_code}' "$B/$LOAD4.loads")
    [ "$c" = 200 ] && break
    i=$((i + 1))
    sleep 0.2
done
t1=$(date +%s.%N)
want=$(man_files "$TMPD/b4.json" | awk -v n="$LOAD4.loads" '$1 == n { print $3 }')
[ "$c" = 200 ] && [ "$(sha "$TMPD/out/l4")" = "$want" ] &&
    pass "a phone's request for $LOAD4 pulled it at once: served in $(elapsed "$t0" "$t1") s" ||
    fail "a phone's request during the window: $c; $(grep "$LOAD4" "$DAEMON_LOG" | tail -2)"
req list5 GET /api/v1/stage -H "$AUTH"
check "the entry: done, no longer staged" list5 \
    "[e['state'] + ' ' + str(e['staged']) for e in j['entries'] if e['load'] == '$LOAD4'][0]" "done False"
daemon_stop

# ---- a branch without upstream: GET says so, POST is refused ----
cat_daemon_start "$BDATA" --files-listen none --scrub-interval 0 --admin-listen "127.0.0.1:$APORT"
admin_wait
req noup GET /api/v1/stage -H "$AUTH"
check "GET without upstream: upstream null, no entries" noup "str(j['upstream']) + ' ' + str(len(j['entries']))" "None 0"
req noup2 POST /api/v1/stage -H "$AUTH" -H Content-Type:application/json -d "{\"load\":\"$LOAD\"}"
expect "POST without upstream" 409
check "... naming the reason" noup2 "j['error']" no_upstream
daemon_stop
ctl_sanitizer_check
finish
