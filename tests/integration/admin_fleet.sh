#!/bin/sh
# admin_fleet.sh: the admin API at fleet scale (issue 16): the names phones
# asked for that do not exist (TFTP and HTTP, in /api/v1/stats, its own
# endpoint and /metrics); site rules with a name, edited in place (API and
# loadsctl); a profile's member devices and its copy; a load's devices off
# their model's default and the load list's usage.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/admin_lib.sh"

need_cmd curl python3
make_tmpdir
LOADSCTL="${LOADSCTL:-$top_builddir/admin/loadsctl}"
MKBUNDLE="$top_srcdir/tests/tools/mkbundle.py"
echo ready >"$ROOT/ready.txt"
python3 "$MKBUNDLE" keys "$TMPD/keys" >/dev/null || die "mkbundle keys failed"
python3 "$MKBUNDLE" bundle --keys "$TMPD/keys" --out "$TMPD/fw.zip" --format zip \
    --load SIP41.9-4-2SR3-1S --component-headers all >/dev/null || die "mkbundle bundle failed"
python3 "$MKBUNDLE" bundle --keys "$TMPD/keys" --out "$TMPD/fw2.zip" --format zip \
    --load SIP42.9-4-2SR3-1S --seed 7 --component-headers all >/dev/null || die "mkbundle bundle failed"

# ctl DATADIR ARGS...: loadsctl; its output in CTL_OUT, its errors in CTL_ERR.
ctl() {
    _dd=$1
    shift
    CTL_OUT=$("$LOADSCTL" --data-dir "$_dd" "$@" 2>"$TMPD/ctl.err")
    _rc=$?
    CTL_ERR=$(cat "$TMPD/ctl.err")
    return $_rc
}

# must LABEL WANT: a setup step (not a check of this test): stops the test
# unless the last req answered WANT.
must() {
    [ "$STATUS" = "$2" ] || die "$1: got $STATUS, want $2 ($(head -c 300 "$TMPD/$name.body" 2>/dev/null))"
}

pick_port APORT
pick_tcp_port HPORT
daemon_start --admin-listen "127.0.0.1:$APORT" --files-listen "127.0.0.1:$HPORT"
BASE="http://127.0.0.1:$APORT"
admin_login "$TMPD/data"
viewer_login

# ---- names asked for that do not exist ----
req st0 GET /api/v1/stats $VIEW
check "no missing name before any request" st0 'j["missing_names"]["requests"]' 0
for i in 1 2 3; do
    curl -s --max-time 10 -o /dev/null "tftp://127.0.0.1:$PORT/SEPDEADBEEF0001.cnf.xml"
done
curl -s --max-time 10 -o /dev/null "tftp://127.0.0.1:$PORT/ready.txt"
curl -s --max-time 10 -o /dev/null "http://127.0.0.1:$HPORT/ITLSEP0011.tlv"
curl -s --path-as-is --max-time 10 -o /dev/null "tftp://127.0.0.1:$PORT/../etc/passwd"
req st1 GET /api/v1/stats $VIEW
must "stats" 200
check "missing requests counted over TFTP and HTTP (not a found file, not a bad name)" st1 \
    'j["missing_names"]["requests"]' 4
check "two distinct missing names" st1 'j["missing_names"]["names"]' 2
check "the most asked-for missing name first, with its count" st1 \
    '"%s %d" % (j["missing_names"]["top"][0]["name"], j["missing_names"]["top"][0]["count"])' \
    "SEPDEADBEEF0001.cnf.xml 3"
check "the last requester's address" st1 'j["missing_names"]["top"][0]["last_from"]' 127.0.0.1
check "a recent time" st1 'abs(j["missing_names"]["top"][0]["last_at"] - int(__import__("time").time())) < 120' True
check "the HTTP name is there" st1 'j["missing_names"]["top"][1]["name"]' ITLSEP0011.tlv
req mn GET /api/v1/missing-names $VIEW
expect "GET /api/v1/missing-names" 200
check "the endpoint lists every name" mn 'len(j["top"])' 2
check "its bound is stated" mn 'j["names_max"]' 256
req mnanon GET /api/v1/missing-names
expect "missing names need a login" 401
req metrics GET /metrics $VIEW
grep -q '^loadsd_missing_requests_total 4$' "$TMPD/metrics.body" &&
    pass "/metrics: loadsd_missing_requests_total 4" ||
    fail "/metrics lacks loadsd_missing_requests_total 4 ($(grep missing "$TMPD/metrics.body"))"
