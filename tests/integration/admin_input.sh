#!/bin/sh
# admin_input.sh: what the admin interface takes in and gives back, on a real
# loadsd with curl, loadsctl and sqlite3: one text rule on every entry path
# (API, CSV, loadsctl, bundle load names), readers that survive bad stored
# bytes, names with '/', reports that name the uploaded file, one bundle per
# upload, and CSV export (exact round trip, and the spreadsheet-safe form).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/admin_lib.sh"
. "$(dirname "$0")/catalog_lib.sh"

need_cmd curl python3 openssl sqlite3
[ -x "$LOADSCTL" ] || die "$LOADSCTL is not built"
make_tmpdir
CTL_LOG="$TMPD/loadsctl.log"
: >"$CTL_LOG"
echo ready >"$ROOT/ready.txt"
python3 "$MKBUNDLE" keys "$TMPD/keys" >/dev/null || die "mkbundle keys failed"
python3 "$MKBUNDLE" bundle --keys "$TMPD/keys" --out "$TMPD/fw.zip" --format zip \
    --load SIP41.9-4-2SR3-1S >/dev/null || die "mkbundle bundle failed"
python3 "$MKBUNDLE" bundle --keys "$TMPD/keys" --out "$TMPD/bold.zip" --format zip \
    --load 'SIP41.<b>BOLD' --seed 3 >/dev/null || die "mkbundle bundle failed"

pick_port APORT
daemon_start --admin-listen "127.0.0.1:$APORT"
BASE="http://127.0.0.1:$APORT"
D="$TMPD/data"
DB="$D/catalog.db"

# ctl_refused LABEL PATTERN ARGS...: loadsctl on $D exits 1 saying PATTERN.
ctl_refused() {
    _label=$1
    _pat=$2
    shift 2
    ctl "$D" "$@" >/dev/null
    if [ "$ctl_rc" -eq 1 ] && printf '%s\n' "$CTL_ERR" | grep -q -- "$_pat"; then
        pass "$_label"
    else
        fail "$_label: exit $ctl_rc, stderr: $CTL_ERR"
    fi
}

admin_login "$D"

# ---- item 4: one text rule for the API, CSV and loadsctl ----
printf 'mac,model,profile,description\r\nAABBCC000001,7961,,"only\303(bad"\r\n' >"$TMPD/utf8.csv"
csv_import csv_utf8 '' $AC $CSV --data-binary "@$TMPD/utf8.csv"
expect "CSV with invalid UTF-8 in a description" failed
check "the error names line and column" csv_utf8 \
    'j["errors"][0]["line"] == 2 and j["errors"][0]["message"].startswith("bad description: it must be UTF-8 text")' \
    True
printf 'mac,model,profile,description\r\nAABBCC000001,7961,,"two\nlines"\r\n' >"$TMPD/lf.csv"
csv_import csv_lf '' $AC $CSV --data-binary "@$TMPD/lf.csv"
expect "CSV with LF inside a quoted description" failed
printf 'mac,model,profile,description\r\nAABBCC000001,7961,,"cr\rhere"\r\n' >"$TMPD/cr.csv"
csv_import csv_cr '' $AC $CSV --data-binary "@$TMPD/cr.csv"
expect "CSV with CR inside a quoted description" failed
req json_lf POST /api/v1/devices $AC $JSON -d '{"mac":"AABBCC000001","model":"7961","description":"two\nlines"}'
expect "the JSON API refuses the same description" 400
check "both say the same rule" json_lf 'j["detail"].startswith("a description is at most 255 bytes of UTF-8 text")' True
req none GET "/api/v1/devices?limit=1" $ADMIN
check "nothing was stored" none 'j["total"]' 0
ctl_refused "loadsctl device add --description \$'cli\\xff'" "UTF-8" \
    device add AABBCC000002 --model 7961 --description "$(printf 'cli\377')"
ctl_refused "loadsctl device add with a newline in the description" "control characters" \
    device add AABBCC000002 --model 7961 --description "$(printf 'a\nb')"
ctl "$D" device add AABBCC000002 --model 7961 --description "$(printf 'B\303\274ro')" >/dev/null &&
    pass "loadsctl takes UTF-8 text" || fail "loadsctl device add B\\xc3\\xbcro: $CTL_ERR"

