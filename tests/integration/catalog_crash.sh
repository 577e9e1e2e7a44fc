#!/bin/sh
# catalog_crash.sh: loadsctl import killed with SIGKILL at every crash point
# (LOADSD_TEST_CRASHPOINT) and at seeded random moments; after each, the
# catalog is exactly as before or exactly as after, every blob is intact,
# gc removes only orphans, and the same import then succeeds.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/catalog_lib.sh"

cat_setup
MAX_POINTS=200

# A base catalog holding one earlier import.
BASE="$TMPD/base"
cat_init "$BASE"
bundle "$TMPD/base.zip" "$TMPD/base.json" --format zip
ctl "$BASE" import "$TMPD/base.zip" >/dev/null || die "base import failed: $CTL_ERR"
cat_state "$BASE" "$TMPD/before.state" || die "cannot read the base catalog"

# blobs_of STATE: the number of distinct contents a cat_state snapshot
# references (worked out once per phase, for BLOBS_BEFORE and BLOBS_AFTER).
blobs_of() {
    json_field "$1" 'len(set(f["sha256"] for f in d["files"]))'
}

# check_invariant LABEL DATADIR BUNDLE AFTER_STATE: the catalog equals
# before.state or AFTER_STATE; verify passes; gc leaves exactly the
# referenced blobs; a clean import of BUNDLE then succeeds and gives
# AFTER_STATE. Sets WHICH to before or after.
check_invariant() {
    WHICH=""
    cat_state "$2" "$TMPD/now.state" || {
        fail "$1: loadsctl cannot read the catalog: $CTL_ERR"
        return
    }
    if cmp -s "$TMPD/now.state" "$TMPD/before.state"; then
        WHICH=before
    elif cmp -s "$TMPD/now.state" "$4"; then
        WHICH=after
    fi
    if [ -n "$WHICH" ]; then
        pass "$1: the catalog is exactly as $WHICH the import"
    else
        fail "$1: the catalog is neither as before nor as after the import:"
        diff "$TMPD/before.state" "$TMPD/now.state" | head -20
    fi
    if ctl "$2" verify >/dev/null; then
        verified=1
    else
        verified=0
        fail "$1: loadsctl verify: exit status $ctl_rc: $CTL_ERR"
    fi
    ctl "$2" gc >/dev/null || fail "$1: loadsctl gc: exit status $ctl_rc: $CTL_ERR"
    # The blobs the catalog references (BLOBS_*: the same count, made once).
    case "$WHICH" in
    before) want=$BLOBS_BEFORE ;;
    after) want=$BLOBS_AFTER ;;
    *) want=$(json_field "$TMPD/state.files" 'len(set(f["sha256"] for f in d))') ;;
    esac
    nblobs=$(blob_count "$2")
    if [ "$nblobs" = "$want" ] && ctl "$2" verify >/dev/null; then
        [ "$verified" -eq 1 ] && pass "$1: verify passes; gc leaves the $nblobs referenced blobs, intact"
    else
        fail "$1: after gc: $nblobs blobs, want $want (verify: $ctl_rc $CTL_ERR)"
    fi
    if ctl "$2" import "$3" >/dev/null; then
        cat_state "$2" "$TMPD/now.state"
        if cmp -s "$TMPD/now.state" "$4"; then
            pass "$1: the same import then succeeds"
        else
            fail "$1: the import after the crash gives another catalog:"
            diff "$4" "$TMPD/now.state" | head -20
        fi
    else
        fail "$1: the import after the crash fails: $CTL_ERR"
    fi
}

# ---- 1. every crash point of one import ----------------------------------

# The new bundle: a new load and term41.default.loads, sharing five
# components with the base (stored once) and bringing three new ones.
NEW="$TMPD/new.tgz"
bundle "$NEW" "$TMPD/new.json" --format tgz --load SIP41.9-4-5SR1-1S --components 8 --term-default
rm -rf "$TMPD/work"
cp -a "$BASE" "$TMPD/work"
ctl "$TMPD/work" import "$NEW" >/dev/null || die "clean import of the new bundle failed: $CTL_ERR"
cat_state "$TMPD/work" "$TMPD/after.state"
cmp -s "$TMPD/before.state" "$TMPD/after.state" && die "the new bundle changes nothing"
BLOBS_BEFORE=$(blobs_of "$TMPD/before.state")
BLOBS_AFTER=$(blobs_of "$TMPD/after.state")

point=1
killed=0
seen_after=0
order_ok=1
while [ "$point" -le "$MAX_POINTS" ]; do
    rm -rf "$TMPD/work"
    cp -a "$BASE" "$TMPD/work"
    # (braces: bash's "Killed" notice goes to /dev/null, not the log)
    {
        LOADSD_TEST_CRASHPOINT=$point "$LOADSCTL" --data-dir "$TMPD/work" import "$NEW" \
            >/dev/null 2>"$TMPD/crash.err"
    } 2>/dev/null
    rc=$?
    cat "$TMPD/crash.err" >>"$CTL_LOG"
    if [ "$rc" -eq 0 ]; then
        pass "crash point $point is past the last one: the import completes"
        check_invariant "no crash (point $point)" "$TMPD/work" "$NEW" "$TMPD/after.state"
        [ "$WHICH" = after ] || fail "an import that completed left the catalog as before"
        break
    fi
    if [ "$rc" -ne 137 ]; then
        fail "crash point $point: exit status $rc, want 137 (SIGKILL): $(cat "$TMPD/crash.err")"
        break
    fi
    killed=$((killed + 1))
    check_invariant "crash point $point" "$TMPD/work" "$NEW" "$TMPD/after.state"
    # Once published, always published: no later point may give "before".
    if [ "$WHICH" = after ]; then
        seen_after=1
    elif [ "$WHICH" = before ] && [ "$seen_after" -eq 1 ]; then
        order_ok=0
    fi
    point=$((point + 1))
