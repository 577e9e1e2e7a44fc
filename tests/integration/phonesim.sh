#!/bin/sh
# phonesim.sh: the phone fleet simulator (tests/bench/phonesim) against a real
# loadsd on loopback: 79xx phones over TFTP, HTTP-first phones over HTTP and,
# with the files service off, falling back to TFTP; phones whose load server
# (tftpd-hpa) lacks a component end stuck; phones on the load do not change.
. "$(dirname "$0")/lib.sh"
heavy_test_lock
. "$(dirname "$0")/catalog_lib.sh"

PHONESIM="$top_builddir/tests/bench/phonesim"
[ -x "$PHONESIM" ] || die "$PHONESIM is not built"
need_cmd in.tftpd ss
cat_setup
DATA="$TMPD/data"
LOAD=SIP41.9-4-2SR3-1S
cat_init "$DATA"
# 5 components of 200 KiB: about 1 MB a phone.
BUNDLE_ARGS="--load $LOAD --components 5 --size-kb 200 --component-headers"
bundle "$TMPD/b.zip" "$TMPD/b.json" --format zip $BUNDLE_ARGS
ctl "$DATA" import "$TMPD/b.zip" >/dev/null || die "import failed: $CTL_ERR"
for m in 7965 8845; do
    ctl "$DATA" default-load set $m $LOAD >/dev/null || die "default-load $m: $CTL_ERR"
done
# 79xx phones of (a) and (c) are devices (SEP<MAC>.cnf.xml); the 8845s of (b)
# are not (XMLDefault.cnf.xml). Phones from 127.0.1.0/24 get a load server.
for i in 1 2 3 4 5; do
    ctl "$DATA" device add "00:1B:54:00:00:0$i" --model 7965 >/dev/null || die "device: $CTL_ERR"
done
for i in 1 2; do
    ctl "$DATA" device add "00:1B:54:00:02:0$i" --model 7965 >/dev/null || die "device: $CTL_ERR"
done
pick_port LSPORT
ctl "$DATA" site add 127.0.1.0/24 --load-server 127.0.0.1 >/dev/null || die "site: $CTL_ERR"
man_files "$TMPD/b.json" | awk '{ print $1, $3 }' >"$TMPD/expect"
pick_tcp_port HPORT
cat_daemon_start "$DATA" --files-listen "127.0.0.1:$HPORT"

# sim LABEL WANT_RC JSON ARGS...: one phonesim run; one result for its exit status.
sim() {
    _label=$1
    _want=$2
    _json=$3
    shift 3
    "$PHONESIM" --tftp-server "127.0.0.1:$PORT" --reboot-s 0 --expect "$TMPD/expect" \
        --json "$_json" "$@" >"$TMPD/sim.out" 2>&1
    _rc=$?
    sed 's/^/  phonesim: /' "$TMPD/sim.out"
    if [ "$_rc" -eq "$_want" ]; then
        pass "$_label: exit status $_rc"
    else
        fail "$_label: exit status $_rc, want $_want"
    fi
    if grep -q -E 'AddressSanitizer|LeakSanitizer|runtime error:' "$TMPD/sim.out"; then
        fail "$_label: sanitizer report from phonesim"
    fi
}