# ---- item 4: readers survive bytes stored before the rule ----
req add3 POST /api/v1/devices $AC $JSON -d '{"mac":"AABBCC000003","model":"7961","description":"fine"}'
expect "add a device" 201
sqlite3 "$DB" "UPDATE devices SET description = CAST(X'6f6e6c79c328626164' AS TEXT) WHERE mac = 'AABBCC000003'" ||
    die "sqlite3 update failed"
req list GET /api/v1/devices $ADMIN
expect "GET /api/v1/devices with bad bytes stored" 200
check "the bad byte comes back as U+FFFD" list \
    '[d["description"] for d in j["devices"] if d["mac"] == "AABBCC000003"][0]' "only�(bad"
req one GET /api/v1/devices/AABBCC000003 $ADMIN
expect "GET one device with bad bytes stored" 200
req eff GET /api/v1/devices/AABBCC000003/effective $ADMIN
expect "its effective settings" 200
req prof POST /api/v1/profiles $AC $JSON -d '{"name":"lab"}'
expect "add a profile" 201
sqlite3 "$DB" "UPDATE profiles SET name = CAST(X'6c6162ff' AS TEXT), name_folded = CAST(X'6c6162ff' AS TEXT) WHERE name = 'lab'" ||
    die "sqlite3 update failed"
req profs GET /api/v1/profiles $ADMIN
expect "GET /api/v1/profiles with bad bytes stored" 200
ctl "$D" device list >/dev/null && pass "loadsctl device list with bad bytes stored" ||
    fail "loadsctl device list: $CTL_ERR"
sqlite3 "$DB" "DELETE FROM devices WHERE mac = 'AABBCC000003'; DELETE FROM profiles WHERE name_folded LIKE 'lab%'" ||
    die "sqlite3 delete failed"

# ---- item 8: names with '/' are refused everywhere ----
req slash POST /api/v1/profiles $AC $JSON -d '{"name":"a/b"}'
expect "a profile named a/b" 400
check "the refusal names the field" slash 'j["field"]' name
req slash_get GET /api/v1/profiles/a%2Fb $ADMIN
expect "and there is none to read" 404
ctl_refused "loadsctl profile add x/y" "'/'" profile add x/y
ctl_refused "loadsctl model add with '/'" "'/'" model add "Cisco 79/61" --device-type 99999

# ---- item 7: a load name the settings refuse is not imported ----
req bold POST /api/v1/uploads $AC -F "file=@$TMPD/bold.zip"
expect "upload a bundle whose load is SIP41.<b>BOLD" 202
job_wait bold_job "$(jq_py bold 'j["id"]')"
check "its import fails" bold_job 'j["state"]' failed
check "the report says why" bold_job \
    'any(p["message"].startswith("\"SIP41.<b>BOLD\" is not a load name") for p in j["report"]["problems"])' \
    True
req loads GET /api/v1/loads $ADMIN
check "no such load in the catalog" loads 'len(j["loads"])' 0

# ---- item 9: reports name the uploaded file, never the spool file ----
head -c 3000 /dev/urandom >"$TMPD/broken.zip"
req broken POST /api/v1/uploads $AC -F "file=@$TMPD/broken.zip"
expect "upload a broken zip" 202
job_wait broken_job "$(jq_py broken 'j["id"]')"
check "its import fails" broken_job 'j["state"]' failed
check "the problem names broken.zip" broken_job 'j["report"]["problems"][0]["file"]' broken.zip
if grep -q -e "$TMPD" -e spool "$TMPD/broken_job.body"; then
    fail "the job shows a server path: $(head -c 400 "$TMPD/broken_job.body")"
else
    pass "no server path in the job or its report"
fi

