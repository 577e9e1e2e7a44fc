#!/bin/sh
# errors.sh: loadsd's answers to what it must refuse (missing files, uploads,
# escapes, malformed requests, busy, a peer that never ACKs), then a seeded
# fuzz run after which it must still serve correctly.
. "$(dirname "$0")/lib.sh"

need_cmd python3
make_tmpdir
gen_files
python3 "$TFTP_RAW" --root "$ROOT" --make-fixtures || die "cannot write the fixtures"
daemon_start --max-transfers-per-client 1 --timeout-ms 1000 --retries 5

# hpa_error LABEL CODE COMMAND...: tftp-hpa must report "Error code CODE".
hpa_error() {
    label=$1
    code=$2
    shift 2
    msg=$(timeout 60 tftp -m binary 127.0.0.1 "$PORT" -c "$@" 2>&1)
    echo "  tftp: $msg"
    case "$msg" in
    *"Error code $code:"*) pass "tftp-hpa $label: ERROR $code" ;;
    *) fail "tftp-hpa $label: want ERROR $code" ;;
    esac
}

if command -v tftp >/dev/null 2>&1; then
    hpa_error "missing file" 1 get no_such_file.bin "$TMPD/out/x"
    hpa_error "put (WRQ)" 2 put "$ROOT/size_513.bin" upload.bin
    hpa_error "../etc/passwd" 2 get ../etc/passwd "$TMPD/out/x"
    if [ -e "$ROOT/upload.bin" ]; then
        fail "a WRQ created a file in the serve directory"
    fi
else
    echo "tftp-hpa not installed: its part is left out, the raw checks still run"
fi

# raw CASE [OPTIONS]: one tftp_raw.py case is one result here. Each run
# sends from its own 127.N.0.0/16, so a transfer a case leaves behind never
# makes the next one "busy".
NET=1
raw() {
    c=$1
    shift
    NET=$((NET + 1))
    if timeout 120 python3 "$TFTP_RAW" --port "$PORT" --root "$ROOT" --src-net "$NET" \
        --case "$c" "$@"; then
        pass "raw $c"
    else
        fail "raw $c"
    fi
}

for c in $(python3 "$TFTP_RAW" --list); do
    case "$c" in
    fuzz) ;;
    amplification) raw "$c" --amp-seconds 20 ;;
    *) raw "$c" ;;
    esac
done

raw fuzz --count 300 --seed "${LOADSD_FUZZ_SEED:-20240611}"
if daemon_alive; then
    pass "loadsd still running after the fuzz run"
else
    fail "loadsd died during the fuzz run"
fi
if timeout 60 python3 "$TFTP_RAW" --port "$PORT" --get size_1048576.bin --out "$TMPD/out/after" \
    --opt blksize=1468 --opt windowsize=16 && same_file "$ROOT/size_1048576.bin" "$TMPD/out/after"; then
    pass "1 MiB served correctly after the fuzz run"
else
    fail "1 MiB not served correctly after the fuzz run"
fi
if command -v tftp >/dev/null 2>&1; then
    hpa_get size_513.bin "$TMPD/out/after.hpa"
    check_fetch "tftp-hpa after the fuzz run" $? "$ROOT/size_513.bin" "$TMPD/out/after.hpa"
fi

daemon_stop

# Block numbers after 65535 wrap to 1 instead of 0 when asked.
daemon_start --rollover 1
raw rollover --rollover 1
daemon_stop
finish
