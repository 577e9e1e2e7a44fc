# branch_lib.sh: what the branch tests (branch_pull, branch_stage,
# branch_quota, branch_tftp, fleet_branch; tests/bench/want_latency.sh)
# share: a central loadsd serving its catalog over HTTP (with its admin API
# for the fleet tests), tests/tools/tamper_proxy.py in front of it, and the
# check that a branch serves a load's files byte-exact. Sourced after lib.sh
# (fleet_central: after catalog_lib.sh and admin_lib.sh too).

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

# central_daemon DATADIR LOGLEVEL ARGS...: a central loadsd on DATADIR in
# the background ($CENTRAL_PID), its file service on $C, TFTP on $CTPORT,
# its log in $TMPD/central.log.
central_daemon() {
    _cd_dd=$1
    _cd_level=$2
    shift 2
    pick_tcp_port CPORT
    pick_port CTPORT
    C="http://127.0.0.1:$CPORT"
    "$LOADSD" --foreground --config "$CONFIG_FILE" --tftp-listen "127.0.0.1:$CTPORT" \
        --data-dir "$_cd_dd" --files-listen "127.0.0.1:$CPORT" --scrub-interval 0 \
        --log-level "$_cd_level" "$@" 2>"$TMPD/central.log" </dev/null &
    CENTRAL_PID=$!
}

# central_start DATADIR: the central (file service only) and the proxy
# ($P); both stopped at exit. Waits (10 s at most) until both answer.
central_start() {
    central_daemon "$1" info --admin-listen none
    proxy_start
    trap 'kill -TERM $CENTRAL_PID $PROXY_PID 2>/dev/null; cleanup' EXIT
    _i=0
    until curl -sf -o /dev/null "$C/manifests/v1/loads" && curl -sf -o /dev/null "$P/manifests/v1/loads"; do
        _i=$((_i + 1))
        [ $_i -lt 50 ] || die "the central's file service or the proxy does not answer"
        sleep 0.2
    done
}

# fleet_central DATADIR MAC LOAD LOGLEVEL: the central of a fleet test: on
# DATADIR an admin (boss) and an API token of theirs ($CTOKEN), device MAC
# (a 7961) set to LOAD; then the central with its admin API at $BASE too,
# stopped at exit. Returns once the admin API answers.
fleet_central() {
    echo "a long admin password" | ctl "$1" user add boss --role admin --password-stdin >/dev/null ||
        die "user add failed: $CTL_ERR"
    CTOKEN=$(ctl "$1" token add boss --name test) || die "token add failed: $CTL_ERR"
    ctl "$1" device add "$2" --model 7961 >/dev/null || die "device add failed: $CTL_ERR"
    ctl "$1" device set "$2" load "$3" >/dev/null || die "device set load failed: $CTL_ERR"
    pick_tcp_port CAPORT
    BASE="http://127.0.0.1:$CAPORT"
    central_daemon "$1" "$4" --admin-listen "127.0.0.1:$CAPORT"
    trap 'kill -TERM $CENTRAL_PID 2>/dev/null; cleanup' EXIT
    admin_wait
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
