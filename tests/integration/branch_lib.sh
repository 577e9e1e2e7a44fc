# branch_lib.sh: what the branch tests (branch_pull, branch_stage,
# branch_quota, branch_tftp) share: a central loadsd serving its catalog over
# HTTP only, tests/tools/tamper_proxy.py in front of it, and the check that
# a branch serves a load's files byte-exact. Sourced after lib.sh.

# proxy_start: the proxy on $PPORT (picked the first time) in front of $C,
# reading $TMPD/tamper, cut and delay; its log appended to $TMPD/proxy.log.
proxy_start() {
    [ -n "${PPORT:-}" ] || pick_tcp_port PPORT
    P="http://127.0.0.1:$PPORT"
    python3 "$top_srcdir/tests/tools/tamper_proxy.py" --listen "$PPORT" --upstream "$C" \
        --tamper-file "$TMPD/tamper" --cut-file "$TMPD/cut" --delay-file "$TMPD/delay" \
        >>"$TMPD/proxy.log" 2>&1 &
    PROXY_PID=$!
}

# central_start DATADIR: the central (file service on $C, its log in
# $TMPD/central.log) and the proxy ($P); both stopped at exit. Waits (10 s
# at most) until both answer.
central_start() {
    pick_tcp_port CPORT
    pick_port CTPORT
    C="http://127.0.0.1:$CPORT"
    "$LOADSD" --foreground --config "$CONFIG_FILE" --tftp-listen "127.0.0.1:$CTPORT" \
        --data-dir "$1" --files-listen "127.0.0.1:$CPORT" --admin-listen none \
        --scrub-interval 0 --log-level info 2>"$TMPD/central.log" </dev/null &
    CENTRAL_PID=$!
    proxy_start
    trap 'kill -TERM $CENTRAL_PID $PROXY_PID 2>/dev/null; cleanup' EXIT
    _i=0
    until curl -sf -o /dev/null "$C/manifests/v1/loads" && curl -sf -o /dev/null "$P/manifests/v1/loads"; do
        _i=$((_i + 1))
        [ $_i -lt 50 ] || die "the central's file service or the proxy does not answer"
        sleep 0.2
    done
}

# files_exact LIST: each "NAME SIZE SHA256" line of LIST fetched from the
# branch by TFTP (tftp-hpa, $PORT) and HTTP (curl, $B); a PASS or FAIL per
# protocol: every file byte-exact.
files_exact() {
    _n=$(wc -l <"$1")
    _ok_t=0
    _ok_h=0
    while read -r name size want; do
        rm -f "$TMPD/out/$name"
        (cd "$TMPD/out" && timeout 20 tftp -m octet 127.0.0.1 "$PORT" -c get "$name" >/dev/null 2>&1)
        [ "$(sha "$TMPD/out/$name" 2>/dev/null)" = "$want" ] && _ok_t=$((_ok_t + 1))
        curl -s -o "$TMPD/out/h-$name" "$B/$name"
        [ "$(sha "$TMPD/out/h-$name" 2>/dev/null)" = "$want" ] && _ok_h=$((_ok_h + 1))
    done <"$1"
    [ $_ok_t -eq "$_n" ] && pass "TFTP (tftp-hpa): all $_n files byte-exact" ||
        fail "TFTP: $_ok_t of $_n files byte-exact"
    [ $_ok_h -eq "$_n" ] && pass "HTTP (curl): all $_n files byte-exact" ||
        fail "HTTP: $_ok_h of $_n files byte-exact"
}

# http_wait URL OUT SECONDS: GETs URL into OUT every 0.2 s until it answers
# 200 or SECONDS pass; leaves the last status in $c, the tries in $i.
http_wait() {
    i=0
    c=""
    while [ $i -lt $(($3 * 5)) ]; do
        c=$(curl -s -o "$2" -w '%{http_code}' "$1")
        [ "$c" = 200 ] && return 0
        i=$((i + 1))
        sleep 0.2
    done
    return 1
}
