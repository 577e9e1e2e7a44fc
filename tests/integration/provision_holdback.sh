#!/bin/sh
# provision_holdback.sh: a phone's config never names a load it cannot
# finish. Fetched with curl over TFTP while loadsctl changes the catalog:
# a load quarantined by the scrub, refused by the signature policy, left
# without its only trusted signer, or removed, is replaced in
# SEP<MAC>.cnf.xml by the last complete load that device was given (or by
# none), and dropped from XMLDefault.cnf.xml; `loadsctl effective` says
# "held back" and why; healing (import --replace), the policy and the trust
# store flip it back. Each flip shows within 3 s (one snapshot rebuild).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/catalog_lib.sh"

cat_setup
need_cmd curl xmllint
curl -V | grep -q -i 'protocols:.* tftp' || skip "this curl has no TFTP support"
DATA="$TMPD/data"
MAC=001122AABBCC
SEP="SEP$MAC.cnf.xml"
A=SIP41.9-4-2SR3-1S
B=SIP45.9-4-3SR1-1S
C=SIP42.9-4-4SR1-1S
cat_init "$DATA"
bundle "$TMPD/a.zip" "$TMPD/a.json" --format zip --component-headers all --load "$A" --seed 1
bundle "$TMPD/b.zip" "$TMPD/b.json" --format zip --component-headers all --load "$B" --seed 2
bundle "$TMPD/c.zip" "$TMPD/c.json" --format zip --component-headers all --load "$C" --seed 3 \
    --signer untrusted
for z in a b c; do
    ctl "$DATA" import "$TMPD/$z.zip" >/dev/null || die "import $z failed: $CTL_ERR"
done
ctl "$DATA" device add "$MAC" --model 7961 >/dev/null || die "device add failed: $CTL_ERR"
ctl "$DATA" device set "$MAC" load "$A" >/dev/null || die "device set failed: $CTL_ERR"
ctl "$DATA" default-load set 7961 "$A" >/dev/null || die "default-load set failed: $CTL_ERR"
cat_daemon_start "$DATA" --scrub-interval 0

# snap_gen: the generation of loadsd's newest config snapshot (its log).
snap_gen() {
    grep -o 'config snapshot generation [0-9]*' "$DAEMON_LOG" | tail -1 | awk '{print $4}'
}

# config_is LABEL FILE XPATH WANT: waits (at most 3 s) for loadsd's first
# config snapshot at or after the catalog's generation now, then fetches
# FILE once with curl: XPATH must give WANT. One result. So the change shows
# within one snapshot rebuild, and an old answer cannot pass for a new one.
config_is() {
    out="$TMPD/out/cnf.xml"
    g=$(sql "$DATA" "SELECT value FROM meta WHERE key = 'generation'")
    i=0
    while [ $i -lt 30 ] && [ "$(snap_gen)" -lt "$g" ]; do
        sleep 0.1
        i=$((i + 1))
    done
    rm -f "$out"
    if ! timeout 20 curl -sS --max-time 15 -o "$out" "tftp://127.0.0.1:$PORT/$2" 2>/dev/null ||
        ! xmllint --noout "$out" 2>/dev/null; then
        fail "$1: $2 not fetched or not valid XML"
    elif [ "$(xmllint --xpath "string($3)" "$out")" = "$4" ]; then
        pass "$1: $2 $3 = \"$4\" (snapshot generation $(snap_gen), catalog at $g, $((i * 100)) ms)"
    else
        fail "$1: $2 $3 is \"$(xmllint --xpath "string($3)" "$out")\", want \"$4\" (snapshot $(snap_gen), catalog at $g)"
    fi
}

# held LABEL TEXT: `loadsctl effective` (text and JSON) says held back, with TEXT.
held() {
    ctl "$DATA" effective "$MAC" >"$TMPD/eff.txt"
    ctl "$DATA" --json effective "$MAC" >"$TMPD/eff.json"
    hb=$(json_field "$TMPD/eff.json" 'd["settings"]["load"]["held_back"]')
    if echo "$hb" | grep -q -F "$2" && grep -q -F "$2" "$TMPD/eff.txt"; then
        pass "$1: loadsctl effective: $hb"
    else
        fail "$1: loadsctl effective does not say \"$2\": $hb"
    fi
}

not_held() {
    ctl "$DATA" --json effective "$MAC" >"$TMPD/eff.json"
    hb=$(json_field "$TMPD/eff.json" 'd["settings"]["load"].get("held_back", "")')
    [ -z "$hb" ] && pass "$1: loadsctl effective: not held back" || fail "$1: still held back: $hb"
}

