#!/bin/sh
# branch_quota.sh: the upstream disk quota (issue 14). A central loadsd holds
# three loads of about 620 kB each; a branch with --upstream-quota-mb 1 holds
# one load imported by hand. Pulling A, then B: A (used longest ago, in use
# by no device) is removed (a log line, gone from the catalog, audited as
# "upstream", its blobs collected) while the hand-imported load stays, and B
# is served byte-exact. With B assigned to a device, pulling C keeps both B
# (in use) and C (just pulled) and warns that the quota is exceeded. Then
# `loadsctl stage D --upstream-quota-mb 1` removes C, not B. Recency is use:
# on a fresh branch with room for three pulled loads, A, B and C are pulled,
# a phone asks for A again, and pulling D removes B (used longest ago), not
# A (pulled first, used last).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/catalog_lib.sh"
. "$(dirname "$0")/branch_lib.sh"

need_cmd curl python3
cat_setup
LA=SIP41.9-4-2SR3-1S
LB=SIP45.9-4-2SR3-1S
LC=SIP70.9-4-2SR3-1S
LD=SIP75.9-4-2SR3-1S
LH=SIP80.9-4-2SR3-1S
CDATA="$TMPD/central"
cat_init "$CDATA"
seed=1
for l in "$LA" "$LB" "$LC" "$LD"; do
    bundle "$TMPD/$l.zip" "$TMPD/$l.json" --format zip --component-headers all --load "$l" \
        --seed $seed --components 6 --size-kb 100
    ctl "$CDATA" import "$TMPD/$l.zip" >/dev/null || die "import of $l at the central failed: $CTL_ERR"
    seed=$((seed + 1))
done
bundle "$TMPD/h.zip" "$TMPD/h.json" --format zip --component-headers all --load "$LH" --seed 9 \
    --components 2 --size-kb 100

# ---- the central: its file service only ----
central_start "$CDATA"

# ---- the branch: one load imported by hand (before any pull: the oldest) ----
BDATA="$TMPD/branch"
cat_init "$BDATA"
ctl "$BDATA" import "$TMPD/h.zip" >/dev/null || die "import of $LH at the branch failed: $CTL_ERR"
sleep 1.1 # the pulls' import times come after the hand import's
pick_tcp_port BPORT
B="http://127.0.0.1:$BPORT"
cat_daemon_start "$BDATA" --files-listen "127.0.0.1:$BPORT" --upstream "$C/" --scrub-interval 0 \
    --upstream-quota-mb 1

# pull LOAD: asks the branch for LOAD.loads until it is served (at most 30 s).
pull() {
    i=0
    while [ $i -lt 150 ]; do
        [ "$(curl -s -o "$TMPD/out/$1.loads" -w '%{http_code}' "$B/$1.loads")" = 200 ] && return 0
        i=$((i + 1))
        sleep 0.2
    done
    return 1
}
# in_catalog LOAD: yes or no.
in_catalog() { ctl "$BDATA" show "$1" >/dev/null 2>&1 && echo yes || echo no; }
# byte_exact LOAD: every file of the load over HTTP, compared with its manifest.
byte_exact() {
    ok=0
    n=0
    man_files "$TMPD/$1.json" >"$TMPD/want.list"
    while read -r name size want; do
        n=$((n + 1))
        curl -s -o "$TMPD/out/f" "$B/$name"
        [ "$(sha "$TMPD/out/f" 2>/dev/null)" = "$want" ] && ok=$((ok + 1))
    done <"$TMPD/want.list"
    echo "$ok/$n"
}

pull "$LA" && pass "pulled $LA: served ($(byte_exact "$LA") files byte-exact)" ||
    fail "$LA never served: $(grep -i pull "$DAEMON_LOG" | tail -3)"
sizes=$(sql "$BDATA" "SELECT group_concat(name || '=' || (SELECT sum(f.size) FROM load_files lf JOIN files f ON f.id = lf.file_id WHERE lf.load_id = loads.id), ' ') FROM loads")
echo "  the branch's loads (bytes): $sizes"
blobs_a=$(blob_count "$BDATA")

# ---- B: A goes (pulled longest ago, no device), the hand import stays ----
pull "$LB" || fail "$LB never served: $(grep -i pull "$DAEMON_LOG" | tail -3)"
sleep 0.5 # the log line comes right after the pull's
line=$(grep "upstream quota: removed load $LA " "$DAEMON_LOG")
[ -n "$line" ] && pass "log: ${line#* info: }" || fail "no log line for $LA's removal: $(grep -i quota "$DAEMON_LOG")"
[ "$(in_catalog "$LA")" = no ] && [ "$(in_catalog "$LH")" = yes ] &&
    pass "$LA gone from the branch's catalog; $LH (imported by hand, older) kept" ||
    fail "after $LB: $LA in the catalog: $(in_catalog "$LA"), $LH: $(in_catalog "$LH")"
