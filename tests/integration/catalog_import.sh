#!/bin/sh
# catalog_import.sh: loadsctl import of every bundle format (zip, tar, tgz,
# .cop.sgn, loose files; approval signature or not), the load status it
# gives, then every file fetched over TFTP with atftp and checked by SHA-256.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/catalog_lib.sh"

cat_setup
SEED=0

# check_catalog LABEL MANIFEST STATUS APPROVAL NBLOBS: checks, in one python
# run, what loadsctl printed into loads.json, files.json and show.LOAD.json
# against the bundle's manifest; one PASS or FAIL line per check.
check_catalog() {
    python3 - "$TMPD" "$@" >"$TMPD/check.out" 2>&1 <<'EOF'
import json, sys
tmp, label, man_path, want, approval, nblobs = sys.argv[1:7]
man = json.load(open(man_path))
loads = json.load(open(tmp + "/loads.json"))
files = json.load(open(tmp + "/files.json"))
out = []


def check(ok, what, got=""):
    out.append(("PASS: " if ok else "FAIL: ") + label + ": " + what +
               ("" if ok else " (got %s)" % (got,)))


names = [n[:-len(".loads")] for n in man["loads"]]
check(sorted(l["name"] for l in loads) == sorted(names),
      "the catalog's loads are " + " ".join(names), [l["name"] for l in loads])
for n in names:
    show = json.load(open("%s/show.%s.json" % (tmp, n)))
    check(show["status"] == want, "load %s is %s" % (n, want), show["status"])
    if approval == "yes":
        check("Test Approver" in show["approved_by"], "%s approved by the approver" % n,
              show["approved_by"])
    else:
        check(show["approved_by"] == "", "%s has no approver" % n, show["approved_by"])
    listed = sorted(f["name"] for f in show["file_list"])
    check(listed == sorted([n + ".loads"] + man["components"]),
          "%s holds its .loads and its %d components" % (n, len(man["components"])), listed)
    check(all(f["status"] == "ok" for f in show["file_list"]), "every file of %s is ok" % n,
          [f["status"] for f in show["file_list"]])
mf = {n: (f["size"], f["sha256"]) for n, f in man["files"].items()}
cf = {f["name"]: (f["size"], f["sha256"]) for f in files}
check(cf == mf, "the catalog holds the bundle's %d files, same sizes and SHA-256" % len(mf),
      sorted(set(cf.items()) ^ set(mf.items())))
# Identical bytes are stored once: one blob per distinct SHA-256.
distinct = len(set(v[1] for v in mf.values()))
check(int(nblobs) == distinct, "%s blobs for %d distinct contents" % (nblobs, distinct), nblobs)
print("\n".join(out))
EOF
    while IFS= read -r line; do
        case "$line" in
        PASS:*) pass "${line#PASS: }" ;;
        *) fail "${line#FAIL: }" ;;
        esac
    done <"$TMPD/check.out"
    [ -s "$TMPD/check.out" ] || fail "$1: the catalog check printed nothing"
}

