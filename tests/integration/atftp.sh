#!/bin/sh
# atftp.sh: loadsd against the atftp client: blksize, windowsize 1, 8 and 64
# (RFC 7440) and the timeout option; SHA-256 compared every time.
. "$(dirname "$0")/lib.sh"

need_cmd atftp
make_tmpdir
gen_files big
daemon_start

# atftp_get LABEL NAME OPTION...: one fetch with the given --option values.
atftp_get() {
    label=$1
    name=$2
    shift 2
    out="$TMPD/out/atftp.$name"
    rm -f "$out"
    set -- --get -r "$name" -l "$out" "$@"
    msg=$(timeout 60 atftp "$@" 127.0.0.1 "$PORT" 2>&1)
    rc=$?
    [ -n "$msg" ] && echo "  atftp: $msg"
    check_fetch "atftp $label, $name" "$rc" "$ROOT/$name" "$out"
    rm -f "$out"
}

for f in size_1048576.bin size_513.bin; do
    atftp_get "blksize 1468" "$f" --option "blksize 1468"
    atftp_get "blksize 1468 windowsize 1" "$f" --option "blksize 1468" --option "windowsize 1"
    atftp_get "blksize 1468 windowsize 8" "$f" --option "blksize 1468" --option "windowsize 8"
    atftp_get "blksize 1468 windowsize 64" "$f" --option "blksize 1468" --option "windowsize 64"
    atftp_get "windowsize 8 timeout 2" "$f" --option "windowsize 8" --option "timeout 2"
    atftp_get "blksize 512 timeout 1 tsize 0" "$f" --option "blksize 512" --option "timeout 1" \
        --option "tsize 0"
done
for s in 0 1 511 512; do
    atftp_get "blksize 512 windowsize 8" "size_$s.bin" --option "blksize 512" --option "windowsize 8"
done
atftp_get "blksize 1468 windowsize 64" "size_$BIG_SIZE.bin" --option "blksize 1468" \
    --option "windowsize 64"

daemon_stop
finish