# ---- item 10: an empty "file" part and a second one are refused ----
: >"$TMPD/empty.zip"
req twice POST /api/v1/uploads $AC -F "file=@$TMPD/empty.zip" -F "file=@$TMPD/fw.zip"
expect "an empty file part, then a second one" 400
check "the refusal names the field" twice 'j["field"]' file
req twice2 POST /api/v1/uploads $AC -F "file=@$TMPD/fw.zip" -F "file=@$TMPD/broken.zip"
expect "two non-empty file parts" 400
req approval2 POST /api/v1/uploads $AC -F "file=@$TMPD/fw.zip" -F "approval=@$TMPD/empty.zip" \
    -F "approval=@$TMPD/broken.zip"
expect "an empty approval part, then a second one" 400
req loads2 GET /api/v1/loads $ADMIN
check "nothing was imported" loads2 'len(j["loads"])' 0
leftover=$(find "$D/spool" -type f | wc -l)
[ "$leftover" -eq 0 ] && pass "the refused uploads leave no spool file" || fail "$leftover spool file(s) left"
req once POST /api/v1/uploads $AC -F "file=@$TMPD/fw.zip"
expect "one file part still uploads" 202
job_wait once_job "$(jq_py once 'j["id"]')"
check "and imports" once_job 'j["state"]' done

# ---- item 14: export -> import is exact; the safe export defuses formulas ----
python3 - "$TMPD/tricky.csv" <<'EOF'
import sys
rows = ['=HYPERLINK("http://evil.example/","click")', "+1 555 0100", "-2", "@SUM(A1:A9)",
        " spaced ", 'quote " and, comma', "B\u00fcro \u2014 3", "'quoted", ""]
with open(sys.argv[1], "w", encoding="utf-8", newline="") as f:
    f.write("mac,model,description\r\n")
    for i, d in enumerate(rows):
        f.write('AABBCC0001%02d,7961,"%s"\r\n' % (i, d.replace('"', '""')))
EOF
csv_import tricky '' $AC $CSV --data-binary "@$TMPD/tricky.csv"
expect "import descriptions that look like formulas" done
req export GET /api/v1/devices/export $ADMIN
expect "plain export" 200
csv_import reimport '' $AC $CSV --data-binary "@$TMPD/export.body"
check "re-import changes nothing" reimport 'str(j["unchanged"]) + " " + str(j["added"] + j["updated"])' "10 0"
req export2 GET /api/v1/devices/export $ADMIN
cmp -s "$TMPD/export.body" "$TMPD/export2.body" && pass "export -> import -> export: the same bytes" ||
    fail "the second export differs"
grep -q '"=HYPERLINK(' "$TMPD/export.body" && pass "the plain export keeps the value as stored" ||
    fail "plain export: $(head -c 300 "$TMPD/export.body")"
req safe GET '/api/v1/devices/export?safe=1' $ADMIN
expect "spreadsheet-safe export" 200
python3 - "$TMPD/safe.body" <<'EOF' && pass "safe export: every cell quoted, none starts = + - @" || fail "safe export: $(head -c 400 "$TMPD/safe.body")"
import csv, io, sys
text = open(sys.argv[1], encoding="utf-8", newline="").read()
lines = [l for l in text.split("\r\n") if l][1:]  # the header is ours
assert all(l.startswith('"') and l.endswith('"') for l in lines), lines
cells = [c for row in csv.reader(io.StringIO(text)) for c in row]
assert not any(c[:1] in ("=", "+", "-", "@", "\t", "\r") for c in cells), cells
assert "'=HYPERLINK(\"http://evil.example/\",\"click\")" in cells, cells
assert "'+1 555 0100" in cells and "'-2" in cells and "'@SUM(A1:A9)" in cells, cells
EOF
req safe_bad GET '/api/v1/devices/export?safe=2' $ADMIN
expect "safe is 0 or 1" 400
ctl "$D" devices export --safe >"$TMPD/ctl_safe.csv" && cmp -s "$TMPD/ctl_safe.csv" "$TMPD/safe.body" &&
    pass "loadsctl devices export --safe: the same file" || fail "loadsctl devices export --safe differs: $CTL_ERR"
ctl "$D" devices export >"$TMPD/ctl_plain.csv" && cmp -s "$TMPD/ctl_plain.csv" "$TMPD/export.body" &&
    pass "loadsctl devices export: the same file as the API" || fail "loadsctl devices export differs"

daemon_stop
ctl_sanitizer_check
finish
