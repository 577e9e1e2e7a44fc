#!/bin/sh
# branch_tftp.sh: a branch loadsd whose upstream is any TFTP server (issue 14):
# tftpd-hpa holds a signed load's loose files; the branch, its catalog empty,
# has --upstream tftp://. Five clients ask at once: none gets a byte before
# the load is fetched whole and imported (statuses from the branch's own
# trust store); then every file is served byte-exact over TFTP and HTTP; the
# upstream was asked once per file (tests/tools/opencount.py counts its
# opens with inotify: tftpd-hpa logs only to syslog). A component tampered
# with on the upstream: the load is refused, nothing of it served, and it is
# fetched again after the backoff once fixed. A component missing: the load
# is not published. With --upstream-configs on, SEP<MAC>.cnf.xml comes from
# the upstream fresh per request, and its last good copy (said so in the
# log) once the upstream is down.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/catalog_lib.sh"
. "$(dirname "$0")/branch_lib.sh"

need_cmd curl python3 ss tftp in.tftpd
cat_setup
LOAD=SIP41.9-4-2SR3-1S
LOAD3=SIP70.9-4-2SR3-1S
LOAD4=SIP75.9-4-2SR3-1S
UP="$TMPD/up"
mkdir -p "$UP"
bundle "$TMPD/b" "$TMPD/b.json" --format dir --component-headers all --size-kb 256
bundle "$TMPD/b3" "$TMPD/b3.json" --format dir --component-headers all --load "$LOAD3" --seed 3
bundle "$TMPD/b4" "$TMPD/b4.json" --format dir --component-headers all --load "$LOAD4" --seed 4
cp "$TMPD/b/"* "$TMPD/b3/"* "$TMPD/b4/"* "$UP/"
man_files "$TMPD/b.json" >"$TMPD/want.list"
nfiles=$(wc -l <"$TMPD/want.list")

# A component of LOAD3 with one byte of its signed payload changed (moved
# in: a rename opens nothing, so the counts below stay the server's).
man_files "$TMPD/b3.json" >"$TMPD/want3.list"
comp3=$(awk '$1 !~ /\.loads$/ { print $1; exit }' "$TMPD/want3.list")
python3 -c 'import sys
b = bytearray(open(sys.argv[1], "rb").read())
b[-1] ^= 0x01
open(sys.argv[2], "wb").write(b)' "$TMPD/b3/$comp3" "$TMPD/tampered"
mv "$TMPD/tampered" "$UP/$comp3"
# A component of LOAD4 the upstream does not have.
comp4=$(man_files "$TMPD/b4.json" | awk '$1 !~ /\.loads$/ { print $1; exit }')
rm -f "$UP/$comp4"

# ---- the upstream: tftpd-hpa, its opens counted ----
hpa_watched "$UP"
# opens NAME: how often the upstream opened NAME.
opens() {
    grep -c "^open $1\$" "$TMPD/opens.log"
}

# ---- the branch: an empty catalog that trusts the vendor ----
BDATA="$TMPD/branch"
cat_init "$BDATA"
pick_tcp_port BPORT
B="http://127.0.0.1:$BPORT"
cat_daemon_start "$BDATA" --files-listen "127.0.0.1:$BPORT" --upstream "tftp://127.0.0.1:$UPORT" \
    --scrub-interval 0

# ---- five at once: nothing before the load is fetched whole and checked ----
pids=""
for k in 1 2 3 4 5; do
    curl -s -o "$TMPD/out/first$k" -w '%{http_code}\n' "$B/$LOAD.loads" >"$TMPD/code$k" &
    pids="$pids $!"
done
wait $pids
n503=0
bad=""
for k in 1 2 3 4 5; do
    case $(cat "$TMPD/code$k") in
    503) n503=$((n503 + 1)) ;;
    *) bad="$bad $k:$(cat "$TMPD/code$k")" ;;
    esac
    [ -s "$TMPD/out/first$k" ] && grep -q "$LOAD" "$TMPD/out/first$k" && bad="$bad $k:load-bytes"
done
if [ "$n503" -eq 5 ] && [ -z "$bad" ]; then
    pass "5 clients at once, the catalog empty: all 5 told 503 (being fetched), no byte of the load"
else
    fail "5 clients at once: $n503 answers 503;$bad"
fi

# ---- then served, byte-exact, by both protocols ----
http_wait "$B/$LOAD.loads" "$TMPD/out/l" 30
[ "$c" = 200 ] && pass "the branch serves $LOAD.loads after about $((i / 5)) s" ||
    fail "the branch never served $LOAD.loads: $(grep -i pull "$DAEMON_LOG" | tail -3)"
