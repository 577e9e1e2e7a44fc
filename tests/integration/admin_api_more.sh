#!/bin/sh
# admin_api_more.sh: the admin API's uploads, jobs and provisioning resources
# on a real loadsd, with curl: a bundle uploaded, imported in the background
# and verified; the upload cap (413), roles and CSRF on uploads; models,
# enterprise, profiles, devices (paging, search, effective, rendered config,
# CSV import/export), sites, problems, stats and live TFTP transfers.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/admin_lib.sh"

need_cmd curl python3 openssl
make_tmpdir
MKBUNDLE="$top_srcdir/tests/tools/mkbundle.py"
echo ready >"$ROOT/ready.txt"
head -c 8000000 /dev/urandom >"$ROOT/slow.bin" || die "cannot write slow.bin"

python3 "$MKBUNDLE" keys "$TMPD/keys" >/dev/null || die "mkbundle keys failed"
python3 "$MKBUNDLE" bundle --keys "$TMPD/keys" --out "$TMPD/fw.zip" --format zip \
    --load SIP41.9-4-2SR3-1S --component-headers all >/dev/null || die "mkbundle bundle failed"
python3 "$MKBUNDLE" bundle --keys "$TMPD/keys" --out "$TMPD/fw2.tgz" --format tgz \
    --load SIP42.9-4-2SR3-1S --seed 7 --component-headers all >/dev/null || die "mkbundle bundle failed"
python3 "$MKBUNDLE" bundle --keys "$TMPD/keys" --out "$TMPD/fw3.zip" --format zip \
    --load SIP41.9-4-2SR3-1S --seed 11 --component-headers all >/dev/null || die "mkbundle bundle failed"
head -c 1500000 /dev/urandom >"$TMPD/big.zip"

pick_port APORT
daemon_start --admin-listen "127.0.0.1:$APORT" --upload-max-mb 1 --retries 20
BASE="http://127.0.0.1:$APORT"

admin_login "$TMPD/data"

# ---- a viewer, a token ----
req adduser POST /api/v1/users $AC $JSON -d '{"name":"viewer1","role":"viewer","password":"viewer-password"}'
expect "add a viewer" 201
req vlogin POST /api/v1/session $JSON -c "$TMPD/viewer.jar" -d '{"user":"viewer1","password":"viewer-password"}'
VCSRF=$(jq_py vlogin 'j["csrf_token"]')
VIEW="-b $TMPD/viewer.jar -H X-CSRF-Token:$VCSRF"
req tok POST /api/v1/tokens $AC $JSON -d '{"name":"ci"}'
TOKEN=$(jq_py tok 'j["token"]')

# ---- trust the vendor certificate through the API ----
python3 -c 'import json,sys; print(json.dumps({"pem": open(sys.argv[1]).read(), "role": "vendor"}))' \
    "$TMPD/keys/vendor.pem" >"$TMPD/trust.json"
req trust POST /api/v1/trust $AC $JSON --data-binary "@$TMPD/trust.json"
expect "trust the vendor certificate" 201

# ---- uploads: refusals first ----
req up_viewer POST /api/v1/uploads $VIEW -F "file=@$TMPD/fw.zip"
expect "a viewer cannot upload" 403
# A refusal must reach a client that sends its body without waiting (no
# Expect: 100-continue): answered and closed with the body unread, the
# kernel resets the connection and curl may see no answer at all (000).
got=""
for _ in $(seq 20); do
    req up_viewer_n POST /api/v1/uploads $VIEW -H "Expect:" -F "file=@$TMPD/big.zip"
    got="$got $STATUS"
done
[ "$(echo $got | tr ' ' '\n' | sort -u)" = 403 ] &&
    pass "20 refused 1.5 MB uploads sent at once: every answer a 403" ||
    fail "20 refused 1.5 MB uploads sent at once: answers$got"
