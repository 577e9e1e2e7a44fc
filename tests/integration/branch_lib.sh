# branch_lib.sh: what the branch tests (branch_pull, branch_stage,
# branch_quota) share: a central loadsd serving its catalog over HTTP only,
# and tests/tools/tamper_proxy.py in front of it. Sourced after lib.sh.

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
