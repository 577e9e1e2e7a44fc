#!/bin/sh
# catalog_scrub.sh: a blob whose bytes change (or that vanishes) is found by
# `loadsctl verify` and by loadsd's background scrub, quarantined with its
# load, and never served; the load's other files still are; importing the
# same bundle again heals it.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/catalog_lib.sh"

cat_setup
LOAD=SIP41.9-4-2SR3-1S
DATA="$TMPD/data"
cat_init "$DATA"
bundle "$TMPD/b.zip" "$TMPD/b.json" --format zip --component-headers --term-default
ctl "$DATA" import "$TMPD/b.zip" >/dev/null || die "import failed: $CTL_ERR"

# flip_byte DATADIR NAME: XORs one byte of the blob holding file NAME.
flip_byte() {
    h=$(file_sha "$1" "$2")
    p=$(blob_path "$1" "$h")
    [ -f "$p" ] || die "no blob $p for $2"
    chmod u+w "$p" || die "chmod $p failed"
    python3 -c 'import sys
with open(sys.argv[1], "r+b") as f:
    f.seek(100)
    b = f.read(1)
    f.seek(100)
    f.write(bytes([b[0] ^ 0x5a]))' "$p" || die "cannot change $p"
    [ "$(sha "$p")" != "$h" ] || die "the blob of $2 did not change"
}

# want_file_status DATADIR NAME STATUS LABEL and want_load_status: one result.
want_file_status() {
    ctl "$1" --json files >"$TMPD/files.json"
    got=$(json_field "$TMPD/files.json" '[f["status"] for f in d if f["name"] == "'"$2"'"][0]')
    [ "$got" = "$3" ] && pass "$4: $2 is $3" || fail "$4: $2 is \"$got\", want $3"
}
want_load_status() {
    got=$(load_status "$1" "$2")
    [ "$got" = "$3" ] && pass "$4: load $2 is $3" || fail "$4: load $2 is \"$got\", want $3"
}

# refused_within LABEL NAME: at most 5 s for loadsd to stop serving NAME
# (its snapshot follows the catalog within ~250 ms); the daemon must say why.
refused_within() {
    i=0
    while [ $i -lt 25 ] && tftp_fetch "$2" "$TMPD/out/q"; do
        sleep 0.2
        i=$((i + 1))
    done
    if [ $i -lt 25 ]; then
        pass "$1: $2 is no longer served (atftp: $(echo "$FETCH_MSG" | head -1))"
    else
        fail "$1: $2 is still served 5 s after the quarantine"
        return
    fi
    if grep -i "$2" "$DAEMON_LOG" | grep -q -i -E 'quarantin|not available'; then
        pass "$1: the loadsd log says why: $(grep -i "$2" "$DAEMON_LOG" | grep -i -E 'quarantin|not available' | tail -1 | cut -c1-160)"
    else
        fail "$1: the loadsd log does not say $2 is quarantined"
    fi
}

# served_within LABEL NAME WANT_SHA: at most 5 s for NAME to serve WANT_SHA.
served_within() {
    i=0
    while [ $i -lt 25 ] && ! tftp_fetch "$2" "$TMPD/out/h"; do
        sleep 0.2
        i=$((i + 1))
    done
    if [ $i -ge 25 ]; then
        fail "$1: $2 is not served 5 s later: $FETCH_MSG"
    elif [ "$(sha "$TMPD/out/h")" != "$3" ]; then
        fail "$1: $2 is served with other bytes"
    else
        pass "$1: $2 is served again, SHA-256 matches"
    fi
}

# others_serve LABEL SKIP: every other file of the bundle still serves.
others_serve() {
    man_files "$TMPD/b.json" | grep -v "^$2 " >"$TMPD/others.list"
    bad=0
    n=0
    while read -r name size want; do
        n=$((n + 1))
        if ! tftp_fetch "$(mixcase "$name" $n)" "$TMPD/out/o" || [ "$(sha "$TMPD/out/o")" != "$want" ]; then
            bad=$((bad + 1))
            echo "  $name: $FETCH_MSG"
        fi
    done <"$TMPD/others.list"
    [ "$bad" -eq 0 ] && pass "$1: the load's $n other files still serve, SHA-256 matches" ||
        fail "$1: $bad of the $n other files do not serve"
}

# ---- 1. loadsctl verify, with loadsd serving -----------------------------

cat_daemon_start "$DATA" --scrub-interval 0
fetch_all "$TMPD/b.json" "before" 1
F=dsp41.9-4-2ES26.sbn
FSHA=$(file_sha "$DATA" "$F")
flip_byte "$DATA" "$F"
if ctl "$DATA" --json verify >"$TMPD/verify.json"; then
    fail "verify: exits 0 with a changed blob"
else
    [ "$ctl_rc" -eq 1 ] && pass "verify: exit status 1" || fail "verify: exit status $ctl_rc"