req up_nocsrf POST /api/v1/uploads $ADMIN -F "file=@$TMPD/fw.zip"
expect "upload without X-CSRF-Token" 403
check "CSRF refusal names csrf" up_nocsrf 'j["error"]' csrf
req up_big POST /api/v1/uploads $AC -F "file=@$TMPD/big.zip"
expect "upload over --upload-max-mb 1 (Content-Length)" 413
check "413 is a JSON error" up_big 'j["error"]' too_large
req up_bigchunk POST /api/v1/uploads $AC -H "Transfer-Encoding: chunked" -F "file=@$TMPD/big.zip"
expect "upload over the cap (chunked)" 413
req up_json POST /api/v1/uploads $AC $JSON -d '{}'
expect "upload that is not multipart" 415
req up_nofile POST /api/v1/uploads $AC -F "other=@$TMPD/fw.zip"
expect "upload without the file field" 400
check "400 names the field" up_nofile 'j["field"]' file
leftover=$(find "$TMPD/data/spool" -type f | wc -l)
[ "$leftover" -eq 0 ] && pass "refused uploads leave no spool file" || fail "$leftover spool file(s) left"

# ---- an upload that imports ----
req up POST /api/v1/uploads $AC -F "file=@$TMPD/fw.zip;filename=../../x/fw.zip"
expect "upload a bundle" 202
JOB=$(jq_py up 'j["id"]')
check "the answer is a queued job" up 'j["state"]' queued
job_wait job "$JOB"
state=$(jq_py job 'j["state"]')
[ "$state" = done ] && pass "job $JOB ends done" || fail "job $JOB: state $state ($(head -c 400 "$TMPD/job.body"))"
check "job source is the cleaned file name" job 'j["source"]' fw.zip
check "job report lists the load" job 'j["report"]["loads"][0]["name"]' SIP41.9-4-2SR3-1S
check "job report: no problems" job 'len(j["report"]["problems"])' 0
req load GET /api/v1/loads/SIP41.9-4-2SR3-1S $ADMIN
expect "the uploaded load is in the catalog" 200
check "the uploaded load is verified" load 'j["status"]' verified
leftover=$(find "$TMPD/data/spool" -type f | wc -l)
[ "$leftover" -eq 0 ] && pass "the spool file is gone after the job" || fail "$leftover spool file(s) left"

req up2 POST /api/v1/uploads -H "Authorization: Bearer $TOKEN" -F "file=@$TMPD/fw2.tgz"
expect "upload with a bearer token (tar.gz)" 202
JOB2=$(jq_py up2 'j["id"]')
job_wait job2 "$JOB2"
check "tar.gz job done" job2 'j["state"]' done
req jobs GET "/api/v1/jobs?limit=2" $VIEW
expect "viewer lists jobs" 200
check "jobs newest first" jobs 'j["jobs"][0]["id"]' "$JOB2"
check "job list summary names the load" jobs 'j["jobs"][0]["summary"]["loads"][0]' SIP42.9-4-2SR3-1S
check "job list pages" jobs 'j["next_before"]' "$JOB"
req jobsfailed GET "/api/v1/jobs?before=$JOB" $ADMIN
check "the oversize upload is a failed job" jobsfailed '[x["state"] for x in j["jobs"] if x["source"]=="big.zip"][0]' failed
req nojob GET /api/v1/jobs/99999 $ADMIN
expect "unknown job" 404
req badlimit GET "/api/v1/jobs?limit=0" $ADMIN
expect "jobs limit 0" 400

# ---- models ----
req models GET /api/v1/models $VIEW
expect "list models" 200
check "models include Cisco 7961" models '[m["name"] for m in j["models"] if m["device_type"]==30018][0]' "Cisco 7961"
req dl_missing PUT "/api/v1/models/Cisco%207961/default-load" $AC $JSON -d '{"load":"NOSUCH"}'
expect "default load not in the catalog" 409
req dl_view PUT "/api/v1/models/7961/default-load" $VIEW $JSON -d '{"load":null}'
expect "viewer sets a default load" 403
req dl PUT "/api/v1/models/7961/default-load" $AC $JSON -d '{"load":"SIP41.9-4-2SR3-1S"}'
expect "set the 7961 default load" 200
check "default load set on the full model name" dl 'j["model"]' "Cisco 7961"
req usedby GET /api/v1/loads/SIP41.9-4-2SR3-1S $VIEW
check "a load lists the model defaults naming it" usedby '",".join(j["used_by"]["models"])' "Cisco 7961"
check "no device names it directly yet" usedby 'j["used_by"]["devices_total"]' 0
req dl_force PUT "/api/v1/models/Cisco%207941/default-load" $AC $JSON -d '{"load":"FUTURE1","force":true}'
expect "forced default load" 200
req dl_bad PUT "/api/v1/models/7961/default-load" $AC $JSON -d '{"load":"a b"}'
expect "malformed load name" 400
req dl_nomodel PUT "/api/v1/models/Nokia%203310/default-load" $AC $JSON -d '{"load":null}'
expect "unknown model" 404

