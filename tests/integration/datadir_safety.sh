#!/bin/sh
# datadir_safety.sh: the data directory keeps its blobs and its secrets: no
# catalog means a refusal, never a gc of everything (issue 10 item 1); gc
# removes only what the catalog released; one loadsd per data directory
# (issue 9 item 4); modes 0750/0600 (10.11); the hand-over to the service
# user touches only what loadsd made (10.12).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/catalog_lib.sh"

cat_setup
LOAD=SIP41.9-4-2SR3-1S

# tree_sum DIR: every file's name and SHA-256, and every directory's name.
tree_sum() {
    (cd "$1" && find . -type d | sort && find . -type f | sort | xargs -r sha256sum)
}

# expect_refused LABEL PATTERN CMD...: exit 1 and PATTERN in the message.
expect_refused() {
    _label=$1
    _pat=$2
    shift 2
    if ctl "$@" >"$TMPD/out.txt"; then
        fail "$_label: accepted: $(head -3 "$TMPD/out.txt")"
    elif [ "$ctl_rc" -ne 1 ]; then
        fail "$_label: exit status $ctl_rc, want 1"
    else
        case "$CTL_ERR" in
        *"$_pat"*) pass "$_label: refused: $(echo "$CTL_ERR" | head -1 | cut -c1-150)" ;;
        *) fail "$_label: message lacks \"$_pat\": $CTL_ERR" ;;
        esac
    fi
}

mode_of() {
    stat -c %a "$1"
}

# ---- 10.1: a lost catalog never costs the blobs ----
D="$TMPD/data"
cat_init "$D"
bundle "$TMPD/one.zip" "$TMPD/one.json" --format zip --components 1 --component-headers
bundle "$TMPD/five.zip" "$TMPD/five.json" --format zip --seed 7
ctl "$D" import "$TMPD/one.zip" >/dev/null || die "import one.zip: $CTL_ERR"
BLOBS=$(blob_count "$D")
[ "$BLOBS" -eq 2 ] || die "want 2 blobs after the import, have $BLOBS"

rm -f "$D/catalog.db" "$D/catalog.db-wal" "$D/catalog.db-shm"
expect_refused "no catalog: loadsctl loads" "no catalog" "$D" loads
expect_refused "no catalog: loadsctl gc" "no catalog" "$D" gc
expect_refused "no catalog: loadsctl init" "no catalog" "$D" init
: >"$D/catalog.db"
expect_refused "empty catalog.db: loadsctl gc" "no catalog" "$D" gc
if [ "$(blob_count "$D")" -eq "$BLOBS" ]; then
    pass "no catalog: all $BLOBS blobs are still there"
else
    fail "no catalog: $(blob_count "$D") blobs left of $BLOBS"
fi

# refused_start PORT LOG TENTHS WANT PASS-LABEL FAIL-LABEL: starts loadsd on
# $D and expects it to exit non-zero within TENTHS tenths of a second with
# WANT in its log; one pass or fail.
refused_start() {
    "$LOADSD" --foreground --config "$CONFIG_FILE" --tftp-listen "127.0.0.1:$1" --data-dir "$D" \
        --admin-listen none --log-level debug 2>"$2" </dev/null &
    rs_pid=$!
    rs_i=0
    while kill -0 $rs_pid 2>/dev/null && [ $rs_i -lt "$3" ]; do sleep 0.1; rs_i=$((rs_i + 1)); done
    if kill -0 $rs_pid 2>/dev/null; then
        kill -TERM $rs_pid
        wait $rs_pid
        fail "$6"
        return
    fi
    wait $rs_pid
    rs_rc=$?
    if [ $rs_rc -ne 0 ] && grep -q "$4" "$2"; then
        pass "$5 (exit $rs_rc): $(grep -m1 -o "$4.*" "$2" | head -c 160)"
    else
        fail "$5: exit $rs_rc, log: $(tail -3 "$2")"
    fi
}

pick_port PORT
refused_start "$PORT" "$TMPD/refused.log" 100 "no catalog" \
    "empty catalog.db: loadsd refuses" "empty catalog.db: loadsd started over $BLOBS orphaned blobs"
