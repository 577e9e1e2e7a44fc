#!/bin/sh
# fleet_gates.sh: what the admin API counts goes through the fleet gate as the
# phones get it (docs/FLEET.md), with the real daemon and a branch reporting
# with its token over curl: with stage_first on and the branch lacking the
# new load, the devices list (columns, the gate and load_server filters, the
# load sort), /api/v1/stats, the loads' usage and GET /api/v1/fleet/gates
# show the held-back load and the reason; with stage_first off, no load
# server and the central; once the branch reports the load complete, the
# branch and the new load.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/admin_lib.sh"

cnf_test_setup python3 xmllint
D1=001122AABB01
D2=001122AABB02
D3=001122AABB00 # first in MAC order: the load sort must move it
OLD=SIP41.9-4-2SR3-1S
NEW=SIP41.9-4-2SR4-1S
BRANCH_ADDR=10.77.0.5
WHY="branch berlin-1 holds 3 of 5 files of $NEW, 60 %, ETA 4 min"

ctl() {
    out=$("$LOADSCTL" --data-dir "$DATA" "$@" 2>&1) || die "loadsctl $*: $out"
}

pick_port PORT
pick_port APORT
daemon_start --admin-listen "127.0.0.1:$APORT"
BASE="http://127.0.0.1:$APORT"
admin_login "$DATA"
viewer_login

# report HOLDING...: berlin-1 reports over the API with its token
# (LOAD:STATE:HAVE/TOTAL[:ETA]). Setup: a refusal stops the test.
report() {
    loads=$(python3 - "$@" <<'PY'
import json, sys
out = []
for h in sys.argv[1:]:
    parts = h.split(":")
    have, total = (int(x) for x in parts[2].split("/"))
    x = {"name": parts[0], "state": parts[1], "files_have": have, "files_total": total,
         "bytes_have": have * 1000, "bytes_total": total * 1000}
    if len(parts) > 3:
        x["eta_s"] = int(parts[3])
    out.append(x)
print(json.dumps({"version": "0.1.0", "time": 1765000000, "free_bytes": 1, "loads": out,
                  "phones": []}))
PY
)
    req rep POST /api/v1/fleet/report -H "Authorization: Bearer $TOKEN" $JSON -d "$loads"
    [ "$STATUS" = 200 ] || die "report $*: got $STATUS ($(head -c 300 "$TMPD/rep.body"))"
}

# wait_cnf MAC LOAD SERVER: fetches the device's config until
# loadInformation is LOAD and loadServer SERVER (at most 5 s). Setup.
wait_cnf() {
    i=0
    while [ $i -lt 50 ]; do
        rm -f "$TMPD/cnf.xml"
        if timeout 20 curl -sS -g --max-time 15 -o "$TMPD/cnf.xml" \
            "tftp://127.0.0.1:$PORT/SEP$1.cnf.xml" 2>/dev/null &&
            [ "$(xmllint --xpath 'string(/device/loadInformation)' "$TMPD/cnf.xml")" = "$2" ] &&
            [ "$(xmllint --xpath 'string(/device/vendorConfig/loadServer)' "$TMPD/cnf.xml")" = "$3" ]; then
            return 0
        fi
        sleep 0.1
        i=$((i + 1))
    done
    die "SEP$1.cnf.xml never named \"$2\" and loadServer \"$3\""
}

# ---- two loads, three devices, a branch two of them name -----------------
signed_loads "$DATA" $OLD $NEW
ctl enterprise set cm_address cucm1.example
ctl default-load set 7961 "$OLD"
ctl branch add berlin-1 --address "$BRANCH_ADDR"
TOKEN=$(printf '%s\n' "$out" | sed -n 's/^token //p')
[ -n "$TOKEN" ] || die "branch add printed no token: $out"
for m in $D1 $D2 $D3; do
    ctl device add "$m" --model 7961
done
ctl device set $D1 load_server branch:berlin-1
ctl device set $D2 load_server branch:berlin-1

# Both phones run the old load from the branch (their last complete load).
report "$OLD:complete:5/5"
wait_cnf $D1 "$OLD" "$BRANCH_ADDR"
wait_cnf $D2 "$OLD" "$BRANCH_ADDR"

# ---- stage_first on, the branch staging the new load ----------------------
ctl enterprise set stage_first on
ctl default-load set 7961 "$NEW"
report "$OLD:complete:5/5" "$NEW:staging:3/5:240"
wait_cnf $D1 "$OLD" "$BRANCH_ADDR"

req l1 GET "/api/v1/devices?limit=10" $VIEW
expect "devices list" 200
check "stage first: the list shows the held-back load the config names" l1 \
    "[r['effective']['load']['served'] for r in j['devices'] if r['mac'] == '$D1'][0]" "$OLD"
check "stage first: the load server the config names is the branch, the gate held_back" l1 \
    "[(r['effective']['load_server']['sends'], r['effective']['load_server']['gate']) for r in j['devices'] if r['mac'] == '$D2'][0]" \
    "('$BRANCH_ADDR', 'held_back')"