done
K=$((killed + 2))
echo "  $killed crash points in one import (K = $K)"
[ "$killed" -ge 10 ] && pass "the import was killed at $killed different points" ||
    fail "only $killed crash points: the hook is missing or the loop stopped early"
[ "$seen_after" -eq 1 ] && pass "a kill after the commit leaves the import published" ||
    fail "no crash point left the import published"
[ "$order_ok" -eq 1 ] && pass "no crash point after the commit went back to the old catalog" ||
    fail "a later crash point gave the old catalog again"

# ---- 2. kill -9 at seeded random moments ---------------------------------

# A bundle of a few MB, so an import takes long enough to be hit mid-way.
# Its base holds an earlier import of its first five components (same
# bytes), so seven components and a .loads are new.
BASE2="$TMPD/base2"
cat_init "$BASE2"
bundle "$TMPD/base2.zip" "$TMPD/base2.json" --format zip --size-kb 640
ctl "$BASE2" import "$TMPD/base2.zip" >/dev/null || die "base2 import failed: $CTL_ERR"
cat_state "$BASE2" "$TMPD/before.state" || die "cannot read the second base catalog"
BASE=$BASE2
BIG="$TMPD/big.zip"
bundle "$BIG" "$TMPD/big.json" --format zip --load SIP41.9-4-6SR1-1S --components 12 --size-kb 640
rm -rf "$TMPD/work"
cp -a "$BASE" "$TMPD/work"
t0=$(date +%s%N)
ctl "$TMPD/work" import "$BIG" >/dev/null || die "clean import of the big bundle failed: $CTL_ERR"
t1=$(date +%s%N)
cat_state "$TMPD/work" "$TMPD/after-big.state"
BLOBS_BEFORE=$(blobs_of "$TMPD/before.state")
BLOBS_AFTER=$(blobs_of "$TMPD/after-big.state")
IMPORT_MS=$(((t1 - t0) / 1000000))
echo "  a clean import of the big bundle takes $IMPORT_MS ms"

# Delays from 0 to 120% of a clean import's time, from a fixed seed.
awk -v seed="${CRASH_SEED:-20260321}" -v ms="$IMPORT_MS" 'BEGIN {
    srand(seed)
    for (i = 0; i < 20; i++)
        printf "%.3f\n", rand() * ms * 1.2 / 1000
}' >"$TMPD/delays"
i=0
hits_before=0
hits_after=0
while read -r delay; do
    i=$((i + 1))
    rm -rf "$TMPD/work"
    cp -a "$BASE" "$TMPD/work"
    "$LOADSCTL" --data-dir "$TMPD/work" import "$BIG" >/dev/null 2>"$TMPD/crash.err" &
    pid=$!
    sleep "$delay"
    kill -KILL "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    rc=$?
    cat "$TMPD/crash.err" >>"$CTL_LOG"
    check_invariant "kill -9 after ${delay}s (run $i, exit $rc)" "$TMPD/work" "$BIG" \
        "$TMPD/after-big.state"
    [ "$WHICH" = before ] && hits_before=$((hits_before + 1))
    [ "$WHICH" = after ] && hits_after=$((hits_after + 1))
done <"$TMPD/delays"
echo "  random kills: $hits_before left the catalog as before, $hits_after as after"
[ "$i" -eq 20 ] && pass "20 imports killed at random moments" || fail "only $i random kills ran"

# ---- an import in progress elsewhere keeps its row and files ----
# Another command opening the data directory must not take a running import
# for a crashed one: recovery happens only when the import lock is free.
RD="$TMPD/recover"
ctl "$RD" init >/dev/null
python3 - "$RD" "$LOADSCTL" <<'PY' >"$TMPD/recover.out" 2>&1
import fcntl, os, sqlite3, subprocess, sys, time
dd = sys.argv[1]
db = sqlite3.connect(os.path.join(dd, "catalog.db"))
db.execute("INSERT INTO imports (source, actor, state, started_at) VALUES ('x', 't', 'running', 0)")
db.commit()
open(os.path.join(dd, "spool", "upload-in-flight"), "w").close()
state = lambda: db.execute("SELECT state FROM imports").fetchone()[0]
ctl = [sys.argv[2], "--data-dir", dd, "loads"]
with open(os.path.join(dd, ".lock"), "r+") as lock:
    fcntl.flock(lock, fcntl.LOCK_SH)  # what an import holds while it runs
    subprocess.run(ctl, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    print("held", state(), os.path.exists(os.path.join(dd, "spool", "upload-in-flight")))
subprocess.run(ctl, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
print("free", state(), os.path.exists(os.path.join(dd, "spool", "upload-in-flight")))
PY
grep -q '^held running True$' "$TMPD/recover.out" &&
    pass "an import holding the lock keeps its row and spool file" ||
    fail "recovery while an import runs: $(cat "$TMPD/recover.out")"
grep -q '^free failed False$' "$TMPD/recover.out" &&
    pass "with the lock free, the crashed import is marked failed and its files go" ||
    fail "recovery with the lock free: $(cat "$TMPD/recover.out")"

ctl_sanitizer_check
finish
