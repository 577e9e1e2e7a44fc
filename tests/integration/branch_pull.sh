#!/bin/sh
# branch_pull.sh: pull-through from an upstream (issue 14). A central loadsd
# holds a load; a branch loadsd with --upstream pointed at the central's file
# service holds nothing. Five clients ask the branch at once: each is told to
# ask again (TFTP: held, then an error; HTTP 503 + Retry-After), never given
# a byte that is not verified; with the upstream down the answer stays "ask
# again" and the pull is retried once it is back; one pull fetches each file
# once (the central's log); then every
# file comes byte-exact over TFTP (tftp-hpa) and HTTP (curl), the load is
# verified in the branch's catalog with the upstream as its import's source. A
# load the central lacks is "not found". A blob changed on its way (a proxy,
# tests/tools/tamper_proxy.py, between branch and central) is refused
# (SHA-256), never served, and fetched again once it comes right. A link cut
# mid-blob leaves the part in the spool; the branch is killed with -9 and
# started again, and the next pull resumes the part with a Range request.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/catalog_lib.sh"
. "$(dirname "$0")/branch_lib.sh"

need_cmd curl python3 ss tftp
cat_setup
LOAD=SIP41.9-4-2SR3-1S
LOAD2=SIP45.9-4-2SR3-1S
LOAD3=SIP70.9-4-2SR3-1S
LOAD4=SIP75.9-4-2SR3-1S
bundle "$TMPD/b.zip" "$TMPD/b.json" --format zip --component-headers all --size-kb 256
bundle "$TMPD/b2.zip" "$TMPD/b2.json" --format zip --component-headers all --load "$LOAD2" --seed 2
CDATA="$TMPD/central"
cat_init "$CDATA"
ctl "$CDATA" import "$TMPD/b.zip" >/dev/null || die "import at the central failed: $CTL_ERR"
ctl "$CDATA" import "$TMPD/b2.zip" >/dev/null || die "import of $LOAD2 failed: $CTL_ERR"
bundle "$TMPD/b3.zip" "$TMPD/b3.json" --format zip --component-headers all --load "$LOAD3" --seed 3
ctl "$CDATA" import "$TMPD/b3.zip" >/dev/null || die "import of $LOAD3 failed: $CTL_ERR"
bundle "$TMPD/b4.zip" "$TMPD/b4.json" --format zip --component-headers all --load "$LOAD4" --seed 4 \
    --size-kb 512
ctl "$CDATA" import "$TMPD/b4.zip" >/dev/null || die "import of $LOAD4 failed: $CTL_ERR"

# ---- the central: its file service only ----
central_start "$CDATA"

# ---- the branch: an empty catalog that trusts the same vendor ----
BDATA="$TMPD/branch"
cat_init "$BDATA"
pick_tcp_port BPORT
B="http://127.0.0.1:$BPORT"
cat_daemon_start "$BDATA" --files-listen "127.0.0.1:$BPORT" --upstream "$P/" --scrub-interval 0

man_files "$TMPD/b.json" >"$TMPD/want.list"
nfiles=$(wc -l <"$TMPD/want.list")

# ---- five at once: told to wait, never given unverified bytes ----
pids=""
for k in 1 2 3 4 5; do
    curl -s -D "$TMPD/h$k" -o "$TMPD/out/first$k" -w '%{http_code}\n' \
        "$B/$LOAD.loads" >"$TMPD/code$k" &
    pids="$pids $!"
done
wait $pids
n503=0
bad=""
for k in 1 2 3 4 5; do
    case $(cat "$TMPD/code$k") in
    503)
        n503=$((n503 + 1))
        tr -d '\r' <"$TMPD/h$k" | grep -qi '^Retry-After: 5$' || bad="$bad $k:no-retry-after"
        ;;
    200) [ "$(sha "$TMPD/out/first$k")" = "$(awk -v n="$LOAD.loads" '$1 == n { print $3 }' "$TMPD/want.list")" ] ||
        bad="$bad $k:wrong-bytes" ;;
    *) bad="$bad $k:$(cat "$TMPD/code$k")" ;;
    esac
