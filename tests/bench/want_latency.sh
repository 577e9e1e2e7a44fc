#!/bin/sh
# want_latency.sh: how soon a branch starts staging a load assigned at its
# central (issue 15, docs/FLEET.md "The branch side"); loopback only, not
# part of make check. A real central and a real branch loadsd (reports every
# 60 s, the contract's schedule); the device behind the branch is set to a
# new load CHANGES times at a random moment of the report cycle; each time
# the seconds from `loadsctl device set ... load` at the central until the
# branch logs "central wants LOAD: staging it". Without want polling that is
# up to report_every_s (the next report); with it, up to want_poll_s + 1 s.
# Usage: want_latency.sh --build-dir DIR [--changes N]
set -u
BUILD=""
CHANGES=4
while [ $# -gt 0 ]; do
    case "$1" in
    --build-dir) BUILD=$2; shift 2 ;;
    --changes) CHANGES=$2; shift 2 ;;
    *) echo "usage: $0 --build-dir DIR [--changes N]" >&2; exit 2 ;;
    esac
done
[ -n "$BUILD" ] && [ -x "$BUILD/server/loadsd" ] || { echo "--build-dir: a build tree with server/loadsd" >&2; exit 2; }
here=$(cd "$(dirname "$0")" && pwd)
top_srcdir=$(cd "$here/../.." && pwd)
top_builddir=$(cd "$BUILD" && pwd)
export top_srcdir top_builddir
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/catalog_lib.sh"
. "$top_srcdir/tests/integration/admin_lib.sh"
. "$top_srcdir/tests/integration/branch_lib.sh"

cat_setup
MAC=001122AABBCC
CDATA="$TMPD/central"
cat_init "$CDATA"
# load_n N: the N-th load of one model family (0: the one held first).
load_n() { echo "SIP41.9-4-2SR$((3 + $1))-1S"; }
n=0
while [ $n -le "$CHANGES" ]; do
    bundle "$TMPD/l$n.zip" "$TMPD/l$n.json" --format zip --load "$(load_n $n)" --size-kb 64
    ctl "$CDATA" import "$TMPD/l$n.zip" >/dev/null || die "import failed: $CTL_ERR"
    n=$((n + 1))
done
fleet_central "$CDATA" "$MAC" "$(load_n 0)" warn
req add POST /api/v1/branches -H "Authorization: Bearer $CTOKEN" -H 'Content-Type: application/json' \
    -d '{"name": "b1", "address": "127.0.0.1"}'
[ "$STATUS" = 201 ] || die "branch add: $STATUS"
umask 077
jq_py add 'j["token"]' >"$TMPD/btoken"
ctl "$CDATA" device set "$MAC" load_server branch:b1 >/dev/null || die "device set load_server failed: $CTL_ERR"
BDATA="$TMPD/branch"
cat_init "$BDATA"
cat_daemon_start "$BDATA" --files-listen none --upstream "http://127.0.0.1:$CPORT" --scrub-interval 0 \
    --central "$BASE" --central-token-file "$TMPD/btoken"

# staged_within LOAD SECONDS: 0 once the branch logged staging LOAD.
staged_within() {
    _end=$(($(date +%s) + $2))
    until grep -q "central wants $1: staging it" "$DAEMON_LOG"; do
        [ "$(date +%s)" -le "$_end" ] || return 1
        sleep 0.05
    done
}
staged_within "$(load_n 0)" 30 || die "the branch never staged $(load_n 0)"
sleep 3
echo "want_latency: $("$LOADSD" --version), central and branch on loopback, reports every 60 s" >&2
n=1
times=""
while [ $n -le "$CHANGES" ]; do
    sleep "$(shuf -i 0-30 -n 1)" # somewhere in the report cycle
    t0=$(date +%s.%N)
    ctl "$CDATA" device set "$MAC" load "$(load_n $n)" >/dev/null || die "device set failed: $CTL_ERR"
    staged_within "$(load_n $n)" 90 || die "$(load_n $n) not staged within 90 s"
    dt=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
    echo "want_latency: change $n: $(load_n $n) staging after $dt s" >&2
    times="$times $dt"
    n=$((n + 1))
done
echo "$times" | tr ' ' '\n' | sed '/^$/d' | sort -n | awk '{ v[NR] = $1 } END {
    printf "want_latency: %d changes: stage started after min %.1f s, median %.1f s, max %.1f s\n",
        NR, v[1], (NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2), v[NR] }'
daemon_stop
