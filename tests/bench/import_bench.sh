#!/bin/sh
# import_bench.sh: times `loadsctl import` of a 200 MB bundle (tar, tgz, zip)
# against `sha256sum` + `cp` + `sync` of the same bundle file, and measures
# the import's peak RSS (also for a 1 GB bundle). Never run by make check.
#
# usage: import_bench.sh [--build-dir DIR] [--size-mb N] [--reps N]
#                        [--formats "tar tgz zip"] [--big-mb N | --no-big]
#                        [--workdir DIR] [--out FILE] [--allow-asan]
#   --build-dir   an optimised (non-ASan) build holding admin/loadsctl (default .)
#   --size-mb     bundle size in MiB, split over 5 components (default 200)
#   --reps        runs per side; the median counts (default 3)
#   --big-mb      the RSS-only bundle, in MiB (default 1024; skipped when the
#                 disk lacks room for it 4 times over)
#   --workdir     where bundles, copies and data dirs go: the disk to measure
#                 (default /var/tmp)
#   --out         also write the Markdown table there
# Targets (issue 3): import time <= baseline / 0.7, i.e. ratio (baseline time
# / import time) >= 0.7, for every format; peak RSS < 64 MB at any size.
# Exit 1 when a target is missed, 2 on a usage or setup error.
set -u

BUILD_DIR=.
SIZE_MB=200
REPS=3
FORMATS="tar tgz zip"
BIG_MB=1024
WORKDIR=/var/tmp
OUT=""
ALLOW_ASAN=0
TOP=$(cd "$(dirname "$0")/../.." && pwd)
MKBUNDLE="$TOP/tests/tools/mkbundle.py"

usage() {
    sed -n '5,18p' "$0" >&2
    exit 2
}

while [ $# -gt 0 ]; do
    case "$1" in
    --build-dir) BUILD_DIR=$2; shift 2 ;;
    --size-mb) SIZE_MB=$2; shift 2 ;;
    --reps) REPS=$2; shift 2 ;;
    --formats) FORMATS=$2; shift 2 ;;
    --big-mb) BIG_MB=$2; shift 2 ;;
    --no-big) BIG_MB=0; shift ;;
    --workdir) WORKDIR=$2; shift 2 ;;
    --out) OUT=$2; shift 2 ;;
    --allow-asan) ALLOW_ASAN=1; shift ;;
    *) usage ;;
    esac
done
for n in "$SIZE_MB" "$REPS" "$BIG_MB"; do
    case "$n" in '' | *[!0-9]*) usage ;; esac
done
[ "$SIZE_MB" -ge 5 ] && [ "$REPS" -ge 1 ] || usage

LOADSCTL="$BUILD_DIR/admin/loadsctl"
[ -x "$LOADSCTL" ] || {
    echo "import_bench: no $LOADSCTL (make admin/loadsctl in an optimised build)" >&2
    exit 2
}
if [ "$ALLOW_ASAN" -eq 0 ] && ldd "$LOADSCTL" 2>/dev/null | grep -q -E 'libasan|libubsan'; then
    echo "import_bench: $LOADSCTL is a sanitizer build; use an optimised one (or --allow-asan)" >&2
    exit 2
fi
if [ ! -x /usr/bin/time ]; then
    echo "import_bench: installing GNU time for the RSS figures" >&2
    apt-get install -y time >/dev/null 2>&1 || {
        echo "import_bench: /usr/bin/time is missing and could not be installed" >&2
        exit 2
    }
fi
for c in python3 openssl sha256sum; do
    command -v "$c" >/dev/null 2>&1 || {
        echo "import_bench: $c is missing" >&2
        exit 2
    }
done

work=$(mktemp -d "$WORKDIR/import_bench.XXXXXX") || exit 2
trap 'rm -rf "$work"' EXIT
trap 'exit 130' INT TERM
python3 "$MKBUNDLE" keys "$work/keys" >/dev/null || exit 2

