#!/bin/sh
# catalog_refusals.sh: every bundle loadsctl import must refuse is refused
# with exit status 1 and a message naming the file, and leaves the catalog
# (loads and files as loadsctl lists them) exactly as it was.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/catalog_lib.sh"

cat_setup
need_cmd /usr/bin/time
LOAD=SIP41.9-4-2SR3-1S

# refused LABEL DATADIR PATTERN... -- IMPORT ARGS...: the import exits 1,
# its messages match every shell PATTERN, the catalog and the spool are
# as before.
refused() {
    label=$1
    data=$2
    shift 2
    pats=""
    while [ "$1" != "--" ]; do
        pats="$pats$1
"
        shift
    done
    shift
    cat_state "$data" "$TMPD/before.state" || die "$label: cannot read the catalog"
    if ctl "$data" import "$@" >"$TMPD/import.out"; then
        fail "$label: the import was accepted: $(cat "$TMPD/import.out")"
    elif [ "$ctl_rc" -ne 1 ]; then
        fail "$label: exit status $ctl_rc, want 1: $CTL_ERR"
    else
        pass "$label: refused with exit status 1"
    fi
    REFUSAL=$CTL_ERR
    echo "  loadsctl: $REFUSAL" | head -4
    missing=""
    old_ifs=$IFS
    IFS='
'
    for p in $pats; do
        # shellcheck disable=SC2254
        case "$REFUSAL" in *$p*) ;; *) missing="$missing \"$p\"" ;; esac
    done
    IFS=$old_ifs
    if [ -z "$missing" ]; then
        pass "$label: the message names the file and the reason"
    else
        fail "$label: the message lacks$missing"
    fi
    cat_state "$data" "$TMPD/after.state"
    same_state "$label: the catalog is unchanged" "$TMPD/before.state" "$TMPD/after.state"
    if [ -z "$(ls -A "$data/spool" 2>/dev/null)" ]; then
        pass "$label: nothing left in spool/"
    else
        fail "$label: left in spool/: $(ls -A "$data/spool")"
    fi
}

# A base catalog holding one verified load: every refusal must leave it be.
BASE="$TMPD/data"
cat_init "$BASE" approval
bundle "$TMPD/base.zip" "$TMPD/base.json" --format zip --component-headers all
ctl "$BASE" import "$TMPD/base.zip" >/dev/null || die "base import failed: $CTL_ERR"
BASE_BLOBS=$(blob_count "$BASE")

# Missing component, in a fresh data dir (the catalog cannot supply it).
cat_init "$TMPD/data-omit"
bundle "$TMPD/omit.tgz" "$TMPD/omit.json" --format tgz --omit 3
refused "missing component" "$TMPD/data-omit" \
    "$LOAD.loads" "lists" "dsp41.9-4-2ES26.sbn" "which is not in the bundle" -- "$TMPD/omit.tgz"
case "$REFUSAL" in
*"$LOAD.loads lists dsp41.9-4-2ES26.sbn, which is not in the bundle"* | *"$LOAD.loads: lists dsp41.9-4-2ES26.sbn, which is not in the bundle"*)
    pass "missing component: the issue's wording" ;;
*) fail "missing component: want \"$LOAD.loads lists dsp41.9-4-2ES26.sbn, which is not in the bundle\"" ;;
esac

# Wrong tag-14 name in the .loads header.
bundle "$TMPD/wrongname.tar" "$TMPD/wrongname.json" --format tar --wrong-name
refused "wrong tag-14 name" "$BASE" "$LOAD.loads" -- "$TMPD/wrongname.tar"

# Tampered payload, signer trusted: a component's header, then the .loads.
bundle "$TMPD/tamper.zip" "$TMPD/tamper.json" --format zip --tamper --component-headers \
    --load SIP41.9-4-7 --seed 7
t=$(json_field "$TMPD/tamper.json" 'd["tampered"]')
[ -n "$t" ] || die "mkbundle.py did not say what it tampered with"
refused "tampered component" "$BASE" "$t" "signature" -- "$TMPD/tamper.zip"
bundle "$TMPD/tamper2.tgz" "$TMPD/tamper2.json" --format tgz --tamper --load SIP41.9-4-8
refused "tampered .loads" "$BASE" "SIP41.9-4-8.loads" "signature" -- "$TMPD/tamper2.tgz"

