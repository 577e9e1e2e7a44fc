#!/bin/sh
# devices_bulk.sh: the devices list and bulk work at fleet scale on a real
# loadsd: effective columns as the phone gets them (a site rule from the
# address a phone asked from), search by SEP name, filters, sort; a bulk set
# of 500 devices selected by a search as one job with one audit row; a bulk
# set that fails (unknown load; an unknown MAC in the job) changing nothing;
# bulk delete; the CSV template; a partial CSV import and its rejected-rows
# file; and loadsctl's `devices set` / `devices delete` / `device list`.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/catalog_lib.sh"
. "$(dirname "$0")/admin_lib.sh"

need_cmd curl python3
ctl_setup
echo ready >"$ROOT/ready.txt"
pick_port APORT
daemon_start --admin-listen "127.0.0.1:$APORT"
BASE="http://127.0.0.1:$APORT"
D="$TMPD/data"
admin_login "$D"
viewer_login

req prof POST /api/v1/profiles $AC $JSON -d '{"name":"branch","peer_firmware_sharing":"off"}'
expect "a profile" 201
req site POST /api/v1/sites $AC $JSON -d '{"cidr":"127.0.0.0/8","load_server":"10.9.9.9"}'
expect "a site rule for the phones on loopback" 201

# ---- 600 devices from a CSV job: 500 on floor 3, 100 in the lobby ----
python3 - "$TMPD/fleet.csv" <<'PY'
import sys
with open(sys.argv[1], "w", newline="") as f:
    f.write("mac,model,profile,description,load,peer_firmware_sharing,load_server\r\n")
    for n in range(600):
        desc = "floor 3 desk %03d" % n if n < 500 else "lobby %d" % n
        f.write("00AA0000%04X,Cisco 7961,,%s,,,\r\n" % (n, desc))
PY
csv_import fleet '' $AC $CSV --data-binary "@$TMPD/fleet.csv"
expect "import 600 devices (a job)" done
check "600 added" fleet 'j["added"]' 600
req jobs GET "/api/v1/jobs?limit=5" $ADMIN
py jobs 'j["jobs"][0]["kind"] == "devices.csv" and j["jobs"][0]["summary"]["ok"] is True' \
    "the import is in the jobs list as one job"

# ---- the list: effective columns, search, filters, sort ----
req page GET "/api/v1/devices?limit=3" $VIEW
expect "a page" 200
py page 'j["total"] == 600 and len(j["devices"]) == 3' "a page of 3 of 600"
py page 'all(d["effective"]["peer_firmware_sharing"]["level"] == "enterprise" and d["effective"]["load_server"]["level"] == "enterprise" and d["effective"]["load"]["value"] == "" for d in j["devices"])' \
    "effective columns resolved (PFS and load server from the enterprise, no load)"
req sep GET "/api/v1/devices?q=SEP00AA00000007" $VIEW
py sep 'j["total"] == 1 and j["devices"][0]["mac"] == "00AA00000007"' "search by SEP name"
req proto PUT /api/v1/devices/00AA00000007 $AC $JSON -d '{"protocol":"SCCP"}'
expect "a 7961 set to run SCCP" 200
req sep2 GET "/api/v1/devices?q=SEP00AA00000007" $VIEW
py sep2 'j["devices"][0]["protocol"] == "SCCP"' "the list shows a device's own protocol"
req proto0 PUT /api/v1/devices/00AA00000007 $AC $JSON -d '{"protocol":null}'
expect "its protocol back to its model's" 200
req macq GET "/api/v1/devices?q=00:aa:00:00:01" $VIEW
check "search by a MAC with separators" macq 'j["total"]' 256
req floor GET "/api/v1/devices?q=floor%203&limit=1" $VIEW
check "search by description" floor 'j["total"]' 500
req badsort GET "/api/v1/devices?sort=colour" $VIEW
expect "an unknown sort column" 400
check "the refusal names sort" badsort 'j["field"]' sort
req badsite GET "/api/v1/devices?site=10.1.2.0/33" $VIEW
expect "a site filter that is not a prefix" 400

# A phone asks for its config from 127.0.0.1: the list shows the site rule.
timeout 20 curl -sS --max-time 15 -o "$TMPD/phone.xml" "tftp://127.0.0.1:$PORT/SEP00AA00000003.cnf.xml" ||
    fail "curl tftp SEP00AA00000003.cnf.xml"