now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", b - a }'; }
# median of the numbers on stdin
median() { sort -n | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else printf "%.3f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

# make_bundle FORMAT MIB: a bundle of 5 components of MIB/5 MiB each of
# pseudo-random bytes (little compression); path on stdout.
make_bundle() {
    b="$work/SIP41.$1-$2.$1"
    python3 "$MKBUNDLE" bundle --keys "$work/keys" --out "$b" --format "$1" \
        --components 5 --size-kb $(($2 * 1024 / 5)) >/dev/null || return 1
    echo "$b"
}

fresh_datadir() {
    rm -rf "$work/data"
    "$LOADSCTL" --data-dir "$work/data" init >/dev/null &&
        "$LOADSCTL" --data-dir "$work/data" trust add "$work/keys/vendor.pem" >/dev/null
}

# Both sides start with the bundle in the page cache and nothing dirty.
prepare() {
    cat "$1" >/dev/null
    sync
}

# baseline_once BUNDLE [HASHER]: hash (sha256sum, or "openssl" for
# `openssl dgst -sha256`, which uses the CPU's SHA extensions like loadsctl
# does) + cp + sync of the bundle file.
baseline_once() {
    rm -f "$work/copy"
    prepare "$1"
    t0=$(now)
    if [ "${2:-}" = openssl ]; then
        openssl dgst -sha256 "$1" >/dev/null
    else
        sha256sum "$1" >/dev/null
    fi
    cp "$1" "$work/copy"
    sync "$work/copy"
    elapsed "$t0" "$(now)"
    rm -f "$work/copy"
}

# import_once BUNDLE: prints "SECONDS RSS_KB"; status 1 when the import fails.
import_once() {
    fresh_datadir || return 1
    prepare "$1"
    t0=$(now)
    /usr/bin/time -f '%M' -o "$work/rss" "$LOADSCTL" --data-dir "$work/data" import "$1" \
        >/dev/null 2>"$work/import.err" || {
        cat "$work/import.err" >&2
        return 1
    }
    echo "$(elapsed "$t0" "$(now)") $(tail -1 "$work/rss")"
}

table="| bundle | size | sha256sum + cp + sync (median) | loadsctl import (median) | ratio | import MB/s | peak RSS | openssl dgst + cp + sync (median) | ratio to that |
|---|---|---|---|---|---|---|---|---|"
status=0
for f in $FORMATS; do
    b=$(make_bundle "$f" "$SIZE_MB") || {
        echo "import_bench: cannot build the $f bundle" >&2
        exit 2
    }
    bytes=$(stat -c %s "$b")
    : >"$work/base.t"
    : >"$work/imp.t"
    : >"$work/ossl.t"
    rss=0
    i=0
    while [ "$i" -lt "$REPS" ]; do
        bt=$(baseline_once "$b")
        ot=$(baseline_once "$b" openssl)
        r=$(import_once "$b") || {
            echo "import_bench: the import of $b failed" >&2
            exit 1
        }
        it=${r% *}
        kb=${r#* }
        echo "$f run $((i + 1)): sha256sum+cp+sync ${bt}s, openssl+cp+sync ${ot}s, import ${it}s, peak RSS ${kb} kB" >&2
        echo "$bt" >>"$work/base.t"
        echo "$ot" >>"$work/ossl.t"
        echo "$it" >>"$work/imp.t"
        [ "$kb" -gt "$rss" ] && rss=$kb
        i=$((i + 1))
    done
    bm=$(median <"$work/base.t")
    im=$(median <"$work/imp.t")
    om=$(median <"$work/ossl.t")
    oratio=$(awk -v b="$om" -v i="$im" 'BEGIN { printf "%.2f", b / i }')
    ratio=$(awk -v b="$bm" -v i="$im" 'BEGIN { printf "%.2f", b / i }')
    mbs=$(awk -v s="$bytes" -v i="$im" 'BEGIN { printf "%.0f", s / 1e6 / i }')
    ok=$(awk -v r="$ratio" -v k="$rss" 'BEGIN { print (r >= 0.7 && k < 65536) ? "yes" : "no" }')
    [ "$ok" = yes ] || status=1
    table="$table
| $f | $(awk -v s="$bytes" 'BEGIN { printf "%.1f MB", s / 1e6 }') | ${bm} s | ${im} s | **${ratio}** | $mbs | $((rss / 1024)) MiB | ${om} s | ${oratio} |"
    rm -f "$b"
    rm -rf "$work/data"
done

if [ "$BIG_MB" -gt 0 ]; then
    avail_mb=$(df -Pm "$work" | awk 'NR == 2 { print $4 }')
    if [ "$avail_mb" -gt $((BIG_MB * 4)) ]; then
        b=$(make_bundle tar "$BIG_MB") || exit 2
        bytes=$(stat -c %s "$b")
        r=$(import_once "$b") || {
            echo "import_bench: the import of $b failed" >&2
            exit 1
        }
        it=${r% *}
        kb=${r#* }
        echo "tar ${BIG_MB} MiB: import ${it}s, peak RSS ${kb} kB" >&2
        [ "$kb" -lt 65536 ] || status=1
        table="$table
| tar (RSS check, 1 run) | $(awk -v s="$bytes" 'BEGIN { printf "%.1f MB", s / 1e6 }') | - | ${it} s | - | $(awk -v s="$bytes" -v i="$it" 'BEGIN { printf "%.0f", s / 1e6 / i }') | $((kb / 1024)) MiB | - | - |"
        rm -f "$b"
        rm -rf "$work/data"
    else
        echo "import_bench: only $avail_mb MB free in $WORKDIR: no ${BIG_MB} MiB run" >&2
    fi
fi

echo "$table"
[ -n "$OUT" ] && echo "$table" >"$OUT"
[ "$status" -eq 0 ] && echo "targets met: ratio >= 0.7 and peak RSS < 64 MB" >&2 ||
    echo "TARGET MISSED (ratio >= 0.7 and peak RSS < 64 MB)" >&2
exit "$status"
