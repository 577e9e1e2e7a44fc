#!/bin/sh
# upload_full.sh: a large upload onto a full spool is answered 507 with a
# JSON error, not by dropping the connection (issue 10 item 13); the spool is
# a 20 MB tmpfs mounted here (root only), and a small upload still fits.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/admin_lib.sh"

need_cmd curl python3 openssl mount umount
[ "$(id -u)" -eq 0 ] || skip_by_nature "mounting a small tmpfs for the spool needs root"
make_tmpdir
MNT="$TMPD/data/spool/upload"
mkdir -p "$MNT" || die "mkdir $MNT"
mount -t tmpfs -o size=20m tmpfs "$MNT" 2>"$TMPD/mount.err" ||
    skip_by_nature "cannot mount a tmpfs here: $(cat "$TMPD/mount.err")"
trap 'umount "$MNT" 2>/dev/null; cleanup' EXIT
echo ready >"$ROOT/ready.txt"
python3 "$top_srcdir/tests/tools/mkbundle.py" keys "$TMPD/keys" >/dev/null || die "mkbundle keys"
python3 "$top_srcdir/tests/tools/mkbundle.py" bundle --keys "$TMPD/keys" --out "$TMPD/fw.zip" \
    --format zip >/dev/null || die "mkbundle bundle"
head -c 120000000 /dev/zero >"$TMPD/big.zip" || die "cannot write big.zip"

pick_port APORT
daemon_start --admin-listen "127.0.0.1:$APORT" --upload-max-mb 500
BASE="http://127.0.0.1:$APORT"
admin_wait
PW=$(cat "$TMPD/data/initial-admin-password")
req login POST /api/v1/session -H Content-Type:application/json -c "$TMPD/jar" \
    -d "{\"user\":\"admin\",\"password\":\"$PW\"}"
expect "login" 200
CSRF=$(jq_py login 'j["csrf_token"]')
AC="-b $TMPD/jar -H X-CSRF-Token:$CSRF"

# shellcheck disable=SC2086
req big POST /api/v1/uploads $AC -F "file=@$TMPD/big.zip"
curl_rc=$?
if [ "$STATUS" = 507 ] && grep -q '"no_space"' "$TMPD/big.body"; then
    pass "120 MB upload onto a 20 MB spool: 507 no_space ($(cat "$TMPD/big.body"))"
else
    fail "120 MB upload onto a 20 MB spool: status $STATUS, curl exit $curl_rc: $(head -c 300 "$TMPD/big.body")"
fi
if [ -z "$(ls -A "$MNT")" ]; then
    pass "the refused upload left nothing in the spool"
else
    fail "left in the spool: $(ls -A "$MNT")"
fi
# shellcheck disable=SC2086
req small POST /api/v1/uploads $AC -F "file=@$TMPD/fw.zip"
expect "a small upload still fits" 202
daemon_stop
finish
