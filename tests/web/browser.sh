#!/bin/sh
# browser.sh: runs the admin page's browser test (browser.test.mjs: node's
# test runner, playwright-core, Debian's chromium) against the built tree and
# prints "N passed, N failed". Skips (77) when node, chromium or the npm
# dependencies are missing: `packaging/quickstart check` installs them.
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
top_builddir=${top_builddir:-$top_srcdir}
export top_srcdir top_builddir
web="$top_srcdir/tests/web"

command -v node >/dev/null 2>&1 || { echo "SKIP: node is not installed"; exit 77; }
[ -x "${CHROMIUM:-/usr/bin/chromium}" ] || { echo "SKIP: ${CHROMIUM:-/usr/bin/chromium} is not installed"; exit 77; }
[ -d "$web/node_modules/playwright-core" ] ||
    { echo "SKIP: no $web/node_modules (run: cd tests/web && npm ci)"; exit 77; }
[ -x "$top_builddir/server/loadsd" ] || { echo "ERROR: $top_builddir/server/loadsd is not built"; exit 99; }

# One CPU-heavy test at a time (tests/integration/lib.sh): the admin threads
# run at nice 19 and a loaded machine slows the page past the test's waits.
# shellcheck source=../integration/lib.sh
. "$top_srcdir/tests/integration/lib.sh"
heavy_test_lock

tap=$(mktemp "${TMPDIR:-/tmp}/loadsd-browser.XXXXXX") || exit 99
trap 'rm -f "$tap"' EXIT
# The spec reporter for people, TAP to a file for the counts.
node --test --test-reporter=spec --test-reporter-destination=stdout \
    --test-reporter=tap --test-reporter-destination="$tap" "$web/browser.test.mjs"
rc=$?
passed=$(sed -n 's/^# pass \([0-9]*\)$/\1/p' "$tap" | tail -n 1)
failed=$(sed -n 's/^# fail \([0-9]*\)$/\1/p' "$tap" | tail -n 1)
echo "${passed:-0} passed, ${failed:-0} failed"
echo "screenshots: $web/artifacts/"
if [ "$rc" -ne 0 ] || [ "${failed:-1}" != 0 ] || [ "${passed:-0}" = 0 ]; then
    # Each failed test as one FAIL line (what CI's reader sees first): its
    # name, the line of browser.test.mjs the error came from, and the error's
    # text with its lines joined (the TAP's YAML block, "error: |-" and on).
    awk 'function indent(s) { match(s, /^ */); return RLENGTH }
        /^ *not ok / { name = $0; sub(/^ *not ok [0-9]+ - /, "", name); msg = ""; at = ""; inerr = 0; next }
        name == "" { next }
        inerr && indent($0) > key { t = $0; sub(/^ +/, "", t); if (t != "") msg = msg (msg == "" ? "" : " / ") t; next }
        { inerr = 0 }
        /^ *error: / { key = indent($0); v = $0; sub(/^ *error: /, "", v); if (v ~ /^[|>]/) inerr = 1; else msg = v; next }
        at == "" && !/location:/ && match($0, /browser\.test\.mjs:[0-9]+/) { at = substr($0, RSTART, RLENGTH) }
        /^ *\.\.\.$/ { print "FAIL: " name (at != "" ? " (" at ")" : "") ": " substr(msg, 1, 400); name = "" }' "$tap"
    echo "---- the loadsd log (last 60 lines; all of it in $web/artifacts/loadsd.log) ----"
    tail -n 60 "$web/artifacts/loadsd.log" 2>/dev/null
    exit 1
fi
exit 0