# An approval signature from a certificate not in the trust store.
bundle "$TMPD/badappr.zip" "$TMPD/badappr.json" --format zip --load SIP41.9-4-9 \
    --approval "$TMPD/badappr.p7s" --approval-signer untrusted
refused "bad approval signature" "$BASE" "badappr.p7s" "approval" -- \
    --approval "$TMPD/badappr.p7s" "$TMPD/badappr.zip"
# A valid approval signature, but over another bundle's bytes.
bundle "$TMPD/appr.zip" "$TMPD/appr.json" --format zip --load SIP41.9-4-9 --approval "$TMPD/appr.p7s"
refused "approval signature of another bundle" "$BASE" "appr.p7s" "approval" -- \
    --approval "$TMPD/appr.p7s" "$TMPD/base.zip"

# Archives with a bad entry.
evil() {
    python3 "$MKBUNDLE" evil --kind "$1" --format "$2" --out "$TMPD/evil-$1.$2" >/dev/null ||
        die "mkbundle.py evil --kind $1 failed"
}
evil zipslip zip
refused "zip slip (zip)" "$BASE" "evil-zipslip.zip" "../../etc/x" -- "$TMPD/evil-zipslip.zip"
evil zipslip tgz
refused "zip slip (tgz)" "$BASE" "evil-zipslip.tgz" "../../etc/x" -- "$TMPD/evil-zipslip.tgz"
evil symlink tar
refused "symlink entry (tar)" "$BASE" "evil-symlink.tar" "dsp41.9-4-2ES26.sbn" -- \
    "$TMPD/evil-symlink.tar"
evil symlink zip
refused "symlink entry (zip)" "$BASE" "evil-symlink.zip" "dsp41.9-4-2ES26.sbn" -- \
    "$TMPD/evil-symlink.zip"
evil dupcase tar
refused "case duplicates" "$BASE" "evil-dupcase.tar" "ar41." "twice" -- "$TMPD/evil-dupcase.tar"
evil dupname tar
refused "same name in two folders" "$BASE" "evil-dupname.tar" "x.sbn" "twice" -- \
    "$TMPD/evil-dupname.tar"
evil abspath tar
refused "absolute path" "$BASE" "evil-abspath.tar" "/etc/x" "absolute" -- "$TMPD/evil-abspath.tar"

# Zip bomb: 1 GiB of zeros in ~1 MB. Refused by the size or ratio limit,
# quickly and in little memory.
evil bomb zip
cat_state "$BASE" "$TMPD/before.state"
/usr/bin/time -v -o "$TMPD/bomb.time" "$LOADSCTL" --data-dir "$BASE" import "$TMPD/evil-bomb.zip" \
    >/dev/null 2>"$TMPD/bomb.err"
rc=$?
cat "$TMPD/bomb.err" >>"$CTL_LOG"
rss=$(sed -n 's/.*Maximum resident set size (kbytes): *//p' "$TMPD/bomb.time")
secs=$(sed -n 's/.*Elapsed (wall clock) time (h:mm:ss or m:ss): *//p' "$TMPD/bomb.time" |
    awk -F: '{ s = 0; for (i = 1; i <= NF; i++) s = s * 60 + $i; printf "%d", s }')
echo "  zip bomb: exit $rc, peak RSS $rss kB, ${secs}s: $(head -1 "$TMPD/bomb.err")"
[ "$rc" -eq 1 ] && pass "zip bomb: refused with exit status 1" || fail "zip bomb: exit status $rc"
case "$(cat "$TMPD/bomb.err")" in
*evil-bomb.zip*limit*) pass "zip bomb: refused by the size/ratio limit, naming the file" ;;
*) fail "zip bomb: message does not name the file and the limit: $(cat "$TMPD/bomb.err")" ;;
esac
if [ -n "$rss" ] && [ "$rss" -lt 65536 ]; then
    pass "zip bomb: peak RSS $rss kB < 64 MB"