# ---- enterprise, profile, device: PFS on, off, inherit ----
req ent PUT /api/v1/enterprise $AC $JSON -d '{"peer_firmware_sharing":"on","load_server":"10.9.9.9","cm_address":"cm.example.net"}'
expect "set enterprise settings" 200
check "enterprise PFS on" ent 'j["peer_firmware_sharing"]' on
req entbad PUT /api/v1/enterprise $AC $JSON -d '{"signature_policy":"sometimes"}'
expect "bad signature policy" 400
check "400 names signature_policy" entbad 'j["field"]' signature_policy
check "the detail does not repeat the field" entbad 'j["detail"].startswith("signature_policy:")' False
req entget GET /api/v1/enterprise $VIEW
check "enterprise GET" entget 'j["load_server"]' 10.9.9.9
req prof POST /api/v1/profiles $AC $JSON -d '{"name":"lab","peer_firmware_sharing":"off"}'
expect "add profile lab with PFS off" 201
req profdup POST /api/v1/profiles $AC $JSON -d '{"name":"LAB"}'
expect "duplicate profile" 409
req profput PUT /api/v1/profiles/lab $AC $JSON -d '{"load_server":"10.1.1.1"}'
expect "set the profile's load server" 200
req profput2 PUT /api/v1/profiles/lab $AC $JSON -d '{"load_server":null}'
check "profile load server back to inherit" profput2 'j["load_server"]' ""
req profbad PUT /api/v1/profiles/lab $AC $JSON -d '{"peer_firmware_sharing":"maybe"}'
expect "bad PFS value" 400
req profnone PUT /api/v1/profiles/nosuch $AC $JSON -d '{"load_server":null}'
expect "unknown profile" 404
req dev POST /api/v1/devices $AC $JSON -d '{"mac":"00:11:22:aa:bb:cc","model":"7961","profile":"lab","peer_firmware_sharing":null,"description":"front desk"}'
expect "add a device that inherits PFS" 201
req devdup POST /api/v1/devices $AC $JSON -d '{"mac":"001122AABBCC","model":"7961"}'
expect "duplicate device" 409
check "duplicate device: says it exists, names no HTTP method" devdup \
    'j["detail"] + " " + j["mac"] + " " + str("PUT" in j["detail"])' "device 001122AABBCC exists already 001122AABBCC False"
req devbad POST /api/v1/devices $AC $JSON -d '{"mac":"nonsense","model":"7961"}'
expect "bad MAC" 400
check "400 names mac" devbad 'j["field"]' mac
req devmodel POST /api/v1/devices $AC $JSON -d '{"mac":"001122AABBCD","model":"Nokia"}'
check "unknown model names the field" devmodel 'j["field"]' model
req eff GET /api/v1/devices/SEP001122AABBCC/effective $VIEW
expect "effective settings" 200
check "effective PFS is off" eff 'j["settings"]["peer_firmware_sharing"]["value"]' off
check "effective PFS comes from the profile" eff 'j["settings"]["peer_firmware_sharing"]["level"]' profile
check "effective load from the model default" eff 'j["settings"]["load"]["level"]' "model default"
check "effective load state ok" eff 'j["settings"]["load"]["state"]' ok
req usedby2 GET /api/v1/loads/SIP41.9-4-2SR3-1S $VIEW
check "used by: the device through its model's default, counted" usedby2 \
    '"%d %d %d %s %s" % (j["used_by"]["devices_total"], j["used_by"]["counts"]["model_default"], j["used_by"]["counts"]["device"], j["used_by"]["devices"][0]["mac"], j["used_by"]["devices"][0]["via"])' \
    "1 1 0 001122AABBCC model_default"
