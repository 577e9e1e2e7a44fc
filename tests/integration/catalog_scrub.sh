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
bundle "$TMPD/b.zip" "$TMPD/b.json" --format zip --component-headers all --term-default
ctl "$DATA" import "$TMPD/b.zip" >/dev/null || die "import failed: $CTL_ERR"

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
quarantined_mismatch) [ "$q" = 1 ] && pass "verify: reports $F: $r" || fail "verify: $q newly quarantined, want 1" ;;
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
quarantined_missing) pass "missing blob: reports $M: $r" ;;
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