grep -q '^loadsd_missing_names 2$' "$TMPD/metrics.body" &&
    pass "/metrics: loadsd_missing_names 2" || fail "/metrics lacks loadsd_missing_names 2"

# ---- site rules: a name, edited in place ----
req s1 POST /api/v1/sites $AC $JSON -d '{"cidr":"10.1.0.0/16","load_server":"10.1.0.5","name":"Leeds"}'
expect "add a named site" 201
check "the answer has the name" s1 'j["name"]' Leeds
req s2 POST /api/v1/sites $AC $JSON -d '{"cidr":"10.2.0.0/16","load_server":"10.2.0.5"}'
must "add a site without a name" 201
req sbadname POST /api/v1/sites $AC $JSON -d '{"cidr":"10.3.0.0/16","load_server":"10.3.0.5","name":" x"}'
check "a name with a leading space is refused, naming the rule" sbadname \
    '"%s %s" % (j["field"], "63 characters" in j["detail"])' "name True"
req sput PUT "/api/v1/sites/10.1.0.0%2F16" $AC $JSON -d '{"name":"Leeds office","load_server":"ls.leeds.example"}'
expect "edit a site's name and load server" 200
check "the edit's answer" sput '"%s|%s|%s" % (j["cidr"], j["name"], j["load_server"])' "10.1.0.0/16|Leeds office|ls.leeds.example"
req smove PUT "/api/v1/sites/10.1.0.0%2F16" $AC $JSON -d '{"cidr":"10.9.0.0/16"}'
expect "move a site to another prefix" 200
req sclash PUT "/api/v1/sites/10.9.0.0%2F16" $AC $JSON -d '{"cidr":"10.2.0.0/16"}'
expect "moving onto another rule's prefix" 409
check "the clash names cidr" sclash 'j["field"]' cidr
req sgone PUT "/api/v1/sites/10.1.0.0%2F16" $AC $JSON -d '{"name":"x"}'
expect "editing a rule that is not there" 404
req sview PUT "/api/v1/sites/10.9.0.0%2F16" $VIEW $JSON -d '{"name":"x"}'
expect "a viewer cannot edit a site" 403
req sunk PUT "/api/v1/sites/10.9.0.0%2F16" $AC $JSON -d '{"colour":"red"}'
expect "an unknown member" 400
req slist GET /api/v1/sites $VIEW
check "the list shows the moved, named rule as stored" slist \
    '"|".join("%s=%s=%s" % (s["cidr"], s["name"], s["load_server"]) for s in j["sites"])' \
    "10.2.0.0/16==10.2.0.5|10.9.0.0/16=Leeds office=ls.leeds.example"
req saudit GET "/api/v1/audit?action=site.set" $VIEW
check "each edit is audited as site.set with before and after" saudit \
    '[json.loads(a["after"])["cidr"] for a in j["entries"] if a["action"]=="site.set"][0]' 10.9.0.0/16
ctl "$TMPD/data" site set 10.2.0.0/16 --name Paris >/dev/null || fail "loadsctl site set: $CTL_ERR"
ctl "$TMPD/data" site list
case "$CTL_OUT" in *Paris*) pass "loadsctl site set names a site; site list shows it" ;;
*) fail "loadsctl site list: $CTL_OUT" ;; esac
ctl "$TMPD/data" --json site set 10.2.0.0/16 --load-server 10.2.0.6 ||
    fail "loadsctl site set --load-server: $CTL_ERR"
case "$CTL_OUT" in *'"name": "Paris"'*'10.2.0.6'* | *'10.2.0.6'*'"name": "Paris"'*)
    pass "loadsctl site set keeps the name when only the load server changes" ;;
*) fail "loadsctl site set --json: $CTL_OUT" ;; esac
if ctl "$TMPD/data" site set 10.77.0.0/16 --name x; then fail "site set on no rule succeeded"; else
    case "$CTL_ERR" in *"no site rule for 10.77.0.0/16"*) pass "loadsctl site set: no such rule" ;;
    *) fail "loadsctl site set, no rule: $CTL_ERR" ;; esac
