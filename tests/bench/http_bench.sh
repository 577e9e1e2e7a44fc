#!/bin/sh
# http_bench.sh: loadsd's HTTP file service against Debian's nginx (sendfile
# on, tcp_nopush on, worker_processes auto) serving the same files to the same
# client (wrk), rounds interleaved: 1,000 keep-alive clients on a 1 MB file and
# 100 on a 50 MB file. Prints a Markdown table of medians. Never run by check.
# usage: http_bench.sh LOADSD [ROUNDS [SECONDS]]   (an optimised build, not ASan)
set -eu

LOADSD=${1:?usage: http_bench.sh LOADSD [ROUNDS [SECONDS]]}
ROUNDS=${2:-3}
SECS=${3:-8}
NGINX=${NGINX:-/usr/sbin/nginx}
command -v wrk >/dev/null || { echo "wrk is not installed (apt-get install wrk)" >&2; exit 77; }
[ -x "$NGINX" ] || { echo "nginx is not installed" >&2; exit 77; }
W=$(mktemp -d /tmp/http-bench.XXXXXX)
trap 'kill $LPID $NPID 2>/dev/null; rm -rf "$W"' EXIT
mkdir -p "$W/serve" "$W/data" "$W/ng/tmp" "$W/ng/logs"
head -c 1000000 /dev/urandom >"$W/serve/one.bin"
head -c 50000000 /dev/urandom >"$W/serve/fifty.bin"
LP=26970
NP=26971
ulimit -n 65536 2>/dev/null || true

# One client address holds every connection here: the per-client cap is lifted.
printf 'files-listen = 127.0.0.1:%s\nlog-level = warn\nfiles-max-connections-per-client = 100000\n' "$LP" >"$W/loadsd.conf"
"$LOADSD" --foreground --config "$W/loadsd.conf" --tftp-listen 127.0.0.1:26969 \
    --admin-listen none --data-dir "$W/data" --serve-dir "$W/serve" 2>"$W/loadsd.log" &
LPID=$!
user_line=""
[ "$(id -u)" -eq 0 ] && user_line="user root root;"
cat >"$W/ng/nginx.conf" <<EOF
$user_line
worker_processes auto;
worker_rlimit_nofile 65536;
pid $W/ng/nginx.pid;
error_log $W/ng/logs/error.log warn;
events { worker_connections 4096; }
http {
    access_log off;
    sendfile on;
    tcp_nopush on;
    keepalive_requests 1000000;
    client_body_temp_path $W/ng/tmp/body;
    proxy_temp_path $W/ng/tmp/proxy;
    fastcgi_temp_path $W/ng/tmp/fastcgi;
    uwsgi_temp_path $W/ng/tmp/uwsgi;
    scgi_temp_path $W/ng/tmp/scgi;
    server { listen 127.0.0.1:$NP backlog=4096; root $W/serve; }
}
EOF
"$NGINX" -p "$W/ng" -c "$W/ng/nginx.conf" -e "$W/ng/logs/error.log" -g 'daemon off;' &
NPID=$!
sleep 2

# cpu_ticks PID: user + system ticks of PID and its children threads/processes.
cpu_ticks() {
    t=0
    for p in $1 $(pgrep -P "$1" || true); do
        t=$((t + $(awk '{ print $14 + $15 }' "/proc/$p/stat")))
    done
    echo "$t"
}
rss_kb() {
    kb=0
    for p in $1 $(pgrep -P "$1" || true); do
        kb=$((kb + $(awk '/^VmRSS/ { print $2 }' "/proc/$p/status")))
    done
    echo "$kb"
}

# one SERVER PID PORT FILE CONNS: "MB/s cpu_s_per_GB rss_max_kB" for one wrk run.
one() {
    c0=$(cpu_ticks "$2")
    wrk -t2 -c"$5" -d"${SECS}s" --latency "http://127.0.0.1:$3/$4" >"$W/wrk.out" 2>&1 &
    wp=$!
    rmax=0
    while kill -0 $wp 2>/dev/null; do
        rs=$(rss_kb "$2")
        [ "$rs" -gt "$rmax" ] && rmax=$rs
        sleep 0.5
    done
    c1=$(cpu_ticks "$2")
    bytes=$(awk '/requests in/ { v = $5; u = v; sub(/[0-9.]+/, "", u); sub(/[A-Za-z]+$/, "", v);
        m = (u == "GB") ? 1e9 : (u == "MB") ? 1e6 : (u == "KB") ? 1e3 : 1; print v * m }' "$W/wrk.out")
    hz=$(getconf CLK_TCK)
    awk -v b="$bytes" -v s="$SECS" -v c=$((c1 - c0)) -v hz="$hz" -v r="$rmax" 'BEGIN {
        printf "%.1f %.3f %d\n", b / s / 1e6, (c / hz) / (b / 1e9), r }'
}

median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

for scen in "one.bin 1000" "fifty.bin 100"; do
    set -- $scen
    : >"$W/l.$1"
    : >"$W/n.$1"
    r=1
    while [ $r -le "$ROUNDS" ]; do
        one loadsd "$LPID" "$LP" "$1" "$2" >>"$W/l.$1"
        one nginx "$NPID" "$NP" "$1" "$2" >>"$W/n.$1"
        r=$((r + 1))
    done
done

echo "| scenario | server | MB/s (median) | CPU s per GB | RSS max (MB) |"
echo "|---|---|---:|---:|---:|"
for scen in "one.bin 1000 1,000 clients, 1 MB" "fifty.bin 100 100 clients, 50 MB"; do
    set -- $scen
    f=$1
    shift 2
    label="$*"
    for s in l n; do
        name=loadsd
        [ $s = n ] && name=nginx
        mbs=$(cut -d' ' -f1 "$W/$s.$f" | median)
        cpu=$(cut -d' ' -f2 "$W/$s.$f" | median)
        rss=$(cut -d' ' -f3 "$W/$s.$f" | median)
        echo "| $label | $name | $mbs | $cpu | $(awk -v r="$rss" 'BEGIN { printf "%.1f", r / 1024 }') |"
    done
    lm=$(cut -d' ' -f1 "$W/l.$f" | median)
    nm=$(cut -d' ' -f1 "$W/n.$f" | median)
    lc=$(cut -d' ' -f2 "$W/l.$f" | median)
    nc=$(cut -d' ' -f2 "$W/n.$f" | median)
    awk -v a="$lm" -v b="$nm" -v c="$lc" -v d="$nc" -v l="$label" 'BEGIN {
        printf "| %s | ratio loadsd/nginx | %.2fx | %.2fx | |\n", l, a / b, c / d }'
done
echo
echo "rounds: $ROUNDS interleaved, $SECS s each; all runs (MB/s, CPU s/GB, RSS kB):"
for f in "$W"/l.* "$W"/n.*; do echo "$(basename "$f"): $(tr '\n' ';' <"$f")"; done
