#!/bin/sh
# fleet_api.sh: fleet control at a real central loadsd, with curl
# (docs/FLEET.md): a branch added through the API gets its token once; the
# token reports and reads its want list and can do nothing else; a wrong
# token is refused and audited (rate-limited); viewers read only; a report
# over the limits or breaking a rule is refused and stores nothing; a
# stored report shows as the branch's holdings; the want list names the
# loads of the devices the branch serves, tagged: a poll with the list's
# tag (If-None-Match) gets 304 until the list moves; removal revokes the
# token.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/admin_lib.sh"

need_cmd curl python3
make_tmpdir
echo ready >"$ROOT/ready.txt"
pick_port APORT
daemon_start --admin-listen "127.0.0.1:$APORT"
BASE="http://127.0.0.1:$APORT"
admin_login "$TMPD/data"
viewer_login

# report FILE LOADS [EXTRA]: writes a report of LOADS holdings (L00000...,
# the first staging 3 of 5 files, the rest complete) to FILE; EXTRA is a
# Python statement run on it as r before it is written.
report() {
    python3 - "$1" "$2" "${3:-pass}" <<'PY'
import json, sys
path, n, extra = sys.argv[1], int(sys.argv[2]), sys.argv[3]
loads = [{"name": "L%05d" % i, "state": "complete", "files_have": 2, "files_total": 2,
          "bytes_have": 2000, "bytes_total": 2000} for i in range(n)]
if loads:
    loads[0].update(state="staging", files_have=3, files_total=5, bytes_have=64000000,
                    bytes_total=105000000, eta_s=240)
r = {"version": "0.1.0", "time": 1765000000, "free_bytes": 52428800000, "loads": loads,
     "phones": [{"addr": "198.19.0.10", "load": "L00000", "files_done": 5, "files_total": 5,
                 "at": 1765000000}], "future_member": {"ignored": True}}
exec(extra)
open(path, "w").write(json.dumps(r))
PY
}

# ---- a branch added: the token once ----
req add POST /api/v1/branches $AC $JSON -d '{"name":"berlin-1","address":"198.51.100.7"}'
expect "admin adds branch berlin-1" 201
TOKEN=$(jq_py add 'j["token"]')
case "$TOKEN" in lsb_???????????????????????????????????????????) pass "the answer holds the token (lsb_ + 43)" ;; *) fail "token '$TOKEN'" ;; esac
BR="Authorization: Bearer $TOKEN"
req list GET /api/v1/branches $ADMIN
expect "list branches" 200
py list "len(j['branches']) == 1 and j['branches'][0]['name'] == 'berlin-1' and j['branches'][0]['address'] == '198.51.100.7' and j['branches'][0]['last_report'] is None" \
    "listed with its address, never reported"
if grep -q "$TOKEN" "$TMPD/list.body"; then fail "the list shows the token"; else pass "the list does not show the token"; fi
req show0 GET /api/v1/branches/berlin-1 $ADMIN
if grep -q "${TOKEN#lsb_}" "$TMPD/show0.body" "$TMPD/data/catalog.db"* 2>/dev/null; then
    fail "the token is in the branch's answer or the database"
else
    pass "the token is stored only hashed and shown only once"
fi
req dup POST /api/v1/branches $AC $JSON -d '{"name":"BERLIN-1","address":"198.51.100.8"}'
expect "the same name in another case" 409
req badname POST /api/v1/branches $AC $JSON -d '{"name":"a/b","address":"198.51.100.8"}'
expect "a name with a slash" 400
check "the refusal names the field" badname 'j.get("field")' name
req badaddr POST /api/v1/branches $AC $JSON -d '{"name":"x","address":"not a host!"}'
expect "an address that is not a host" 400
check "the refusal names the address" badaddr 'j.get("field")' address
req unknown POST /api/v1/branches $AC $JSON -d '{"name":"y","address":"198.51.100.8","token":"lsb_mine"}'
expect "a member the API does not take (a token of one's own)" 400
check "the refusal names it" unknown 'j.get("field")' token

