#!/bin/sh
# fleet_gate.sh: the fleet gate end to end (docs/FLEET.md) with loadsctl and
# the real daemon: a phone whose site rule names branch:berlin-1 gets no
# loadServer until the branch reports its load complete, then the branch's
# address; a report without a change rebuilds no settings snapshot; the
# gate withdraws for a quarantined load and for a stale report; stage_first
# keeps the last complete load until the branch holds the new one. Reports
# are stored with tests/tools/fleet_report (db/fleet.c's report store).
. "$(dirname "$0")/lib.sh"

cnf_test_setup xmllint
REPORT="$top_builddir/tests/tools/fleet_report"
[ -x "$REPORT" ] || die "$REPORT is not built"
MAC=001122AABBCC
SEP="SEP$MAC.cnf.xml"
OLD=SIP41.9-4-2SR3-1S
NEW=SIP41.9-4-2SR4-1S
BRANCH_ADDR=10.77.0.5
pick_port PORT
daemon_start

ctl() {
    if out=$("$LOADSCTL" --data-dir "$DATA" "$@" 2>&1); then
        return 0
    fi
    fail "loadsctl $*: $out"
    return 1
}

# report HOLDING...: berlin-1 reports what it holds (LOAD:STATE:HAVE/TOTAL[:ETA]).
report() {
    "$REPORT" "$DATA" berlin-1 "$@" >"$TMPD/report.out" 2>&1 || fail "fleet_report $*: $(cat "$TMPD/report.out")"
}

fetch() {
    rm -f "$1"
    timeout 20 curl -sS -g --max-time 15 -o "$1" "tftp://127.0.0.1:$PORT/$SEP" 2>/dev/null
}

xp() {
    xmllint --xpath "string($2)" "$1" 2>/dev/null
}

# wait_cnf LABEL LOAD SERVER: fetches the config until loadInformation is
# LOAD and loadServer is SERVER (at most 5 s). One result.
wait_cnf() {
    out="$TMPD/out.xml"
    i=0
    while [ $i -lt 50 ]; do
        if fetch "$out" && [ "$(xp "$out" /device/loadInformation)" = "$2" ] &&
            [ "$(xp "$out" /device/vendorConfig/loadServer)" = "$3" ]; then
            pass "$1: loadInformation \"$2\", loadServer \"$3\" (after $((i * 100)) ms)"
            return 0
        fi
        sleep 0.1
        i=$((i + 1))
    done
    fail "$1: loadInformation \"$(xp "$out" /device/loadInformation)\", loadServer" \
        "\"$(xp "$out" /device/vendorConfig/loadServer)\"; want \"$2\", \"$3\""
}

# effective_says LABEL TEXT: loadsctl effective's gate line holds TEXT.
effective_says() {
    line=$("$LOADSCTL" --data-dir "$DATA" effective "$MAC" --from 127.0.0.1 2>&1 | grep '^loadServer')
    case "$line" in
    *"$2"*) pass "$1: $line" ;;
    *) fail "$1: the gate line is \"$line\", want \"$2\"" ;;
    esac
}

# ---- loads, a device, a branch and a site rule naming it -----------------
signed_loads "$DATA" $OLD $NEW
ctl enterprise set cm_address cucm1.example
ctl device add "$MAC" --model 7961
ctl default-load set 7961 "$OLD"

if "$LOADSCTL" --data-dir "$DATA" site add 127.0.0.0/8 --branch berlin-1 >"$TMPD/refused" 2>&1; then
    fail "a site rule naming an unregistered branch was stored"
elif grep -q "no branch berlin-1 is registered" "$TMPD/refused"; then
    pass "site add --branch of an unregistered branch is refused: $(cat "$TMPD/refused")"
else
    fail "unclear refusal: $(cat "$TMPD/refused")"
fi
if "$LOADSCTL" --data-dir "$DATA" device set "$MAC" load_server branch:nowhere >"$TMPD/refused" 2>&1; then
    fail "a device naming an unregistered branch was stored"
else
    pass "device set load_server branch:nowhere is refused: $(cat "$TMPD/refused")"
fi

printf 'mac,model,load_server\n0011223344E0,7961,branch:nowhere\n' >"$TMPD/devices.csv"
if "$LOADSCTL" --data-dir "$DATA" devices import "$TMPD/devices.csv" >"$TMPD/refused" 2>&1; then
    fail "a CSV row naming an unregistered branch was imported"
elif grep -q "no branch nowhere is registered" "$TMPD/refused"; then
    pass "devices import: a row naming an unregistered branch is refused"
else
    fail "devices import: unclear refusal: $(cat "$TMPD/refused")"
fi