PORT=""
if [ "$(blob_count "$D")" -eq "$BLOBS" ] && [ ! -e "$D/initial-admin-password" ]; then
    pass "empty catalog.db: loadsd removed no blob and made no new admin"
else
    fail "empty catalog.db: $(blob_count "$D") blobs left of $BLOBS"
fi

# recover lists the orphans by hash and size, naming the signed ones.
if ctl "$D" --json recover >"$TMPD/recover.json"; then
    man_files "$TMPD/one.json" | sort >"$TMPD/want.list"
    python3 -c 'import json,sys
for o in json.load(open(sys.argv[1])):
    print(o["name"], o["size"], o["sha256"])' "$TMPD/recover.json" | sort >"$TMPD/got.list"
    if cmp -s "$TMPD/want.list" "$TMPD/got.list"; then
        pass "recover lists every orphaned blob by name, size and hash"
    else
        fail "recover lists: $(cat "$TMPD/got.list"), want $(cat "$TMPD/want.list")"
    fi
else
    fail "recover: exit $ctl_rc: $CTL_ERR"
fi
if ctl "$D" recover --rebuild >"$TMPD/rebuild.out" && [ "$(load_status "$D" "$LOAD")" = signed ]; then
    pass "recover --rebuild brings $LOAD back from its blobs"
else
    fail "recover --rebuild: $(cat "$TMPD/rebuild.out") $CTL_ERR"
fi

# gc removes what the catalog released, and keeps blobs it never knew.
ctl "$D" import --replace "$TMPD/five.zip" >/dev/null || die "import five.zip: $CTL_ERR"
STRAY=$(printf 'bytes no catalog ever listed' | sha256sum | cut -d' ' -f1)
mkdir -p "$(dirname "$(blob_path "$D" "$STRAY")")"
printf 'bytes no catalog ever listed' >"$(blob_path "$D" "$STRAY")"
ctl "$D" --json gc >"$TMPD/gc.json" || fail "gc: $CTL_ERR"
OLD_SHA=$(man_files "$TMPD/one.json" | awk '/\.loads/ {print $3}')
if [ "$(json_field "$TMPD/gc.json" 'd["removed"]')" = 2 ] && [ ! -e "$(blob_path "$D" "$OLD_SHA")" ]; then
    pass "gc removes the 2 blobs --replace released"
else
    fail "gc: $(cat "$TMPD/gc.json"), old .loads blob still there: $(ls "$(blob_path "$D" "$OLD_SHA")" 2>&1)"
fi
if [ -f "$(blob_path "$D" "$STRAY")" ] && [ "$(json_field "$TMPD/gc.json" 'd["orphans"]')" = 1 ]; then
    pass "gc keeps (and counts) a blob this catalog never referenced"
else
    fail "gc removed or missed the stray blob: $(cat "$TMPD/gc.json")"
fi
ctl "$D" recover --release >/dev/null && ctl "$D" gc >/dev/null
if [ ! -e "$(blob_path "$D" "$STRAY")" ]; then
    pass "recover --release, then gc removes the orphan"
else
    fail "the released orphan is still there"
fi

# ---- 10.11: modes, created so and tightened at start ----
umask 022
ctl "$TMPD/fresh" init >/dev/null || die "init fresh: $CTL_ERR"
if [ "$(mode_of "$TMPD/fresh")" = 750 ] && [ "$(mode_of "$TMPD/fresh/catalog.db")" = 600 ]; then
    pass "created with umask 022: data dir 0750, catalog.db 0600"
else
    fail "created: data dir $(mode_of "$TMPD/fresh"), catalog.db $(mode_of "$TMPD/fresh/catalog.db")"
fi
chmod 0755 "$D"
chmod 0644 "$D/catalog.db"

# ---- 9.4: one loadsd per data directory ----
cat_daemon_start "$D" --admin-listen none
bad=""
for f in "$D/catalog.db" "$D/catalog.db-wal" "$D/catalog.db-shm"; do
    [ -e "$f" ] && [ "$(mode_of "$f")" != 600 ] && bad="$bad $(basename "$f"):$(mode_of "$f")"