[ "$(sql "$BDATA" "SELECT count(*) FROM audit WHERE action = 'load.remove' AND object = '$LA' AND actor = 'upstream' AND after = 'upstream quota 1 MB'")" = 1 ] &&
    pass "an audit row load.remove of $LA by 'upstream'" || fail "no audit row for $LA's removal"
blobs_b=$(blob_count "$BDATA")
[ "$blobs_b" -eq "$blobs_a" ] &&
    pass "$LA's blobs collected: $blobs_b blob(s) after $LB as after $LA alone" ||
    fail "blobs: $blobs_a after $LA, $blobs_b after $LB (A's 7 not collected?)"
got=$(byte_exact "$LB")
[ "${got%/*}" = "${got#*/}" ] && pass "$LB served byte-exact ($got files)" || fail "$LB: $got files byte-exact"

# ---- B assigned to a device; C: B (in use) and C (just pulled) kept, a warning ----
ctl "$BDATA" device add 00112233AABB --model "Cisco 7961" >/dev/null || die "device add: $CTL_ERR"
ctl "$BDATA" device set 00112233AABB load "$LB" >/dev/null || die "device set load: $CTL_ERR"
pull "$LC" || fail "$LC never served: $(grep -i pull "$DAEMON_LOG" | tail -3)"
sleep 0.5
warn=$(grep "upstream quota 1 MB exceeded" "$DAEMON_LOG")
[ "$(in_catalog "$LB")" = yes ] && [ "$(in_catalog "$LC")" = yes ] && [ -n "$warn" ] &&
    pass "after $LC: $LB (a device's) and $LC (just pulled) kept; log: ${warn#* warn: }" ||
    fail "after $LC: $LB: $(in_catalog "$LB"), $LC: $(in_catalog "$LC"), warning: '$warn'"
daemon_stop

# ---- loadsctl stage D with the quota: C goes, B (a device's) stays ----
if ctl "$BDATA" stage "$LD" --upstream "$C/" --upstream-quota-mb 1 >/dev/null &&
    [ "$(in_catalog "$LC")" = no ] && [ "$(in_catalog "$LB")" = yes ] &&
    [ "$(in_catalog "$LD")" = yes ] && [ "$(in_catalog "$LH")" = yes ]; then
    pass "loadsctl stage $LD: $LC removed; $LB, $LD and $LH kept"
else
    fail "loadsctl stage $LD: $CTL_ERR; C $(in_catalog "$LC"), B $(in_catalog "$LB"), D $(in_catalog "$LD"), H $(in_catalog "$LH")"
fi

# ---- least recently used, not least recently pulled ----
BDATA="$TMPD/branch2"
cat_init "$BDATA"
cat_daemon_start "$BDATA" --files-listen "127.0.0.1:$BPORT" --upstream "$C/" --scrub-interval 0 \
    --upstream-quota-mb 2
for l in "$LA" "$LB" "$LC"; do
    pull "$l" || fail "$l never served to the second branch: $(grep -i pull "$DAEMON_LOG" | tail -3)"
    sleep 1.1 # one import time per second
done
pull "$LA" || fail "$LA no longer served"
# The use is written by the watcher thread (a load's at most every 5 s): poll
# until A's last use is later than C's import.
i=0
while [ $i -lt 150 ] && [ "$(sql "$BDATA" "SELECT count(*) FROM load_used u, loads c WHERE u.name_folded = lower('$LA') AND c.name = '$LC' AND u.used_at > c.created_at")" != 1 ]; do
    sleep 0.2
    i=$((i + 1))
done
pull "$LD" || fail "$LD never served: $(grep -i pull "$DAEMON_LOG" | tail -3)"
sleep 0.5
[ "$(in_catalog "$LB")" = no ] && [ "$(in_catalog "$LA")" = yes ] && [ "$(in_catalog "$LC")" = yes ] &&
    pass "quota 2 MB, A B C pulled, A asked for again, D pulled: $LB (used longest ago) removed, $LA and $LC kept" ||
    fail "LRU: A $(in_catalog "$LA"), B $(in_catalog "$LB"), C $(in_catalog "$LC"); uses: $(sql "$BDATA" "SELECT group_concat(name_folded || '@' || used_at, ' ') FROM load_used"); loads: $(sql "$BDATA" "SELECT group_concat(name || '@' || created_at, ' ') FROM loads"); $(grep "quota" "$DAEMON_LOG" | tail -2)"
daemon_stop
ctl_sanitizer_check
finish
