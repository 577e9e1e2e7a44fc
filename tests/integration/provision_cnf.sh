#!/bin/sh
# provision_cnf.sh: settings changed with loadsctl show up at once in the
# generated SEP<MAC>.cnf.xml and XMLDefault.cnf.xml fetched over TFTP with
# atftp and curl (xmllint-valid, checked element by element); any case of
# the name works; an unknown MAC is "file not found"; a site rule applies
# to requests from 127.0.0.1 but not from ::1 (two listen addresses).
. "$(dirname "$0")/lib.sh"

cnf_test_setup atftp xmllint
MAC=001122AABBCC
SEP="SEP$MAC.cnf.xml"
pick_port PORT
daemon_start --tftp-listen "[::1]:$PORT"

# ctl ARGS...: loadsctl on the test's data dir; a failure is a FAIL.
ctl() {
    if out=$("$LOADSCTL" --data-dir "$DATA" "$@" 2>&1); then
        return 0
    fi
    fail "loadsctl $*: $out"
    return 1
}

# fetch_curl NAME OUT [HOST]: curl's TFTP client; its exit status.
fetch_curl() {
    rm -f "$2"
    timeout 20 curl -sS -g --max-time 15 -o "$2" "tftp://${3:-127.0.0.1}:$PORT/$1" 2>/dev/null
}

# fetch_atftp NAME OUT: atftp from 127.0.0.1; its exit status.
fetch_atftp() {
    rm -f "$2"
    timeout 20 atftp --get -r "$1" -l "$2" 127.0.0.1 "$PORT" >/dev/null 2>&1
}

# xp FILE XPATH: the string value (empty when the document is not valid).
xp() {
    xmllint --xpath "string($2)" "$1" 2>/dev/null
}

# wait_for LABEL NAME XPATH WANT [HOST]: fetches NAME with curl until XPATH
# gives WANT (at most 3 s: the change must show without a restart), then
# checks that the document is valid XML. One result.
wait_for() {
    out="$TMPD/out/wait.xml"
    i=0
    while [ $i -lt 30 ]; do
        if fetch_curl "$2" "$out" "${5:-127.0.0.1}" && [ "$(xp "$out" "$3")" = "$4" ]; then
            if xmllint --noout "$out"; then
                pass "$1: $3 = \"$4\" (after $((i * 100)) ms)"
            else
                fail "$1: not valid XML"
            fi
            return 0
        fi
        sleep 0.1
        i=$((i + 1))
    done
    fail "$1: $3 is \"$(xp "$out" "$3")\", want \"$4\" (from ${5:-127.0.0.1})"
}

# check_el LABEL FILE XPATH WANT: one element of a fetched document.
check_el() {
    got=$(xp "$2" "$3")
    if [ "$got" = "$4" ]; then
        pass "$1: $3 = \"$4\""
    else
        fail "$1: $3 is \"$got\", want \"$4\""
    fi
}

# ---- the loads the configs name: in the catalog, complete and signed ----
# (a config never names a load the phone could not finish: see
# provision_holdback.sh for the loads that are not)
signed_loads "$DATA" SIP41.9-4-2SR3-1S SIP41.9-4-2SR4-1S SIP41.9-4-2SR5-1S SIP42.9-4-2SR5-1S SCCP41.9-4-2SR2-2S

# ---- enterprise settings and a device ------------------------------------
ctl enterprise set cm_address cucm1.example
ctl enterprise set load_server ls-enterprise.example
ctl enterprise set peer_firmware_sharing off
ctl device add 00:11:22:aa:bb:cc --model 7961 --description 'Desk <1> & "co"'
ctl default-load set 7961 SIP41.9-4-2SR3-1S --force
wait_for "enterprise + model default" "$SEP" /device/loadInformation SIP41.9-4-2SR3-1S

for client in atftp curl; do
    f="$TMPD/out/$client.xml"
    if "fetch_$client" "$SEP" "$f" && xmllint --noout "$f"; then
        pass "$client: $SEP fetched, valid XML"
    else
        fail "$client: $SEP not fetched or not valid XML"
        continue
    fi
    check_el "$client" "$f" /device/loadInformation SIP41.9-4-2SR3-1S
    check_el "$client" "$f" /device/vendorConfig/peerFirmwareSharing 0
    check_el "$client" "$f" /device/vendorConfig/loadServer ls-enterprise.example
    check_el "$client" "$f" //callManager/processNodeName cucm1.example
    check_el "$client" "$f" //callManager/ports/ethernetPhonePort 2000
    check_el "$client" "$f" "count(/device/inactiveLoadInformation)" 1
    check_el "$client" "$f" "string-length(/device/versionStamp)" 16