done
[ "$(mode_of "$D")" = 750 ] || bad="$bad dir:$(mode_of "$D")"
if [ -z "$bad" ]; then
    pass "tightened at start: data dir 0750, catalog.db and its -wal/-shm 0600"
else
    fail "not tightened at start:$bad"
fi
FIRST=$DAEMON_PID
sleep 0.5
tree_sum "$D" >"$TMPD/before.sum"
pick_port PORT2
refused_start "$PORT2" "$TMPD/second.log" 50 "PID $FIRST" \
    "a second loadsd refuses at once, naming PID $FIRST" "a second loadsd runs on the same data directory"
tree_sum "$D" >"$TMPD/after.sum"
if cmp -s "$TMPD/before.sum" "$TMPD/after.sum"; then
    pass "the second loadsd changed no file in the data directory"
else
    fail "the data directory changed: $(diff "$TMPD/before.sum" "$TMPD/after.sum" | head -5)"
fi
if ctl "$D" loads >/dev/null; then
    pass "loadsctl still works while loadsd runs"
else
    fail "loadsctl loads while loadsd runs: $CTL_ERR"
fi
# packaging/quickstart run's check, on a ./var whose data dir this loadsd holds.
QS="$top_srcdir/packaging/quickstart"
mkdir -p "$TMPD/qs"
ln -s "$D" "$TMPD/qs/data"
qs_out=$(bash -c "say() { printf 'quickstart: %s\n' \"\$*\" >&2; }
$(sed -n '/^already_running()/,/^}/p' "$QS")
already_running '$TMPD/qs'" 2>&1)
qs_rc=$?
case "$qs_rc:$qs_out" in
0:*"already running"*"PID $FIRST"*) pass "quickstart run sees the running loadsd: $qs_out" ;;
*) fail "quickstart run's check: status $qs_rc, said: $qs_out" ;;
esac
# gc waits for no import: an import holds the lock shared.
flock -s "$D/.lock" sleep 3 &
holder=$!
sleep 0.3
expect_refused "gc while an import holds the lock" "an import is running" "$D" gc
wait $holder
daemon_stop

# ---- 10.12: the hand-over to the service user touches only loadsd's own ----
if [ "$(id -u)" -eq 0 ] && getent passwd nobody >/dev/null; then
    H="$TMPD/handover"
    cat_init "$H"
    ctl "$H" import "$TMPD/one.zip" >/dev/null || die "import into $H: $CTL_ERR"
    chown -R root:root "$H"
    echo "not loadsd's" >"$H/notes.txt"
    echo "a file outside" >"$TMPD/outside"
    mkdir -p "$H/blobs/sha256/00/00"
    ln "$TMPD/outside" "$H/blobs/sha256/00/00/0000000000000000000000000000000000000000000000000000000000000000"
    ln -s "$TMPD/outside" "$H/spool/link"
    chmod 0711 "$TMPD"
    chmod -R a+rX "$ROOT"
    cat_daemon_start "$H" --admin-listen none --user nobody
    owner() { stat -c %U "$1"; }
    if [ "$(owner "$H")" = nobody ] && [ "$(owner "$H/catalog.db")" = nobody ] &&
        [ "$(owner "$H/blobs/sha256")" = nobody ] &&
        [ "$(owner "$(blob_path "$H" "$OLD_SHA")")" = nobody ]; then
        pass "--user: the data dir, catalog and blobs are handed to nobody"
    else
        fail "--user: owners $(owner "$H") $(owner "$H/catalog.db") $(owner "$H/blobs/sha256")"
    fi
    if [ "$(owner "$H/notes.txt")" = root ] && [ "$(owner "$TMPD/outside")" = root ] &&
        [ "$(stat -c %U "$H/spool/link" 2>/dev/null)" = root ]; then
        pass "--user: a file loadsd did not make, a hard link and a symlink keep their owner"
    else
        fail "--user: notes.txt $(owner "$H/notes.txt"), outside $(owner "$TMPD/outside"), link $(stat -c %U "$H/spool/link")"
    fi
    daemon_stop
    chmod 0700 "$TMPD"
else
    echo "SKIP (part): the hand-over to a service user needs root and a nobody user"
fi

ctl_sanitizer_check
finish