req cfg GET /api/v1/devices/001122aabbcc/config $VIEW
expect "rendered config" 200
case "$(header cfg Content-Type)" in application/xml*) pass "config is application/xml" ;; *) fail "config Content-Type $(header cfg Content-Type)" ;; esac
if command -v xmllint >/dev/null 2>&1; then
    if xmllint --noout "$TMPD/cfg.body"; then pass "xmllint accepts the config"; else fail "xmllint refuses the config"; fi
else
    echo "note: no xmllint: the XML check is skipped"
fi
grep -q '<peerFirmwareSharing>0</peerFirmwareSharing>' "$TMPD/cfg.body" && pass "config says PFS 0" || fail "config: $(head -c 400 "$TMPD/cfg.body")"
grep -q '<loadInformation>SIP41.9-4-2SR3-1S</loadInformation>' "$TMPD/cfg.body" && pass "config names the load" || fail "config without the load"
req devput PUT /api/v1/devices/001122AABBCC $AC $JSON -d '{"peer_firmware_sharing":"on"}'
expect "device sets PFS on" 200
req eff2 GET /api/v1/devices/001122AABBCC/effective $VIEW
check "device level wins" eff2 'j["settings"]["peer_firmware_sharing"]["level"]' device
req devput2 PUT /api/v1/devices/001122AABBCC $AC $JSON -d '{"peer_firmware_sharing":null}'
req eff3 GET /api/v1/devices/001122AABBCC/effective $VIEW
check "inherit again: off from profile" eff3 'j["settings"]["peer_firmware_sharing"]["value"] + " " + j["settings"]["peer_firmware_sharing"]["level"]' "off profile"
req devload PUT /api/v1/devices/001122AABBCC $AC $JSON -d '{"load":"GONE1"}'
expect "device load not in the catalog" 409
req devview PUT /api/v1/devices/001122AABBCC $VIEW $JSON -d '{"description":"x"}'
expect "viewer edits a device" 403
req devcsrf PUT /api/v1/devices/001122AABBCC $ADMIN $JSON -d '{"description":"x"}'
expect "device edit without CSRF" 403
req devunk PUT /api/v1/devices/001122AABBCC $AC $JSON -d '{"colour":"red"}'
expect "unknown member" 400
check "unknown member named" devunk 'j["field"]' colour
req devget GET /api/v1/devices/00-11-22-AA-BB-CC $VIEW
req devget GET /api/v1/devices/001122AABBCC $VIEW
check "device row" devget 'j["description"]' "front desk"
req profdel DELETE /api/v1/profiles/lab $AC
expect "remove a profile in use" 409

# ---- problems, stats ----
req devforce PUT /api/v1/devices/001122AABBCC $AC $JSON -d '{"load":"GONE1","force":true}'
expect "forced device load" 200
req probs GET /api/v1/devices/problems $VIEW
check "problems list the device" probs 'j["devices"][0]["mac"] + " " + j["devices"][0]["problem"]' "001122AABBCC missing"
req stats GET /api/v1/stats $VIEW
expect "stats" 200
check "stats: devices with problems" stats 'j["devices"]["problems"]' 1
check "stats: loads verified" stats 'j["loads"]["verified"]' 2
check "stats: jobs idle" stats 'j["jobs"]["running"]' 0
check "stats: no full scrub yet" stats 'j["scrub"]["last_run"]' ""
"$top_builddir/admin/loadsctl" --data-dir "$TMPD/data" verify >/dev/null ||
    fail "loadsctl verify before the scrub stats"
req stats3 GET /api/v1/stats $VIEW
check "stats: the last full scrub's totals" stats3 \
    '"%d %d" % (j["scrub"]["last_run"]["checked"], j["scrub"]["last_run"]["quarantined"])' \
    "$(python3 -c 'import json,sys; print(len({f["sha256"] for f in json.load(sys.stdin)}), 0)' \
        < <("$top_builddir/admin/loadsctl" --data-dir "$TMPD/data" --json files))"
