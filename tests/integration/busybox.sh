#!/bin/sh
# busybox.sh: loadsd against busybox tftp, with -b (blksize) and without;
# every file size, the large one at 512-byte blocks (block numbers roll over).
. "$(dirname "$0")/lib.sh"

need_cmd busybox
busybox tftp --help 2>&1 | grep -q -- '-b SIZE' || skip "busybox tftp without -b (blksize)"
make_tmpdir
gen_files big
daemon_start --rollover 0

# bb_get LABEL NAME [-b SIZE]
bb_get() {
    label=$1
    name=$2
    shift 2
    out="$TMPD/out/bb.$name"
    rm -f "$out"
    msg=$(timeout 60 busybox tftp -g -r "$name" -l "$out" "$@" 127.0.0.1 "$PORT" 2>&1)
    rc=$?
    [ -n "$msg" ] && echo "  busybox: $msg"
    check_fetch "busybox tftp $label, $name" "$rc" "$ROOT/$name" "$out"
    rm -f "$out"
}

for s in $SMALL_SIZES; do
    bb_get "-b 1468" "size_$s.bin" -b 1468
    bb_get "default blksize" "size_$s.bin"
done
# busybox refuses -b below 18 and needs the request to fit in one block.
bb_get "-b 64" size_513.bin -b 64
bb_get "-b 65464" size_1048576.bin -b 65464
bb_get "default blksize (rollover)" "size_$BIG_SIZE.bin"

daemon_stop
finish