LI=/device/loadInformation
XD="/Default/loadInformation30018"
config_is "start" "$SEP" "$LI" "$A"
config_is "start" XMLDefault.cnf.xml "$XD" "$A"

# ---- 1. scrub quarantine: the previous complete load, then healed -------
# B is quarantined before this phone is told about it: it stays on A.
BF=dsp45.9-4-2ES26.sbn
flip_byte "$DATA" "$BF"
ctl "$DATA" verify "$B" >/dev/null
want_load_status "$DATA" "$B" quarantined "scrub"
ctl "$DATA" device set "$MAC" load "$B" --force >/dev/null || die "device set failed: $CTL_ERR"
config_is "quarantined B assigned" "$SEP" "$LI" "$A"
held "quarantined B assigned" "held back: $B is quarantined (file $BF); the config names $A"
ctl "$DATA" --json devices problems >"$TMPD/problems.json"
[ "$(json_field "$TMPD/problems.json" '[p["served"] for p in d if p["mac"] == "'"$MAC"'"][0]')" = "$A" ] &&
    pass "devices problems: $MAC quarantined, served $A" || fail "devices problems: $(cat "$TMPD/problems.json")"
ctl "$DATA" import --replace "$TMPD/b.zip" >/dev/null || die "import --replace failed: $CTL_ERR"
config_is "B healed by import --replace" "$SEP" "$LI" "$B"
not_held "B healed"
# Now B is what the phone was given: quarantined again, it names none.
flip_byte "$DATA" "$BF"
ctl "$DATA" verify "$B" >/dev/null
config_is "B quarantined after it was given" "$SEP" "$LI" ""
held "B quarantined after it was given" "held back: $B is quarantined (file $BF); the config names no load"
ctl "$DATA" import --replace "$TMPD/b.zip" >/dev/null || die "import --replace failed: $CTL_ERR"
config_is "B healed again" "$SEP" "$LI" "$B"

# ---- 2. policy change ---------------------------------------------------
ctl "$DATA" device set "$MAC" load "$A" >/dev/null || die "device set failed: $CTL_ERR"
config_is "back on A" "$SEP" "$LI" "$A"
ctl "$DATA" enterprise set signature_policy verified >/dev/null || die "policy failed: $CTL_ERR"
ctl "$DATA" device set "$MAC" load "$C" >/dev/null || die "device set C failed: $CTL_ERR"
config_is "policy verified, signed C assigned" "$SEP" "$LI" "$A"
held "policy verified, signed C assigned" "held back: $C is signed, and the signature policy \"verified\" does not serve it"
ctl "$DATA" enterprise set signature_policy signed >/dev/null || die "policy failed: $CTL_ERR"
config_is "policy signed" "$SEP" "$LI" "$C"
ctl "$DATA" enterprise set signature_policy verified >/dev/null || die "policy failed: $CTL_ERR"
config_is "policy verified again (C was given)" "$SEP" "$LI" ""

# ---- 3. trust removal: the only trusted signer of A --------------------
ctl "$DATA" device set "$MAC" load "$A" >/dev/null || die "device set failed: $CTL_ERR"
config_is "on A" "$SEP" "$LI" "$A"
ctl "$DATA" --json trust list >"$TMPD/trust.json"
VID=$(json_field "$TMPD/trust.json" '[t["id"] for t in d if t["role"] == "vendor"][0]')
ctl "$DATA" trust remove "$VID" >/dev/null || die "trust remove failed: $CTL_ERR"
config_is "trust removed" "$SEP" "$LI" ""
config_is "trust removed" XMLDefault.cnf.xml "count($XD)" 0
held "trust removed" "held back: $A is signed, and the signature policy \"verified\" does not serve it"
refused_within "trust removed" "$A.loads"
ctl "$DATA" trust add "$KEYS/vendor.pem" >/dev/null || die "trust add failed: $CTL_ERR"
config_is "trusted again" "$SEP" "$LI" "$A"
config_is "trusted again" XMLDefault.cnf.xml "$XD" "$A"

# ---- 4. removal ---------------------------------------------------------
ctl "$DATA" device set "$MAC" load "$B" >/dev/null || die "device set failed: $CTL_ERR"
config_is "on B" "$SEP" "$LI" "$B"
ctl "$DATA" remove "$B" --force >/dev/null 2>&1 || die "remove failed: $CTL_ERR"
config_is "B removed" "$SEP" "$LI" ""
held "B removed" "held back: $B is not in the catalog; the config names no load"
ctl "$DATA" remove "$A" --force >/dev/null 2>&1 || die "remove failed: $CTL_ERR"
config_is "A removed" XMLDefault.cnf.xml "count($XD)" 0
daemon_stop

ctl_sanitizer_check
finish