fi

# ---- a load, devices on it and off their model's default ----
req up POST /api/v1/uploads $AC -F "file=@$TMPD/fw.zip"
job_wait job "$(jq_py up 'j["id"]')"
req up2 POST /api/v1/uploads $AC -F "file=@$TMPD/fw2.zip"
job_wait job2 "$(jq_py up2 'j["id"]')"
req dl PUT "/api/v1/models/7961/default-load" $AC $JSON -d '{"load":"SIP41.9-4-2SR3-1S"}'
must "the 7961's default" 200
req prof POST /api/v1/profiles $AC $JSON -d '{"name":"lab","peer_firmware_sharing":"off","load_server":"ls.lab.example"}'
must "add profile lab" 201
for m in 0011223344A1 0011223344A2 0011223344A3; do
    req "dev$m" POST /api/v1/devices $AC $JSON -d "{\"mac\":\"$m\",\"model\":\"7961\",\"profile\":\"lab\"}"
    must "add device $m" 201
done
req devoff PUT /api/v1/devices/0011223344A3 $AC $JSON -d '{"load":"SIP42.9-4-2SR3-1S"}'
must "one device on another load" 200
req load GET /api/v1/loads/SIP41.9-4-2SR3-1S $VIEW
check "one 7961 is off the default, and what it runs" load \
    '"%d %s %s %s" % (j["used_by"]["off_default_total"], j["used_by"]["off_default"][0]["mac"], j["used_by"]["off_default"][0]["runs"], j["used_by"]["off_default"][0]["via"])' \
    "1 0011223344A3 SIP42.9-4-2SR3-1S device"
req loads GET /api/v1/loads $VIEW
check "the load list's usage per load" loads \
    '"%d %d %d %d" % (j["usage"]["SIP41.9-4-2SR3-1S"]["devices"], j["usage"]["SIP41.9-4-2SR3-1S"]["off_default"], j["usage"]["SIP42.9-4-2SR3-1S"]["devices"], j["usage"]["SIP42.9-4-2SR3-1S"]["off_default"])' \
    "2 1 1 0"

# ---- the protocol: defaults keyed by (model, protocol), a device's own ----
req models GET /api/v1/models $VIEW
check "a 79xx runs SIP and SCCP" models '[m["protocols"] for m in j["models"] if m["name"]=="Cisco 7961"][0]' "['SIP', 'SCCP']"
check "an 8841 runs SIP only" models '[m["protocols"] for m in j["models"] if m["name"]=="Cisco 8841"][0]' "['SIP']"
req dlsccp PUT "/api/v1/models/7961/default-load" $AC $JSON -d '{"load":"SIP42.9-4-2SR3-1S","protocol":"sccp"}'
expect "the 7961's SCCP default" 200
check "the answer names the protocol" dlsccp 'j["protocol"]' SCCP
req models2 GET /api/v1/models $VIEW
check "both defaults of the 7961, keyed by protocol" models2 \
    '"%s %s" % tuple(([m["default_loads"]["SIP"], m["default_loads"]["SCCP"]] for m in j["models"] if m["name"]=="Cisco 7961").__next__())' \
    "SIP41.9-4-2SR3-1S SIP42.9-4-2SR3-1S"
req dl8841 PUT "/api/v1/models/8841/default-load" $AC $JSON -d '{"load":null,"protocol":"SCCP"}'
check "an SCCP default for a SIP-only model is refused: what the model runs" dl8841 \
    '"%s %s" % (j["field"], j["detail"])' "protocol Cisco 8841 runs SIP only"
req devproto PUT /api/v1/devices/0011223344A2 $AC $JSON -d '{"protocol":"SCCP"}'
expect "a device set to SCCP" 200
check "the device answers with its protocol" devproto 'j["protocol"]' SCCP
req effp GET /api/v1/devices/0011223344A2/effective $VIEW
check "an SCCP device gets its model's SCCP default" effp \
    '"%s %s %s" % (j["protocol"], j["settings"]["load"]["value"], j["settings"]["load"]["level"])' \
    "SCCP SIP42.9-4-2SR3-1S model default"
