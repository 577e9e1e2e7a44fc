#!/bin/sh
# http_files.sh: the HTTP file service (issue 12) against real clients: curl
# (whole, --range, -z and ETag revalidation, HEAD), wget -c resuming an
# interrupted download, Python's urllib; catalog files by odd-case name and by
# hash, generated configs per requesting address, 0-byte and sparse 5 GiB
# files (Range past 4 GiB), and every refusal. SHA-256 compared every time.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/catalog_lib.sh"

need_cmd curl wget python3 ss
cat_setup
DATA="$TMPD/data"
cat_init "$DATA"
bundle "$TMPD/b.zip" "$TMPD/b.json" --format zip --component-headers
ctl "$DATA" import "$TMPD/b.zip" >/dev/null || die "import failed: $CTL_ERR"
ctl "$DATA" device add 00:11:22:aa:bb:cc --model 7961 >/dev/null || die "device add: $CTL_ERR"
ctl "$DATA" site add 127.0.0.0/8 --load-server ls-site4.example >/dev/null || die "site: $CTL_ERR"

pick_tcp_port HPORT
B="http://127.0.0.1:$HPORT"

head -c 3000000 /dev/urandom >"$ROOT/Resume.BIN"
: >"$ROOT/empty.bin"
truncate -s 5G "$ROOT/sparse.img" || die "cannot make a sparse file"
printf 'past four gibibytes' | dd of="$ROOT/sparse.img" bs=1 seek=4500000000 conv=notrunc 2>/dev/null
printf 'the end' | dd of="$ROOT/sparse.img" bs=1 seek=$((5 * 1024 * 1024 * 1024 - 7)) conv=notrunc 2>/dev/null

cat_daemon_start "$DATA" --files-listen "127.0.0.1:$HPORT" --files-listen "[::1]:$HPORT" \
    --files-timeout 3 --files-max-connections-per-client 6

# hdr FILE NAME: the value of header NAME in a saved header dump.
hdr() {
    tr -d '\r' <"$1" | awk -v n="$2" 'BEGIN { n = tolower(n) } { split($0, a, ": ");
        if (tolower(a[1]) == n) { sub(/^[^:]*: /, ""); v = $0 } } END { print v }'
}

# get URL OUT [CURL ARGS...]: status in CODE, headers in $TMPD/h.
get() {
    _u=$1
    _o=$2
    shift 2
    CODE=$(curl -s --path-as-is -D "$TMPD/h" -o "$_o" -w '%{http_code}' "$@" "$_u")
}

expect() { # LABEL WANT GOT
    [ "$2" = "$3" ] && pass "$1" || fail "$1: got \"$3\", want \"$2\""
}

# ---- catalog files by name (odd case), by hash, and their validators ----
man_files "$TMPD/b.json" >"$TMPD/list"
n=0
while read -r name size want; do
    n=$((n + 1))
    req=$(mixcase "$name" "$n")
    get "$B/$req" "$TMPD/out/f"
    if [ "$CODE" = 200 ] && [ "$(sha "$TMPD/out/f")" = "$want" ]; then
        pass "curl $req ($size bytes): 200, SHA-256 matches"
    else
        fail "curl $req: status $CODE, SHA-256 $(sha "$TMPD/out/f"), want $want"
    fi
    expect "$req: strong ETag of its hash" "\"sha256-$want\"" "$(hdr "$TMPD/h" ETag)"
    get "$B/blobs/sha256/$want" "$TMPD/out/b"
    [ "$CODE" = 200 ] && [ "$(sha "$TMPD/out/b")" = "$want" ] &&
        pass "blob $want: 200, SHA-256 matches" || fail "blob $want: status $CODE"
    expect "blob: immutable" "public, max-age=31536000, immutable" "$(hdr "$TMPD/h" Cache-Control)"
done <"$TMPD/list"
sort -k2 -n "$TMPD/list" | tail -1 >"$TMPD/big"
F=$(cut -d' ' -f1 "$TMPD/big")
FSIZE=$(cut -d' ' -f2 "$TMPD/big")
FSHA=$(cut -d' ' -f3 "$TMPD/big")
[ "$FSIZE" -gt 1100 ] || die "the bundle's largest file has only $FSIZE bytes"
get "$B/$F" "$TMPD/out/f"
cp "$TMPD/out/f" "$TMPD/orig"
expect "catalog file: Accept-Ranges" bytes "$(hdr "$TMPD/h" Accept-Ranges)"
expect "catalog file: octet-stream" application/octet-stream "$(hdr "$TMPD/h" Content-Type)"
expect "catalog file by name: a short cache life" "public, max-age=60" "$(hdr "$TMPD/h" Cache-Control)"
LM=$(hdr "$TMPD/h" Last-Modified)
[ -n "$LM" ] && pass "catalog file: Last-Modified $LM" || fail "catalog file: no Last-Modified"

