#!/bin/sh
# tftp_hpa.sh: loadsd against the tftp-hpa client (RFC 1350 lock-step, no
# options): every file size, rollover past block 65535, netascii, names.
. "$(dirname "$0")/lib.sh"

need_cmd tftp
make_tmpdir
gen_files big
# LF line endings, a few hundred lines: tftp-hpa turns CR LF back into LF.
i=0
while [ $i -lt 300 ]; do
    echo "line $i: the quick brown fox jumps over the lazy dog"
    i=$((i + 1))
done >"$ROOT/text.txt"
head -c 5000 /dev/urandom >"$ROOT/jar41sip.sbn"
mkdir -p "$ROOT/phones/7960"
head -c 3000 /dev/urandom >"$ROOT/phones/7960/P0030801SR02.bin"

daemon_start --rollover 0 --threads 2

for s in $SMALL_SIZES $BIG_SIZE; do
    out="$TMPD/out/hpa_$s"
    hpa_get "size_$s.bin" "$out"
    check_fetch "tftp-hpa octet, $s bytes at blksize 512" $? "$ROOT/size_$s.bin" "$out"
    rm -f "$out"
done

hpa_get text.txt "$TMPD/out/text.txt" netascii
check_fetch "tftp-hpa netascii text with LF line endings" $? "$ROOT/text.txt" "$TMPD/out/text.txt"

hpa_get Jar41SIP.SBN "$TMPD/out/jar"
check_fetch "tftp-hpa case-insensitive name (Jar41SIP.SBN)" $? "$ROOT/jar41sip.sbn" "$TMPD/out/jar"

hpa_get /phones/7960/P0030801SR02.bin "$TMPD/out/sub"
check_fetch "tftp-hpa leading / and a subdirectory" $? "$ROOT/phones/7960/P0030801SR02.bin" "$TMPD/out/sub"

hpa_get /PHONES/7960/p0030801sr02.BIN "$TMPD/out/sub2"
check_fetch "tftp-hpa subdirectory, other case" $? "$ROOT/phones/7960/P0030801SR02.bin" "$TMPD/out/sub2"

daemon_stop
finish