# check LABEL JSON PYTHON: PYTHON (with d = the report, phones = d["phones"],
# man = {name: sha256} of the bundle) prints one line per problem; none is a pass.
check() {
    _out=$(python3 -c 'import json, sys
d = json.load(open(sys.argv[1]))
phones = d["phones"]
man = {n: f["sha256"] for n, f in json.load(open(sys.argv[2]))["files"].items()}
def firmware_ok(p):
    return {e["name"]: e for e in p["timeline"] if e["result"] == "ok" and e["name"] in man}
exec(sys.argv[3])' "$2" "$TMPD/b.json" "$3" 2>&1)
    if [ -z "$_out" ]; then
        pass "$1"
    else
        fail "$1:"
        echo "$_out" | head -10
    fi
}

# ---- (a) 79xx over TFTP --------------------------------------------------
sim "(a) 5 x 7965, TFTP" 0 "$TMPD/a.json" --phones 5 --model 7965 --max-seconds 30
check "(a) all 5 upgraded to $LOAD, summary agrees" "$TMPD/a.json" '
if len(phones) != 5 or d["upgraded"] != 5 or d["stuck"] or d["no_config"]: print("counts", d["upgraded"], d["stuck"])
if d["all_upgraded_s"] is None: print("all_upgraded_s is null")
for p in phones:
    if p["outcome"] != "upgraded" or p["load"] != "'$LOAD'": print(p["mac"], p["outcome"], p["load"])'
check "(a) boot order: CTLSEP, ITLSEP, ITLFile, SEP<MAC>.cnf.xml, .loads, components" "$TMPD/a.json" '
for p in phones:
    names = [e["name"] for e in p["timeline"]]
    want = ["CTLSEP%s.tlv" % p["mac"], "ITLSEP%s.tlv" % p["mac"], "ITLFile.tlv", "SEP%s.cnf.xml" % p["mac"], "'$LOAD'.loads"]
    if names[:5] != want: print(p["mac"], names[:5])
    if [e["result"] for e in p["timeline"][:3]] != ["not_found"] * 3: print(p["mac"], "trust lists not not_found")'
check "(a) every file of the bundle, SHA-256 as in the manifest, over TFTP lock-step" "$TMPD/a.json" '
for p in phones:
    got = firmware_ok(p)
    for n, h in man.items():
        if n not in got: print(p["mac"], "did not fetch", n)
        elif got[n]["sha256"] != h: print(p["mac"], n, "sha256 differs")
        elif got[n]["proto"] != "tftp": print(p["mac"], n, got[n]["proto"])
    if p["bytes"] < sum(e["bytes"] for e in got.values()): print(p["mac"], "bytes")'

# ---- (b) HTTP first ------------------------------------------------------
sim "(b) 3 x 8845, HTTP on" 0 "$TMPD/b1.json" --phones 3 --model 8845 --http-port "$HPORT" \
    --mac-base 00:1B:54:00:01:00
check "(b) upgraded, config from XMLDefault, firmware over http, SHA-256 as the manifest" "$TMPD/b1.json" '
for p in phones:
    if p["outcome"] != "upgraded": print(p["mac"], p["outcome"], p["last_error"])
    if not any(e["name"] == "XMLDefault.cnf.xml" and e["result"] == "ok" for e in p["timeline"]): print(p["mac"], "no XMLDefault")
    got = firmware_ok(p)
    for n, h in man.items():
        if n not in got or got[n]["sha256"] != h or got[n]["proto"] != "http": print(p["mac"], n, got.get(n))'
daemon_stop
cat_daemon_start "$DATA" --files-listen none
sim "(b) 3 x 8845, files service off" 0 "$TMPD/b2.json" --phones 3 --model 8845 \
    --http-port "$HPORT" --mac-base 00:1B:54:00:01:00
check "(b) HTTP refused, every file fell back to tftp and the phones completed" "$TMPD/b2.json" '
for p in phones:
    if p["outcome"] != "upgraded": print(p["mac"], p["outcome"], p["last_error"])
    got = firmware_ok(p)
    for n, h in man.items():
        if n not in got or got[n]["sha256"] != h or got[n]["proto"] != "tftp": print(p["mac"], n, got.get(n))
    if not any(e["proto"] == "http" and e["result"] == "error" and e["name"] in man for e in p["timeline"]): print(p["mac"], "no failed http try")'

# ---- (c) a load server that lacks a component ----------------------------
bundle "$TMPD/ls" "$TMPD/ls.json" --format dir $BUNDLE_ARGS --omit 2
MISSING=$(json_field "$TMPD/ls.json" 'd["omitted"]')
[ -f "$TMPD/ls/$LOAD.loads" ] && [ ! -f "$TMPD/ls/$MISSING" ] && grep -q "$MISSING" "$TMPD/ls/$LOAD.loads" ||
    die "the load server's directory does not lack a listed component ($MISSING)"
# tftpd-hpa's per-transfer child calls setgroups(), which only root may: as
# another user the load server is a second loadsd serving the same directory.
if [ "$(id -u)" -eq 0 ]; then
    LS_NAME=tftpd-hpa
    in.tftpd -L -s "$TMPD/ls" -a "127.0.0.1:$LSPORT" -u root </dev/null >"$TMPD/hpa.log" 2>&1 &
else
    LS_NAME="a second loadsd (not root: tftpd-hpa cannot drop privileges)"
    "$LOADSD" --foreground --config "$CONFIG_FILE" --tftp-listen "127.0.0.1:$LSPORT" \
        --data-dir "$TMPD/lsdata" --serve-dir "$TMPD/ls" </dev/null >"$TMPD/hpa.log" 2>&1 &
fi
HPA_PID=$!
i=0
until [ -n "$(ss -Huan "sport = :$LSPORT")" ] || [ $i -ge 50 ]; do
    sleep 0.1
    i=$((i + 1))
done
echo "load server: $LS_NAME on 127.0.0.1:$LSPORT"
sim "(c) 2 x 7965, load server lacks $MISSING" 1 "$TMPD/c.json" --phones 2 --model 7965 \
    --mac-base 00:1B:54:00:02:01 --source-base 127.0.1.10 --load-server-port "$LSPORT" \
    --max-seconds 4 --restart-backoff-s 1
kill "$HPA_PID" 2>/dev/null
wait "$HPA_PID" 2>/dev/null
check "(c) both stuck (never upgraded), restarted, the missing file in last_error" "$TMPD/c.json" '
if d["stuck"] != 2 or d["upgraded"] or d["all_upgraded_s"] is not None: print("counts", d["stuck"], d["upgraded"], d["all_upgraded_s"])
for i, p in enumerate(phones):
    if p["outcome"] != "stuck" or p["t_done_s"] is not None: print(p["mac"], p["outcome"])
    if "'$MISSING'" not in p["last_error"] or "not found" not in p["last_error"].lower(): print(p["mac"], "last_error:", p["last_error"])
    if p["restarts"] < 1: print(p["mac"], "restarts", p["restarts"])
    if p["addr"] != "127.0.1.%d" % (10 + i): print(p["mac"], "addr", p["addr"])
    fw = [e for e in p["timeline"] if e["name"] in man or e["name"] == "'$MISSING'"]
    if not fw or any(e["server"] != "127.0.0.1:'$LSPORT'" for e in fw): print(p["mac"], "firmware not from the load server")'

# ---- (d) phones already on the load ---------------------------------------
sim "(d) 2 x 7965 already on $LOAD" 0 "$TMPD/d.json" --phones 2 --model 7965 --current-load "$LOAD"
check "(d) no_change, no .loads fetched" "$TMPD/d.json" '
for p in phones:
    if p["outcome"] != "no_change" or p["load"] != "'$LOAD'": print(p["mac"], p["outcome"], p["load"])
    if any(e["name"].endswith(".loads") for e in p["timeline"]): print(p["mac"], "fetched a .loads")'

# ---- (e) a component that differs from --expect is a failed file -----------
awk -v m="$MISSING" '$1 == m { $2 = "00" substr($2, 3) } { print }' "$TMPD/expect" >"$TMPD/expect.bad"
"$PHONESIM" --tftp-server "127.0.0.1:$PORT" --reboot-s 0 --expect "$TMPD/expect.bad" \
    --json "$TMPD/e.json" --phones 1 --model 7965 --max-seconds 3 --restart-backoff-s 1 >/dev/null 2>&1
[ $? -eq 1 ] && pass "(e) a SHA-256 mismatch: exit status 1" || fail "(e) a SHA-256 mismatch: exit status not 1"
check "(e) stuck on the mismatch" "$TMPD/e.json" '
p = phones[0]
if p["outcome"] != "stuck" or "--expect" not in p["last_error"]: print(p["outcome"], p["last_error"])
if not any(e["result"] == "mismatch" for e in p["timeline"]): print("no mismatch entry")'

finish