# HEAD
CODE=$(curl -s -I -o "$TMPD/h" -w '%{http_code} %{size_download}' "$B/$F")
expect "HEAD: 200 and no body" "200 0" "$CODE"
expect "HEAD: Content-Length is the size" "$FSIZE" "$(hdr "$TMPD/h" Content-Length)"

# Range
get "$B/$F" "$TMPD/out/r" --range 100-1099
dd if="$TMPD/orig" of="$TMPD/want" bs=1 skip=100 count=1000 2>/dev/null
[ "$CODE" = 206 ] && cmp -s "$TMPD/out/r" "$TMPD/want" && pass "curl --range 100-1099: 206, the right 1000 bytes" ||
    fail "curl --range 100-1099: status $CODE, $(wc -c <"$TMPD/out/r") bytes"
expect "Content-Range" "bytes 100-1099/$FSIZE" "$(hdr "$TMPD/h" Content-Range)"
get "$B/$F" "$TMPD/out/r" -H "Range: bytes=$FSIZE-"
expect "a range past the end: 416" 416 "$CODE"
expect "416 says the size" "bytes */$FSIZE" "$(hdr "$TMPD/h" Content-Range)"
get "$B/$F" "$TMPD/out/r" -H "Range: bytes=0-1,5-6"
[ "$CODE" = 200 ] && cmp -s "$TMPD/out/r" "$TMPD/orig" && pass "several ranges: 200 whole" ||
    fail "several ranges: status $CODE"
get "$B/$F" "$TMPD/out/r" -H "Range: bytes=0-9" -H "If-Range: \"sha256-$FSHA\""
expect "If-Range with our ETag: 206" 206 "$CODE"
get "$B/$F" "$TMPD/out/r" -H "Range: bytes=0-9" -H 'If-Range: "sha256-0000"'
[ "$CODE" = 200 ] && cmp -s "$TMPD/out/r" "$TMPD/orig" && pass "If-Range with another ETag: 200 whole" ||
    fail "If-Range with another ETag: status $CODE"

# Revalidation: curl -z (If-Modified-Since) and --etag-compare (If-None-Match)
touch -d "$LM" "$TMPD/stamp"
get "$B/$F" "$TMPD/out/z" -z "$TMPD/stamp"
expect "curl -z with the file's date: 304" 304 "$CODE"
touch -d "2001-01-01" "$TMPD/old"
get "$B/$F" "$TMPD/out/z" -z "$TMPD/old"
[ "$CODE" = 200 ] && cmp -s "$TMPD/out/z" "$TMPD/orig" && pass "curl -z with an older date: 200 whole" ||
    fail "curl -z older: status $CODE"
curl -s --etag-save "$TMPD/etag" -o /dev/null "$B/$F"
get "$B/$F" "$TMPD/out/e" --etag-compare "$TMPD/etag"
expect "curl --etag-compare: 304" 304 "$CODE"
expect "304 keeps the ETag" "\"sha256-$FSHA\"" "$(hdr "$TMPD/h" ETag)"
get "$B/$F" "$TMPD/out/e" -H 'If-None-Match: "sha256-00"'
expect "If-None-Match another tag: 200" 200 "$CODE"

# The same bytes over TFTP
tftp_fetch "$(mixcase "$F" 7)" "$TMPD/out/t" && cmp -s "$TMPD/out/t" "$TMPD/orig" &&
    pass "TFTP serves the same bytes" || fail "TFTP and HTTP differ"

# ---- serve directory: odd case, 0 bytes, sparse 5 GiB, wget -c, urllib ----
get "$B/resume.bin" "$TMPD/out/res"
check_fetch "curl resume.bin (stored as Resume.BIN)" 0 "$ROOT/Resume.BIN" "$TMPD/out/res"
expect "serve-dir file: no-cache" no-cache "$(hdr "$TMPD/h" Cache-Control)"
get "$B/EMPTY.bin" "$TMPD/out/empty"
[ "$CODE" = 200 ] && [ ! -s "$TMPD/out/empty" ] && pass "0-byte file: 200, 0 bytes" ||
    fail "0-byte file: status $CODE"