"$LOADSCTL" --data-dir "$DATA" branch add berlin-1 --address "$BRANCH_ADDR" >"$TMPD/add.out" 2>&1 ||
    fail "branch add: $(cat "$TMPD/add.out")"
if grep -q -E '^token lsb_[A-Za-z0-9_-]{43}$' "$TMPD/add.out"; then
    pass "branch add prints the token once"
else
    fail "branch add printed no token: $(cat "$TMPD/add.out")"
fi
ctl site add 127.0.0.0/8 --branch berlin-1
# The rule came from another process: the daemon serves it after its next
# poll, and the rebuild for it can bring one more (the recorded given load).
# Counting rebuilds (below) before they are done would count them too.
daemon_log_wait 'config snapshot generation [0-9]+: 1 devices, 0 profiles, 1 site rules' ||
    fail "the daemon never rebuilt its config snapshot with the site rule"
daemon_log_quiet 'config snapshot generation' || fail "the daemon kept rebuilding its config snapshot"

# ---- never reported: no loadServer ----------------------------------------
wait_cnf "branch never reported" "$OLD" ""
effective_says "never reported" "never_reported: branch berlin-1 has never reported"

# ---- reported complete: the branch is named, no settings rebuild -----------
rebuilds=$(grep -c 'config snapshot generation' "$DAEMON_LOG")
report "$OLD:complete:5/5"
wait_cnf "branch holds the load" "$OLD" "$BRANCH_ADDR"
report "$OLD:complete:5/5"
report "$OLD:complete:5/5"
sleep 1
after=$(grep -c 'config snapshot generation' "$DAEMON_LOG")
if [ "$after" = "$rebuilds" ]; then
    pass "three reports rebuilt no settings snapshot ($after rebuilds before and after)"
else
    fail "reports rebuilt the settings snapshot ($rebuilds before, $after after)"
fi
if grep -q 'fleet view generation' "$DAEMON_LOG"; then
    pass "the fleet view was rebuilt on its own generation"
else
    fail "no fleet view rebuild in the log"
fi
ctl branch list
case "$out" in
*berlin-1*"$BRANCH_ADDR"*"1/1"*) pass "branch list: berlin-1, 1/1 loads complete" ;;
*) fail "branch list: $out" ;;
esac

# ---- stage_first: the new load waits for the branch ------------------------
ctl enterprise set stage_first on
ctl default-load set 7961 "$NEW"
report "$OLD:complete:5/5" "$NEW:staging:3/5:240"
wait_cnf "stage first keeps the last complete load" "$OLD" "$BRANCH_ADDR"
effective_says "stage first" "lacks_load: branch berlin-1 holds 3 of 5 files of $NEW, 60 %, ETA 4 min"
ctl branch show berlin-1
case "$out" in
*"must hold    $NEW"*"$NEW"*staging*"3/5"*"60 %"*"4 min"*) pass "branch show: the want list and progress" ;;
*) fail "branch show: $out" ;;
esac
ctl enterprise set stage_first off
wait_cnf "without stage first the phone upgrades from the central" "$NEW" ""

# ---- complete, quarantined, complete, stale --------------------------------
report "$OLD:complete:5/5" "$NEW:complete:5/5"
wait_cnf "the branch holds the new load" "$NEW" "$BRANCH_ADDR"
report "$OLD:complete:5/5" "$NEW:quarantined:5/5"
wait_cnf "quarantined at the branch: withdrawn" "$NEW" ""
effective_says "quarantined" "holds $NEW quarantined"
report "$OLD:complete:5/5" "$NEW:complete:5/5"
wait_cnf "complete again" "$NEW" "$BRANCH_ADDR"
ctl enterprise set fleet_max_age_s 2
# A branch that keeps reporting the same holdings stays fresh in the
# daemon (each report moves the fleet generation; with the view rebuilt only
# on a change of holdings it went stale after 2 s here).
for _ in 1 2 3 4 5 6; do
    report "$OLD:complete:5/5" "$NEW:complete:5/5"
    sleep 0.8
done
wait_cnf "the same holdings reported again and again: still named" "$NEW" "$BRANCH_ADDR"
sleep 3
wait_cnf "a stale report: withdrawn" "$NEW" ""
effective_says "stale" "stale: branch berlin-1 last reported"

# ---- a removed branch ------------------------------------------------------
ctl enterprise set fleet_max_age_s 300
report "$OLD:complete:5/5" "$NEW:complete:5/5"
wait_cnf "fresh again" "$NEW" "$BRANCH_ADDR"
ctl branch set berlin-1 --address 10.77.0.6
wait_cnf "a new address is what phones are told" "$NEW" "10.77.0.6"
ctl branch remove berlin-1
wait_cnf "branch removed" "$NEW" ""
effective_says "removed" "no_branch: branch berlin-1 is not registered"

daemon_stop
finish