check "a device without a load server: not gated, the new load" l1 \
    "[(r['effective']['load']['served'], r['effective']['load_server']['sends'], r['effective']['load_server']['gate']) for r in j['devices'] if r['mac'] == '$D3'][0]" \
    "('$NEW', '', 'none')"
view_check l2 "/api/v1/devices?gate=held_back" "the gate filter: the two held-back phones" \
    "[r['mac'] for r in j['devices']]" "['$D1', '$D2']"
view_check l3 "/api/v1/devices?load_server=branch:BERLIN-1" "the load_server filter (any case)" \
    "[r['mac'] for r in j['devices']]" "['$D1', '$D2']"
view_check l4 "/api/v1/devices?sort=load" "sort by load: by the load the config names (the held-back one first)" \
    "[r['mac'] for r in j['devices']]" "['$D1', '$D2', '$D3']"
req l5 GET "/api/v1/devices?gate=sideways" $VIEW
expect "an unknown gate is refused" 400

view_check s1 /api/v1/stats "stats: two phones held back by stage_first, none sent to the central" \
    "(j['devices']['fleet_gate']['held_back'], j['devices']['fleet_gate']['central'], j['devices']['fleet_gate']['holder'])" \
    "(2, 0, 0)"
view_check u1 /api/v1/loads "loads usage: the old load runs on the two held-back phones, the new on one" \
    "(j['usage']['$OLD']['devices'], j['usage']['$NEW']['devices'])" "(2, 1)"

req g1 GET /api/v1/fleet/gates $VIEW
expect "fleet gates" 200
check "gates: one group, berlin-1 held back with the branch's progress" g1 \
    "[(g['holder'], g['outcome'], g['devices'], g['why'], g['examples'], g['address']) for g in j['groups']]" \
    "[('berlin-1', 'held_back', 2, '$WHY', ['$D1', '$D2'], '$BRANCH_ADDR')]"
check "gates: the group's text and its devices-list filter" g1 \
    "(j['groups'][0]['text'], j['groups'][0]['filter'])" \
    "('berlin-1: 2 phone(s) wait for their new load there (stage first): $WHY', {'load_server': 'branch:berlin-1', 'gate': 'held_back'})"
check "gates: totals" g1 "j['totals']" "{'holder': 0, 'central': 0, 'held_back': 2, 'not_gated': 1}"

# A bulk change selects by the gate too, and its report says so.
req bulk POST /api/v1/devices/bulk $AC $JSON \
    -d '{"action":"set","filter":{"gate":"held_back","load_server":"branch:berlin-1"},"set":{"peer_firmware_sharing":"off"}}'
expect "bulk set of the held-back phones" 202
job_wait bjob "$(jq_py bulk 'j["id"]')"
check "the bulk job: the two held-back phones, the selection as given" bjob \
    "(j['state'], j['report']['matched'], j['report']['selection'])" \
    "('done', 2, {'filter': {'load_server': 'branch:berlin-1', 'gate': 'held_back'}})"

# ---- stage_first off: the phones fetch the new load from the central ------
ctl enterprise set stage_first off
wait_cnf $D1 "$NEW" ""
view_check l6 "/api/v1/devices?gate=central" "no stage first: the list shows the new load and no load server" \
    "[(r['mac'], r['effective']['load']['served'], r['effective']['load_server']['sends']) for r in j['devices']]" \
    "[('$D1', '$NEW', ''), ('$D2', '$NEW', '')]"
view_check s2 /api/v1/stats "stats: two phones fetch from the central" \
    "(j['devices']['fleet_gate']['held_back'], j['devices']['fleet_gate']['central'])" "(0, 2)"
view_check g2 /api/v1/fleet/gates "gates: berlin-1's phones fetch from the central, and why" \
    "[g['text'] for g in j['groups']]" "['berlin-1: 2 phone(s) fetch from the central: $WHY']"

# ---- the branch holds the new load: the phones are sent to it -------------
ctl enterprise set stage_first on
report "$OLD:complete:5/5" "$NEW:complete:5/5"
wait_cnf $D1 "$NEW" "$BRANCH_ADDR"
view_check l7 "/api/v1/devices?load_server=branch:berlin-1" "complete: the list shows the new load from the branch" \
    "[(r['effective']['load']['served'], r['effective']['load_server']['sends'], r['effective']['load_server']['gate']) for r in j['devices']]" \
    "[('$NEW', '$BRANCH_ADDR', 'holder'), ('$NEW', '$BRANCH_ADDR', 'holder')]"
view_check s3 /api/v1/stats "stats: two phones sent to their branch" \
    "(j['devices']['fleet_gate']['holder'], j['devices']['fleet_gate']['held_back'])" "(2, 0)"
view_check g3 /api/v1/fleet/gates "gates: berlin-1 holds the load, its phones fetch from it" \
    "[(g['outcome'], g['text']) for g in j['groups']]" \
    "[('holder', 'berlin-1: 2 phone(s) fetch from it: branch berlin-1 holds $NEW complete')]"

# A branch's token reads none of it.
req g4 GET /api/v1/fleet/gates -H "Authorization: Bearer $TOKEN"
expect "a branch token cannot read the gates" 403

finish