files_exact "$TMPD/want.list"

# ---- once per file from the upstream, however many asked ----
once=0
while read -r name size want; do
    n=$(opens "$name")
    [ "$n" -eq 1 ] && once=$((once + 1)) || echo "  $name: opened $n times by the upstream"
done <"$TMPD/want.list"
[ $once -eq "$nfiles" ] && pass "the upstream was asked once for each of the $nfiles files" ||
    fail "the upstream was asked once for $once of $nfiles files"

st=$(load_status "$BDATA" "$LOAD")
[ "$st" = verified ] && pass "the branch's catalog: $LOAD verified (its own trust store)" ||
    fail "the branch's catalog: $LOAD is '$st'"
src=$(sql "$BDATA" "SELECT DISTINCT source FROM imports WHERE state = 'done'")
[ "$src" = "upstream tftp://127.0.0.1:$UPORT" ] && pass "its import's source: \"$src\"" ||
    fail "import source: \"$src\""
[ ! -e "$BDATA/spool/pull/$LOAD" ] && pass "the load's spool is gone after the import" ||
    fail "left in the spool: $(ls -A "$BDATA/spool/pull/$LOAD")"
grep -q "pulled load $LOAD from tftp://.*: $nfiles file(s), $nfiles fetched" "$DAEMON_LOG" &&
    pass "the log: $(grep -o "pulled load $LOAD from .*" "$DAEMON_LOG" | head -1)" ||
    fail "no pull line for $LOAD in the log"

# ---- a tampered component: refused, nothing served, fetched again ----
served=""
end=$(($(date +%s) + 5))
while [ "$(date +%s)" -lt "$end" ]; do
    c=$(curl -s -o /dev/null -w '%{http_code}' "$B/$LOAD3.loads")
    [ "$c" = 200 ] && served="$served loads"
    c=$(curl -s -o /dev/null -w '%{http_code}' "$B/$comp3")
    [ "$c" = 200 ] && served="$served $comp3"
    sleep 0.3
done
if [ -z "$served" ] && grep -q "pull of load $LOAD3 failed.*import refused: $comp3: signature check" \
    "$DAEMON_LOG"; then
    pass "a tampered component: refused (\"$(grep -o "import refused: $comp3: [^(]*" "$DAEMON_LOG" | head -1)\"), nothing of $LOAD3 served"
else
    fail "a tampered component: served:${served:-nothing}; log: $(grep "$LOAD3" "$DAEMON_LOG" | tail -2)"
fi
[ -z "$(load_status "$BDATA" "$LOAD3")" ] && pass "... and $LOAD3 is not in the branch's catalog" ||
    fail "$LOAD3 is in the catalog: $(load_status "$BDATA" "$LOAD3")"
before=$(opens "$comp3")
cp "$TMPD/b3/$comp3" "$TMPD/fixed"
mv "$TMPD/fixed" "$UP/$comp3"
# Nobody asks again: the branch retries the failed pull by itself.
http_wait "$B/$comp3" "$TMPD/out/t3c" 40
want=$(awk -v n="$comp3" '$1 == n { print $3 }' "$TMPD/want3.list")
after=$(opens "$comp3")
if [ "$c" = 200 ] && [ "$(sha "$TMPD/out/t3c")" = "$want" ] && [ "$after" -gt "$before" ]; then
    pass "fixed on the upstream: fetched again ($before -> $after opens) after the backoff, served byte-exact"
else
    fail "after the fix: $c, opens $before -> $after; $(grep "$LOAD3" "$DAEMON_LOG" | tail -2)"
fi

# ---- a component missing upstream: the load is not published ----
served=""
end=$(($(date +%s) + 4))
while [ "$(date +%s)" -lt "$end" ]; do
    c=$(curl -s -o /dev/null -w '%{http_code}' "$B/$LOAD4.loads")
    [ "$c" = 200 ] && served=yes
    sleep 0.3
done
if [ -z "$served" ] && [ -z "$(load_status "$BDATA" "$LOAD4")" ] &&
    grep -q "pull of load $LOAD4 failed.*$comp4: the server answered ERROR 1" "$DAEMON_LOG"; then
    pass "a component missing upstream: $LOAD4 not published (\"$(grep -o "$comp4: the server answered ERROR 1[^)]*" "$DAEMON_LOG" | head -1)\")"
else
    fail "a missing component: served=${served:-no}; $(grep "$LOAD4" "$DAEMON_LOG" | tail -2)"
fi

daemon_stop

