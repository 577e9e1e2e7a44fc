#!/bin/sh
# http_cache.sh: Debian's nginx with proxy_cache in front of the HTTP file
# service, started by the test on loopback with its own config and temp dirs
# (never the system service): a second fetch of a catalog file or blob comes
# from the cache without reaching loadsd; a changed config is never served stale.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/catalog_lib.sh"

NGINX=${NGINX:-$(command -v nginx || echo /usr/sbin/nginx)}
[ -x "$NGINX" ] || skip "nginx is not installed (apt-get install nginx)"
need_cmd curl python3 ss
cat_setup
DATA="$TMPD/data"
cat_init "$DATA"
bundle "$TMPD/b.zip" "$TMPD/b.json" --format zip --component-headers
ctl "$DATA" import "$TMPD/b.zip" >/dev/null || die "import failed: $CTL_ERR"
ctl "$DATA" device add 00:11:22:aa:bb:cc --model 7961 >/dev/null || die "device add: $CTL_ERR"
ctl "$DATA" enterprise set cm_address before.example >/dev/null || die "enterprise: $CTL_ERR"

pick_tcp_port HPORT
pick_tcp_port NPORT

NG="$TMPD/nginx"
mkdir -p "$NG/cache" "$NG/tmp" "$NG/logs" || die "mkdir"
user_line=""
[ "$(id -u)" -eq 0 ] && user_line="user root root;"
cat >"$NG/nginx.conf" <<EOF
$user_line
worker_processes 1;
pid $NG/nginx.pid;
error_log $NG/logs/error.log warn;
events { worker_connections 256; }
http {
    access_log $NG/logs/access.log;
    client_body_temp_path $NG/tmp/body;
    proxy_temp_path $NG/tmp/proxy;
    fastcgi_temp_path $NG/tmp/fastcgi;
    uwsgi_temp_path $NG/tmp/uwsgi;
    scgi_temp_path $NG/tmp/scgi;
    proxy_cache_path $NG/cache keys_zone=files:1m max_size=100m;
    server {
        listen 127.0.0.1:$NPORT;
        location / {
            proxy_pass http://127.0.0.1:$HPORT;
            proxy_http_version 1.1;
            proxy_cache files;
            add_header X-Cache-Status \$upstream_cache_status always;
        }
    }
}
EOF
cat_daemon_start "$DATA" --files-listen "127.0.0.1:$HPORT"
"$NGINX" -p "$NG" -c "$NG/nginx.conf" -e "$NG/logs/error.log" -g 'daemon off;' 2>"$NG/stderr" &
NGINX_PID=$!
stop_nginx() {
    [ -n "${NGINX_PID:-}" ] && kill -QUIT "$NGINX_PID" 2>/dev/null && wait "$NGINX_PID" 2>/dev/null
    NGINX_PID=""
}
trap 'stop_nginx; cleanup' EXIT
i=0
until curl -s -o /dev/null "http://127.0.0.1:$NPORT/" || [ $i -ge 50 ]; do
    sleep 0.1
    i=$((i + 1))
done
kill -0 "$NGINX_PID" 2>/dev/null || die "nginx did not start: $(cat "$NG/stderr" "$NG/logs/error.log")"

# via PATH OUT: through nginx; cache status in CACHE, HTTP status in CODE.
via() {
    CODE=$(curl -s -D "$TMPD/h" -o "$2" -w '%{http_code}' "http://127.0.0.1:$NPORT$1")
    CACHE=$(tr -d '\r' <"$TMPD/h" | sed -n 's/^[Xx]-[Cc]ache-[Ss]tatus: //p')
}
# seen PATH: how many requests for PATH reached loadsd.
seen() {
    grep -c "http GET \"$1\" from" "$DAEMON_LOG"
}

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

stop_nginx
daemon_stop
finish
