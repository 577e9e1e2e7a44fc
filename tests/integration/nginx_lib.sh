# nginx_lib.sh: Debian's nginx with proxy_cache in front of loadsd's HTTP file
# service, for the cache tests (sourced after lib.sh, never run alone): its
# own config, cache and temp dirs under $TMPD, on loopback, never the system
# service. An expired entry is revalidated with If-None-Match/If-Modified-Since.

# shellcheck shell=sh
NGINX=${NGINX:-$(command -v nginx || echo /usr/sbin/nginx)}

# nginx_need: skips the test when nginx is not installed.
nginx_need() {
    [ -x "$NGINX" ] || skip "nginx is not installed (apt-get install nginx)"
}

# nginx_start UPSTREAM_PORT: nginx on a free port (NPORT) caching
# 127.0.0.1:UPSTREAM_PORT; stopped by the EXIT trap.
nginx_start() {
    pick_tcp_port NPORT
    NG="$TMPD/nginx"
    mkdir -p "$NG/cache" "$NG/tmp" "$NG/logs" || die "mkdir"
    _ng_user=""
    [ "$(id -u)" -eq 0 ] && _ng_user="user root root;"
    cat >"$NG/nginx.conf" <<EOF2
$_ng_user
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
            proxy_pass http://127.0.0.1:$1;
            proxy_http_version 1.1;
            proxy_cache files;
            proxy_cache_revalidate on;
            add_header X-Cache-Status \$upstream_cache_status always;
        }
    }
}
EOF2
    "$NGINX" -p "$NG" -c "$NG/nginx.conf" -e "$NG/logs/error.log" -g 'daemon off;' 2>"$NG/stderr" &
    NGINX_PID=$!
    trap 'nginx_stop; cleanup' EXIT
    _ng_i=0
    until curl -s -o /dev/null "http://127.0.0.1:$NPORT/" || [ $_ng_i -ge 50 ]; do
        sleep 0.1
        _ng_i=$((_ng_i + 1))
    done
    kill -0 "$NGINX_PID" 2>/dev/null || die "nginx did not start: $(cat "$NG/stderr" "$NG/logs/error.log")"
}

nginx_stop() {
    [ -n "${NGINX_PID:-}" ] && kill -QUIT "$NGINX_PID" 2>/dev/null && wait "$NGINX_PID" 2>/dev/null
    NGINX_PID=""
}

# via PATH OUT: PATH through nginx into OUT; cache status in CACHE, HTTP
# status in CODE, headers in $TMPD/h.
via() {
    CODE=$(curl -s -D "$TMPD/h" -o "$2" -w '%{http_code}' "http://127.0.0.1:$NPORT$1")
    CACHE=$(tr -d '\r' <"$TMPD/h" | sed -n 's/^[Xx]-[Cc]ache-[Ss]tatus: //p')
}

# seen PATH: how many requests for PATH reached loadsd.
seen() {
    grep -c "http GET \"$1\" from" "$DAEMON_LOG"
}