deadline=$((SECONDS + 60))
while [ $SECONDS -lt $deadline ]; do
    req bysite GET "/api/v1/devices?site=127.0.0.0/8" $VIEW
    [ "$(jq_py bysite 'j["total"]')" = 1 ] && break
    sleep 0.2
done
py bysite 'j["total"] == 1 and j["devices"][0]["mac"] == "00AA00000003" and j["devices"][0]["effective"]["load_server"] == {"value": "10.9.9.9", "level": "site", "site": "127.0.0.0/8", "sends": "10.9.9.9", "gate": "none"} and j["devices"][0]["effective"]["seen_address"] == "127.0.0.1"' \
    "site filter: the phone that asked from 127.0.0.1, with the site rule's load server as it gets it"
grep -q '<loadServer>10.9.9.9</loadServer>' "$TMPD/phone.xml" && pass "the phone got the same load server" ||
    fail "the phone's config: $(head -c 300 "$TMPD/phone.xml")"
req nosite GET "/api/v1/devices?site=none&limit=1" $VIEW
check "site=none: the others" nosite 'j["total"]' 599

# ---- a bulk set that is refused changes nothing ----
req bad POST /api/v1/devices/bulk $AC $JSON -d '{"action":"set","filter":{"q":"floor 3"},"set":{"load":"NO-SUCH-LOAD"}}'
expect "bulk set of an unknown load without force" 409
req nochange GET "/api/v1/devices?load=none&limit=1" $VIEW
check "no device changed" nochange 'j["total"]' 600
req vbulk POST /api/v1/devices/bulk $VIEW $JSON -d '{"action":"set","filter":{"q":"floor"},"set":{"peer_firmware_sharing":"on"}}'
expect "a viewer cannot bulk-change" 403
req badset POST /api/v1/devices/bulk $AC $JSON -d '{"action":"set","filter":{"q":"floor"},"set":{}}'
expect "a bulk set that sets nothing" 400
req badsel POST /api/v1/devices/bulk $AC $JSON -d '{"action":"set","set":{"peer_firmware_sharing":"on"}}'
expect "a bulk set without a selection" 400
# The job itself: one MAC of 3 is unknown, so none changes (one transaction).
req partial POST /api/v1/devices/bulk $AC $JSON \
    -d '{"action":"set","macs":["00AA00000001","SEP00AA00000002","0000DEADBEEF"],"set":{"load_server":"10.1.1.1"}}'
expect "a bulk set naming an unknown MAC is queued" 202
job_wait pjob "$(jq_py partial 'j["id"]')"
py pjob 'j["state"] == "failed" and "0000DEADBEEF" in j["report"]["problems"][0]["message"]' \
    "the job fails and names the unknown MAC"
req pcheck GET "/api/v1/devices?q=SEP00AA0000000&limit=20" $VIEW
py pcheck 'all(d["load_server"] is None for d in j["devices"])' "none of the known MACs changed"

# ---- the bulk set: 500 devices selected by a search, one job, one audit row ----
before=$(audit_count device.set)
req bulk POST /api/v1/devices/bulk $AC $JSON \
    -d '{"action":"set","filter":{"q":"floor 3"},"set":{"load":"SIP-BULK.1-0","profile":"branch"},"force":true}'
expect "bulk set by search" 202
job_wait bjob "$(jq_py bulk 'j["id"]')"
py bjob 'j["state"] == "done" and j["kind"] == "devices.set" and j["report"]["matched"] == 500 and j["report"]["changed"] == 500' \
    "one job: 500 matched, 500 changed"
py bjob 'j["report"]["selection"] == {"filter": {"q": "floor 3"}} and j["report"]["set"] == {"profile": "branch", "load": "SIP-BULK.1-0"}' \
    "the report says what was selected and set"
[ "$(audit_count device.bulk_set)" = 1 ] && pass "one audit row for the bulk set" ||
    fail "bulk_set audit rows: $(audit_count device.bulk_set)"
py audit 'json.loads(j["entries"][0]["after"])["changed"] == 500 and json.loads(j["entries"][0]["after"])["selection"] == {"filter": {"q": "floor 3"}} and j["entries"][0]["object"] == "500 devices"' \
    "the audit row has the counts and the selection"
