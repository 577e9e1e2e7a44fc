#!/bin/bash
# fleet_site.sh: the gate end to end on an emulated site (issue 15,
# docs/FLEET.md): a central and two branch loadsd in network namespaces,
# 10 simulated phones, a 1 MB load, 20 Mbit/s. A phone behind branch A is
# told loadServer A only once A reports the load complete, and upgrades from
# the central before; branch B, which cannot fetch the load (its upstream
# answers nothing), is never named; A stopped and its report stale is not
# named; a blob tampered with at A (loadsctl verify quarantines it)
# withdraws A within one report. Each config is the one the phone fetches
# from the central over TFTP, from the phone's own address.
. "$(dirname "$0")/lib.sh"
heavy_test_lock
. "$(dirname "$0")/catalog_lib.sh"
. "$top_srcdir/tests/tools/wansite.sh"

need_cmd python3 openssl curl
wansite_can_run || skip_by_nature "$WANSITE_WHY"
PHONESIM=$top_builddir/tests/bench/phonesim
[ -x "$PHONESIM" ] || die "$PHONESIM is not built"
ctl_setup
C=198.18.0.1
A=198.19.0.1
B=198.19.0.2
APORT=8443
LOAD=SIP88.14-2-1-0001-14
OLD=SIP88.14-1-1-0001-10
MAC0=001B54000001
PIDS=""
branchA_PID=""
stop_all() {
    for p in $PIDS; do kill -TERM "$p" 2>/dev/null; done
    for p in $PIDS; do wait "$p" 2>/dev/null; done
    wansite_down
}
trap 'stop_all; cleanup' EXIT

bundle "$TMPD/new.zip" "$TMPD/new.json" --format zip --component-headers all --load "$LOAD" --size-kb 200
man_files "$TMPD/new.json" | awk '{print $1, $3}' >"$TMPD/expect"
wansite_up "fs$$" --rate-kbit 20000 --delay-ms 5 --queue-bytes 262144 --seed 1 || die "the WAN did not come up"
wansite_add_phones 10 || die "cannot add the phones' addresses"
ip -n "$WANSITE_B" addr add "$B/32" dev lo || die "cannot add $B"

# ---- the central: the load, 10 phones (8845), .8/29 -> branch A, .16/29 -> B ----
CD=$TMPD/central
cat_init "$CD"
ctl "$CD" import "$TMPD/new.zip" >/dev/null || die "import: $CTL_ERR"
{
    echo mac,model
    for i in 0 1 2 3 4 5 6 7 8 9; do printf '%012X,Cisco 8845\n' $((0x$MAC0 + i)); done
} >"$TMPD/devices.csv"
ctl "$CD" devices import "$TMPD/devices.csv" >/dev/null || die "devices import: $CTL_ERR"
ctl "$CD" default-load set "Cisco 8845" "$LOAD" >/dev/null || die "default-load set: $CTL_ERR"
for b in A B; do
    ctl "$CD" branch add "$b" --address "$(eval echo "\$$b")" >"$TMPD/$b.add" || die "branch add $b: $CTL_ERR"
    (umask 077 && grep -oh 'lsb_[A-Za-z0-9_-]*' "$TMPD/$b.add" "$TMPD/ctl.err" | head -1 >"$TMPD/$b.token")
    [ -s "$TMPD/$b.token" ] || die "branch add $b printed no token: $(cat "$TMPD/$b.add")"
done
ctl "$CD" site add 198.19.0.8/29 --branch A >/dev/null || die "site add --branch A: $CTL_ERR"
ctl "$CD" site add 198.19.0.16/29 --branch B >/dev/null || die "site add --branch B: $CTL_ERR"
echo "a long admin password" | ctl "$CD" user add boss --role admin --password-stdin >/dev/null ||
    die "user add: $CTL_ERR"
ADMIN=$(ctl "$CD" token add boss --name test) || die "token add: $CTL_ERR"

