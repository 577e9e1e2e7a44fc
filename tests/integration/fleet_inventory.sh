#!/bin/sh
# fleet_inventory.sh: the central's firmware inventory (issue 15) against a
# real loadsd: phones at their own loopback addresses (curl bound with
# --interface) fetch their config and all, some or none of their load's
# files over TFTP and HTTP; loadsctl inventory, GET /api/v1/fleet/inventory
# and /metrics count them as this test made them: on target, pending, stuck
# (inventory-stuck-s 3: a tiny threshold for the test).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/catalog_lib.sh"
. "$(dirname "$0")/admin_lib.sh"

need_cmd curl
curl -V | grep -q -i 'protocols:.* tftp' || skip "this curl has no TFTP support"
cat_setup
DATA="$TMPD/data"
LOAD=SIP41.9-4-2SR3-1S
cat_init "$DATA"
bundle "$TMPD/b.zip" "$TMPD/b.json" --format zip --load "$LOAD" --components 3 --size-kb 8 \
    --component-headers
ctl "$DATA" import "$TMPD/b.zip" >/dev/null || die "import failed: $CTL_ERR"
ctl "$DATA" default-load set 7965 "$LOAD" >/dev/null || die "default-load: $CTL_ERR"
for i in 1 2 3 4; do
    ctl "$DATA" device add "00:1B:54:00:00:0$i" --model 7965 >/dev/null || die "device: $CTL_ERR"
done
ctl "$DATA" site add 127.0.0.0/24 --load-server 127.0.0.1 --name lab >/dev/null ||
    die "site: $CTL_ERR"
# Phone 4's own load server beats the site rule's: it counts under that one.
ctl "$DATA" device set 00:1B:54:00:00:04 load_server 127.0.0.9 >/dev/null ||
    die "device set: $CTL_ERR"
pick_port APORT
pick_tcp_port HPORT
cat_daemon_start "$DATA" --admin-listen "127.0.0.1:$APORT" --files-listen "127.0.0.1:$HPORT" \
    --inventory-stuck-s 3
BASE="http://127.0.0.1:$APORT"
admin_login "$DATA"
viewer_login

# The load's own files (its .loads first), as the file service lists them.
curl -s --max-time 10 -o "$TMPD/manifest.json" "http://127.0.0.1:$HPORT/manifests/v1/loads/$LOAD" ||
    die "no manifest of $LOAD"
python3 -c 'import json,sys
m = json.load(open(sys.argv[1]))
for f in sorted(m["files"], key=lambda f: not f["name"].lower().endswith(".loads")):
    print(f["name"])' "$TMPD/manifest.json" >"$TMPD/files"
NFILES=$(wc -l <"$TMPD/files")
[ "$NFILES" -ge 4 ] || die "the load lists $NFILES files"

# tftp ADDR NAME: phone at ADDR fetches NAME over TFTP; dies when it cannot.
tftp() {
    curl -s -g --max-time 15 --interface "$1" -o "$TMPD/out.bin" "tftp://127.0.0.1:$PORT/$2" ||
        die "tftp $2 from $1 failed"
}
# http ADDR NAME: the same over the HTTP file service.
http() {
    curl -s -f --max-time 15 --interface "$1" -o "$TMPD/out.bin" "http://127.0.0.1:$HPORT/$2" ||
        die "http $2 from $1 failed"
}

# Phone 1 (127.0.0.11): its config, then every file of the load over TFTP.
tftp 127.0.0.11 SEP001B54000001.cnf.xml
while read -r f; do tftp 127.0.0.11 "$f"; done <"$TMPD/files"
# Phone 2 (127.0.0.12): its config, then the .loads and one component: it
# started and did not finish.
tftp 127.0.0.12 SEP001B54000002.cnf.xml
head -n 2 "$TMPD/files" | while read -r f; do tftp 127.0.0.12 "$f"; done
# Phone 3 (127.0.0.13): its config only: it runs the load already.
tftp 127.0.0.13 SEP001B54000003.cnf.xml
# Phone 4 (127.0.0.14): its config over HTTP, every file over HTTP.
http 127.0.0.14 SEP001B54000004.cnf.xml
while read -r f; do http 127.0.0.14 "$f"; done <"$TMPD/files"
# A client no config went to (127.0.0.20): no phone of the inventory.
while read -r f; do tftp 127.0.0.20 "$f"; done <"$TMPD/files"
DONE_AT=$(date +%s)

# inv_wait: until loadsctl inventory --json shows all four phones with what
# they fetched (rows are written at most every 5 s a phone), at most 30 s.
inv_wait() {
    _end=$(($(date +%s) + 30))
    while [ "$(date +%s)" -le "$_end" ]; do
        ctl "$DATA" --json inventory --stuck-s 1000 >"$TMPD/inv.json"
        got=$(json_field "$TMPD/inv.json" \
            '",".join("%s:%d" % (p["mac"][-1], p["firmware"]["files_done"]) for p in d["phones"])')
        [ "$got" = "1:$NFILES,2:2,3:0,4:$NFILES" ] && return 0
        sleep 0.5
    done
    fail "the inventory never showed the fetches: $got (want 1:$NFILES,2:2,3:0,4:$NFILES)"
}
inv_wait
pass "inventory rows: phone:files done = $got of $NFILES ($(($(date +%s) - DONE_AT)) s after)"