req devrm DELETE /api/v1/devices/001122AABBCC $AC
expect "remove the device" 200
req devrm2 DELETE /api/v1/devices/001122AABBCC $AC
expect "remove it again" 404

# ---- sites ----
req site POST /api/v1/sites $AC $JSON -d '{"cidr":"10.20.0.0/16","load_server":"10.20.0.5"}'
expect "add a site rule" 201
req site6 POST /api/v1/sites $AC $JSON -d '{"cidr":"2001:db8::/32","load_server":"2001:db8::5"}'
expect "add an IPv6 site rule" 201
req sitedup POST /api/v1/sites $AC $JSON -d '{"cidr":"10.20.0.0/16","load_server":"10.20.0.6"}'
expect "duplicate site rule" 409
req sitebad POST /api/v1/sites $AC $JSON -d '{"cidr":"10.20.0.0/33","load_server":"x"}'
expect "bad prefix" 400
check "bad prefix names cidr" sitebad 'j["field"]' cidr
check "cidr: the field once (in \"field\", not the detail)" sitebad 'j["detail"].startswith("cidr")' False
req sitebadls POST /api/v1/sites $AC $JSON -d '{"cidr":"10.30.0.0/16","load_server":"a b"}'
check "load_server: the field once, the reason given" sitebadls \
    'j["field"] + " " + str(j["detail"].startswith("load_server:")) + " " + j["detail"]' \
    "load_server False load_server is a host name or address, branch:NAME, or none"
# branch:NAME names a registered branch (docs/FLEET.md); stage_first per rule.
req sitenobranch POST /api/v1/sites $AC $JSON -d '{"cidr":"10.31.0.0/16","load_server":"branch:nowhere"}'
expect "a site rule naming an unregistered branch" 400
check "refused on load_server, saying why" sitenobranch \
    'j["field"] + " " + str("not registered" in j["detail"])' "load_server True"
req sitestage POST /api/v1/sites $AC $JSON -d '{"cidr":"10.32.0.0/16","load_server":"10.32.0.5","stage_first":"on"}'
expect "a site rule with stage_first on" 201
check "stage_first is stored" sitestage 'j["stage_first"]' on
req sitestagebad PUT "/api/v1/sites/10.32.0.0%2F16" $AC $JSON -d '{"stage_first":"maybe"}'
expect "stage_first maybe" 400
req sitestagerm DELETE "/api/v1/sites/10.32.0.0%2F16" $AC
expect "remove the stage_first rule" 200
req sitemask POST /api/v1/sites $AC $JSON -d '{"cidr":"10.1.2.77/24","load_server":"10.1.2.5"}'
expect "a site with host bits" 201
check "the response says what was stored and what was entered" sitemask \
    'j["cidr"] + " " + j["entered"] + " " + str(j["host_bits_cleared"])' "10.1.2.0/24 10.1.2.77/24 True"
req sitemaskrm DELETE "/api/v1/sites/10.1.2.0%2F24" $AC
expect "the stored prefix removes it" 200
req sites GET /api/v1/sites $VIEW
check "two site rules" sites 'len(j["sites"])' 2
req siterm DELETE "/api/v1/sites/10.20.0.0%2F16" $AC
expect "remove a site rule (URL-encoded)" 200
req siterm6 DELETE "/api/v1/sites/2001:db8::%2F32" $AC
expect "remove the IPv6 rule" 200
req siterm2 DELETE "/api/v1/sites/10.20.0.0%2F16" $AC
expect "remove it again" 404

# ---- the device page shows what the phone gets: its last request's site rule ----
req seendev POST /api/v1/devices $AC $JSON -d '{"mac":"0011223344F0","model":"7961"}'
expect "add a device for the site rule" 201
req seen0 GET /api/v1/devices/0011223344F0/effective $VIEW
check "no request yet: no address" seen0 'j["from"]["address"]' ""
check "no request yet: the enterprise load server" seen0 \
    'j["settings"]["load_server"]["value"] + " " + j["settings"]["load_server"]["level"]' "10.9.9.9 enterprise"