# start NAME NETNS ADDR DATADIR ARGS...: loadsd there (TFTP 69, files 6970),
# waiting until it answers TFTP; its pid in NAME_PID.
start() {
    _n=$1 _ns=$2 _addr=$3 _dd=$4
    shift 4
    mkdir -p "$TMPD/$_n.root"
    echo ready >"$TMPD/$_n.root/ready.txt"
    ip netns exec "$_ns" "$LOADSD" --foreground --config "$CONFIG_FILE" --tftp-listen "$_addr:69" \
        --files-listen "$_addr:6970" --data-dir "$_dd" --serve-dir "$TMPD/$_n.root" --scrub-interval 0 \
        --grace-period 1 --log-level info "$@" 2>>"$TMPD/$_n.log" </dev/null &
    eval "${_n}_PID=$!"
    PIDS="$PIDS $!"
    for _i in $(seq 50); do
        [ "$(ip netns exec "$_ns" curl -s --max-time 1 "tftp://$_addr/ready.txt" 2>/dev/null)" = ready ] && return 0
        sleep 0.2
    done
    tail -20 "$TMPD/$_n.log"
    die "$_n did not answer on $_addr"
}
start central "$WANSITE_C" "$C" "$CD" --admin-listen "$C:$APORT" --admin-insecure-http

# api NAME PATH [TOKEN]: GET from the central's admin API into $TMPD/NAME.json.
api() {
    ip netns exec "$WANSITE_C" curl -s --max-time 5 -o "$TMPD/$1.json" \
        -H "Authorization: Bearer ${3:-$ADMIN}" "http://$C:$APORT$2"
}
# jq_file NAME EXPR: EXPR over $TMPD/NAME.json as j ("" when unreadable).
jq_file() {
    python3 -c 'import json, sys
try:
    j = json.load(open(sys.argv[1]))
    print(eval(sys.argv[2]))
except Exception:
    print("")' "$TMPD/$1.json" "$2"
}
# mac I / addr I: phone I's MAC and address.
mac() { printf '%012X' $((0x$MAC0 + $1)); }
addr() { wansite_phone_addr "$1"; }
# cnf I FIELD: loadInformation or loadServer of the config phone I fetches
# from the central over TFTP, from its own address.
cnf() {
    rm -f "$TMPD/cnf.xml"
    ip netns exec "$WANSITE_B" curl -s --max-time 3 --interface "$(addr "$1")" -o "$TMPD/cnf.xml" \
        "tftp://$C/SEP$(mac "$1").cnf.xml" 2>/dev/null
    python3 -c 'import re, sys
try:
    m = re.search("<%s>([^<]*)</%s>" % (sys.argv[2], sys.argv[2]), open(sys.argv[1]).read())
    print(m.group(1) if m else "")
except OSError:
    print("NO-CONFIG")' "$TMPD/cnf.xml" "$2"
}
# gate I: the effective view's load_server_gate state for phone I, once the
# view resolves it from the address phone I asked from (the central records
# it on its next tick, at most 250 ms after the fetch; at most 5 s here).
gate() {
    for _i in $(seq 50); do
        api eff "/api/v1/devices/$(mac "$1")/effective"
        [ "$(jq_file eff 'j["from"]["seen_address"]')" = "$(addr "$1")" ] && break
        sleep 0.1
    done
    jq_file eff 'j["load_server_gate"]["state"]'
}
# holds BRANCH: the state of LOAD in the central's view of BRANCH, none when
# it does not hold it, "" when the view cannot be read.
holds() {
    api "view$1" "/api/v1/branches/$1"
    jq_file "view$1" "([h['state'] for h in j['loads'] if h['name'] == '$LOAD'] + ['none'])[0]"
}
# boot NAME FIRST COUNT: phones FIRST.. boot against the central (current
# load OLD); result in $TMPD/NAME.json, the WAN's bytes down in WAN_DOWN.
boot() {
    _before=$(wansite_stats) || die "no WAN counters"
    ip netns exec "$WANSITE_B" "$PHONESIM" --tftp-server "$C:69" --phones "$3" --mix "8845:$3" \
        --mac-base "$(mac "$2")" --source-base "$(addr "$2")" --current-load "$OLD" --reboot-s 1 \
        --expect "$TMPD/expect" --max-seconds 60 --json "$TMPD/$1.json" >"$TMPD/$1.out" 2>&1
    _after=$(wansite_stats) || die "no WAN counters"
    WAN_DOWN=$(python3 -c 'import json, sys
print(json.loads(sys.argv[2])["down"]["bytes"] - json.loads(sys.argv[1])["down"]["bytes"])' "$_before" "$_after")
}
IMAGE=$(python3 -c "import json,sys; print(sum(e['size'] for e in json.load(open(sys.argv[1]))['files'].values()))" "$TMPD/new.json")
copies() { python3 -c "import sys; print(round(int(sys.argv[1]) / int(sys.argv[2]), 2))" "$WAN_DOWN" "$IMAGE"; }

# ---- branch B: its upstream answers nothing, so it can never hold the load ----
BD=$TMPD/branchB
cat_init "$BD"
start branchB "$WANSITE_B" "$B" "$BD" --admin-listen none --upstream "http://$C:9" \
    --central "http://$C:$APORT" --central-token-file "$TMPD/B.token"

# ---- before A ever reports: A is not named; every phone upgrades from the central ----
[ "$(cnf 0 loadInformation)" = "$LOAD" ] && pass "phone 0's config names $LOAD" ||
    fail "phone 0's config names \"$(cnf 0 loadInformation)\""
[ "$(cnf 0 loadServer)" = "" ] && pass "before A reported: no loadServer for a phone behind A" ||
    fail "before A reported: loadServer \"$(cnf 0 loadServer)\""
[ "$(gate 0)" = never_reported ] && pass "the effective view says never_reported" ||
    fail "the effective view's gate: \"$(gate 0)\" ($(head -c 300 "$TMPD/eff.json"))"
boot first 0 10
ok=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["upgraded"])' "$TMPD/first.json")
[ "$ok" = 10 ] && pass "10 phones upgraded from the central" || fail "$ok of 10 upgraded: $(tail -3 "$TMPD/first.out")"
python3 -c "import sys; sys.exit(0 if float(sys.argv[1]) >= 9.5 else 1)" "$(copies)" &&
    pass "every phone's load crossed the WAN ($(copies) copies)" || fail "the WAN carried $(copies) copies, want 10"

# The central's inventory agrees with the simulator's own record: the phones
# phonesim says upgraded are the ones on target, having fetched every file of
# $LOAD (rows are written within 5 s).
# inventory_matches SIM_JSON: "same N" or what differs.
inventory_matches() {
    python3 - "$TMPD/inv.json" "$1" "$LOAD" <<'PY'
import json, re, sys
try:
    inv = json.load(open(sys.argv[1]))
except Exception:
    print("no inventory"); sys.exit()
sim, load = json.load(open(sys.argv[2])), sys.argv[3]
rows = next(v for v in sim.values() if isinstance(v, list) and v and isinstance(v[0], dict) and "mac" in v[0])
mac = lambda m: re.sub("[^0-9A-F]", "", m.upper())[-12:]
ran = {mac(p["mac"]) for p in rows if p["outcome"] == "upgraded"}
on = {mac(p["mac"]) for p in inv["phones"] if p["state"] == "on_target"
      and (p.get("firmware") or {}).get("load") == load and (p.get("firmware") or {}).get("complete")}
print("same %d" % len(on) if on == ran else "simulator %s, inventory %s" % (sorted(ran), sorted(on)))
PY
}
for _ in $(seq 75); do
    api inv "/api/v1/fleet/inventory?limit=1000"
    [ "$(inventory_matches "$TMPD/first.json")" = "same 10" ] && break
    sleep 0.2
done
[ "$(inventory_matches "$TMPD/first.json")" = "same 10" ] &&
    pass "the central's inventory: the 10 phones phonesim upgraded are on target with all of $LOAD" ||
    fail "inventory against the simulator: $(inventory_matches "$TMPD/first.json")"

# The want list names the load once the phones' addresses are seen.
for _ in $(seq 50); do
    api wantA /api/v1/fleet/want "$(cat "$TMPD/A.token")"
    [ "$(jq_file wantA '",".join(j["want"])')" = "$LOAD" ] && break
    sleep 0.2
done
[ "$(jq_file wantA '",".join(j["want"])')" = "$LOAD" ] && pass "A's want list: $LOAD" ||
    fail "A's want list: $(cat "$TMPD/wantA.json")"

# ---- A starts, reports, stages the load: named only once it holds it complete ----
AD=$TMPD/branchA
cat_init "$AD"
start_a() {
    start branchA "$WANSITE_B" "$A" "$AD" --admin-listen none --upstream "http://$C:6970" \
        --central "http://$C:$APORT" --central-token-file "$TMPD/A.token"
}
start_a
t0=$(date +%s.%N)
early=""
named=""
end=$(($(date +%s) + 60))
while [ "$(date +%s)" -le "$end" ]; do
    if [ "$(cnf 0 loadServer)" = "$A" ]; then
        state=$(holds A)
        [ "$state" = complete ] || early=${state:-an unreadable view}
        named=$(python3 -c "import sys, time; print(round(time.time() - float(sys.argv[1]), 1))" "$t0")
        break
    fi
    sleep 0.2
done
[ -n "$named" ] && pass "A named $named s after it started" || fail "A never named (A holds: $(holds A))"
[ -z "$early" ] && pass "A named only with $LOAD complete in the central's view" ||
    fail "A named while its view said $early"
[ "$(gate 0)" = ok ] && pass "the effective view says ok" || fail "the gate says \"$(gate 0)\""
boot second 0 6
ok=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["upgraded"])' "$TMPD/second.json")
[ "$ok" = 6 ] && pass "A's 6 phones upgraded again" || fail "$ok of 6 upgraded: $(tail -3 "$TMPD/second.out")"
python3 -c "import sys; sys.exit(0 if float(sys.argv[1]) < 0.2 else 1)" "$(copies)" &&
    pass "from A: only configs crossed the WAN ($(copies) copies)" || fail "the WAN carried $(copies) copies"