# ---- --upstream-configs on: the upstream's configs, fresh, else the last good copy ----
code=0
"$LOADSD" --foreground --config "$CONFIG_FILE" --data-dir "$BDATA" --upstream "http://127.0.0.1:1" \
    --upstream-configs on --admin-listen none >"$TMPD/refused.log" 2>&1 </dev/null || code=$?
[ "$code" -ne 0 ] && grep -q "upstream-configs.*needs a tftp:// upstream" "$TMPD/refused.log" &&
    pass "--upstream-configs on with an http:// upstream: refused at start ($(head -1 "$TMPD/refused.log"))" ||
    fail "--upstream-configs with http://: exit $code, $(head -2 "$TMPD/refused.log")"
SEP=SEP001122AABBCC.cnf.xml
printf '<device><loadInformation>FROM-UPSTREAM-1</loadInformation></device>\n' >"$TMPD/sep1"
printf '<device><loadInformation>FROM-UPSTREAM-2</loadInformation></device>\n' >"$TMPD/sep2"
printf '<Default><loadInformation30018 model="IP Phone 7961">UPSTREAM-DEFAULT</loadInformation30018></Default>\n' \
    >"$TMPD/xmldefault"
cp "$TMPD/sep1" "$TMPD/sep.new" && mv "$TMPD/sep.new" "$UP/$SEP"
cp "$TMPD/xmldefault" "$TMPD/xd.new" && mv "$TMPD/xd.new" "$UP/XMLDefault.cnf.xml"
cat_daemon_start "$BDATA" --files-listen "127.0.0.1:$BPORT" --upstream "tftp://127.0.0.1:$UPORT" \
    --scrub-interval 0 --upstream-configs on
# cfg NAME OUT: the branch's NAME over TFTP (tftp-hpa) into OUT; its messages in $HPA_MSG.
cfg() {
    rm -f "$2"
    HPA_MSG=$(cd "$TMPD/out" && timeout 40 tftp -m octet 127.0.0.1 "$PORT" -c get "$1" "$2" 2>&1)
}
cfg "$SEP" "$TMPD/out/c1"
cfg XMLDefault.cnf.xml "$TMPD/out/d1"
if same_file "$TMPD/sep1" "$TMPD/out/c1" && same_file "$TMPD/xmldefault" "$TMPD/out/d1"; then
    pass "$SEP and XMLDefault.cnf.xml come from the upstream (not the branch's own rendering)"
else
    fail "upstream configs: \"$HPA_MSG\"; got $(head -c 120 "$TMPD/out/c1" 2>/dev/null) / $(head -c 120 "$TMPD/out/d1" 2>/dev/null)"
fi
n1=$(opens "$SEP")
curl -s -o "$TMPD/out/c1h" "$B/$SEP"
cp "$TMPD/sep2" "$TMPD/sep.new" && mv "$TMPD/sep.new" "$UP/$SEP"
cfg "$SEP" "$TMPD/out/c2"
n2=$(opens "$SEP")
if same_file "$TMPD/sep1" "$TMPD/out/c1h" && same_file "$TMPD/sep2" "$TMPD/out/c2" && [ "$n2" -eq $((n1 + 2)) ]; then
    pass "fresh per request: HTTP got it too, then the changed upstream file was served at once (upstream opens $n1 -> $n2)"
else
    fail "fresh per request: HTTP same=$(same_file "$TMPD/sep1" "$TMPD/out/c1h" && echo yes), changed same=$(same_file "$TMPD/sep2" "$TMPD/out/c2" && echo yes), opens $n1 -> $n2"
fi
same_file "$TMPD/sep2" "$BDATA/upstream-configs/sep001122aabbcc.cnf.xml" &&
    pass "the last good copy is kept in the data dir (upstream-configs/)" ||
    fail "no last good copy in $BDATA/upstream-configs: $(ls -A "$BDATA/upstream-configs" 2>&1)"
kill -TERM "$HPA_PID"
wait "$HPA_PID" 2>/dev/null
t0=$(date +%s)
cfg "$SEP" "$TMPD/out/c3"
if same_file "$TMPD/sep2" "$TMPD/out/c3" &&
    grep -q "unreachable for $SEP .*serving its last good copy" "$DAEMON_LOG"; then
    pass "upstream stopped: the last good copy served in $(($(date +%s) - t0)) s; the log: \"$(grep -o "unreachable for $SEP .*" "$DAEMON_LOG" | head -1)\""
else
    fail "upstream stopped: \"$HPA_MSG\"; $(grep "$SEP" "$DAEMON_LOG" | tail -2)"
fi

daemon_stop
finish