req seensite POST /api/v1/sites $AC $JSON -d '{"cidr":"127.0.0.0/24","load_server":"10.7.7.7"}'
expect "site rule for 127.0.0.0/24" 201
# Read-your-writes: the daemon answers an admin write once its snapshot
# holds it, so the phone that asks right after gets the site rule (once, no
# retry; before, it could get the snapshot of 250 ms earlier).
timeout 20 curl -sS --max-time 15 -o "$TMPD/phone.xml" "tftp://127.0.0.1:$PORT/SEP0011223344F0.cnf.xml" ||
    fail "curl tftp SEP0011223344F0.cnf.xml"
grep -q '<loadServer>10.7.7.7</loadServer>' "$TMPD/phone.xml" &&
    pass "the phone at 127.0.0.1 gets the site rule's load server" ||
    fail "the phone's config: $(head -c 400 "$TMPD/phone.xml")"
# The address is written by loadsd's watcher thread (every 250 ms): poll.
deadline=$((SECONDS + 60))
while [ $SECONDS -lt $deadline ]; do
    req seen1 GET /api/v1/devices/0011223344F0/effective $VIEW
    [ "$(jq_py seen1 'j["from"]["source"]')" = last_request ] && break
    sleep 0.1
done
check "effective: resolved for the last request's address" seen1 \
    'j["from"]["address"] + " " + j["from"]["source"]' "127.0.0.1 last_request"
check "effective: the site rule's load server, as the phone gets it" seen1 \
    'j["settings"]["load_server"]["value"] + " " + j["settings"]["load_server"]["level"] + " " + j["settings"]["load_server"]["site"]' \
    "10.7.7.7 site 127.0.0.0/24"
check "effective: when it was seen" seen1 'int(j["from"]["seen_at"] > 1700000000)' 1
req seencfg GET /api/v1/devices/0011223344F0/config $VIEW
cmp -s "$TMPD/seencfg.body" "$TMPD/phone.xml" &&
    pass "the page's rendered config is the one the phone got by TFTP" ||
    fail "rendered config differs from TFTP: $(diff "$TMPD/seencfg.body" "$TMPD/phone.xml" | head -5)"
"$top_builddir/admin/loadsctl" --data-dir "$TMPD/data" render 0011223344F0 >"$TMPD/ctl.xml" 2>"$TMPD/ctl.err"
cmp -s "$TMPD/ctl.xml" "$TMPD/phone.xml" &&
    pass "loadsctl render (no --from) is the one the phone got" ||
    fail "loadsctl render differs: $(diff "$TMPD/ctl.xml" "$TMPD/phone.xml" | head -5)"
grep -q 'at 127.0.0.1 (its last request' "$TMPD/ctl.err" &&
    pass "loadsctl render says for which address" || fail "render's note: $(cat "$TMPD/ctl.err")"
req seen6 GET "/api/v1/devices/0011223344F0/effective?from=::1" $VIEW
check "from=::1: no site rule, the enterprise's" seen6 \
    'j["settings"]["load_server"]["level"] + " " + j["from"]["source"]' "enterprise given"
req seennone GET "/api/v1/devices/0011223344F0/config?from=none" $VIEW
grep -q '<loadServer>10.9.9.9</loadServer>' "$TMPD/seennone.body" &&
    pass "from=none renders what a phone outside every site gets" || fail "from=none: $(head -c 300 "$TMPD/seennone.body")"
req seenbad GET "/api/v1/devices/0011223344F0/effective?from=10.1" $VIEW
expect "from that is not an address" 400
check "400 names from" seenbad 'j["field"]' from
req seenrm DELETE "/api/v1/sites/127.0.0.0%2F24" $AC
expect "remove the 127.0.0.0/24 rule" 200
req seenrmdev DELETE /api/v1/devices/0011223344F0 $AC
expect "remove the site-rule device" 200