else
    fail "zip bomb: peak RSS \"$rss\" kB, want < 65536"
fi
if [ -n "$secs" ] && [ "$secs" -lt 20 ]; then
    pass "zip bomb: refused in ${secs}s"
else
    fail "zip bomb: took \"$secs\" s"
fi
cat_state "$BASE" "$TMPD/after.state"
same_state "zip bomb: the catalog is unchanged" "$TMPD/before.state" "$TMPD/after.state"
[ -z "$(ls -A "$BASE/spool")" ] && pass "zip bomb: nothing left in spool/" ||
    fail "zip bomb: left in spool/: $(ls -A "$BASE/spool")"

# Name conflict: the same component names with other bytes.
bundle "$TMPD/other.zip" "$TMPD/other.json" --format zip --load SIP41.9-4-3SR1-1S --seed 2 \
    --component-headers all
refused "name conflict" "$BASE" "jar41sip.9-4-2ES26.sbn" "already in the catalog" "--replace" -- \
    "$TMPD/other.zip"
ncomp=0
nrep=0
if ctl "$BASE" import --replace "$TMPD/other.zip" >"$TMPD/replace.out"; then
    pass "name conflict: accepted with --replace"
    for c in $(json_field "$TMPD/other.json" '" ".join(d["components"])'); do
        ncomp=$((ncomp + 1))
        grep -q "^replaced $c\$" "$TMPD/replace.out" && nrep=$((nrep + 1))
    done
    [ "$nrep" -eq "$ncomp" ] && [ "$ncomp" -gt 0 ] &&
        pass "name conflict: --replace reports the $nrep replaced files" ||
        fail "name conflict: --replace reported $nrep of $ncomp replacements: $(cat "$TMPD/replace.out")"
    want=$(json_field "$TMPD/other.json" 'd["files"]["dsp41.9-4-2ES26.sbn"]["sha256"]')
    got=$(file_sha "$BASE" dsp41.9-4-2ES26.sbn)
    [ "$got" = "$want" ] && pass "name conflict: the catalog now holds the new bytes" ||
        fail "name conflict: dsp41.9-4-2ES26.sbn has $got, want $want"
else
    fail "name conflict: --replace refused: $CTL_ERR"
fi

# Completeness across imports: a .loads listing a component that is not in
# its bundle but in the catalog (from the import just above) is accepted.
bundle "$TMPD/later.tgz" "$TMPD/later.json" --format tgz --load SIP41.9-4-4SR1-1S --seed 2 --omit 3 \
    --component-headers all
if ctl "$BASE" import "$TMPD/later.tgz" >/dev/null; then
    pass "completeness across imports: accepted"
    ctl "$BASE" --json show SIP41.9-4-4SR1-1S >"$TMPD/later.show"
    n=$(json_field "$TMPD/later.show" 'len([f for f in d["file_list"] if f["name"] == "dsp41.9-4-2ES26.sbn"])')
    [ "$n" = 1 ] && pass "completeness across imports: the load holds the catalog's dsp41.9-4-2ES26.sbn" ||
        fail "completeness across imports: dsp41.9-4-2ES26.sbn is not in the load"
    s=$(json_field "$TMPD/later.show" 'd["status"]')
    [ "$s" = verified ] && pass "completeness across imports: the load is verified" ||
        fail "completeness across imports: status \"$s\""
else
    fail "completeness across imports: refused: $CTL_ERR"
fi

# Refused imports may leave blobs; gc takes back all that no file uses.
ctl "$BASE" gc >/dev/null || fail "gc: $CTL_ERR"
ctl "$BASE" --json files >"$TMPD/files.json"
distinct=$(json_field "$TMPD/files.json" 'len(set(f["sha256"] for f in d))')
n=$(blob_count "$BASE")
[ "$n" = "$distinct" ] && pass "gc: $n blobs left, one per file content" ||
    fail "gc: $n blobs left, want $distinct (base had $BASE_BLOBS)"
ctl "$BASE" verify >/dev/null && pass "verify: every blob intact after the refusals" ||
    fail "verify: exit status $ctl_rc: $CTL_ERR"

ctl_sanitizer_check
finish