expect "0-byte file: Content-Length 0" 0 "$(hdr "$TMPD/h" Content-Length)"
get "$B/empty.bin" "$TMPD/out/empty" -H "Range: bytes=0-"
expect "0-byte file: any range is 416" 416 "$CODE"
CODE=$(curl -s -I -o "$TMPD/h" -w '%{http_code}' "$B/sparse.img")
expect "sparse: HEAD says 5 GiB" 5368709120 "$(hdr "$TMPD/h" Content-Length)"
get "$B/sparse.img" "$TMPD/out/s" --range 4500000000-4500000018
expect "sparse: Range past 4 GiB: 206" 206 "$CODE"
expect "sparse: the bytes at 4.5 GB" "past four gibibytes" "$(cat "$TMPD/out/s")"
get "$B/sparse.img" "$TMPD/out/s" -H "Range: bytes=-7"
expect "sparse: the last 7 bytes (suffix range)" "the end" "$(cat "$TMPD/out/s")"
expect "sparse: Content-Range of the suffix" "bytes 5368709113-5368709119/5368709120" \
    "$(hdr "$TMPD/h" Content-Range)"

# wget -c: a download cut off (timeout kills a slow wget), then resumed.
rm -f "$TMPD/out/wget.bin"
timeout 2 wget -q --limit-rate=500k -O "$TMPD/out/wget.bin" "$B/Resume.BIN"
part=$(wc -c <"$TMPD/out/wget.bin")
if [ "$part" -gt 0 ] && [ "$part" -lt 3000000 ]; then
    pass "wget cut off after $part of 3000000 bytes"
else
    fail "wget was not cut off mid-way ($part bytes)"
fi
before=$(grep -c ' 206, ' "$DAEMON_LOG")
wget -q -c -O "$TMPD/out/wget.bin" "$B/Resume.BIN"
check_fetch "wget -c resumes to the whole file" $? "$ROOT/Resume.BIN" "$TMPD/out/wget.bin"
[ "$(grep -c ' 206, ' "$DAEMON_LOG")" -gt "$before" ] && pass "wget -c asked for the rest only (206)" ||
    fail "wget -c did not resume with a range"

if python3 - "$B" "$ROOT/Resume.BIN" <<'EOF'; then
import hashlib, sys, urllib.request
base, path = sys.argv[1], sys.argv[2]
want = open(path, "rb").read()
with urllib.request.urlopen(base + "/RESUME.bin") as r:
    assert r.status == 200 and r.read() == want
req = urllib.request.Request(base + "/resume.BIN", headers={"Range": "bytes=1000-1999"})
with urllib.request.urlopen(req) as r:
    assert r.status == 206 and r.read() == want[1000:2000]
print(hashlib.sha256(want).hexdigest())
EOF
    pass "python urllib: whole and a range, bytes match"
else
    fail "python urllib"
fi

# ---- generated configs: rendered for the requesting address, never cached ----
get "$B/SEP001122AABBCC.cnf.xml" "$TMPD/out/v4.xml"
expect "config: 200" 200 "$CODE"
expect "config: text/xml" text/xml "$(hdr "$TMPD/h" Content-Type)"
expect "config: no-cache" no-cache "$(hdr "$TMPD/h" Cache-Control)"
[ -z "$(hdr "$TMPD/h" ETag)" ] && pass "config: no ETag" || fail "config: has an ETag"
grep -q ls-site4.example "$TMPD/out/v4.xml" && pass "config from 127.0.0.1: the site rule applies" ||
    fail "config from 127.0.0.1: no site rule"
get "http://[::1]:$HPORT/sep001122aabbcc.cnf.xml" "$TMPD/out/v6.xml"
[ "$CODE" = 200 ] && ! grep -q ls-site4.example "$TMPD/out/v6.xml" &&
    pass "config from ::1 (lower case name): no IPv4 site rule" || fail "config from ::1: status $CODE"
get "$B/XMLDefault.cnf.xml" "$TMPD/out/d.xml"
expect "XMLDefault.cnf.xml: 200" 200 "$CODE"