# ---- CSV import and export ----
{
    echo "mac,model,profile,description,load,peer_firmware_sharing,load_server"
    n=0
    while [ $n -lt 20 ]; do
        printf '0011223300%02X,Cisco 7961,lab,desk %d,,,\r\n' "$n" "$n"
        n=$((n + 1))
    done
} >"$TMPD/good.csv"
{
    head -n 5 "$TMPD/good.csv"
    echo "0011223399FF,Nokia 3310,,bad model,,,"
    tail -n +6 "$TMPD/good.csv"
} >"$TMPD/bad.csv"
csv_import csvbad '' $AC -H "Content-Type: text/csv" --data-binary "@$TMPD/bad.csv"
expect "CSV with one bad line" failed
check "the error names line 6" csvbad 'j["errors"][0]["line"]' 6
req count0 GET "/api/v1/devices?limit=1" $VIEW
check "nothing was imported" count0 'j["total"]' 0
csv_import csvjson '' $AC $JSON -d '{}'
expect "CSV import with a JSON body" 415
csv_import csvview '' $VIEW -H "Content-Type: text/csv" --data-binary "@$TMPD/good.csv"
expect "viewer imports CSV" 403
csv_import csv '' $AC -H "Content-Type: text/csv" --data-binary "@$TMPD/good.csv"
expect "CSV import" done
check "20 devices added" csv 'j["added"]' 20
req page GET "/api/v1/devices?offset=5&limit=5" $VIEW
expect "a page of devices" 200
check "page total" page 'j["total"]' 20
check "page size" page 'len(j["devices"])' 5
check "page starts at offset 5" page 'j["devices"][0]["mac"]' 001122330005
req search GET "/api/v1/devices?q=desk%201" $VIEW
check "search 'desk 1' finds 11" search 'j["total"]' 11
req badoff GET "/api/v1/devices?offset=-1" $VIEW
expect "negative offset" 400
req export GET /api/v1/devices/export $VIEW
expect "CSV export" 200
case "$(header export Content-Type)" in text/csv*) pass "export is text/csv" ;; *) fail "export Content-Type $(header export Content-Type)" ;; esac
csv_import reimport '' $AC -H "Content-Type: text/csv" --data-binary "@$TMPD/export.body"
expect "re-import the export" done
check "round trip: every row unchanged" reimport 'str(j["unchanged"]) + " " + str(j["added"]) + " " + str(j["updated"])' "20 0 0"

# ---- failures the audit records: a refused password, a refused import ----
req badpw POST /api/v1/session $JSON -d '{"user":"admin","password":"not-the-password"}'
expect "a wrong password" 401
req up3 POST /api/v1/uploads $AC -F "file=@$TMPD/fw3.zip"
expect "upload other bytes under a load's name" 202
JOB3=$(jq_py up3 'j["id"]')
job_wait job3 "$JOB3"
check "the conflicting upload fails" job3 'j["state"]' failed
check "its message says what to do on the page, not a CLI flag" job3 \
    'str("--replace" in j["report"]["problems"][0]["message"]) + " " + str("replace a load of the same name" in j["report"]["problems"][0]["message"])' \
    "False True"

# ---- audit: writes name their user; failures too; one row per CSV import ----
req audit GET "/api/v1/audit?limit=400" $ADMIN
if python3 - "$TMPD/audit.body" <<'EOF'; then
import json, sys
e = json.load(open(sys.argv[1]))["entries"]
want = {"upload.start", "enterprise.set", "profile.add", "device.add", "site.add"}
seen = {x["action"] for x in e if x["actor"] == "admin"}
sys.exit(0 if want <= seen else "missing: %s" % (want - seen))
EOF
    pass "audit records uploads and provisioning changes with the user"
else
    fail "audit: $(head -c 300 "$TMPD/audit.body")"
fi
audit_has() {
    python3 - "$TMPD/audit.body" "$2" <<'EOF' && pass "$1" || fail "$1: $(head -c 600 "$TMPD/audit.body")"
import json, sys
e = json.load(open(sys.argv[1]))["entries"]
sys.exit(0 if eval(sys.argv[2]) else 1)
EOF
}
audit_has "a failed login is audited (the name tried, the address)" \
    'any(x["action"] == "login.fail" and x["actor"] == "admin" and x["object"] == "127.0.0.1" for x in e)'
audit_has "a failed import is audited with its file and reason" \
    'any(x["action"] == "import.fail" and x["object"] == "fw3.zip" and "already in the catalog" in x["after"] for x in e)'