fi
r=$(json_field "$TMPD/verify.json" '[f["result"] for f in d["files"] if f["name"] == "'"$F"'"][0]')
q=$(json_field "$TMPD/verify.json" 'd["quarantined"]')
case "$r" in
QUARANTINED*) [ "$q" = 1 ] && pass "verify: reports $F: $r" || fail "verify: $q newly quarantined, want 1" ;;
*) fail "verify: $F result \"$r\"" ;;
esac
want_file_status "$DATA" "$F" quarantined "verify"
want_load_status "$DATA" "$LOAD" quarantined "verify"
# term41.default lists the same component: quarantined too.
want_load_status "$DATA" term41.default quarantined "verify"
ctl "$DATA" verify >/dev/null
[ "$ctl_rc" -eq 1 ] && pass "verify again: still exit status 1 (quarantined before)" ||
    fail "verify again: exit status $ctl_rc"
refused_within "verify" "$(mixcase "$F" 1)"
others_serve "verify" "$F"

# Re-importing the same bundle heals it.
if ctl "$DATA" import "$TMPD/b.zip" >"$TMPD/heal.out"; then
    pass "heal: the same bundle imports again"
    grep -q "$F" "$TMPD/heal.out" && pass "heal: the import reports $F: $(grep "$F" "$TMPD/heal.out")" ||
        fail "heal: the import does not mention $F: $(cat "$TMPD/heal.out")"
else
    fail "heal: import refused: $CTL_ERR"
fi
want_load_status "$DATA" "$LOAD" verified "heal"
want_load_status "$DATA" term41.default verified "heal"
want_file_status "$DATA" "$F" ok "heal"
[ "$(sha "$(blob_path "$DATA" "$FSHA")")" = "$FSHA" ] && pass "heal: the blob holds the right bytes" ||
    fail "heal: the blob still holds the wrong bytes"
served_within "heal" "$(mixcase "$F" 2)" "$FSHA"
ctl "$DATA" verify >/dev/null && pass "heal: verify exits 0" || fail "heal: verify exit status $ctl_rc"

# A blob that vanished: quarantined ("missing"), healed the same way.
M=cnu41.9-4-2ES26.sbn
MSHA=$(file_sha "$DATA" "$M")
rm -f "$(blob_path "$DATA" "$MSHA")"
ctl "$DATA" --json verify >"$TMPD/verify.json"
[ "$ctl_rc" -eq 1 ] && pass "missing blob: verify exit status 1" || fail "missing blob: verify exit status $ctl_rc"
r=$(json_field "$TMPD/verify.json" '[f["result"] for f in d["files"] if f["name"] == "'"$M"'"][0]')
case "$r" in
QUARANTINED*) pass "missing blob: reports $M: $r" ;;
*) fail "missing blob: $M result \"$r\"" ;;
esac
want_load_status "$DATA" "$LOAD" quarantined "missing blob"
refused_within "missing blob" "$M"
ctl "$DATA" import "$TMPD/b.zip" >/dev/null || fail "missing blob: re-import refused: $CTL_ERR"
want_load_status "$DATA" "$LOAD" verified "missing blob, healed"
served_within "missing blob, healed" "$M" "$MSHA"
daemon_stop

# ---- 2. loadsd's background scrub finds it on its own --------------------

cat_daemon_start "$DATA" --scrub-interval 2 --scrub-rate 0
S=jar41sip.9-4-2ES26.sbn
SSHA=$(file_sha "$DATA" "$S")
flip_byte "$DATA" "$S"
i=0
got=""
while [ $i -lt 30 ]; do
    got=$(load_status "$DATA" "$LOAD")
    [ "$got" = quarantined ] && break
    sleep 0.5
    i=$((i + 1))
done
if [ "$got" = quarantined ]; then
    pass "scrub: loadsd quarantined the load on its own within $(((i + 1) / 2)) s"
else
    fail "scrub: load still \"$got\" 15 s after the change (scrub interval 2 s)"
fi
want_file_status "$DATA" "$S" quarantined "scrub"
if grep -i "$S" "$DAEMON_LOG" | grep -q -i quarantin; then
    pass "scrub: the loadsd log names $S as quarantined"
else
    fail "scrub: the loadsd log does not mention quarantining $S"
fi
refused_within "scrub" "$S"
others_serve "scrub" "$S"
ctl "$DATA" import "$TMPD/b.zip" >/dev/null || fail "scrub: re-import refused: $CTL_ERR"
want_load_status "$DATA" "$LOAD" verified "scrub, healed"
served_within "scrub, healed" "$(mixcase "$S" 3)" "$SSHA"
# The scrub keeps running: the healed blob stays ok through another pass.
sleep 3
want_load_status "$DATA" "$LOAD" verified "scrub, a pass later"
daemon_stop

ctl_sanitizer_check
finish