[ "$(audit_count device.set)" = "$before" ] && pass "no audit row per device" || fail "device.set rows were added"
req setload GET "/api/v1/devices?load=sip-bulk.1-0&limit=1000" $VIEW
py setload 'j["total"] == 500 and all(d["effective"]["load"]["value"] == "SIP-BULK.1-0" and d["effective"]["load"]["level"] == "device" and d["effective"]["peer_firmware_sharing"] == {"value": "off", "level": "profile"} and d["profile"] == "branch" for d in j["devices"])' \
    "the load filter finds the 500, with the load from the device and PFS from the profile"
req byprof GET "/api/v1/devices?profile=none&limit=1" $VIEW
check "the lobby kept no profile" byprof 'j["total"]' 100
req again POST /api/v1/devices/bulk $AC $JSON \
    -d '{"action":"set","filter":{"q":"floor 3"},"set":{"load":"SIP-BULK.1-0"},"force":true}'
job_wait ajob "$(jq_py again 'j["id"]')"
py ajob 'j["report"]["matched"] == 500 and j["report"]["changed"] == 0' "the same set again changes nothing"

# ---- sort ----
req sorted GET "/api/v1/devices?sort=-description&limit=1000" $VIEW
py sorted '[d["description"].lower() for d in j["devices"]] == sorted([d["description"].lower() for d in j["devices"]], reverse=True) and j["devices"][0]["description"] == "lobby 599"' \
    "sort=-description"
req sortload GET "/api/v1/devices?sort=load&limit=1000" $VIEW
py sortload '[d["effective"]["load"]["value"] for d in j["devices"]] == [""] * 100 + ["SIP-BULK.1-0"] * 500' \
    "sort=load (the effective load: none first)"
req sortls GET "/api/v1/devices?sort=-load_server&limit=1" $VIEW
check "sort=-load_server: the site rule's 10.9.9.9 first" sortls 'j["devices"][0]["mac"]' 00AA00000003

# ---- bulk delete ----
req del POST /api/v1/devices/bulk $AC $JSON -d '{"action":"delete","filter":{"q":"lobby"}}'
expect "bulk delete by search" 202
job_wait djob "$(jq_py del 'j["id"]')"
py djob 'j["state"] == "done" and j["kind"] == "devices.delete" and j["report"]["changed"] == 100' "100 removed in one job"
req left GET "/api/v1/devices?limit=1" $VIEW
check "500 left" left 'j["total"]' 500
[ "$(audit_count device.bulk_delete)" = 1 ] && pass "one audit row for the bulk delete" || fail "bulk_delete audit rows"
[ "$(audit_count device.remove)" = 0 ] && pass "no audit row per removed device" || fail "device.remove rows"

# ---- CSV: template, partial import, rejected rows ----
req tmpl GET /api/v1/devices/template $VIEW
expect "the CSV template" 200
head -n 1 "$TMPD/tmpl.body" | tr -d '\r' | grep -qx 'mac,model,profile,description,load,peer_firmware_sharing,load_server' &&
    pass "the template's header" || fail "template: $(head -c 200 "$TMPD/tmpl.body")"
csv_import tmplimp '' $AC $CSV --data-binary "@$TMPD/tmpl.body"
expect "the template imports as it is" done
printf '%s\r\n' 'mac,model,profile,description,load,peer_firmware_sharing,load_server' \
    '00BB00000001,Cisco 7961,,good one,,,' \
    '00BB00000002,Nokia 3310,,"unknown model, quoted",,,' \
    'not-a-mac,Cisco 7961,,bad mac,,,' \
    '00BB00000003,Cisco 7961,,good two,,on,' \
    '00BB00000001,Cisco 7961,,the same MAC again,,,' \
    '00BB00000004,Cisco 7961,,bad pfs,,maybe,' \
    '00BB00000005,Cisco 7961,branch,good three,,,' >"$TMPD/mixed.csv"
