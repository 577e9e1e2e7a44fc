#!/bin/sh
# catalog_trust.sh: a load's status follows the trust store as it is now and
# the weakest file decides. Trusting the signer after the import makes the
# load verified without a re-import; removing the certificate makes it
# signed again and, under policy verified, loadsd stops serving its files;
# a policy change flips that too; components without a signed header (even
# tampered ones) leave a load partial, never verified; a signed component
# tampered before a trusted check is invalid and never served; `loadsctl
# verify` re-derives statuses from signatures never checked.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/catalog_lib.sh"

cat_setup
DATA="$TMPD/data"
LOAD=SIP41.9-4-2SR3-1S
C=cvm41sip.9-4-2ES26.sbn
rm -rf "$DATA"
ctl "$DATA" init >/dev/null || die "loadsctl init failed: $CTL_ERR"

# want_file_sig NAME SIGNATURE LABEL: the signature column `loadsctl show` gives.
want_file_sig() {
    ctl "$DATA" --json show "$LOAD" >"$TMPD/show.json"
    got=$(json_field "$TMPD/show.json" '[f["signature"] for f in d["file_list"] if f["name"] == "'"$1"'"][0]')
    [ "$got" = "$2" ] && pass "$3: $1 is $2 in loadsctl show" || fail "$3: $1 is \"$got\", want $2"
}

