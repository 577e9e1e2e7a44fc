#!/bin/sh
# fdlimit.sh: loadsd and the open-file limit. As root it raises the limit to
# what --max-transfers needs; without the right to, it lowers max-transfers to
# what fits and refuses the rest as busy, never "Internal error".
. "$(dirname "$0")/lib.sh"

need_cmd python3
need_cmd prlimit
LOADGEN="$top_builddir/tests/bench/tftp_loadgen"
[ -x "$LOADGEN" ] || skip "$LOADGEN is not built"
make_tmpdir
gen_files
chmod 755 "$TMPD" "$ROOT"
# One client sends 150 requests at once: neither its per-client limit nor the
# budget of unanswered transfers of its /24 is what this test is about.
printf 'max-transfers = 300\nmax-transfers-per-client = 1000\nmax-unacked-per-prefix = 1000\n' \
    >>"$CONFIG_FILE"
REAL_LOADSD=$LOADSD
# 300 transfers need 300 x 1 + 512 = 812 descriptors (a transfer holds its socket only).
WANT=812

# limit_of PID: the soft "Max open files" of a process.
limit_of() {
    awk '/^Max open files/ { print $4 }' "/proc/$1/limits"
}

# Root may raise a hard limit only with CAP_SYS_RESOURCE, which some
# sandboxes take away from root.
can_raise_hard() {
    [ "$(id -u)" = 0 ] && prlimit --nofile=700:700 -- sh -c "ulimit -Hn $WANT" 2>/dev/null
}

if can_raise_hard; then
    cat >"$TMPD/loadsd-root" <<EOF
#!/bin/sh
exec prlimit --nofile=700:700 -- "$REAL_LOADSD" "\$@"
EOF
    chmod 755 "$TMPD/loadsd-root"
    LOADSD="$TMPD/loadsd-root"
    daemon_start
    got=$(limit_of "$DAEMON_PID")
    if [ "$got" = "$WANT" ]; then
        pass "root: open-file limit raised from 700 to $WANT for max-transfers 300"
    else
        fail "root: open-file limit is $got, want $WANT"
    fi
    if grep -q "lowered to" "$DAEMON_LOG"; then
        fail "root: max-transfers lowered although the limit could be raised"
    else
        pass "root: max-transfers kept at 300"
    fi
    daemon_stop_quiet
    PORT=
else
    echo "root cannot raise a hard limit here (no CAP_SYS_RESOURCE): that part is left out"
fi
RUN_AS=
if [ "$(id -u)" = 0 ]; then
    RUN_AS="setpriv --reuid 65534 --regid 65534 --clear-groups"
    mkdir -p "$TMPD/data" && chown -R 65534:65534 "$TMPD/data"
    # The build tree may be closed to nobody: run a copy from $TMPD.
    cp "$REAL_LOADSD" "$TMPD/loadsd.bin" && chmod 755 "$TMPD/loadsd.bin" || die "cannot copy loadsd"
    REAL_LOADSD="$TMPD/loadsd.bin"
fi

# Without the right to raise the hard limit (not root, or root no more): the
# soft limit goes up to the hard one, 606, which leaves 606 - 512 = 94.
cat >"$TMPD/loadsd-user" <<EOF
#!/bin/sh
exec prlimit --nofile=500:606 -- $RUN_AS "$REAL_LOADSD" "\$@"
EOF
chmod 755 "$TMPD/loadsd-user"
LOADSD="$TMPD/loadsd-user"
daemon_start
got=$(limit_of "$DAEMON_PID")
if [ "$got" = 606 ]; then
    pass "unprivileged: soft open-file limit raised from 500 to the hard 606"
else
    fail "unprivileged: soft open-file limit is $got, want 606"
fi
if grep -q "max-transfers 300 lowered to 94: the open-file limit is 606 (300 need 812" "$DAEMON_LOG"; then
    pass "unprivileged: max-transfers 300 lowered to 94, with a warning that says why"
else
    fail "unprivileged: no warning that max-transfers was lowered to 94"
fi

# 150 transfers at once: 94 run, the rest are told "busy" (no retries here).
out=$("$LOADGEN" --server "127.0.0.1:$PORT" --file size_1048576.bin --count 150 --concurrency 150 \
    --retries 0 --timeout-ms 5000 --max-seconds 60 --json) || true
echo "loadgen: $out"
ok=$(echo "$out" | sed -n 's/.*"ok":\([0-9]*\).*/\1/p')
case "$out" in
*'"first_error":"'*'Server busy'*) pass "unprivileged: requests past the limit are refused as busy" ;;
*) fail "unprivileged: want busy refusals past 94 transfers, got: $out" ;;
esac
if [ -n "$ok" ] && [ "$ok" -ge 94 ] && [ "$ok" -lt 150 ]; then
    pass "unprivileged: $ok of 150 served, at least the 94 that fit"
else
    fail "unprivileged: $ok of 150 served, want 94 to 149"
fi
if grep -q -e "no transfer socket" -e "Internal error" "$DAEMON_LOG"; then
    fail "unprivileged: a request failed for want of a descriptor"
else
    pass "unprivileged: no request failed for want of a descriptor"
fi
if probe 127.0.0.1 "$PORT"; then
    pass "unprivileged: still serving afterwards"
else
    fail "unprivileged: not serving afterwards"
fi

# The default (10000) lowered is news, not a warning: nobody asked for it.
daemon_stop_quiet
PORT=
grep -v '^max-transfers = ' "$CONFIG_FILE" >"$CONFIG_FILE.new" && mv "$CONFIG_FILE.new" "$CONFIG_FILE"
chmod 644 "$CONFIG_FILE"
daemon_start
if grep -q "info: max-transfers lowered from the default 10000 to 94" "$DAEMON_LOG" &&
    ! grep -q "warn: max-transfers" "$DAEMON_LOG"; then
    pass "unprivileged: the default max-transfers lowered to 94 at info level"
else
    fail "unprivileged: want an info line for the lowered default, see $DAEMON_LOG"
fi
finish