# ---- B lacks the load: never named ----
ls6=$(cnf 6 loadServer)
[ "$ls6" != "$B" ] && pass "a phone behind B: loadServer \"$ls6\", not B" || fail "B named without the load"
[ "$(gate 6)" = lacks_load ] && pass "B's gate: lacks_load ($(jq_file eff 'j["load_server_gate"]["why"]'))" ||
    fail "B's gate: \"$(gate 6)\""
case $(holds B) in none | staging | incomplete) true ;; *) false ;; esac && pass "B does not hold $LOAD ($(holds B))" || fail "B: \"$(holds B)\" in the central's view"
api viewB /api/v1/branches/B
[ "$(jq_file viewB 'j["last_report"] is not None')" = True ] && pass "B did report" || fail "B never reported"

# ---- A stopped: its report goes stale, A is not named ----
kill -TERM "$branchA_PID"
wait "$branchA_PID" 2>/dev/null
ctl "$CD" enterprise set fleet_max_age_s 2 >/dev/null || die "enterprise set: $CTL_ERR"
sleep 3
ls0=""
for _ in $(seq 25); do
    ls0=$(cnf 0 loadServer)
    [ "$ls0" = "" ] && break
    sleep 0.2
done
[ "$ls0" = "" ] && pass "A's report stale: A not named" || fail "A stale, loadServer \"$ls0\""
[ "$(gate 0)" = stale ] && pass "the gate says stale ($(jq_file eff 'j["load_server_gate"]["why"]'))" ||
    fail "the gate says \"$(gate 0)\""