# audited CAUSE LOAD AFTER LABEL: a loads.reevaluate record names the change.
audited() {
    n=$(sql "$DATA" "SELECT count(*) FROM audit WHERE action = 'loads.reevaluate'
        AND object LIKE '$1%' AND after LIKE '%\"load\":\"$2\"%\"after\":\"$3\"%'")
    [ "$n" -ge 1 ] && pass "$4: audited ($1: $2 -> $3)" || fail "$4: no audit record of $2 -> $3"
}

# ---- 1. trust add after the import: verified without a re-import ---------
bundle "$TMPD/all.zip" "$TMPD/all.json" --format zip --component-headers all
ctl "$DATA" import "$TMPD/all.zip" >/dev/null || die "import failed: $CTL_ERR"
want_load_status "$DATA" "$LOAD" signed "no certificate trusted"
want_file_sig "$C" signed "no certificate trusted"
ctl "$DATA" --json trust add "$KEYS/vendor.pem" >"$TMPD/add.json" || die "trust add failed: $CTL_ERR"
VID=$(json_field "$TMPD/add.json" 'd["id"]')
[ "$(json_field "$TMPD/add.json" 'd["loads_changed"]')" = 1 ] && pass "trust add: reports 1 load changed" ||
    fail "trust add: loads_changed $(json_field "$TMPD/add.json" 'd["loads_changed"]')"
want_load_status "$DATA" "$LOAD" verified "trust add, no re-import"
want_file_sig "$C" verified "trust add"
audited "trust.add" "$LOAD" verified "trust add"

# ---- 2. trust remove: signed, and not served under policy verified -------
ctl "$DATA" enterprise set signature_policy verified >/dev/null || die "policy failed: $CTL_ERR"
cat_daemon_start "$DATA" --scrub-interval 0
CSHA=$(file_sha "$DATA" "$C")
served_within "policy verified, load verified" "$C" "$CSHA"
ctl "$DATA" trust remove "$VID" >/dev/null || die "trust remove failed: $CTL_ERR"
want_load_status "$DATA" "$LOAD" signed "trust remove"
ctl "$DATA" --json loads >"$TMPD/loads.json"
[ "$(json_field "$TMPD/loads.json" '[l["served"] for l in d if l["name"] == "'"$LOAD"'"][0]')" = False ] &&
    pass "trust remove: loadsctl loads says served false" || fail "trust remove: still served per loadsctl loads"
audited "trust.remove" "$LOAD" signed "trust remove"
refused_within "trust remove, policy verified" "$C"
refused_within "trust remove, policy verified" "$LOAD.loads"
ctl "$DATA" enterprise set signature_policy signed >/dev/null || die "policy failed: $CTL_ERR"
audited "signature_policy" "$LOAD" signed "policy signed"
served_within "policy signed" "$C" "$CSHA"
ctl "$DATA" enterprise set signature_policy verified >/dev/null || die "policy failed: $CTL_ERR"
refused_within "policy verified again" "$C"
ctl "$DATA" trust add "$KEYS/vendor.pem" >/dev/null || die "trust add failed: $CTL_ERR"
served_within "trusted again" "$C" "$CSHA"
daemon_stop

# ---- 3. components without a signed header: partial, never verified ------
cat_init "$TMPD/d3"
DATA="$TMPD/d3"
bundle "$TMPD/half.zip" "$TMPD/half.json" --format zip --component-headers
ctl "$DATA" enterprise set signature_policy verified >/dev/null
if ctl "$DATA" import "$TMPD/half.zip" >/dev/null; then
    fail "unsigned components, policy verified: imported"
else
    echo "$CTL_ERR" | grep -q "partial" && pass "unsigned components, policy verified: refused: $(echo "$CTL_ERR" | head -1 | cut -c1-150)" ||
        fail "unsigned components, policy verified: refused without saying partial: $CTL_ERR"
fi
ctl "$DATA" enterprise set signature_policy signed >/dev/null
ctl "$DATA" import "$TMPD/half.zip" >/dev/null || die "import failed: $CTL_ERR"
want_load_status "$DATA" "$LOAD" partial "unsigned components, vendor trusted"
want_file_sig cnu41.9-4-2ES26.sbn none "unsigned components"
want_file_sig jar41sip.9-4-2ES26.sbn verified "unsigned components"
ctl "$DATA" show "$LOAD" >"$TMPD/show.txt"
grep -q "^status: *partial" "$TMPD/show.txt" && pass "loadsctl show: status partial" ||
    fail "loadsctl show: $(grep '^status' "$TMPD/show.txt")"

# ---- 4. a tampered component without a header: not verified -------------
cat_init "$TMPD/d4"
DATA="$TMPD/d4"
bundle "$TMPD/tu.zip" "$TMPD/tu.json" --format zip --component-headers --tamper-unsigned
T=$(json_field "$TMPD/tu.json" 'd["tampered"]')
ctl "$DATA" enterprise set signature_policy verified >/dev/null
if ctl "$DATA" import "$TMPD/tu.zip" >/dev/null; then
    fail "tampered unsigned $T, policy verified: imported"
else
    pass "tampered unsigned $T, policy verified: refused"
fi
ctl "$DATA" enterprise set signature_policy signed >/dev/null
ctl "$DATA" import "$TMPD/tu.zip" >/dev/null || die "import failed: $CTL_ERR"
want_load_status "$DATA" "$LOAD" partial "tampered unsigned $T, policy signed"

# ---- 5. a tampered signed component, signer trusted later: invalid -------
rm -rf "$TMPD/d5"
DATA="$TMPD/d5"
ctl "$DATA" init >/dev/null
bundle "$TMPD/ts.zip" "$TMPD/ts.json" --format zip --component-headers all --tamper
T=$(json_field "$TMPD/ts.json" 'd["tampered"]')
ctl "$DATA" import "$TMPD/ts.zip" >/dev/null || die "import failed: $CTL_ERR"
want_load_status "$DATA" "$LOAD" signed "tampered signed $T, no certificate"
ctl "$DATA" trust add "$KEYS/vendor.pem" >/dev/null || die "trust add failed: $CTL_ERR"
want_load_status "$DATA" "$LOAD" invalid "tampered signed $T, certificate trusted"
want_file_sig "$T" bad "tampered signed"
ctl "$DATA" enterprise set signature_policy any >/dev/null
ctl "$DATA" --json show "$LOAD" >"$TMPD/show.json"
[ "$(json_field "$TMPD/show.json" 'd["served"]')" = False ] && pass "invalid: not served even under policy any" ||
    fail "invalid: served under policy any"

# ---- 6. loadsctl verify re-derives from signatures never checked ---------
DATA="$TMPD/d3"
sql "$DATA" "DELETE FROM sig_checks" || die "cannot forget the checks"
want_load_status "$DATA" "$LOAD" partial "checks forgotten"
want_file_sig jar41sip.9-4-2ES26.sbn signed "checks forgotten"
ctl "$DATA" verify >/dev/null || fail "verify: exit status $ctl_rc: $CTL_ERR"
want_file_sig jar41sip.9-4-2ES26.sbn verified "verify re-checked"

ctl_sanitizer_check
finish