done
if cmp -s "$TMPD/out/atftp.xml" "$TMPD/out/curl.xml"; then
    pass "atftp and curl get the same bytes (the versionStamp stays while nothing changes)"
else
    fail "atftp and curl got different documents"
fi
"$LOADSCTL" --data-dir "$DATA" render "$MAC" --from 127.0.0.1 >"$TMPD/out/render.xml" 2>"$TMPD/out/render.err"
if cmp -s "$TMPD/out/render.xml" "$TMPD/out/curl.xml"; then
    pass "loadsctl render --from 127.0.0.1 prints what loadsd serves"
else
    fail "loadsctl render differs from the served file"
fi
stamp1=$(xp "$TMPD/out/curl.xml" /device/versionStamp)

# ---- any case of the name --------------------------------------------------
lower="sep001122aabbcc.cnf.xml"
if fetch_curl "$lower" "$TMPD/out/lower-curl.xml" && cmp -s "$TMPD/out/lower-curl.xml" "$TMPD/out/curl.xml"; then
    pass "curl: $lower is the same file"
else
    fail "curl: $lower"
fi
if fetch_atftp "$lower" "$TMPD/out/lower-atftp.xml" && cmp -s "$TMPD/out/lower-atftp.xml" "$TMPD/out/curl.xml"; then
    pass "atftp: $lower is the same file"
else
    fail "atftp: $lower"
fi

# ---- unknown MAC: not found, so the phone asks for XMLDefault.cnf.xml ------
fetch_curl SEP001122AABBCD.cnf.xml "$TMPD/out/unknown.xml"
rc=$?
if [ "$rc" -eq 68 ]; then
    pass "curl: unknown MAC is file not found (exit 68)"
else
    fail "curl: unknown MAC: exit $rc, want 68"
fi
if fetch_atftp SEP001122AABBCD.cnf.xml "$TMPD/out/unknown-a.xml"; then
    fail "atftp: unknown MAC was served"
else
    pass "atftp: unknown MAC is refused"
fi

# ---- profile, device and site levels ---------------------------------------
ctl profile add branch
ctl profile set branch peer_firmware_sharing on
ctl device set "$MAC" profile branch
wait_for "profile PFS on" "$SEP" /device/vendorConfig/peerFirmwareSharing 1
stamp2=$(xp "$TMPD/out/wait.xml" /device/versionStamp)
if [ -n "$stamp2" ] && [ "$stamp1" != "$stamp2" ]; then
    pass "versionStamp changed with the content ($stamp1 -> $stamp2)"
else
    fail "versionStamp did not change ($stamp1 -> $stamp2)"
fi

ctl site add 127.0.0.0/8 --load-server ls-site4.example
wait_for "site rule from 127.0.0.1" "$SEP" /device/vendorConfig/loadServer ls-site4.example
wait_for "no site rule for ::1" "$SEP" /device/vendorConfig/loadServer ls-enterprise.example "[::1]"
ctl site add ::1/128 --load-server ls-site6.example
wait_for "IPv6 site rule from ::1" "$SEP" /device/vendorConfig/loadServer ls-site6.example "[::1]"
wait_for "IPv4 rule still from 127.0.0.1" "$SEP" /device/vendorConfig/loadServer ls-site4.example

ctl profile set branch load_server ls-profile.example
wait_for "profile load server beats the site rule" "$SEP" /device/vendorConfig/loadServer \
    ls-profile.example