# ---- viewers read only ----
req vadd POST /api/v1/branches $VIEW $JSON -d '{"name":"v-1","address":"198.51.100.9"}'
expect "a viewer cannot add a branch" 403
req vdel DELETE /api/v1/branches/berlin-1 $VIEW
expect "a viewer cannot remove a branch" 403
req vlist GET /api/v1/branches $VIEW
expect "a viewer lists branches" 200
req nocsrf POST /api/v1/branches $ADMIN $JSON -d '{"name":"c-1","address":"198.51.100.9"}'
expect "an admin without the CSRF token" 403
check "refused as csrf" nocsrf 'j["error"]' csrf

# ---- the token: the fleet calls and nothing else ----
report "$TMPD/r1.json" 2
req rep1 POST /api/v1/fleet/report -H "$BR" $JSON --data-binary "@$TMPD/r1.json"
expect "the branch reports" 200
py rep1 "j['branch'] == 'berlin-1' and j['want'] == [] and j['report_every_s'] == 60 and j['max_age_s'] == 300" \
    "the answer: branch, want, report_every_s, max_age_s"
req want GET /api/v1/fleet/want -H "$BR"
expect "the branch reads its want list" 200
py want "j['branch'] == 'berlin-1' and j['want'] == []" "the want list answers like a report"
for p in /api/v1/loads /api/v1/devices /api/v1/branches /api/v1/branches/berlin-1 /api/v1/audit /api/v1/session; do
    req tok GET "$p" -H "$BR"
    expect "the branch token on GET $p" 403
done
check "refused as forbidden" tok 'j["error"]' forbidden
req tokpost POST /api/v1/branches -H "$BR" $JSON -d '{"name":"evil","address":"198.51.100.66"}'
expect "the branch token cannot add a branch" 403
req tokdel DELETE /api/v1/session -H "$BR"
expect "the branch token cannot log out anyone" 403
req adminrep POST /api/v1/fleet/report $AC $JSON --data-binary "@$TMPD/r1.json"
expect "an admin's session cannot report as a branch" 403
req adminwant GET /api/v1/fleet/want $ADMIN
expect "an admin's session has no want list" 403

# ---- the holdings as reported ----
req show GET /api/v1/branches/berlin-1 $ADMIN
expect "show berlin-1" 200
py show "j['last_report']['fresh'] and 0 <= j['last_report']['age_s'] <= 120 and j['last_report']['version'] == '0.1.0' and j['last_report']['free_bytes'] == 52428800000 and j['last_report']['time'] == 1765000000" \
    "the latest report: fresh, version, free space, the branch's time"
py show "[(x['name'], x['state'], x['files_have'], x['files_total'], x['percent'], x['eta_s']) for x in j['loads']] == [('L00000', 'staging', 3, 5, 61, 240), ('L00001', 'complete', 2, 2, 100, None)]" \
    "holdings: state, files, percent, ETA"
py show "j['loads_complete'] == 1 and j['loads_total'] == 2 and j['want'] == []" "holding counts; nothing wanted yet"
RECEIVED=$(jq_py show 'j["last_report"]["received_at"]')

# ---- the want list: the effective loads of the devices the branch serves ----
req dev1 POST /api/v1/devices $AC $JSON -d '{"mac":"001122330001","model":"Cisco 7961","load":"SIP41.9-4-2SR3-1S","load_server":"branch:berlin-1","force":true}'
expect "a device whose load server is the branch" 201
req dev2 POST /api/v1/devices $AC $JSON -d '{"mac":"001122330002","model":"Cisco 7961","load":"SIP42.9-4-2SR3-1S","load_server":"10.9.9.9","force":true}'
expect "a device served elsewhere" 201
req want2 GET /api/v1/fleet/want -H "$BR"
py want2 "j['want'] == ['SIP41.9-4-2SR3-1S']" "the want list names the branch's device's load only"
req rep2 POST /api/v1/fleet/report -H "$BR" $JSON --data-binary "@$TMPD/r1.json"
py rep2 "j['want'] == ['SIP41.9-4-2SR3-1S']" "a report's answer carries the same want list"
req show1 GET /api/v1/branches/berlin-1 $ADMIN
py show1 "j['want'] == ['SIP41.9-4-2SR3-1S']" "the branch's page shows what it must hold"
RECEIVED=$(jq_py show1 'j["last_report"]["received_at"]')

