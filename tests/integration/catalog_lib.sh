# catalog_lib.sh: helpers for the catalog integration tests (sourced after
# lib.sh, never run alone): bundles from mkbundle.py, loadsctl runs, catalog
# snapshots, loadsd on a data dir of our own. Touches nothing outside $TMPD.

# shellcheck shell=sh
LOADSCTL="${LOADSCTL:-$top_builddir/admin/loadsctl}"
MKBUNDLE="$top_srcdir/tests/tools/mkbundle.py"
CTL_LOG=""

# ctl_setup: what a loadsctl test needs: the temp dir, the loadsctl log,
# test keys in $KEYS.
ctl_setup() {
    need_cmd python3 openssl
    [ -x "$LOADSCTL" ] || die "$LOADSCTL is not built"
    make_tmpdir
    CTL_LOG="$TMPD/loadsctl.log"
    : >"$CTL_LOG"
    KEYS="$TMPD/keys"
    python3 "$MKBUNDLE" keys "$KEYS" >/dev/null || die "mkbundle.py keys failed"
}

# cat_setup: the checks every catalog test needs, the temp dir, test keys.
cat_setup() {
    need_cmd atftp
    [ -x "$LOADSD" ] || die "$LOADSD is not built"
    ctl_setup
    echo ready >"$ROOT/ready.txt"
}

# ctl DATADIR ARGS...: loadsctl on DATADIR; stdout as usual, stderr both
# shown to the caller (CTL_ERR) and appended to $CTL_LOG for the sanitizer
# check at the end.
ctl() {
    _ctl_dd=$1
    shift
    "$LOADSCTL" --data-dir "$_ctl_dd" "$@" 2>"$TMPD/ctl.err"
    ctl_rc=$?
    # (most runs print nothing there: no cat then, two processes fewer a run)
    CTL_ERR=""
    if [ -s "$TMPD/ctl.err" ]; then
        CTL_ERR=$(cat "$TMPD/ctl.err")
        cat "$TMPD/ctl.err" >>"$CTL_LOG"
    fi
    return $ctl_rc
}

# cat_init DATADIR [approval]: a fresh data dir trusting the vendor
# certificate (and the approval one when asked).
cat_init() {
    rm -rf "$1"
    ctl "$1" init >/dev/null || die "loadsctl init $1 failed: $CTL_ERR"
    ctl "$1" trust add "$KEYS/vendor.pem" >/dev/null || die "trust add vendor failed: $CTL_ERR"
    if [ "${2:-}" = approval ]; then
        ctl "$1" trust add --role approval "$KEYS/approval.pem" >/dev/null ||
            die "trust add approval failed: $CTL_ERR"
    fi
}

# bundle OUT MANIFEST ARGS...: mkbundle.py bundle into OUT; JSON summary in
# MANIFEST.
bundle() {
    _b_out=$1
    _b_man=$2
    shift 2
    python3 "$MKBUNDLE" bundle --keys "$KEYS" --out "$_b_out" "$@" >"$_b_man" ||
        die "mkbundle.py bundle $* failed"
}

# man_files MANIFEST: "NAME SIZE SHA256" per file of the bundle.
man_files() {
    python3 -c 'import json,sys
for n, f in sorted(json.load(open(sys.argv[1]))["files"].items()):
    print(n, f["size"], f["sha256"])' "$1"
}

# json_field FILE EXPR: prints the Python expression EXPR evaluated with
# d = the JSON document in FILE (empty output on any error).
json_field() {
    python3 -c 'import json,sys
try:
    d = json.load(open(sys.argv[1]))
    print(eval(sys.argv[2]))
except Exception:
    pass' "$1" "$2" 2>/dev/null
}

# cat_state DATADIR OUT: the catalog as loadsctl shows it (loads and files,
# JSON). Provenance is left out (created_at, and import_id: a re-import of
# the same bytes records itself as the load's latest import), so two imports
# of the same bytes compare equal.
cat_state() {
    ctl "$1" --json loads >"$TMPD/state.loads" || return 1
    ctl "$1" --json files >"$TMPD/state.files" || return 1
    python3 -c 'import json,sys
loads = json.load(open(sys.argv[1]))
for l in loads:
    l.pop("created_at", None)
    l.pop("import_id", None)
files = json.load(open(sys.argv[2]))
json.dump({"loads": loads, "files": files}, sys.stdout, sort_keys=True, indent=1)
print()' "$TMPD/state.loads" "$TMPD/state.files" >"$2"
}

