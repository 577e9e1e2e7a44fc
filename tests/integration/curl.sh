#!/bin/sh
# curl.sh: loadsd against curl's TFTP client (it sends tsize, and blksize when
# asked); error exit codes; IPv6 on ::1; several listen addresses.
. "$(dirname "$0")/lib.sh"

need_cmd curl
curl -V | grep -q -i 'protocols:.* tftp' || skip "this curl has no TFTP support"
make_tmpdir
gen_files big
pick_port PORT
pick_port PORT2
daemon_start --tftp-listen "[::1]:$PORT" --tftp-listen "127.0.0.2:$PORT2"

# curl_get LABEL URL EXPECTED [CURL OPTIONS...]
curl_get() {
    label=$1
    url=$2
    want=$3
    shift 3
    out="$TMPD/out/curl.out"
    rm -f "$out"
    timeout 60 curl -sS -g --max-time 55 -o "$out" "$@" "$url"
    check_fetch "curl $label" $? "$want" "$out"
    rm -f "$out"
}

# curl_rc LABEL WANT URL [CURL OPTIONS...]: curl's exit status must be WANT.
curl_rc() {
    label=$1
    want=$2
    url=$3
    shift 3
    timeout 60 curl -sS -g --max-time 55 -o "$TMPD/out/curl.err" "$@" "$url"
    rc=$?
    if [ "$rc" -eq "$want" ]; then
        pass "curl $label: exit $rc"
    else
        fail "curl $label: exit $rc, want $want"
    fi
}

base="tftp://127.0.0.1:$PORT"
for s in $SMALL_SIZES; do
    if [ "$s" -eq 0 ]; then
        # curl (7.88 at least) rejects "tsize 0" in an OACK as invalid and
        # exits 71, so an empty file is fetched without options.
        curl_get "no options, 0 bytes" "$base/size_0.bin" "$ROOT/size_0.bin" --tftp-no-options
        continue
    fi
    curl_get "default (tsize), $s bytes" "$base/size_$s.bin" "$ROOT/size_$s.bin"
    curl_get "blksize 1468, $s bytes" "$base/size_$s.bin" "$ROOT/size_$s.bin" --tftp-blksize 1468
done
curl_get "no options, 511 bytes" "$base/size_511.bin" "$ROOT/size_511.bin" --tftp-no-options
curl_get "blksize 8, 513 bytes" "$base/size_513.bin" "$ROOT/size_513.bin" --tftp-blksize 8
curl_get "blksize 65464, 1 MiB" "$base/size_1048576.bin" "$ROOT/size_1048576.bin" --tftp-blksize 65464
curl_get "default (tsize), $BIG_SIZE bytes (rollover)" "$base/size_$BIG_SIZE.bin" "$ROOT/size_$BIG_SIZE.bin"

curl_rc "missing file (CURLE_TFTP_NOTFOUND)" 68 "$base/no_such_file.bin"
curl_rc "../etc/passwd (CURLE_TFTP_PERM)" 69 "$base/../etc/passwd" --path-as-is
curl_rc "../etc/passwd, no options (CURLE_TFTP_PERM)" 69 "$base/../etc/passwd" --path-as-is \
    --tftp-no-options

# IPv6 and the other listeners.
curl_get "IPv6 [::1], 1 MiB" "tftp://[::1]:$PORT/size_1048576.bin" "$ROOT/size_1048576.bin" \
    --tftp-blksize 1468
curl_get "IPv6 [::1], 512 bytes" "tftp://[::1]:$PORT/size_512.bin" "$ROOT/size_512.bin"
curl_get "second address 127.0.0.2:$PORT2" "tftp://127.0.0.2:$PORT2/size_1048576.bin" \
    "$ROOT/size_1048576.bin" --tftp-blksize 1468
curl_rc "127.0.0.2:$PORT2, missing file" 68 "tftp://127.0.0.2:$PORT2/no_such_file.bin"
for host in 127.0.0.1:$PORT '::1':$PORT 127.0.0.2:$PORT2; do
    h=${host%:*}
    p=${host##*:}
    if timeout 60 python3 "$TFTP_RAW" --host "$h" --port "$p" --get size_513.bin \
        --out "$TMPD/out/raw" --opt blksize=1024 && same_file "$ROOT/size_513.bin" "$TMPD/out/raw"; then
        pass "answered from the request's address $h, port $p"
    else
        fail "fetch from $h port $p (answer from the wrong address?)"
    fi
done
# Not listening there: no answer is the right answer.
if timeout 10 curl -sS --max-time 3 -o /dev/null "tftp://127.0.0.2:$PORT/size_1.bin" 2>/dev/null; then
    fail "127.0.0.2:$PORT answered though loadsd does not listen there"
else
    pass "127.0.0.2:$PORT (not a listener) does not answer"
fi

daemon_stop
finish