# ---- polling the want list: 304 while its tag (ETag) stands ----
py want2 "len(j['want_tag']) == 32 and j['want_poll_s'] == 5" "the want list carries its tag and the poll period"
TAG=$(jq_py want2 'j["want_tag"]')
[ "$(header want2 ETag)" = "\"$TAG\"" ] && pass "GET /fleet/want: ETag \"$TAG\"" ||
    fail "GET /fleet/want: ETag \"$(header want2 ETag)\", want_tag $TAG"
py rep2 "j['want_tag'] == '$TAG' and j['want_poll_s'] == 5" "a report's answer carries the same tag"
req poll GET /api/v1/fleet/want -H "$BR" -H "If-None-Match: \"$TAG\""
expect "the branch polls with the list's tag: not modified" 304
[ ! -s "$TMPD/poll.body" ] && pass "the 304 has no body" || fail "the 304 has a body: $(head -c 200 "$TMPD/poll.body")"
[ "$(header poll ETag)" = "\"$TAG\"" ] && pass "the 304 names the tag" || fail "the 304's ETag: \"$(header poll ETag)\""
req pollw GET /api/v1/fleet/want -H "$BR" -H "If-None-Match: \"0123\", W/\"$TAG\""
expect "a list of tags, the weak form among them: not modified" 304
req pollold GET /api/v1/fleet/want -H "$BR" -H "If-None-Match: \"0123\""
expect "another tag: the whole list" 200
py pollold "j['want'] == ['SIP41.9-4-2SR3-1S'] and j['want_tag'] == '$TAG'" "the whole list, with its tag"
req polladmin GET /api/v1/fleet/want $ADMIN -H "If-None-Match: \"$TAG\""
expect "an admin's session with the tag: refused, not 304" 403
req dev3 POST /api/v1/devices $AC $JSON -d '{"mac":"001122330003","model":"Cisco 7961","load":"SIP43.9-4-2SR3-1S","load_server":"branch:berlin-1","force":true}'
expect "another device at the branch, another load" 201
req poll2 GET /api/v1/fleet/want -H "$BR" -H "If-None-Match: \"$TAG\""
expect "the list moved: the poll with the old tag gets it" 200
py poll2 "j['want'] == ['SIP41.9-4-2SR3-1S', 'SIP43.9-4-2SR3-1S'] and len(j['want_tag']) == 32 and j['want_tag'] != '$TAG'" \
    "the new list, a new tag"
req dev3rm DELETE /api/v1/devices/001122330003 $AC
expect "that device removed" 200
req poll3 GET /api/v1/fleet/want -H "$BR" -H "If-None-Match: \"$TAG\""
expect "the list as it was: its old tag holds again" 304

# ---- refusals store nothing ----
# refused NAME LOADS EXTRA LABEL STATUS [DETAIL]: a report (as `report` makes
# it) sent as the branch is refused with STATUS, and DETAIL when given.
refused() {
    report "$TMPD/$1.json" "$2" "$3"
    req "$1" POST /api/v1/fleet/report -H "$BR" $JSON --data-binary "@$TMPD/$1.json"
    expect "$4" "$5"
    [ -z "$6" ] || check "$4: the refusal says why" "$1" 'j["detail"]' "$6"
}
refused many 4097 pass "a report of 4,097 loads" 413 "loads: more than 4096 entries"
refused big 1 'r["pad"] = "x" * (4 * 1024 * 1024)' "a report over 4 MiB" 413 \
    "the request body is larger than 4 MiB"
