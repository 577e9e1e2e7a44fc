#!/bin/sh
# http_manifest.sh: the file service's manifests (issue 14), what a branch
# pulls a load by: the list and one load's files match the bundle imported
# (names, sizes, SHA-256), every blob fetched by the manifest's hash matches;
# unknown loads and bad names refused in JSON; ETag/304 and HEAD; a load with
# a quarantined file listed as not served, with no files; through nginx
# proxy_cache, a stale manifest revalidated by a 304 from loadsd.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/catalog_lib.sh"
. "$(dirname "$0")/nginx_lib.sh"

need_cmd curl python3 ss
cat_setup
LOAD=SIP41.9-4-2SR3-1S
DATA="$TMPD/data"
cat_init "$DATA"
bundle "$TMPD/b.zip" "$TMPD/b.json" --format zip --component-headers all
ctl "$DATA" import "$TMPD/b.zip" >/dev/null || die "import failed: $CTL_ERR"

pick_tcp_port HPORT
B="http://127.0.0.1:$HPORT"
cat_daemon_start "$DATA" --files-listen "127.0.0.1:$HPORT" --scrub-interval 0

# get PATH OUT [CURL ARGS...]: status in CODE, body bytes received in SIZE,
# headers in $TMPD/h.
get() {
    _p=$1
    _o=$2
    shift 2
    set -- $(curl -s --path-as-is -D "$TMPD/h" -o "$_o" -w '%{http_code} %{size_download}' "$@" "$B$_p")
    CODE=$1
    SIZE=$2
}
# hdr NAME: the value of header NAME in $TMPD/h.
hdr() {
    tr -d '\r' <"$TMPD/h" | awk -v n="$1" 'BEGIN { n = tolower(n) } { split($0, a, ": ");
        if (tolower(a[1]) == n) { sub(/^[^:]*: /, ""); v = $0 } } END { print v }'
}
expect() { # LABEL WANT GOT
    [ "$2" = "$3" ] && pass "$1" || fail "$1: got \"$3\", want \"$2\""
}

# ---- the list ----
man_files "$TMPD/b.json" >"$TMPD/want.list"
nfiles=$(wc -l <"$TMPD/want.list")
total=$(awk '{ s += $2 } END { print s }' "$TMPD/want.list")
get /manifests/v1/loads "$TMPD/list.json"
expect "list: 200" 200 "$CODE"
expect "list: JSON" application/json "$(hdr Content-Type)"
got=$(json_field "$TMPD/list.json" '[(l["name"], l["status"], l["served"], l["file_count"], l["total_bytes"]) for l in d["loads"]]')
expect "list: one load, verified, served, $nfiles files, $total bytes" \
    "[('$LOAD', 'verified', True, $nfiles, $total)]" "$got"

# ---- one load, by any case, with or without .loads ----
for req in "$LOAD" sip41.9-4-2sr3-1s.LOADS Sip41.9-4-2Sr3-1s; do
    get "/manifests/v1/loads/$req" "$TMPD/m.json"
    expect "manifest of $req: 200" 200 "$CODE"
    cmp -s "$TMPD/m.json" "$TMPD/m0.json" 2>/dev/null || [ ! -f "$TMPD/m0.json" ] ||
        fail "manifest of $req differs from the one by its own name"
    [ -f "$TMPD/m0.json" ] || cp "$TMPD/m.json" "$TMPD/m0.json"
done
python3 -c 'import json,sys
d = json.load(open(sys.argv[1]))
for f in sorted(d["files"], key=lambda f: f["name"]):
    print(f["name"], f["size"], f["sha256"])' "$TMPD/m0.json" >"$TMPD/got.list"
if cmp -s "$TMPD/want.list" "$TMPD/got.list"; then
    pass "manifest: the bundle's $nfiles files, every name, size and SHA-256"
else
    fail "manifest files differ from the bundle: $(diff "$TMPD/want.list" "$TMPD/got.list" | head -5)"
fi
got=$(json_field "$TMPD/m0.json" '(d["name"], d["status"], d["served"], d["total_bytes"], sorted(f["name"] for f in d["files"] if f["role"] == "loads"), len([f for f in d["files"] if f["role"] == "component"]))')
expect "manifest: name, status, served, total, one .loads file and the components" \
    "('$LOAD', 'verified', True, $total, ['$LOAD.loads'], $((nfiles - 1)))" "$got"

# Every blob by the manifest's hash: the bytes the bundle holds.
n=0
while read -r name size want; do
    get "/blobs/sha256/$want" "$TMPD/out/blob"
    if [ "$CODE" = 200 ] && [ "$(sha "$TMPD/out/blob")" = "$want" ] &&
        [ "$(wc -c <"$TMPD/out/blob")" -eq "$size" ]; then
        n=$((n + 1))
    else
        fail "blob of $name by hash: status $CODE, SHA-256 $(sha "$TMPD/out/blob")"
    fi
done <"$TMPD/got.list"
expect "every file fetched by the manifest's hash: size and SHA-256 match" "$nfiles" "$n"