req effs GET /api/v1/devices/0011223344A1/effective $VIEW
check "a device of the same model on SIP keeps the SIP default" effs \
    '"%s %s" % (j["protocol"], j["settings"]["load"]["value"])' "SIP SIP41.9-4-2SR3-1S"
req devbadp PUT /api/v1/devices/0011223344A2 $AC $JSON -d '{"protocol":"H323"}'
check "an unknown protocol is refused: the protocols there are" devbadp \
    "\"$STATUS %s\" % j[\"detail\"]" '400 "protocol" is SIP, SCCP or null'
req dev8841 POST /api/v1/devices $AC $JSON -d '{"mac":"0011223344B1","model":"8841","protocol":"SCCP"}'
check "SCCP on a SIP-only model is refused: what the model runs" dev8841 \
    "\"$STATUS %s\" % j[\"detail\"]" "400 Cisco 8841 runs SIP only"
timeout 20 curl -sS --max-time 15 -o "$TMPD/a2.xml" "tftp://127.0.0.1:$PORT/SEP0011223344A2.cnf.xml" ||
    fail "no config for the SCCP device"
n=0
until grep -q "<loadInformation>SIP42.9-4-2SR3-1S</loadInformation>" "$TMPD/a2.xml" || [ $n -ge 40 ]; do
    sleep 0.25
    n=$((n + 1))
    curl -sS --max-time 15 -o "$TMPD/a2.xml" "tftp://127.0.0.1:$PORT/SEP0011223344A2.cnf.xml"
done
grep -q "<loadInformation>SIP42.9-4-2SR3-1S</loadInformation>" "$TMPD/a2.xml" &&
    pass "the phone gets its protocol's default over TFTP" ||
    fail "SEP0011223344A2.cnf.xml: $(grep -o '<loadInformation>[^<]*' "$TMPD/a2.xml")"
req devnull PUT /api/v1/devices/0011223344A2 $AC $JSON -d '{"protocol":null}'
check "null puts the device back on its model's protocol" devnull 'j["protocol"] is None' True
req devback PUT /api/v1/devices/0011223344A2 $AC $JSON -d '{"protocol":"SCCP"}'
req load2 GET /api/v1/loads/SIP41.9-4-2SR3-1S $VIEW
check "a device on its protocol's default is not off the SIP default" load2 \
    'j["used_by"]["off_default_total"]' 1

# ---- a profile's members and its copy ----
req pget GET /api/v1/profiles/LAB $VIEW
must "get profile lab" 200
check "its members, in MAC order" pget '",".join(d["mac"] for d in j["members"])' \
    "0011223344A1,0011223344A2,0011223344A3"
check "members carry their model" pget 'j["members"][0]["model"]' "Cisco 7961"
req pcopy POST /api/v1/profiles/lab/copy $AC $JSON -d '{"name":"lab-2"}'
expect "copy profile lab" 201
check "the copy has lab's settings and no member" pcopy \
    '"%s %s %d %d" % (j["name"], j["load_server"]["value"] if isinstance(j["load_server"], dict) else j["load_server"], j["devices"], len(j["members"]))' \
    "lab-2 ls.lab.example 0 0"
req pcopy2 POST /api/v1/profiles/lab/copy $AC $JSON -d '{"name":"LAB-2"}'
expect "a copy onto an existing name" 409
check "the clash names the field" pcopy2 'j["field"]' name
req pcopy3 POST /api/v1/profiles/nosuch/copy $AC $JSON -d '{"name":"x"}'
check "a copy of no profile: 404 no such profile" pcopy3 "\"$STATUS %s\" % j[\"detail\"]" "404 no such profile"
req pcopyv POST /api/v1/profiles/lab/copy $VIEW $JSON -d '{"name":"v"}'
expect "a viewer cannot copy a profile" 403
req paudit GET "/api/v1/audit?action=profile.copy" $VIEW
check "the copy is audited" paudit '[a["object"] for a in j["entries"] if a["action"]=="profile.copy"][0]' lab-2
ctl "$TMPD/data" profile copy lab lab-3 >/dev/null || fail "loadsctl profile copy: $CTL_ERR"
ctl "$TMPD/data" --json profile list
case "$CTL_OUT" in *'"lab-3"'*) pass "loadsctl profile copy" ;; *) fail "profile list: $CTL_OUT" ;; esac

daemon_stop
finish