# counts FILE: "on_target pending stuck" of all phones.
counts() {
    json_field "$1" '"%d %d %d" % (d["counts"]["all"]["on_target"], d["counts"]["all"]["pending"], d["counts"]["all"]["stuck"])'
}
# Early, with a large threshold: 1 and 4 fetched it all, 2 is on its way,
# 3 fetched nothing yet (within the settle time of 60 s).
got=$(counts "$TMPD/inv.json")
[ "$got" = "2 2 0" ] && pass "loadsctl inventory --stuck-s 1000: 2 on target, 2 pending" ||
    fail "loadsctl inventory --stuck-s 1000: on/pending/stuck $got, want 2 2 0"
got=$(json_field "$TMPD/inv.json" '[p["state"] for p in d["phones"]] == ["on_target", "pending", "pending", "on_target"] and d["phones"][0]["firmware"]["load"] == "'"$LOAD"'" and d["phones"][0]["config"]["load"] == "'"$LOAD"'" and d["phones"][3]["address"] == "127.0.0.14"')
[ "$got" = True ] && pass "each phone's state, load and address" ||
    fail "phones: $(json_field "$TMPD/inv.json" 'd["phones"]')"
got=$(json_field "$TMPD/inv.json" 'd["total"]')
[ "$got" = 4 ] && pass "the client without a config is not in the inventory" || fail "total $got, want 4"
ctl "$DATA" inventory --stuck-s 1000 >"$TMPD/inv.txt" || fail "loadsctl inventory: $CTL_ERR"
grep -Eq '^lab +2 +2 +0 +0 *$' "$TMPD/inv.txt" && pass "loadsctl inventory: the site lab's counts" ||
    fail "loadsctl inventory: $(cat "$TMPD/inv.txt")"
grep -Eq '^Cisco 7965 +2 +2 +0 +0 *$' "$TMPD/inv.txt" && pass "loadsctl inventory: the model's counts" ||
    fail "loadsctl inventory: $(cat "$TMPD/inv.txt")"

# Past the daemon's threshold (3 s): phone 2 is stuck, phone 3 settled on it.
while [ "$(date +%s)" -lt $((DONE_AT + 4)) ]; do sleep 0.5; done
req inv GET "/api/v1/fleet/inventory?limit=2&offset=1" $VIEW
expect "GET /api/v1/fleet/inventory as a viewer" 200
check "the API's counts: 3 on target, 0 pending, 1 stuck" inv \
    '"%d %d %d" % (j["counts"]["all"]["on_target"], j["counts"]["all"]["pending"], j["counts"]["all"]["stuck"])' "3 0 1"
check "the threshold is the daemon's" inv 'j["stuck_after_s"]' 3
check "a page of two from the second phone" inv '",".join(p["mac"] + "=" + p["state"] for p in j["phones"])' \
    "001B54000002=stuck,001B54000003=on_target"
check "per site" inv '[(c["site"], c["on_target"], c["stuck"]) for c in j["counts"]["sites"]]' "[('lab', 3, 1)]"
check "per model" inv '[(c["model"], c["on_target"], c["stuck"]) for c in j["counts"]["models"]]' "[('Cisco 7965', 3, 1)]"
check "per load server: the site rule's, and phone 4's own" inv \
    '[(c["load_server"], c["on_target"], c["stuck"]) for c in j["counts"]["load_servers"]]' \
    "[('127.0.0.1', 2, 1), ('127.0.0.9', 1, 0)]"
check "a phone's row names its load server" inv '[p["load_server"] for p in j["phones"]]' \
    "['127.0.0.1', '127.0.0.1']"
req inv_anon GET /api/v1/fleet/inventory
expect "the inventory needs a login" 401
req inv_bad GET "/api/v1/fleet/inventory?limit=0" $VIEW
expect "limit 0 is refused" 400
req metrics GET /metrics $VIEW
for m in 'loadsd_phones_on_target{site="lab"} 3' 'loadsd_phones_pending{site="lab"} 0' \
    'loadsd_phones_stuck{site="lab"} 1'; do
    grep -qF "$m" "$TMPD/metrics.body" && pass "/metrics: $m" ||
        fail "/metrics lacks $m: $(grep phones "$TMPD/metrics.body")"
done

# Phone 2 finishes its load: on target.
tail -n +3 "$TMPD/files" | while read -r f; do tftp 127.0.0.12 "$f"; done
end=$(($(date +%s) + 30))
while [ "$(date +%s)" -le "$end" ]; do
    ctl "$DATA" --json inventory --stuck-s 3 >"$TMPD/inv2.json"
    [ "$(json_field "$TMPD/inv2.json" 'd["phones"][1]["state"]')" = on_target ] && break
    sleep 0.5
done
got=$(counts "$TMPD/inv2.json")
[ "$got" = "4 0 0" ] && pass "phone 2 finished: all 4 on target" || fail "after phone 2 finished: $got"

if grep -q -E 'AddressSanitizer|LeakSanitizer|runtime error:' "$DAEMON_LOG" "$CTL_LOG"; then
    fail "a sanitizer complained"
fi
finish
