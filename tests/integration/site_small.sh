#!/bin/sh
# site_small.sh: the site benchmark on a small site (5 phones, a 1 MB load,
# 2 Mbit/s, 40 ms) in each scenario, every phone checked byte-exact; a
# hand-filled load server that lacks a file: the phones sent there are stuck;
# a branch that pulls the load from the central (issue 14): one copy crosses
# the WAN, however many phones ask, damaged packets included; a branch that
# staged it first: the boot carries the configs only.
. "$(dirname "$0")/lib.sh"
heavy_test_lock
. "$top_srcdir/tests/tools/wansite.sh"

need_cmd python3 openssl curl in.tftpd
wansite_can_run || skip "needs root, /dev/net/tun and ip netns"
make_tmpdir
python3 "$top_srcdir/tests/tools/mkbundle.py" keys "$TMPD/keys" >/dev/null || die "mkbundle.py keys failed"
SITE="$top_srcdir/tests/bench/site_upgrade.sh"
SMALL="--phones 5 --image-mb 1 --rate-kbit 2000 --rtt-ms 40 --reboot-s 1"

# site NAME ARGS...: one run of the benchmark; its status in SITE_RC, its
# result in $TMPD/NAME.json, its output in $TMPD/NAME.out.
site() {
    _n=$1
    shift
    # shellcheck disable=SC2086
    bash "$SITE" --build-dir "$top_builddir" $SMALL --keys "$TMPD/keys" --json "$TMPD/$_n.json" "$@" \
        >"$TMPD/$_n.out" 2>&1
    SITE_RC=$?
    sed "s/^/  $_n: /" "$TMPD/$_n.out"
}

# check NAME WANT_OUTCOME: every phone ended WANT_OUTCOME; for "upgraded",
# each holds every file of the bundle with the bundle's SHA-256, and no phone
# took a file twice.
check() {
    python3 - "$TMPD/$1.json" "$2" <<'EOF'
import json, sys
r = json.load(open(sys.argv[1]))
want = sys.argv[2]
sim = r["phonesim"]
bad = []
names = {n.lower(): h for n, h in r["files"].items()}
if len(names) != 6:
    bad.append("the load has %d files, want 6" % len(names))
for p in sim["phones"]:
    if p["outcome"] != want:
        bad.append("%s: %s (%s)" % (p["mac"], p["outcome"], p.get("last_error", "")))
        continue
    if want != "upgraded":
        continue
    got = {}
    for e in p["timeline"]:
        if e["result"] == "ok" and e["name"].lower() in names:
            if e["name"].lower() in got:
                bad.append("%s: %s fetched twice" % (p["mac"], e["name"]))
            got[e["name"].lower()] = e["sha256"]
    for n, h in names.items():
        if got.get(n) != h:
            bad.append("%s: %s has %s, want %s" % (p["mac"], n, got.get(n), h))
if len(sim["phones"]) != r["phones"]:
    bad.append("%d phones reported, %d booted" % (len(sim["phones"]), r["phones"]))
print("; ".join(bad[:5]))
sys.exit(1 if bad else 0)
EOF
}

# upgraded NAME LABEL MIN MAX: the run NAME exited 0, every phone is on the new
# load byte-exact, and the WAN carried MIN <= copies < MAX of the load.
upgraded() {
    [ "$SITE_RC" = 0 ] && pass "$2: site_upgrade exits 0" || fail "$2: exit $SITE_RC"
    msg=$(check "$1" upgraded) && pass "$2: 5 phones upgraded, every file byte-exact" ||
        fail "$2: $msg"
    copies=$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['wan_copies'])" "$TMPD/$1.json")
    python3 -c "import sys; sys.exit(0 if float(sys.argv[2]) <= float(sys.argv[1]) < float(sys.argv[3]) else 1)" \
        "$copies" "$3" "$4" && pass "$2: the WAN carried $copies copies of the load" ||
        fail "$2: the WAN carried $copies copies, want $3 to $4"
}

# central: newer phones, HTTP first, every byte across the WAN (5 copies).
site central --scenario central --mix 8845:5 --max-seconds 120
upgraded central central 5 5.5

# branch-manual: 79xx phones lock-step from a branch loadsd; configs only cross the WAN.
site branch --scenario branch-manual --mix 7965:5 --max-seconds 60
upgraded branch branch-manual 0 0.05

# branch-pull: an empty branch loadsd pulls the load once; HTTP-first 88xx
# and lock-step 79xx phones, all told to ask again until it is whole.
# The WAN's IP bytes: one copy of the files, plus TCP/IP headers (3.6 % at
# MSS 1448), HTTP heads, the manifest and the 5 phones' configs: 1.05-1.06.
site pull --scenario branch-pull --mix 8845:3,7965:2 --max-seconds 120
upgraded pull branch-pull 1 1.06

# branch-staged: the load staged first (loadsctl stage, across the WAN); the
# boot then carries the configs only.
site staged --scenario branch-staged --mix 8845:3,7965:2 --max-seconds 60
upgraded staged branch-staged 0 0.05

# branch-pull on a link that flips a byte in every 300th packet towards the
# branch, with checksums made right (TCP cannot see it): the branch refuses
# each damaged file by its SHA-256, fetches it again, and no phone ever gets
# a damaged byte.
site corrupt --scenario branch-pull --mix 8845:3,7965:2 --max-seconds 150 --corrupt-down 300
msg=$(check corrupt upgraded) && pass "damaged link: 5 phones upgraded, every file byte-exact" ||
    fail "damaged link: $msg"
refused=$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['branch_refused_files'])" "$TMPD/corrupt.json")
[ "$refused" -ge 1 ] 2>/dev/null && pass "damaged link: the branch refused $refused damaged file(s) and fetched them again" ||
    fail "damaged link: no file refused ($refused)"

# A hand-filled load server that lacks one component: never upgraded, stuck.
site stuck --scenario branch-manual --branch-server hpa --branch-omit 2 --mix 7965:5 --max-seconds 10
[ "$SITE_RC" = 1 ] && pass "missing file: site_upgrade exits 1" || fail "missing file: exit $SITE_RC"
msg=$(check stuck stuck) && pass "missing file: all 5 phones show as stuck" || fail "missing file: $msg"
grep -q "never" "$TMPD/stuck.out" && pass "missing file: the summary says the site never finished" ||
    fail "missing file: the summary does not say so"

finish
