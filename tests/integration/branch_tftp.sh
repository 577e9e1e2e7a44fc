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
python3 "$top_srcdir/tests/tools/opencount.py" "$UP" >"$TMPD/opens.log" 2>&1 &
COUNT_PID=$!
pick_port UPORT
in.tftpd -L -s "$UP" -a "127.0.0.1:$UPORT" -u "$(id -un)" </dev/null >"$TMPD/hpa.log" 2>&1 &
HPA_PID=$!
trap 'kill -TERM $HPA_PID $COUNT_PID 2>/dev/null; cleanup' EXIT
i=0
until grep -q ready "$TMPD/opens.log" 2>/dev/null; do
    i=$((i + 1))
    [ $i -lt 50 ] || die "opencount.py does not start: $(cat "$TMPD/opens.log")"
    sleep 0.1
done
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
st=$(load_status "$BDATA" "$LOAD")
if [ "$n503" -eq 5 ] && [ -z "$bad" ] && [ -z "$st" ]; then
    pass "5 clients at once, the catalog empty: all 5 told 503 (being fetched), no byte of the load"
else
    fail "5 clients at once: $n503 answers 503;$bad; the catalog says '$st'"
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
finish