ctl "$CD" enterprise set fleet_max_age_s 300 >/dev/null || die "enterprise set: $CTL_ERR"
start_a
for _ in $(seq 50); do
    [ "$(cnf 0 loadServer)" = "$A" ] && break
    sleep 0.2
done
[ "$(cnf 0 loadServer)" = "$A" ] && pass "A back: named again" || fail "A restarted, not named"

# ---- a blob tampered with at A: quarantined, the gate withdrawn within one report ----
name=$(man_files "$TMPD/new.json" | awk 'NR == 2 {print $1}')
flip_byte "$AD" "$name"
"$LOADSCTL" --data-dir "$AD" verify "$LOAD" >"$TMPD/verify.out" 2>&1
grep -qi quarantin "$TMPD/verify.out" && pass "loadsctl verify at A quarantines $name" ||
    fail "verify at A: $(head -3 "$TMPD/verify.out")"
t0=$(date +%s.%N)
ls0=$A
end=$(($(date +%s) + 15))
while [ "$(date +%s)" -le "$end" ]; do
    ls0=$(cnf 0 loadServer)
    [ "$ls0" = "" ] && break
    sleep 0.2
done
took=$(python3 -c "import sys, time; print(round(time.time() - float(sys.argv[1]), 1))" "$t0")
[ "$ls0" = "" ] && pass "the gate withdrawn $took s after the quarantine" ||
    fail "A still named $took s after the quarantine"
[ "$(holds A)" = quarantined ] && pass "the central's view: A holds it quarantined" ||
    fail "the central's view: $(holds A)"

for f in central branchA branchB; do
    grep -q -E 'AddressSanitizer|LeakSanitizer|runtime error:' "$TMPD/$f.log" && fail "sanitizer report in $f.log"
done
stop_all
PIDS=""
finish
