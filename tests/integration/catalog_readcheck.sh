#!/bin/sh
# catalog_readcheck.sh: a blob changed on disk is caught on its next read,
# before a phone gets a byte of it, with no scrub running (issue 10 item 16):
# refused at once, quarantined by loadsd, healed by a re-import. Also a blob
# changed while loadsd was stopped: its first read after the start hashes it.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/catalog_lib.sh"

cat_setup
LOAD=SIP41.9-4-2SR3-1S
DATA="$TMPD/data"
cat_init "$DATA"
bundle "$TMPD/b.zip" "$TMPD/b.json" --format zip --component-headers
ctl "$DATA" import "$TMPD/b.zip" >/dev/null || die "import failed: $CTL_ERR"

# caught LABEL NAME: the next fetch of NAME is refused, and within 5 s the
# catalog says NAME is quarantined (no scrub runs: --scrub-interval 0).
caught() {
    if tftp_fetch "$2" "$TMPD/out/x"; then
        fail "$1: $2 was served after its blob changed ($(sha "$TMPD/out/x"))"
    else
        pass "$1: $2 is refused at once: $(echo "$FETCH_MSG" | head -1)"
    fi
    i=0
    got=""
    while [ $i -lt 25 ]; do
        ctl "$DATA" --json files >"$TMPD/files.json"
        got=$(json_field "$TMPD/files.json" '[f["status"] for f in d if f["name"] == "'"$2"'"][0]')
        [ "$got" = quarantined ] && break
        sleep 0.2
        i=$((i + 1))
    done
    [ "$got" = quarantined ] && pass "$1: loadsd quarantined $2 (no scrub ran)" ||
        fail "$1: $2 is \"$got\" 5 s later, want quarantined"
}

cat_daemon_start "$DATA" --scrub-interval 0
fetch_all "$TMPD/b.json" "before" 1
F=dsp41.9-4-2ES26.sbn
FSHA=$(file_sha "$DATA" "$F")
flip_byte "$DATA" "$F"
caught "changed while serving" "$F"
if grep -q "$FSHA no longer matches" "$DAEMON_LOG"; then
    pass "changed while serving: the log says the blob no longer matches"
else
    fail "changed while serving: the log does not say so"
fi
daemon_stop

# Changed while loadsd was stopped, its times put back as they were.
ctl "$DATA" import "$TMPD/b.zip" >/dev/null || die "re-import failed: $CTL_ERR"
G=jar41sip.9-4-2ES26.sbn
GP=$(blob_path "$DATA" "$(file_sha "$DATA" "$G")")
touch -r "$GP" "$TMPD/stamp"
flip_byte "$DATA" "$G"
touch -r "$TMPD/stamp" "$GP"
cat_daemon_start "$DATA" --scrub-interval 0
caught "changed while stopped" "$G"
ctl "$DATA" import "$TMPD/b.zip" >/dev/null || fail "heal: re-import refused: $CTL_ERR"
sleep 0.5
fetch_all "$TMPD/b.json" "healed" 2
daemon_stop

ctl_sanitizer_check
finish
