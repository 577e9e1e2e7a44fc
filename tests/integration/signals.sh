#!/bin/sh
# signals.sh: loadsd's life cycle: SIGHUP reloads the config file (a new
# per-client limit takes effect), SIGTERM lets a running transfer finish,
# starts nothing new, and exits 0.
. "$(dirname "$0")/lib.sh"

need_cmd python3
make_tmpdir
gen_files
echo "max-transfers-per-client = 4" >>"$CONFIG_FILE"
daemon_start

# raw LABEL CASE [OPTIONS]: one tftp_raw.py case, one result.
NET=1
raw() {
    label=$1
    c=$2
    shift 2
    NET=$((NET + 1))
    if timeout 120 python3 "$TFTP_RAW" --port "$PORT" --root "$ROOT" --src-net "$NET" \
        --case "$c" "$@"; then
        pass "$label"
    else
        fail "$label"
    fi
}

raw "per-client limit 4 from the config file: two transfers at once" two_per_client
sed 's/^max-transfers-per-client = 4$/max-transfers-per-client = 1/' "$CONFIG_FILE" >"$CONFIG_FILE.new" &&
    mv "$CONFIG_FILE.new" "$CONFIG_FILE"
kill -HUP "$DAEMON_PID"
# The reload is asynchronous: give it a bounded moment, then check.
sleep 1
if daemon_alive; then
    pass "loadsd alive after SIGHUP"
else
    fail "loadsd died on SIGHUP"
fi
raw "SIGHUP: per-client limit 1 now answers busy" busy
raw "SIGHUP: still serving" final_block_empty

raw "SIGTERM during a transfer: it completes, nothing new starts" drain --pid "$DAEMON_PID"
daemon_wait_exit "loadsd exits 0 after draining"
finish