# ---- refusals, in JSON ----
refused() { # LABEL PATH WANT_CODE
    get "$2" "$TMPD/out/err"
    e=$(json_field "$TMPD/out/err" 'd["error"]')
    if [ "$CODE" = "$3" ] && [ -n "$e" ] && [ "$(hdr Content-Type)" = application/json ]; then
        pass "$1: $3, {\"error\": \"$e\"}"
    else
        fail "$1: $CODE, $(head -c 100 "$TMPD/out/err")"
    fi
}
refused "unknown load" /manifests/v1/loads/SIP99.NOPE 404
refused "unknown manifest path" /manifests/v1/nothing 404
refused "escaped slash in a load name" "/manifests/v1/loads/x%2F..%2F$LOAD" 400
refused "escaped NUL in a load name" "/manifests/v1/loads/$LOAD%00.loads" 400
refused "dot-dot as a load name" /manifests/v1/loads/.. 400
refused "a 256-byte load name" "/manifests/v1/loads/$(head -c 256 /dev/zero | tr '\0' a)" 400
get "/manifests/v1/loads/$(head -c 1100 /dev/zero | tr '\0' a)" "$TMPD/out/err"
expect "a path over 1024 bytes: 414" 414 "$CODE"
get /manifests/v1/loads "$TMPD/out/err" -X POST
expect "POST: 405" 405 "$CODE"

# ---- validators ----
get "/manifests/v1/loads/$LOAD" "$TMPD/m.json"
etag=$(hdr ETag)
expect "ETag: the SHA-256 of the body" "\"sha256-$(sha "$TMPD/m.json")\"" "$etag"
expect "Cache-Control: 5 s, then revalidate" "public, max-age=5" "$(hdr Cache-Control)"
get "/manifests/v1/loads/$LOAD" "$TMPD/out/304" -H "If-None-Match: $etag"
expect "If-None-Match with its ETag: 304, no body, the ETag" "304 0 $etag" "$CODE $SIZE $(hdr ETag)"
get "/manifests/v1/loads/$LOAD" "$TMPD/out/200" -H 'If-None-Match: "sha256-00"'
expect "If-None-Match with another tag: 200" 200 "$CODE"
get "/manifests/v1/loads/$LOAD" /dev/null -I
expect "HEAD: 200, no body, the GET's length and ETag" \
    "200 0 $(wc -c <"$TMPD/m.json") $etag" "$CODE $SIZE $(hdr Content-Length) $(hdr ETag)"

# ---- through nginx proxy_cache: a hit, then a 304 revalidation ----
if [ -x "$NGINX" ]; then
    nginx_start "$HPORT"
    MP="/manifests/v1/loads/$LOAD"
    s0=$(seen "$MP")
    via "$MP" "$TMPD/out/n1"
    c1=$CACHE
    via "$MP" "$TMPD/out/n2"
    c2=$CACHE
    expect "through nginx: a miss, then a hit; one request reached loadsd" "MISS HIT 1" \
        "$c1 $c2 $(($(seen "$MP") - s0))"
    # nginx keeps whole seconds: an entry stored at second S with max-age=5 is
    # stale only from second S + 6 on, so 5.5 s later it may still be fresh.
    sleep 7 # past max-age
    before=$(grep -c "http GET \"$MP\" from .*: 304" "$DAEMON_LOG")
    via "$MP" "$TMPD/out/n3"
    after=$(grep -c "http GET \"$MP\" from .*: 304" "$DAEMON_LOG")
    if [ "$CACHE" = REVALIDATED ] && [ "$CODE" = 200 ] && [ "$after" -eq $((before + 1)) ] &&
        cmp -s "$TMPD/out/n3" "$TMPD/m.json"; then
        pass "through nginx after max-age: revalidated (loadsd answered 304), the same manifest"
    else
        fail "through nginx after max-age: cache $CACHE, status $CODE, 304s at loadsd $before -> $after"
    fi
    nginx_stop
else
    echo "# nginx is not installed: the proxy_cache case is left out"
fi

# ---- a quarantined file: listed as not served, no files offered ----
F=dsp41.9-4-2ES26.sbn
FSHA=$(file_sha "$DATA" "$F")
flip_byte "$DATA" "$F"
get "/blobs/sha256/$FSHA" "$TMPD/out/bad"
expect "the changed blob by hash: refused" 404 "$CODE"
i=0
while [ $i -lt 25 ]; do
    get "/manifests/v1/loads/$LOAD" "$TMPD/q.json"
    [ "$(json_field "$TMPD/q.json" 'd["status"]')" = quarantined ] && break
    sleep 0.2
    i=$((i + 1))
done
got=$(json_field "$TMPD/q.json" '(d["status"], d["served"], d["files"], d["file_count"])')
expect "quarantined: status, not served, no files" "('quarantined', False, [], $nfiles)" "$got"
get "/manifests/v1/loads/$LOAD" "$TMPD/out/q2" -H "If-None-Match: $etag"
expect "quarantined: the old ETag no longer matches" 200 "$CODE"
get /manifests/v1/loads "$TMPD/list2.json"
got=$(json_field "$TMPD/list2.json" '[(l["status"], l["served"]) for l in d["loads"]]')
expect "quarantined: the list says so" "[('quarantined', False)]" "$got"

daemon_stop
finish