refused dupl 2 'r["loads"][1]["name"] = "l00000"' "a load named twice" 400 "loads: l00000 is named twice"
refused cnt 1 'r["loads"][0]["files_have"] = 9' "more files than the load has" 400 \
    "loads[0].files_have: more than files_total"
refused addr 1 'r["phones"][0]["addr"] = "198.19.0.300"' "a phone address that is not one" 400 \
    "phones[0].addr: not an IPv4 or IPv6 address"
refused state 1 'r["loads"][0]["state"] = "done"' "an unknown state" 400
refused notjson 1 'r = "{"' "not JSON" 400
sleep 1.1 # a stored report would move received_at
req show2 GET /api/v1/branches/berlin-1 $ADMIN
py show2 "len(j['loads']) == 2 and j['last_report']['received_at'] == $RECEIVED" "the refused reports stored nothing"

# ---- a wrong token: 401, audited once a minute per address ----
WRONG="Authorization: Bearer lsb_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
before=$(audit_count fleet.report.refused)
req wrong POST /api/v1/fleet/report -H "$WRONG" $JSON --data-binary "@$TMPD/r1.json"
expect "a wrong token" 401
check "refused as bad_token" wrong 'j["error"]' bad_token
req audit1 GET "/api/v1/audit?limit=5&action=fleet.report.refused" $ADMIN
py audit1 "j['entries'][0]['object'] == '127.0.0.1' and json.loads(j['entries'][0]['after'])['addr'] == '127.0.0.1'" \
    "the audit row names the peer's address"
[ "$before" = 0 ] && [ "$(audit_count fleet.report.refused)" = 1 ] && pass "one audit row" ||
    fail "audit rows: $before before, $(audit_count fleet.report.refused) after"
for i in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do
    curl -s -o /dev/null -X GET -H "Authorization: Bearer junk$i" "$BASE/api/v1/fleet/want"
done
req wrong2 GET /api/v1/fleet/want -H "Authorization: Bearer nonsense"
expect "a malformed token on the want list" 401
[ "$(audit_count fleet.report.refused)" = 1 ] && pass "a flood of 21 more writes no more audit rows this minute" ||
    fail "audit rows after the flood: $(audit_count fleet.report.refused)"
req noauth GET /api/v1/fleet/want
expect "no token at all" 401
req noauthtag GET /api/v1/fleet/want -H "If-None-Match: \"$TAG\""
expect "no token, the list's tag: refused, not 304" 401

# ---- a new address ----
req vput PUT /api/v1/branches/berlin-1 $VIEW $JSON -d '{"address":"198.51.100.77"}'
expect "a viewer cannot change a branch's address" 403
req badput PUT /api/v1/branches/berlin-1 $AC $JSON -d '{"address":"not a host!"}'
expect "a new address that is not a host" 400
check "the refusal names the address" badput 'j.get("field")' address
req put PUT /api/v1/branches/berlin-1 $AC $JSON -d '{"address":"198.51.100.77"}'
expect "a new address" 200
check "the answer has it" put 'j["address"]' 198.51.100.77
req put404 PUT /api/v1/branches/nobody $AC $JSON -d '{"address":"198.51.100.77"}'
expect "no such branch" 404
[ "$(audit_count branch.address)" = 1 ] && pass "the change is audited" ||
    fail "branch.address audit rows: $(audit_count branch.address)"

# ---- removal ----
req del DELETE /api/v1/branches/berlin-1 $AC
expect "remove berlin-1" 200
req gone POST /api/v1/fleet/report -H "$BR" $JSON --data-binary "@$TMPD/r1.json"
expect "a removed branch's token" 401
req show404 GET /api/v1/branches/berlin-1 $ADMIN
expect "the removed branch" 404
[ "$(audit_count branch.add)" -ge 1 ] && [ "$(audit_count branch.remove)" = 1 ] &&
    pass "adding and removing are audited" || fail "branch audit rows"

daemon_stop
finish