# load_status DATADIR LOAD: the load's status from `loadsctl --json show`.
load_status() {
    ctl "$1" --json show "$2" >"$TMPD/show.json" || return 1
    json_field "$TMPD/show.json" 'd["status"]'
}

# file_sha DATADIR NAME: the SHA-256 the catalog holds for file NAME.
file_sha() {
    ctl "$1" --json files >"$TMPD/files.json" || return 1
    json_field "$TMPD/files.json" '[f["sha256"] for f in d if f["name"] == "'"$2"'"][0]'
}

# blob_path DATADIR SHA256: where the blob store keeps those bytes.
blob_path() {
    echo "$1/blobs/sha256/$(echo "$2" | cut -c1-2)/$(echo "$2" | cut -c3-4)/$2"
}

# blob_count DATADIR: number of blob files in the store.
blob_count() {
    find "$1/blobs/sha256" -type f 2>/dev/null | wc -l | tr -d ' '
}

# mixcase NAME SEED: NAME with the case of its letters changed, differently
# for each seed (the request must still find the file).
mixcase() {
    echo "$1" | awk -v s="$2" '{
        out = ""
        for (i = 1; i <= length($0); i++) {
            c = substr($0, i, 1)
            out = out ((i + s) % 2 ? toupper(c) : tolower(c))
        }
        print out
    }'
}

# cat_daemon_start DATADIR [FLAGS...]: loadsd on 127.0.0.1:$PORT with that
# data dir (and $ROOT as serve dir, for the readiness probe); waits at most
# 10 s for an answer. Uses lib.sh's DAEMON_* variables, so daemon_stop works.
cat_daemon_start() {
    _d_dd=$1
    shift
    [ -n "$PORT" ] || pick_port PORT
    DAEMON_LOG="$TMPD/loadsd.$PORT.log"
    echo "starting: $LOADSD --foreground --tftp-listen 127.0.0.1:$PORT --data-dir $_d_dd $*"
    "$LOADSD" --foreground --config "$CONFIG_FILE" --tftp-listen "127.0.0.1:$PORT" \
        --data-dir "$_d_dd" --serve-dir "$ROOT" --log-level debug "$@" 2>"$DAEMON_LOG" </dev/null &
    DAEMON_PID=$!
    _d_end=$(($(date +%s) + 10))
    while [ "$(date +%s)" -le "$_d_end" ]; do
        if ! kill -0 "$DAEMON_PID" 2>/dev/null; then
            wait "$DAEMON_PID"
            rc=$?
            DAEMON_PID=""
            die "loadsd exited with status $rc while starting"
        fi
        rm -f "$TMPD/ready.out"
        if timeout 1 atftp --get -r ready.txt -l "$TMPD/ready.out" 127.0.0.1 "$PORT" \
            >/dev/null 2>&1 && same_file "$ROOT/ready.txt" "$TMPD/ready.out"; then
            return 0
        fi
        sleep 0.2
    done
    die "loadsd did not answer within 10 s"
}

# tftp_fetch REMOTE LOCAL: one atftp fetch (bounded); its messages in
# FETCH_MSG; status 0 only when atftp says so and LOCAL exists.
tftp_fetch() {
    rm -f "$2"
    FETCH_MSG=$(timeout 30 atftp --get -r "$1" -l "$2" 127.0.0.1 "$PORT" 2>&1)
    fetch_rc=$?
    [ "$fetch_rc" -eq 0 ] && [ -f "$2" ]
}

# fetch_all MANIFEST LABEL SEED: fetches every file of the bundle with the
# case of its name mixed, and compares SHA-256 with the manifest.
fetch_all() {
    man_files "$1" >"$TMPD/fetch.list"
    _f_n=0
    while read -r _f_name _f_size _f_want; do
        _f_n=$((_f_n + 1))
        _f_req=$(mixcase "$_f_name" "$(($3 + _f_n))")
        if ! tftp_fetch "$_f_req" "$TMPD/out/fetched"; then
            fail "$2: fetch $_f_req: atftp status $fetch_rc: $FETCH_MSG"
        elif [ "$(sha "$TMPD/out/fetched")" != "$_f_want" ]; then
            fail "$2: fetch $_f_req: SHA-256 differs ($(wc -c <"$TMPD/out/fetched") bytes, want $_f_size)"
        else
            pass "$2: fetch $_f_req ($_f_size bytes), SHA-256 matches"
        fi
    done <"$TMPD/fetch.list"
    rm -f "$TMPD/out/fetched"
}

