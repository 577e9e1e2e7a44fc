#!/bin/sh
# http_cache.sh: Debian's nginx with proxy_cache in front of the HTTP file
# service, started by the test on loopback with its own config and temp dirs
# (never the system service): a second fetch of a catalog file or blob comes
# from the cache without reaching loadsd; a changed config is never served stale.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/catalog_lib.sh"
. "$(dirname "$0")/nginx_lib.sh"

nginx_need
need_cmd curl python3 ss
cat_setup
DATA="$TMPD/data"
cat_init "$DATA"
bundle "$TMPD/b.zip" "$TMPD/b.json" --format zip --component-headers
ctl "$DATA" import "$TMPD/b.zip" >/dev/null || die "import failed: $CTL_ERR"
ctl "$DATA" device add 00:11:22:aa:bb:cc --model 7961 >/dev/null || die "device add: $CTL_ERR"
ctl "$DATA" enterprise set cm_address before.example >/dev/null || die "enterprise: $CTL_ERR"

pick_tcp_port HPORT
cat_daemon_start "$DATA" --files-listen "127.0.0.1:$HPORT"
nginx_start "$HPORT"

man_files "$TMPD/b.json" | head -2 >"$TMPD/list"
while read -r name size want; do
    for path in "/$name" "/blobs/sha256/$want"; do
        via "$path" "$TMPD/out/1"
        first=$CACHE
        via "$path" "$TMPD/out/2"
        if [ "$CODE" = 200 ] && [ "$(sha "$TMPD/out/1")" = "$want" ] && [ "$(sha "$TMPD/out/2")" = "$want" ]; then
            pass "$path through nginx twice, SHA-256 matches both times"
        else
            fail "$path through nginx: status $CODE"
        fi
        if [ "$first" = MISS ] && [ "$CACHE" = HIT ] && [ "$(seen "$path")" = 1 ]; then
            pass "$path: the second fetch came from the cache, loadsd saw one request"
        else
            fail "$path: cache $first then $CACHE, loadsd saw $(seen "$path") requests"
        fi
    done
done <"$TMPD/list"

# A generated config: never cached, so a change shows at once.
SEP=/SEP001122AABBCC.cnf.xml
via "$SEP" "$TMPD/out/c1"
grep -q before.example "$TMPD/out/c1" && pass "config through nginx: the current settings" ||
    fail "config through nginx: $CODE, $(head -c 200 "$TMPD/out/c1")"
ctl "$DATA" enterprise set cm_address after.example >/dev/null || fail "enterprise set: $CTL_ERR"
ok=""
i=0
while [ $i -lt 25 ]; do
    via "$SEP" "$TMPD/out/c2"
    if grep -q after.example "$TMPD/out/c2"; then
        ok=1
        break
    fi
    sleep 0.2
    i=$((i + 1))
done
[ -n "$ok" ] && pass "changed config through nginx: the new one, never the stale one (cache: ${CACHE:-none})" ||
    fail "changed config through nginx: still $(grep -o '[a-z]*\.example' "$TMPD/out/c2" | head -1)"
[ "$(seen "$SEP")" -ge 2 ] && pass "every config fetch reached loadsd ($(seen "$SEP"))" ||
    fail "a config fetch was answered by the cache"

nginx_stop
daemon_stop
finish