done
if [ "$n503" -ge 1 ] && [ -z "$bad" ]; then
    pass "5 clients at once: $n503 told 503 + Retry-After: 5 while the load is pulled, none given other bytes"
else
    fail "5 clients at once: $n503 answers 503;$bad"
fi

# TFTP during a pull: the request is held (no answer) up to 8 s from its
# first try; tftp-hpa resends after 5 s, and the resend is served once the
# pull (one blob slowed to 3 s by the proxy) is done: no error, no backoff.
man_files "$TMPD/b2.json" | awk 'NR == 2 { print $3, 3 }' >"$TMPD/delay"
t0=$(date +%s)
hpa_err=$(cd "$TMPD/out" && timeout 30 tftp -m octet 127.0.0.1 "$PORT" -c get "$LOAD2.loads" 2>&1)
want2=$(man_files "$TMPD/b2.json" | awk -v n="$LOAD2.loads" '$1 == n { print $3 }')
if [ -z "$hpa_err" ] && [ "$(sha "$TMPD/out/$LOAD2.loads")" = "$want2" ] &&
    grep -q "held \"$LOAD2.loads\"" "$DAEMON_LOG"; then
    pass "TFTP during a pull: held, then served byte-exact to the resend ($(($(date +%s) - t0)) s)"
else
    fail "TFTP during a pull: \"$hpa_err\"; $(grep "$LOAD2" "$DAEMON_LOG" | tail -2)"
fi
# Past the hold (a blob slowed to 20 s): the resend gets ERROR 0 that says why.
LOAD5=SIP80.9-4-2SR3-1S
bundle "$TMPD/b5.zip" "$TMPD/b5.json" --format zip --component-headers all --load "$LOAD5" --seed 5
ctl "$CDATA" import "$TMPD/b5.zip" >/dev/null || die "import of $LOAD5 failed: $CTL_ERR"
man_files "$TMPD/b5.json" | awk 'NR == 2 { print $3, 20 }' >"$TMPD/delay"
sleep 0.5 # the central's snapshot (250 ms poll)
hpa_err=$(cd "$TMPD/out" && timeout 30 tftp -m octet 127.0.0.1 "$PORT" -c get "$LOAD5.loads" 2>&1)
case $hpa_err in
*"being fetched from upstream"*) pass "TFTP past the hold: \"$hpa_err\"" ;;
*) fail "TFTP past the hold: \"$hpa_err\"" ;;
esac
: >"$TMPD/delay"

# ---- then served, byte-exact, by both protocols ----
served=0
i=0
while [ $i -lt 150 ]; do
    rm -f "$TMPD/out/$LOAD.loads"
    if (cd "$TMPD/out" && timeout 5 tftp -m octet 127.0.0.1 "$PORT" -c get "$LOAD.loads" >/dev/null 2>&1) &&
        [ -s "$TMPD/out/$LOAD.loads" ]; then
        served=1
        break
    fi
    i=$((i + 1))
    sleep 0.2
done
[ $served = 1 ] && pass "the branch serves $LOAD.loads after about $((i / 5)) s" ||
    fail "the branch never served $LOAD.loads: $(grep -i pull "$DAEMON_LOG" | tail -3)"
files_exact "$TMPD/want.list"

# ---- once per file across the "WAN": the central's log ----
once=0
while read -r name size want; do
    n=$(grep -c "http GET \"/blobs/sha256/$want\" .*: 200" "$TMPD/central.log")
    [ "$n" -eq 1 ] && once=$((once + 1)) || echo "  $name: fetched $n times"
done <"$TMPD/want.list"
[ $once -eq "$nfiles" ] && pass "the central sent each of the $nfiles blobs once" ||
    fail "the central sent $once of $nfiles blobs exactly once"