csv_import strict '' $AC $CSV --data-binary "@$TMPD/mixed.csv"
expect "the same file without partial" failed
req strictn GET "/api/v1/devices?q=SEP00BB0000&limit=1" $VIEW
check "all or nothing: nothing" strictn 'j["total"]' 0
csv_import part '?partial=1' $AC $CSV --data-binary "@$TMPD/mixed.csv"
expect "a partial import" done
py part 'j["added"] == 3 and j["rejected"] == 4 and j["rows"] == 7' "3 added, 4 rejected"
PJOB=$JOB_ID
req rej GET "/api/v1/jobs/$PJOB/rejected.csv" $VIEW
expect "the rejected rows' file" 200
case "$(header rej Content-Type)" in text/csv*) pass "rejected rows are text/csv" ;; *) fail "Content-Type $(header rej Content-Type)" ;; esac
python3 - "$TMPD/rej.body" <<'PY' && pass "the rejected file: the rows as written, each with its reason" || fail "rejected: $(head -c 600 "$TMPD/rej.body")"
import csv, io, sys
rows = list(csv.reader(io.StringIO(open(sys.argv[1], newline="").read())))
assert rows[0] == ["mac", "model", "profile", "description", "load", "peer_firmware_sharing", "load_server", "reason"], rows[0]
body = {r[0] + "|" + r[3]: r[7] for r in rows[1:]}
assert len(rows) == 5, rows
assert 'unknown model "Nokia 3310"' in body["00BB00000002|unknown model, quoted"], body
assert "bad MAC address" in body["not-a-mac|bad mac"], body
assert "already on line 2" in body["00BB00000001|the same MAC again"], body
assert "bad peer_firmware_sharing" in body["00BB00000004|bad pfs"], body
PY
req good GET "/api/v1/devices?q=SEP00BB0000&limit=10" $VIEW
py good 'sorted(d["description"] for d in j["devices"]) == ["good one", "good three", "good two"]' "the good rows are in"
# Fixed in place (the reason column stays), the file imports.
sed -e 's/Nokia 3310/Cisco 7961/' -e 's/,maybe,/,off,/' -e '/bad mac/d' -e '/the same MAC again/d' \
    "$TMPD/rej.body" >"$TMPD/fixed.csv"
csv_import fixed '' $AC $CSV --data-binary "@$TMPD/fixed.csv"
expect "the fixed rejected file imports (its reason column ignored)" done
check "2 more added" fixed 'j["added"]' 2
req norej GET "/api/v1/jobs/$JOB_ID/rejected.csv" $VIEW
expect "a job that rejected nothing has no file" 404

# ---- loadsctl: the same over the data directory ----
ctl "$D" --json device list --search "floor 3" --sort mac --limit 1000 >"$TMPD/ctl_list.json" ||
    fail "loadsctl device list: $CTL_ERR"
req apilist GET "/api/v1/devices?q=floor%203&sort=mac&limit=1000" $VIEW
python3 -c 'import json,sys; a=json.load(open(sys.argv[1]))["devices"]; c=json.load(open(sys.argv[2])); sys.exit(0 if a == c else 1)' \
    "$TMPD/apilist.body" "$TMPD/ctl_list.json" && pass "loadsctl device list --json: the API's rows" ||
    fail "loadsctl device list differs"
if ctl "$D" devices set --search "floor 3" --load NO-SUCH-LOAD >/dev/null; then
    fail "loadsctl devices set of an unknown load"
else
    case "$CTL_ERR" in *"nothing changed"*"NO-SUCH-LOAD"*) pass "loadsctl devices set: an unknown load is refused" ;;
    *) fail "loadsctl refusal: $CTL_ERR" ;; esac
fi
ctl "$D" devices set --search "floor 3" >/dev/null && fail "devices set without a value" || pass "devices set needs a value"
ctl "$D" devices delete >/dev/null && fail "devices delete without a selection" || pass "devices delete needs a selection"
ctl "$D" --json devices set --search "desk 0" --pfs on --load-server none >"$TMPD/ctl_set.json" ||
    fail "loadsctl devices set: $CTL_ERR"
python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); sys.exit(0 if r["matched"] == 100 and r["changed"] == 100 and r["ok"] else 1)' \
    "$TMPD/ctl_set.json" && pass "loadsctl devices set --search --json: 100 changed" || fail "ctl set: $(cat "$TMPD/ctl_set.json")"
req pfs GET "/api/v1/devices?q=desk%200&limit=1000" $VIEW
py pfs 'j["total"] == 100 and all(d["effective"]["peer_firmware_sharing"] == {"value": "on", "level": "device"} and d["effective"]["load_server"]["value"] == "" for d in j["devices"])' \
    "the API sees loadsctl's change"
ctl "$D" --json devices delete --where-profile none >"$TMPD/ctl_del.json" || fail "loadsctl devices delete: $CTL_ERR"
python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); sys.exit(0 if r["action"] == "delete" and r["changed"] == 5 else 1)' \
    "$TMPD/ctl_del.json" && pass "loadsctl devices delete --where-profile none" || fail "ctl delete: $(cat "$TMPD/ctl_del.json")"
ctl "$D" devices template | head -n 1 | grep -q '^mac,model' && pass "loadsctl devices template" || fail "devices template"

daemon_stop
finish