ctl device set "$MAC" load_server none
wait_for "device load_server none" "$SEP" /device/vendorConfig/loadServer ""
ctl device set "$MAC" peer_firmware_sharing off
wait_for "device PFS off beats the profile" "$SEP" /device/vendorConfig/peerFirmwareSharing 0
ctl device set "$MAC" load SIP41.9-4-2SR4-1S --force
want_load=SIP41.9-4-2SR4-1S
wait_for "device load" "$SEP" /device/loadInformation "$want_load"
if fetch_atftp "$SEP" "$TMPD/out/final-atftp.xml" && xmllint --noout "$TMPD/out/final-atftp.xml"; then
    check_el "atftp after the changes" "$TMPD/out/final-atftp.xml" /device/loadInformation "$want_load"
    check_el "atftp after the changes" "$TMPD/out/final-atftp.xml" \
        /device/vendorConfig/peerFirmwareSharing 0
else
    fail "atftp: $SEP after the changes"
fi
ctl device set "$MAC" load inherit
wait_for "device load inherit -> model default" "$SEP" /device/loadInformation SIP41.9-4-2SR3-1S

# ---- XMLDefault.cnf.xml ------------------------------------------------------
wait_for "XMLDefault: the 7961 default" XMLDefault.cnf.xml /Default/loadInformation30018 \
    SIP41.9-4-2SR3-1S
check_el "XMLDefault" "$TMPD/out/wait.xml" /Default/loadInformation30018/@model "Cisco 7961"
check_el "XMLDefault" "$TMPD/out/wait.xml" /Default/callManagerGroup//processNodeName cucm1.example
ctl default-load set 7961 SIP41.9-4-2SR5-1S --force
wait_for "XMLDefault after default-load set" XMLDefault.cnf.xml /Default/loadInformation30018 \
    SIP41.9-4-2SR5-1S
ctl default-load set 7942 SIP42.9-4-2SR5-1S --force
wait_for "XMLDefault: a second model" xmldefault.cnf.xml /Default/loadInformation434 \
    SIP42.9-4-2SR5-1S
if fetch_atftp XMLDefault.cnf.xml "$TMPD/out/default-atftp.xml" && xmllint --noout "$TMPD/out/default-atftp.xml"; then
    check_el "atftp XMLDefault" "$TMPD/out/default-atftp.xml" /Default/loadInformation30018 \
        SIP41.9-4-2SR5-1S
    check_el "atftp XMLDefault" "$TMPD/out/default-atftp.xml" \
        "count(/Default/*[starts-with(name(), 'loadInformation')])" 2
else
    fail "atftp: XMLDefault.cnf.xml"
fi
# The 7961 runs SIP and SCCP: XMLDefault lists each protocol's default, its
# own (SIP) first, each element with its protocol attribute.
ctl default-load set 7961 SCCP41.9-4-2SR2-2S --protocol SCCP
wait_for "XMLDefault: a dual model's SCCP default" XMLDefault.cnf.xml \
    "/Default/loadInformation30018[@protocol='SCCP']" SCCP41.9-4-2SR2-2S
check_el "XMLDefault" "$TMPD/out/wait.xml" "count(/Default/loadInformation30018)" 2
check_el "XMLDefault" "$TMPD/out/wait.xml" "/Default/loadInformation30018[1]/@protocol" SIP
check_el "XMLDefault" "$TMPD/out/wait.xml" "/Default/loadInformation30018[1]" SIP41.9-4-2SR5-1S
check_el "XMLDefault" "$TMPD/out/wait.xml" "/Default/loadInformation30018[2]/@model" "Cisco 7961"
check_el "XMLDefault: the 7942 has no SCCP default, one element" "$TMPD/out/wait.xml" \
    "count(/Default/loadInformation434)" 1
ctl default-load set 7961 none --protocol SCCP
ctl default-load set 7961 none
wait_for "XMLDefault: no default, no element" XMLDefault.cnf.xml \
    "count(/Default/loadInformation30018)" 0
wait_for "device without a default: empty loadInformation" "$SEP" \
    "concat(count(/device/loadInformation), '[', /device/loadInformation, ']')" "1[]"

# ---- a device removed is not found any more ------------------------------------
ctl device remove "$MAC"
i=0
while [ $i -lt 30 ] && fetch_curl "$SEP" "$TMPD/out/gone.xml"; do
    sleep 0.1
    i=$((i + 1))
done
fetch_curl "$SEP" "$TMPD/out/gone.xml"
rc=$?
[ "$rc" -eq 68 ] && pass "removed device: not found" || fail "removed device: curl exit $rc"

daemon_stop
finish