st=$(load_status "$BDATA" "$LOAD")
[ "$st" = verified ] && pass "the branch's catalog: $LOAD verified" || fail "the branch's catalog: $LOAD is '$st'"
src=$(sql "$BDATA" "SELECT DISTINCT source FROM imports WHERE state = 'done'")
[ "$src" = "upstream $P" ] && pass "its import's source: \"$src\"" || fail "import source: \"$src\""
[ ! -e "$BDATA/spool/pull/$LOAD" ] && pass "the load's spool is gone after the import" ||
    fail "left in the spool: $(ls -A "$BDATA/spool/pull/$LOAD")"

# ---- the upstream down during a pull: "ask again", never "not found" ----
LOAD6=SIP85.9-4-2SR3-1S
bundle "$TMPD/b6.zip" "$TMPD/b6.json" --format zip --component-headers all --load "$LOAD6" --seed 6
ctl "$CDATA" import "$TMPD/b6.zip" >/dev/null || die "import of $LOAD6 failed: $CTL_ERR"
kill -TERM "$PROXY_PID"
wait "$PROXY_PID" 2>/dev/null
codes=""
end=$(($(date +%s) + 4))
while [ "$(date +%s)" -lt "$end" ]; do
    codes="$codes $(curl -s -o /dev/null -w '%{http_code}' "$B/$LOAD6.loads")"
    sleep 0.5
done
if [ -z "$(echo "$codes" | tr ' ' '\n' | grep -v '^503$' | grep .)" ] &&
    grep -q "pull of load $LOAD6 failed.*onnect" "$DAEMON_LOG"; then
    pass "upstream down: every answer 503 ($(echo $codes | wc -w) tries), the pull failed and is retried"
else
    fail "upstream down: answers$codes; $(grep "$LOAD6" "$DAEMON_LOG" | tail -2)"
fi
proxy_start
want6=$(man_files "$TMPD/b6.json" | awk -v n="$LOAD6.loads" '$1 == n { print $3 }')
i=0
c=""
while [ $i -lt 150 ]; do
    c=$(curl -s -o "$TMPD/out/t6" -w '%{http_code}' "$B/$LOAD6.loads")
    [ "$c" = 200 ] && break
    i=$((i + 1))
    sleep 0.2
done
[ "$c" = 200 ] && [ "$(sha "$TMPD/out/t6")" = "$want6" ] &&
    pass "upstream back: $LOAD6 pulled and served byte-exact within $((i / 5)) s" ||
    fail "upstream back: $c; $(grep "$LOAD6" "$DAEMON_LOG" | tail -2)"

# ---- a load the central does not have ----
i=0
msg=""
while [ $i -lt 50 ]; do
    msg=$(cd "$TMPD/out" && timeout 5 tftp -m octet 127.0.0.1 "$PORT" -c get NOSUCH.1-2-3.loads 2>&1)
    case $msg in *"not found"* | *"File not found"*) break ;; esac
    i=$((i + 1))
    sleep 0.2
done
case $msg in
*"ot found"*) pass "a load the central lacks: \"$msg\"" ;;
*) fail "a load the central lacks: \"$msg\"" ;;
esac
code=$(curl -s -o /dev/null -w '%{http_code}' "$B/NOSUCH.1-2-3.loads")
[ "$code" = 404 ] && pass "... and 404 over HTTP" || fail "... over HTTP: $code"

# ---- a blob changed on the way: refused, never served, fetched again ----
man_files "$TMPD/b3.json" >"$TMPD/want3.list"
comp=$(awk '$1 !~ /\.loads$/ { print $1; exit }' "$TMPD/want3.list")
awk -v n="$comp" '$1 == n { print $3 }' "$TMPD/want3.list" >"$TMPD/tamper"
served=""
end=$(($(date +%s) + 6))
while [ "$(date +%s)" -lt "$end" ]; do
    c=$(curl -s -o "$TMPD/out/t3" -w '%{http_code}' "$B/$LOAD3.loads")
    [ "$c" = 200 ] && served=yes
    c=$(curl -s -o "$TMPD/out/t3c" -w '%{http_code}' "$B/$comp")
    [ "$c" = 200 ] && served=yes
    sleep 0.3