# same_state LABEL A B: one result: the two catalog snapshots are equal.
same_state() {
    if cmp -s "$2" "$3"; then
        pass "$1"
    else
        fail "$1: the catalog differs:"
        diff "$2" "$3" | head -20
    fi
}

# flip_byte DATADIR NAME: XORs one byte of the blob holding file NAME.
flip_byte() {
    h=$(file_sha "$1" "$2")
    p=$(blob_path "$1" "$h")
    [ -f "$p" ] || die "no blob $p for $2"
    chmod u+w "$p" || die "chmod $p failed"
    python3 -c 'import sys
with open(sys.argv[1], "r+b") as f:
    f.seek(100)
    b = f.read(1)
    f.seek(100)
    f.write(bytes([b[0] ^ 0x5a]))' "$p" || die "cannot change $p"
    [ "$(sha "$p")" != "$h" ] || die "the blob of $2 did not change"
}

# want_file_status DATADIR NAME STATUS LABEL and want_load_status: one result.
want_file_status() {
    ctl "$1" --json files >"$TMPD/files.json"
    got=$(json_field "$TMPD/files.json" '[f["status"] for f in d if f["name"] == "'"$2"'"][0]')
    [ "$got" = "$3" ] && pass "$4: $2 is $3" || fail "$4: $2 is \"$got\", want $3"
}
want_load_status() {
    got=$(load_status "$1" "$2")
    [ "$got" = "$3" ] && pass "$4: load $2 is $3" || fail "$4: load $2 is \"$got\", want $3"
}

# refused_within LABEL NAME: at most 5 s for loadsd to stop serving NAME
# (its snapshot follows the catalog within ~250 ms); the daemon must say why.
# Needs $DAEMON_LOG (cat_daemon_start).
refused_within() {
    i=0
    while [ $i -lt 25 ] && tftp_fetch "$2" "$TMPD/out/q"; do
        sleep 0.2
        i=$((i + 1))
    done
    if [ $i -lt 25 ]; then
        pass "$1: $2 is no longer served (atftp: $(echo "$FETCH_MSG" | head -1))"
    else
        fail "$1: $2 is still served 5 s after the change"
        return
    fi
    if grep -i "$2" "$DAEMON_LOG" | grep -q -i -E 'quarantin|not available'; then
        pass "$1: the loadsd log says why: $(grep -i "$2" "$DAEMON_LOG" | grep -i -E 'quarantin|not available' | tail -1 | cut -c1-160)"
    else
        fail "$1: the loadsd log does not say why $2 is not served"
    fi
}

# served_within LABEL NAME WANT_SHA: at most 5 s for NAME to serve WANT_SHA.
served_within() {
    i=0
    while [ $i -lt 25 ] && ! tftp_fetch "$2" "$TMPD/out/h"; do
        sleep 0.2
        i=$((i + 1))
    done
    if [ $i -ge 25 ]; then
        fail "$1: $2 is not served 5 s later: $FETCH_MSG"
    elif [ "$(sha "$TMPD/out/h")" != "$3" ]; then
        fail "$1: $2 is served with other bytes"
    else
        pass "$1: $2 is served again, SHA-256 matches"
    fi
}

# sql DATADIR QUERY: the first column of each row QUERY gives on the
# catalog (Python's sqlite3 module: no extra package), one per line.
sql() {
    python3 -c 'import sqlite3, sys
db = sqlite3.connect(sys.argv[1] + "/catalog.db", timeout=10)
for row in db.execute(sys.argv[2]):
    print(row[0])
db.commit()' "$1" "$2"
}

# ctl_sanitizer_check: one result: no sanitizer report from any loadsctl run.
ctl_sanitizer_check() {
    if grep -q -E 'AddressSanitizer|LeakSanitizer|runtime error:' "$CTL_LOG"; then
        fail "sanitizer report from loadsctl:"
        grep -E -A5 'AddressSanitizer|LeakSanitizer|runtime error:' "$CTL_LOG" | head -30
    else
        pass "no sanitizer report from loadsctl"
    fi
}