# variant LABEL FORMAT TRUST STATUS APPROVAL [MKBUNDLE FLAGS...]: one bundle
# imported into a fresh data dir trusting TRUST (vendor | approval = vendor
# and approval); every load must get STATUS; APPROVAL = yes adds a detached
# approval signature. Then loadsd serves it and every file is fetched.
variant() {
    label=$1
    format=$2
    trust=$3
    want=$4
    approval=$5
    shift 5
    case "$format" in
    cop) b="$TMPD/ciscocm.$label.cop.sgn" ;;
    dir) b="$TMPD/$label.d" ;;
    *) b="$TMPD/$label.$format" ;;
    esac
    man="$TMPD/$label.json"
    if [ "$approval" = yes ]; then
        bundle "$b" "$man" --format "$format" --approval "$b.p7s" "$@"
        set -- --approval "$b.p7s"
    else
        bundle "$b" "$man" --format "$format" "$@"
        set --
    fi
    if [ "$format" = dir ]; then
        set -- "$@" "$b"/*
    else
        set -- "$@" "$b"
    fi
    data="$TMPD/data-$label"
    cat_init "$data" "$trust"
    if ! ctl "$data" import "$@" >"$TMPD/import.out"; then
        fail "$label: loadsctl import $*: exit status $ctl_rc: $CTL_ERR"
        return
    fi
    pass "$label: loadsctl import exits 0"

    ctl "$data" --json loads >"$TMPD/loads.json"
    ctl "$data" --json files >"$TMPD/files.json"
    for l in $(json_field "$man" '" ".join(d["loads"])'); do
        ctl "$data" --json show "${l%.loads}" >"$TMPD/show.${l%.loads}.json"
    done
    distinct=$(blob_count "$data")
    check_catalog "$label" "$man" "$want" "$approval" "$distinct"
    rm -f "$TMPD"/show.*.json

    # The same bundle again: accepted, nothing changes.
    cat_state "$data" "$TMPD/before.state"
    if ctl "$data" import "$@" >/dev/null; then
        pass "$label: importing it again exits 0"
    else
        fail "$label: importing it again: exit status $ctl_rc: $CTL_ERR"
    fi
    cat_state "$data" "$TMPD/after.state"
    same_state "$label: a second import changes nothing" "$TMPD/before.state" "$TMPD/after.state"
    n=$(blob_count "$data")
    [ "$n" = "$distinct" ] && pass "$label: still $n blobs" ||
        fail "$label: $n blobs after the second import, want $distinct"

    SEED=$((SEED + 1))
    cat_daemon_start "$data"
    fetch_all "$man" "$label" "$SEED"
    if tftp_fetch "not-in-the-catalog.sbn" "$TMPD/out/none"; then
        fail "$label: a name in no load was served"
    else
        pass "$label: a name in no load is refused"
    fi
    daemon_stop
}

variant zip-approval zip approval verified yes --term-default --component-headers
variant tar tar vendor verified no --hash sha512 --component-headers all
variant tar-unsigned-components tar vendor partial no --hash sha512
variant tgz-approval-untrusted-signer tgz approval verified yes --signer untrusted
variant cop cop vendor verified no --term-default --component-headers all --hash sha1
variant cop-approval cop approval verified yes --components 7
variant dir dir vendor verified no --term-default --component-headers all
variant dir-some-unsigned dir vendor partial no --term-default --component-headers
variant zip-untrusted-signer zip vendor signed no --signer untrusted --component-headers all
variant zip-untrusted-some-unsigned zip vendor partial no --signer untrusted --component-headers
variant tgz-placeholder tgz vendor partial no --signer placeholder --term-default

# An unsigned .loads is refused under the default policy ("signed").
data="$TMPD/data-unsigned"
cat_init "$data"
bundle "$TMPD/unsigned.zip" "$TMPD/unsigned.json" --format zip --signer none
cat_state "$data" "$TMPD/before.state"
if ctl "$data" import "$TMPD/unsigned.zip" >/dev/null; then
    fail "unsigned: an unsigned .loads was accepted under the default policy"
else
    case "$CTL_ERR" in
    *SIP41.9-4-2SR3-1S.loads*signed*) pass "unsigned: refused, naming the file: $(echo "$CTL_ERR" | head -1)" ;;
    *) fail "unsigned: exit $ctl_rc, but the message does not name the file and the policy: $CTL_ERR" ;;
    esac
    [ "$ctl_rc" -eq 1 ] && pass "unsigned: exit status 1" || fail "unsigned: exit status $ctl_rc, want 1"
fi
cat_state "$data" "$TMPD/after.state"
same_state "unsigned: the catalog is unchanged" "$TMPD/before.state" "$TMPD/after.state"

# An import while loadsd runs is served without a restart; a removed load
# stops being served.
data="$TMPD/data-live"
cat_init "$data"
bundle "$TMPD/live1.tgz" "$TMPD/live1.json" --format tgz
ctl "$data" import "$TMPD/live1.tgz" >/dev/null || fail "live: first import: $CTL_ERR"
cat_daemon_start "$data"
bundle "$TMPD/live2.zip" "$TMPD/live2.json" --format zip --load SIP41.9-4-5SR1-1S --components 6
if ctl "$data" import "$TMPD/live2.zip" >/dev/null; then
    pass "live: second import while loadsd runs"
else
    fail "live: second import: $CTL_ERR"
fi
# The snapshot is rebuilt within ~250 ms of a change: allow 5 s.
i=0
while [ $i -lt 25 ] && ! tftp_fetch sip41.9-4-5sr1-1s.loads "$TMPD/out/live"; do
    sleep 0.2
    i=$((i + 1))
done
if [ -f "$TMPD/out/live" ]; then
    pass "live: the new load is served without a restart (after $((i * 200)) ms or less)"
    fetch_all "$TMPD/live2.json" "live" 3
else
    fail "live: the new load's .loads is not served 5 s after the import: $FETCH_MSG"
fi
if ctl "$data" remove SIP41.9-4-5SR1-1S >/dev/null; then
    pass "live: loadsctl remove exits 0"
else
    fail "live: loadsctl remove: $CTL_ERR"
fi
i=0
while [ $i -lt 25 ] && tftp_fetch SIP41.9-4-5SR1-1S.loads "$TMPD/out/live"; do
    sleep 0.2
    i=$((i + 1))
done
if [ $i -lt 25 ]; then
    pass "live: the removed load's .loads is no longer served"
else
    fail "live: the removed load's .loads is still served 5 s after the removal"
fi
# The first load's files (shared components too) still serve.
fetch_all "$TMPD/live1.json" "live, first load after the removal" 5
daemon_stop

ctl_sanitizer_check
finish