done
if [ -z "$served" ] && grep -q "pull of load $LOAD3 failed.*SHA-256" "$DAEMON_LOG"; then
    pass "a tampered blob: refused (\"$(grep -o "SHA-256 [^,]*, expected" "$DAEMON_LOG" | head -1)\"), nothing of $LOAD3 served"
else
    fail "a tampered blob: served=${served:-no}; log: $(grep "$LOAD3" "$DAEMON_LOG" | tail -2)"
fi
[ ! -e "$BDATA/spool/pull/$LOAD3/$comp" ] && pass "the refused file is not kept" ||
    fail "the refused file is still in the spool"
: >"$TMPD/tamper"
i=0
while [ $i -lt 150 ]; do
    c=$(curl -s -o "$TMPD/out/t3c" -w '%{http_code}' "$B/$comp")
    curl -s -o /dev/null "$B/$LOAD3.loads"
    [ "$c" = 200 ] && break
    i=$((i + 1))
    sleep 0.2
done
want=$(awk -v n="$comp" '$1 == n { print $3 }' "$TMPD/want3.list")
[ "$c" = 200 ] && [ "$(sha "$TMPD/out/t3c")" = "$want" ] &&
    pass "once the link is right: fetched again and served byte-exact" ||
    fail "after the tampering stopped: $c; $(grep "$LOAD3" "$DAEMON_LOG" | tail -2)"

# ---- a link cut mid-blob, the branch killed with -9: the part resumes ----
man_files "$TMPD/b4.json" >"$TMPD/want4.list"
comp=$(awk '$1 !~ /\.loads$/ { print $1; exit }' "$TMPD/want4.list")
want=$(awk -v n="$comp" '$1 == n { print $3 }' "$TMPD/want4.list")
size=$(awk -v n="$comp" '$1 == n { print $2 }' "$TMPD/want4.list")
echo "$want" >"$TMPD/cut"
curl -s -o /dev/null "$B/$LOAD4.loads"
daemon_log_wait "pull of load $LOAD4 failed"
part="$BDATA/spool/pull/$LOAD4/$comp"
have=$(wc -c <"$part" 2>/dev/null || echo 0)
if [ "$have" -gt 0 ] && [ "$have" -lt "$size" ]; then
    pass "a cut link: $have of $size bytes kept in the spool"
else
    fail "a cut link: the spool holds $have of $size bytes"
fi
kill -KILL "$DAEMON_PID"
wait "$DAEMON_PID" 2>/dev/null
DAEMON_PID=""
: >"$TMPD/cut"
cat_daemon_start "$BDATA" --files-listen "127.0.0.1:$BPORT" --upstream "$P/" --scrub-interval 0
i=0
c=""
while [ $i -lt 100 ]; do
    c=$(curl -s -o "$TMPD/out/t4c" -w '%{http_code}' "$B/$comp")
    [ "$c" = 200 ] && break
    curl -s -o /dev/null "$B/$LOAD4.loads"
    i=$((i + 1))
    sleep 0.2
done
[ "$c" = 200 ] && [ "$(sha "$TMPD/out/t4c")" = "$want" ] &&
    pass "after kill -9 and a restart: $LOAD4 pulled and served byte-exact" ||
    fail "after kill -9: $c; $(grep "$LOAD4" "$DAEMON_LOG" | tail -2)"
if grep -q "GET /blobs/sha256/$want range=bytes=$have- -> 206" "$TMPD/proxy.log"; then
    pass "the part was resumed: Range bytes=$have- answered 206"
else
    fail "no resume of the part: $(grep "$want" "$TMPD/proxy.log" | tail -3)"
fi

daemon_stop
finish