audit_has "an upload's audit row names the file" \
    '{"fw.zip", "fw2.tgz", "fw3.zip"} <= {x["object"] for x in e if x["action"] == "upload.start"} and "upload" not in {x["object"] for x in e if x["action"] == "upload.start"}'
audit_has "a CSV import is one audit row with its counts" \
    '[json.loads(x["after"])["added"] for x in e if x["action"] == "device.import"] == [20]'
audit_has "no row per imported device" \
    'not any(x["object"].startswith("0011223300") for x in e)'
audit_has "a refused CSV import is audited once" \
    '[x["after"].startswith("1 error(s); line 6") for x in e if x["action"] == "device.import_fail"] == [True]'

# ---- transfers: a slow client shows up live ----
# The client acknowledges slowly (about 50 blocks a second, so 8 MB would take
# minutes) and ends only when told to (the stop file) or killed: on a loaded
# machine a late answer from loadsd makes it repeat its last ACK instead of
# giving up. loadsd runs with --retries 20, so a client starved for a while
# (a busy machine) is waited for rather than dropped; checked below by
# stopping the client outright.
cat >"$TMPD/slow.py" <<'EOF'
import os, socket, struct, sys, time
port, stop = int(sys.argv[1]), sys.argv[2]
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(1)
s.sendto(b"\0\1slow.bin\0octet\0", ("127.0.0.1", port))
last, peer = None, None
end = time.time() + 600  # only if the test dies without stopping it
while time.time() < end and not os.path.exists(stop):
    try:
        data, peer = s.recvfrom(1024)
    except socket.timeout:
        if last is not None:
            s.sendto(last, peer)
        continue
    op, block = struct.unpack("!HH", data[:4])
    if op != 3:
        sys.exit("slow.py: not a DATA packet: %r" % data[:64])
    time.sleep(0.02)
    last = struct.pack("!HH", 4, block)
    s.sendto(last, peer)
    if len(data) < 516:
        break
EOF
python3 "$TMPD/slow.py" "$PORT" "$TMPD/slow.stop" &
SLOW=$!
deadline=$((SECONDS + 60))
while [ $SECONDS -lt $deadline ]; do
    req xfers GET /api/v1/transfers $VIEW
    grep -q '"acked_bytes": *[1-9]' "$TMPD/xfers.body" 2>/dev/null && break
    sleep 0.2
done
expect "list transfers" 200
check "the slow transfer is listed" xfers '[t["file"] for t in j["transfers"]][0]' slow.bin
check "it has a size" xfers 'j["transfers"][0]["size"]' 8000000
check "some bytes were acknowledged" xfers 'int(0 < j["transfers"][0]["acked_bytes"] < 8000000)' 1
check "a percentage below 100" xfers 'int(j["transfers"][0]["percent"] < 100)' 1
check "a client address" xfers 'j["transfers"][0]["client"].startswith("127.0.0.1:")' True
req stats2 GET /api/v1/stats $VIEW
check "stats: one active transfer" stats2 'j["tftp"]["transfers_active"]' 1
# A starved client (what a loaded machine does to it), made certain: stopped
# for 16 s, longer than loadsd's default 5 retries wait (about 13 s).
kill -STOP "$SLOW"
sleep 16
kill -CONT "$SLOW"
req xfers2 GET /api/v1/transfers $VIEW
ACKED=$(jq_py xfers2 'j["transfers"][0]["acked_bytes"] if j["transfers"] else 0')
deadline=$((SECONDS + 60))
while [ $SECONDS -lt $deadline ]; do
    req xfers3 GET /api/v1/transfers $VIEW
    [ "$(jq_py xfers3 'int(bool(j["transfers"]) and j["transfers"][0]["acked_bytes"] > '"${ACKED:-0}"')')" = 1 ] && break
    sleep 0.2
done
check "the transfer outlives a client stalled for 16 s and moves on" xfers3 \
    'int(bool(j["transfers"]) and j["transfers"][0]["acked_bytes"] > '"${ACKED:-0}"')' 1
: >"$TMPD/slow.stop"
kill "$SLOW" 2>/dev/null
wait "$SLOW" 2>/dev/null

daemon_stop
finish