# ---- refusals ----
refused() { # LABEL WANT PATH [CURL ARGS...]
    _l=$1
    _w=$2
    _p=$3
    shift 3
    get "$B$_p" "$TMPD/out/x" "$@"
    expect "$_l: $_w" "$_w" "$CODE"
}
refused "dot-dot" 400 "/../etc/passwd"
refused "escaped dot-dot" 400 "/%2e%2e/%2e%2e/etc/passwd"
refused "backslash dot-dot" 400 "/..%5c..%5cetc%5cpasswd"
refused "control byte" 400 "/a%01b"
refused "NUL byte" 400 "/$F%00.txt"
refused "no listing of /" 404 "/"
refused "unknown name" 404 "/nothing.here"
refused "unknown blob" 404 "/blobs/sha256/$(printf '%064d' 0)"
refused "malformed blob path" 404 "/blobs/sha256/XYZ"
refused "upper-case blob hash" 404 "/blobs/sha256/$(echo "$FSHA" | tr a-f A-F)"
refused "path too long" 414 "/$(head -c 2000 /dev/zero | tr '\0' a)"
refused "POST" 405 "/$F" -X POST -d x
expect "405 says Allow" "GET, HEAD" "$(hdr "$TMPD/h" Allow)"
refused "PUT" 405 "/$F" -X PUT -d x
refused "OPTIONS" 405 "/$F" -X OPTIONS
get "$B/$F?download=1&x=../../" "$TMPD/out/q"
[ "$CODE" = 200 ] && cmp -s "$TMPD/out/q" "$TMPD/orig" && pass "a query string means nothing" ||
    fail "query string: status $CODE"
CODE=$(curl -s -o /dev/null -w '%{http_code}' -H "X-Big: $(head -c 20000 /dev/zero | tr '\0' a)" "$B/$F")
case "$CODE" in 431 | 413 | 400 | 000) pass "a 20 kB header is refused ($CODE)" ;;
*) fail "a 20 kB header: status $CODE" ;; esac

# Quarantined: refused by name and by hash, at once.
Q=$(grep -v "^$F " "$TMPD/list" | head -1 | cut -d' ' -f1)
QSHA=$(grep -v "^$F " "$TMPD/list" | head -1 | cut -d' ' -f3)
flip_byte "$DATA" "$Q"
get "$B/$Q" "$TMPD/out/q"
expect "changed blob: refused by name" 404 "$CODE"
i=0
while [ $i -lt 25 ] && [ "$(ctl "$DATA" --json files | python3 -c 'import json,sys
print([f["status"] for f in json.load(sys.stdin) if f["name"] == sys.argv[1]][0])' "$Q")" != quarantined ]; do
    sleep 0.2
    i=$((i + 1))
done
get "$B/$Q" "$TMPD/out/q"
expect "quarantined: refused by name" 404 "$CODE"
get "$B/blobs/sha256/$QSHA" "$TMPD/out/q"
expect "quarantined: refused by hash" 404 "$CODE"

# ---- connection caps and the slowloris watchdog ----
python3 - "$HPORT" <<'EOF' >"$TMPD/caps.out" 2>&1
import socket, sys, time
port = int(sys.argv[1])
held = [socket.create_connection(("127.0.0.1", port)) for _ in range(6)]
time.sleep(0.3)
s = socket.create_connection(("127.0.0.1", port))
s.sendall(b"GET /empty.bin HTTP/1.1\r\nHost: x\r\n\r\n")
s.settimeout(5)
print(s.recv(4096).decode(errors="replace").replace("\r", ""))
for h in held:
    h.close()
EOF
grep -q '^HTTP/1.1 503' "$TMPD/caps.out" && pass "the 7th connection of one client: 503" ||
    fail "per-client cap: $(head -1 "$TMPD/caps.out")"
grep -qi '^Retry-After: ' "$TMPD/caps.out" && pass "503 says Retry-After" || fail "503 without Retry-After"
if python3 - "$HPORT" <<'EOF'; then
import socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
start = time.time()
try:
    for c in b"GET /empty.bin HTTP/1.1\r\nX-Slow: " + b"a" * 100:
        s.sendall(bytes([c]))
        time.sleep(0.25)
        if time.time() - start > 10:
            sys.exit(1)  # still open after 10 s
except OSError:
    pass
s.settimeout(2)
try:
    rest = s.recv(100)
except OSError:
    rest = b""
sys.exit(0 if rest == b"" and time.time() - start < 6 else 1)
EOF
    pass "a request head trickled byte by byte is cut off within the 3 s timeout"
else
    fail "slowloris: the connection stayed open"
fi
curl -s -o "$TMPD/out/after" "$B/resume.bin"
check_fetch "served normally after the caps and the watchdog" $? "$ROOT/Resume.BIN" "$TMPD/out/after"

# ---- one log line per request, sanitised ----
grep -q 'http GET "/a\\x7fb" from 127.0.0.1:[0-9]*: 400' "$DAEMON_LOG" &&
    pass "log: control bytes shown escaped, one line with status" || fail "log: no sanitised line for /a%01b"
grep -q "http GET \"/$F\" from 127.0.0.1:[0-9]*: 200, $FSIZE bytes in" "$DAEMON_LOG" &&
    pass "log: client, name, status, bytes, duration" || fail "log: no line for a whole GET"

daemon_stop
finish
