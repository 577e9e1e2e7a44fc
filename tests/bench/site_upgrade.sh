#!/bin/bash
# site_upgrade.sh: a branch site in network namespaces (central loadsd, an
# emulated WAN link, a branch LAN with simulated phones and, in some
# scenarios, a branch load server) and the time until every phone runs the
# new load, against the physical floor (one copy of the image at link rate).
#
# Scenarios:
#   central        every phone fetches config and firmware from the central
#                  loadsd across the WAN, in whatever protocol its model uses
#   branch-manual  a branch load server filled by hand beforehand; the
#                  central's configs name it as loadServer, so only the
#                  configs cross the WAN. --branch-server hpa makes it a
#                  tftpd-hpa serving a plain directory (the white paper's
#                  hand-filled load server); --branch-omit N leaves the N-th
#                  component (0-based) out of it.
#   branch-pull    a branch loadsd with an empty catalog and --upstream set
#                  to the central's file service: the first phone's request
#                  for the load pulls it across the WAN once (issue 14); the
#                  central's configs name the branch as loadServer.
#   branch-staged  the same branch, with the load staged first (`loadsctl
#                  stage`, across the WAN) and the phones booted after: the
#                  stage's time and WAN bytes are reported apart.
#   In branch-pull and branch-staged, --upstream tftp makes the branch's
#   upstream the central loadsd's TFTP server (tftp://, the .loads file then
#   its files by name) instead of its file service; --upstream-tftp-blksize
#   and --upstream-tftp-windowsize set what the branch asks for (512 and 1:
#   lock-step as RFC 1350).
#
# Needs root (namespaces, TUN), python3 and openssl; builds nothing: run it
# from a build tree (--build-dir, default the source tree) that has
# server/loadsd, admin/loadsctl, tests/tools/wanemu and tests/bench/phonesim.
# Prints one summary line and, with --json, writes the whole result there.
# Exit status: 0 when every phone ended on the new load, 1 when any did not,
# 2 on a usage or setup error.
set -u
[ -n "${SITE_TRACE:-}" ] && { PS4='+ $(date +%T.%N | cut -c1-12) '; set -x; }

here=$(cd "$(dirname "$0")" && pwd)
top_srcdir=${top_srcdir:-$(cd "$here/../.." && pwd)}
build_dir=${top_builddir:-$top_srcdir}

scenario=central
phones=5
image_mb=1
rate_kbit=2000
rtt_ms=40
loss=0
corrupt_down=""
mix=""
queue_bytes=""
max_seconds=600
reboot_s=""
branch_server=loadsd
branch_omit=""
upstream_kind=http
tftp_blksize=""
tftp_windowsize=""
json_out=""
keys=""
stage_first=off
admin_port=8443
keep=0
load_name=SIP45.9-4-2SR3-1S
old_load=SIP45.9-3-1SR2-1S
mac_base=001B54000001

usage() {
    cat <<EOF
usage: site_upgrade.sh [options]
  --scenario central|branch-manual|branch-pull|branch-staged|fleet   (default central)
  --phones N                         phones in the branch (default 5)
  --image-mb M                       total size of the load's files, 10^6 bytes (default 1)
  --rate-kbit R                      WAN rate each way, kbit/s (default 2000)
  --rtt-ms T                         WAN round-trip time (default 40)
  --loss P                           WAN random loss each way, 0..1 (default 0)
  --queue-bytes B                    WAN queue limit each way (default: 1.5 x BDP, at least 64 KiB)
  --corrupt-down N                   WAN: flip a byte of every N-th packet towards the branch,
                                     checksums recomputed (only the SHA-256 checks see it)
  --mix MODEL:N,...                  phone models, in order (default 7965:N)
  --max-seconds S                    phones not done by then are stuck (default 600)
  --reboot-s S                       a phone's reboot onto the new load (default its model's)
  --branch-server loadsd|hpa         branch-manual: who serves the branch (default loadsd)
  --branch-omit N                    branch-manual: leave component N out of the branch
  --upstream http|tftp               branch-pull/staged: the central's file service or its
                                     TFTP server as the branch's upstream (default http)
  --upstream-tftp-blksize N          with --upstream tftp: blksize asked (512: none asked)
  --upstream-tftp-windowsize N       with --upstream tftp: windowsize asked (1: lock-step)
  --stage-first on|off               fleet: stage_first at the central (default off)
  --admin-port P                     fleet: the central's admin API port (default 8443)
  --build-dir DIR                    build tree (default the source tree)
  --json FILE                        write the result there
  --keys DIR                         test keys made by mkbundle.py keys (default: new ones)
  --keep                             keep the temporary directory
EOF
}

die() {
    echo "site_upgrade: $*" >&2
    exit 2
}

need_value() {
    [ $# -ge 2 ] || die "$1 needs a value"
}

while [ $# -gt 0 ]; do
    case $1 in
    --scenario) need_value "$@"; scenario=$2; shift ;;
    --phones) need_value "$@"; phones=$2; shift ;;
    --image-mb) need_value "$@"; image_mb=$2; shift ;;
    --rate-kbit) need_value "$@"; rate_kbit=$2; shift ;;
    --rtt-ms) need_value "$@"; rtt_ms=$2; shift ;;
    --loss) need_value "$@"; loss=$2; shift ;;
    --queue-bytes) need_value "$@"; queue_bytes=$2; shift ;;
    --corrupt-down) need_value "$@"; corrupt_down=$2; shift ;;
    --mix) need_value "$@"; mix=$2; shift ;;
    --max-seconds) need_value "$@"; max_seconds=$2; shift ;;
    --reboot-s) need_value "$@"; reboot_s=$2; shift ;;
    --branch-server) need_value "$@"; branch_server=$2; shift ;;
    --branch-omit) need_value "$@"; branch_omit=$2; shift ;;
    --upstream) need_value "$@"; upstream_kind=$2; shift ;;
    --upstream-tftp-blksize) need_value "$@"; tftp_blksize=$2; shift ;;
    --upstream-tftp-windowsize) need_value "$@"; tftp_windowsize=$2; shift ;;
    --stage-first) need_value "$@"; stage_first=$2; shift ;;
    --admin-port) need_value "$@"; admin_port=$2; shift ;;
    --build-dir) need_value "$@"; build_dir=$2; shift ;;
    --json) need_value "$@"; json_out=$2; shift ;;
    --keys) need_value "$@"; keys=$2; shift ;;
    --keep) keep=1 ;;
    -h | --help) usage; exit 0 ;;
    *) usage >&2; die "unknown option $1" ;;
    esac
    shift
done

is_uint() { case $1 in '' | *[!0-9]*) return 1 ;; *) return 0 ;; esac; }
is_num() { printf '%s' "$1" | grep -Eq '^[0-9]+(\.[0-9]+)?$'; }

case $scenario in central | branch-manual | branch-pull | branch-staged | fleet) ;; *) die "--scenario: central, branch-manual, branch-pull, branch-staged or fleet, not $scenario" ;; esac
case $stage_first in on | off) ;; *) die "--stage-first: on or off, not $stage_first" ;; esac
is_uint "$admin_port" && [ "$admin_port" -ge 1 ] && [ "$admin_port" -le 65535 ] || die "--admin-port: 1..65535"
[ "$scenario" != fleet ] || [ "$phones" -ge 2 ] || die "--scenario fleet: at least 2 phones (one a branch)"
case $branch_server in loadsd | hpa) ;; *) die "--branch-server: loadsd or hpa, not $branch_server" ;; esac
is_uint "$phones" && [ "$phones" -ge 1 ] && [ "$phones" -le 1000 ] || die "--phones: 1..1000"
is_num "$image_mb" || die "--image-mb: a number of megabytes"
is_uint "$rate_kbit" && [ "$rate_kbit" -ge 8 ] || die "--rate-kbit: at least 8"
is_uint "$rtt_ms" && [ "$rtt_ms" -le 10000 ] || die "--rtt-ms: 0..10000"
is_num "$loss" || die "--loss: a fraction 0..1"
is_uint "$max_seconds" && [ "$max_seconds" -ge 1 ] || die "--max-seconds: a positive number"
[ -z "$reboot_s" ] || is_uint "$reboot_s" || die "--reboot-s: a number of seconds"
[ -z "$queue_bytes" ] || is_uint "$queue_bytes" || die "--queue-bytes: a number of bytes"
[ -z "$branch_omit" ] || is_uint "$branch_omit" || die "--branch-omit: a component index"
case $upstream_kind in http | tftp) ;; *) die "--upstream: http or tftp, not $upstream_kind" ;; esac
[ -z "$tftp_blksize" ] || is_uint "$tftp_blksize" || die "--upstream-tftp-blksize: a number"
[ -z "$tftp_windowsize" ] || is_uint "$tftp_windowsize" || die "--upstream-tftp-windowsize: a number"
if [ -z "$mix" ] && [ "$scenario" = fleet ]; then
    mix="7965:$((phones / 2)),8845:$((phones - phones / 2))"
fi
[ -n "$mix" ] || mix="7965:$phones"

LOADSD=$build_dir/server/loadsd
LOADSCTL=$build_dir/admin/loadsctl
PHONESIM=$build_dir/tests/bench/phonesim
WANEMU=${WANEMU:-$build_dir/tests/tools/wanemu}
MKBUNDLE=$top_srcdir/tests/tools/mkbundle.py
export WANEMU
for f in "$LOADSD" "$LOADSCTL" "$PHONESIM" "$WANEMU"; do
    [ -x "$f" ] || die "$f is not built (make it in $build_dir)"
done
command -v python3 >/dev/null || die "python3 is needed"
[ "$branch_server" = loadsd ] || command -v in.tftpd >/dev/null || die "in.tftpd (tftpd-hpa) is needed"

# shellcheck source=../tools/wansite.sh
. "$top_srcdir/tests/tools/wansite.sh"
wansite_can_run || die "needs root, /dev/net/tun and ip netns"

TMPD=$(mktemp -d "${TMPDIR:-/tmp}/site_upgrade.XXXXXX") || die "mktemp failed"
PIDS=""
finish() {
    for p in $PIDS; do kill -TERM "$p" 2>/dev/null; done
    for p in $PIDS; do wait "$p" 2>/dev/null; done
    wansite_down
    if [ "$keep" = 1 ]; then echo "site_upgrade: kept $TMPD" >&2; else rm -rf "$TMPD"; fi
}
trap finish EXIT
trap 'exit 130' INT TERM

# ---- the load: a signed bundle of the asked size ----
components=5
size_kb=$(python3 -c "import sys; print(max(1, round(float(sys.argv[1]) * 1e6 / 1024 / $components)))" "$image_mb")
if [ -n "$keys" ]; then
    cp -r "$keys" "$TMPD/keys" || die "cannot copy $keys"
else
    python3 "$MKBUNDLE" keys "$TMPD/keys" >/dev/null || die "mkbundle.py keys failed"
fi
python3 "$MKBUNDLE" bundle --keys "$TMPD/keys" --out "$TMPD/bundle.zip" --format zip \
    --load "$load_name" --components "$components" --size-kb "$size_kb" --component-headers all \
    --manifest "$TMPD/bundle.json" >/dev/null || die "mkbundle.py bundle failed"
# NAME SHA256 per file, and the total size: what every phone must end with.
python3 - "$TMPD/bundle.json" "$TMPD/expect" <<'EOF' || die "cannot read the bundle manifest"
import json, sys
m = json.load(open(sys.argv[1]))
with open(sys.argv[2], "w") as f:
    for name, e in sorted(m["files"].items()):
        f.write("%s %s\n" % (name, e["sha256"]))
EOF
image_bytes=$(python3 -c "import json,sys; print(sum(e['size'] for e in json.load(open(sys.argv[1]))['files'].values()))" "$TMPD/bundle.json")

# ---- the devices: one CSV row per phone, models in --mix order ----
models_csv() {
    python3 - "$mix" "$phones" "$mac_base" <<'EOF'
import sys
mix, phones, base = sys.argv[1], int(sys.argv[2]), int(sys.argv[3], 16)
models = []
for part in mix.split(","):
    name, _, n = part.partition(":")
    models += [name] * int(n or phones)
if len(models) < phones:
    sys.exit("site_upgrade: --mix names %d phones, --phones %d" % (len(models), phones))
print("mac,model")
for i in range(phones):
    print("%012X,Cisco %s" % (base + i, models[i]))
EOF
}
models_csv >"$TMPD/devices.csv" || exit 2

# ctl DATADIR ARGS...: loadsctl, quiet unless it fails.
ctl() {
    _dd=$1
    shift
    "$LOADSCTL" --data-dir "$_dd" "$@" >"$TMPD/ctl.out" 2>&1 ||
        die "loadsctl $*: $(cat "$TMPD/ctl.out")"
}

# catalog DATADIR: a data dir holding the bundle, trusting its signer, with
# the devices and every model of the mix defaulting to the new load.
catalog() {
    ctl "$1" init
    ctl "$1" trust add "$TMPD/keys/vendor.pem"
    ctl "$1" import "$TMPD/bundle.zip"
    ctl "$1" devices import "$TMPD/devices.csv"
    for m in $(cut -d, -f2 "$TMPD/devices.csv" | tail -n +2 | sort -u | sed 's/^Cisco //'); do
        ctl "$1" default-load set "Cisco $m" "$load_name"
    done
}

# daemon NETNS ADDR DATADIR NAME [CONFIG LINES [ADMIN]]: loadsd in NETNS on
# ADDR (TFTP 69, HTTP 6970, the admin API on ADMIN or none), waiting until it
# answers a TFTP request from inside NETNS.
daemon() {
    _ns=$1 _addr=$2 _dd=$3 _name=$4 _extra=${5:-} _admin=${6:-none}
    mkdir -p "$TMPD/$_name.root"
    echo ready >"$TMPD/$_name.root/ready.txt"
    cat >"$TMPD/$_name.conf" <<EOF
tftp-listen = $_addr:69
files-listen = $_addr:6970
admin-listen = $_admin
data-dir = $_dd
serve-dir = $TMPD/$_name.root
scrub-interval = 0
grace-period = 1
log-level = info
$_extra
EOF
    ip netns exec "$_ns" "$LOADSD" --foreground --config "$TMPD/$_name.conf" \
        2>"$TMPD/$_name.log" </dev/null &
    PIDS="$PIDS $!"
    wait_tftp "$_ns" "$_addr" "$_name"
}

# wait_tftp NETNS ADDR NAME: at most 10 s until ready.txt comes back.
wait_tftp() {
    _end=$(($(date +%s) + 10))
    while [ "$(date +%s)" -le "$_end" ]; do
        if ip netns exec "$1" curl -s --max-time 1 -o "$TMPD/ready.out" "tftp://$2/ready.txt" 2>/dev/null &&
            [ "$(cat "$TMPD/ready.out")" = ready ]; then
            return 0
        fi
        sleep 0.2
    done
    cat "$TMPD/$3.log" >&2 2>/dev/null
    die "$3 did not answer on $2 within 10 s"
}

# hpa NETNS ADDR: tftpd-hpa serving the bundle's loose files (less
# --branch-omit) from a plain directory, as an administrator would copy them.
hpa() {
    python3 -m zipfile -e "$TMPD/bundle.zip" "$TMPD/hpa" || die "cannot unpack the bundle"
    echo ready >"$TMPD/hpa/ready.txt"
    if [ -n "$branch_omit" ]; then
        omit=$(python3 -c "import json,sys; c=json.load(open(sys.argv[1]))['components']; print(c[int(sys.argv[2])])" \
            "$TMPD/bundle.json" "$branch_omit") || die "--branch-omit $branch_omit: no such component"
        rm -f "$TMPD/hpa/$omit"
        echo "site_upgrade: the branch server lacks $omit" >&2
    fi
    ip netns exec "$1" in.tftpd -L -s "$TMPD/hpa" -a "$2:69" 2>"$TMPD/hpa.log" </dev/null &
    PIDS="$PIDS $!"
    wait_tftp "$1" "$2" hpa
}

# ---- the site ----
one_way=$(python3 -c "import sys; print(int(sys.argv[1]) / 2)" "$rtt_ms")
if [ -z "$queue_bytes" ]; then
    queue_bytes=$(python3 -c "import sys; r, t = int(sys.argv[1]), int(sys.argv[2]); print(max(65536, int(1.5 * r * 1000 / 8 * t / 1000)))" "$rate_kbit" "$rtt_ms")
fi
wansite_up "ls$$" --rate-kbit "$rate_kbit" --delay-ms "$one_way" --queue-bytes "$queue_bytes" \
    --loss "$loss" --seed 1 ${corrupt_down:+--corrupt-down "$corrupt_down"} ||
    die "the WAN link did not come up"
wansite_add_phones "$phones" || die "cannot add the phone addresses"
CENTRAL=198.18.0.1
BRANCH=198.19.0.1
if [ "$scenario" = fleet ]; then
    # shellcheck source=site_fleet.sh
    . "$here/site_fleet.sh"
    fleet_run
    exit $?
fi

catalog "$TMPD/central"
if [ "$scenario" = branch-manual ]; then
    ctl "$TMPD/central" enterprise set load_server "$BRANCH"
    if [ "$branch_server" = hpa ]; then
        hpa "$WANSITE_B" "$BRANCH"
    else
        catalog "$TMPD/branch"
        daemon "$WANSITE_B" "$BRANCH" "$TMPD/branch" branch
    fi
elif [ "$scenario" = branch-pull ] || [ "$scenario" = branch-staged ]; then
    ctl "$TMPD/central" enterprise set load_server "$BRANCH"
    ctl "$TMPD/branch" init
    ctl "$TMPD/branch" trust add "$TMPD/keys/vendor.pem"
    if [ "$upstream_kind" = tftp ]; then
        UPSTREAM="tftp://$CENTRAL:69"
    else
        UPSTREAM="http://$CENTRAL:6970"
    fi
    daemon "$WANSITE_B" "$BRANCH" "$TMPD/branch" branch "upstream = $UPSTREAM
${tftp_blksize:+upstream-tftp-blksize = $tftp_blksize}
${tftp_windowsize:+upstream-tftp-windowsize = $tftp_windowsize}"
fi
daemon "$WANSITE_C" "$CENTRAL" "$TMPD/central" central
stage_s=""
if [ "$scenario" = branch-staged ]; then
    wansite_stats >"$TMPD/wan.stage" || die "no WAN counters"
    t0=$(date +%s.%N)
    ip netns exec "$WANSITE_B" "$LOADSCTL" --data-dir "$TMPD/branch" stage "$load_name" \
        --upstream "$UPSTREAM" ${tftp_blksize:+--upstream-tftp-blksize "$tftp_blksize"} \
        ${tftp_windowsize:+--upstream-tftp-windowsize "$tftp_windowsize"} >"$TMPD/stage.out" 2>&1 ||
        die "loadsctl stage: $(tail -3 "$TMPD/stage.out")"
    stage_s=$(python3 -c "import sys; print(round(float(sys.argv[2]) - float(sys.argv[1]), 1))" "$t0" "$(date +%s.%N)")
fi

# ---- the boot ----
wansite_stats >"$TMPD/wan.before" || die "no WAN counters"
echo "site_upgrade: $scenario, $phones phones ($mix), $image_bytes bytes, ${rate_kbit} kbit/s, ${rtt_ms} ms RTT, loss $loss" >&2
ip netns exec "$WANSITE_B" "$PHONESIM" --tftp-server "$CENTRAL:69" --phones "$phones" --mix "$mix" \
    --mac-base "$mac_base" --source-base "$(wansite_phone_addr 0)" --current-load "$old_load" \
    --expect "$TMPD/expect" --max-seconds "$max_seconds" --json "$TMPD/phones.json" \
    ${reboot_s:+--reboot-s "$reboot_s"} \
    >"$TMPD/phonesim.out" 2>"$TMPD/phonesim.err"
sim_rc=$?
wansite_stats >"$TMPD/wan.after" || die "no WAN counters"
[ -s "$TMPD/phones.json" ] || { cat "$TMPD/phonesim.err" >&2; die "phonesim wrote no result (exit $sim_rc)"; }

python3 - "$TMPD" "$scenario" "$phones" "$mix" "$image_bytes" "$rate_kbit" "$rtt_ms" "$loss" \
    "${json_out:-}" "$stage_s" <<'EOF'
import json, sys
tmpd, scenario, phones, mix, image_bytes, rate, rtt, loss, out, stage_s = sys.argv[1:11]
image_bytes, rate = int(image_bytes), int(rate)
sim = json.load(open(tmpd + "/phones.json"))
a, b = json.load(open(tmpd + "/wan.before")), json.load(open(tmpd + "/wan.after"))
wan = {d: b[d]["bytes"] - a[d]["bytes"] for d in ("down", "up")}
drops = {d: (b[d]["dropped_queue"] - a[d]["dropped_queue"]) + (b[d]["dropped_loss"] - a[d]["dropped_loss"])
         for d in ("down", "up")}
floor = image_bytes * 8 / (rate * 1000)
done = sim.get("all_upgraded_s")
res = {
    "scenario": scenario, "phones": int(phones), "mix": mix, "image_bytes": image_bytes,
    "rate_kbit": rate, "rtt_ms": int(rtt), "loss": float(loss),
    "all_upgraded_s": done, "floor_s": round(floor, 1),
    "ratio_to_floor": round(done / floor, 2) if done is not None else None,
    "wan_bytes_down": wan["down"], "wan_bytes_up": wan["up"],
    "wan_copies": round(wan["down"] / image_bytes, 2), "wan_dropped": drops,
    "upgraded": sim["upgraded"], "stuck": sim["stuck"], "no_change": sim["no_change"],
    "no_config": sim["no_config"],
    "branch_refused_files": sum(l.count("SHA-256") for l in open(tmpd + "/branch.log"))
    if scenario.startswith("branch-") and scenario != "branch-manual" else None,
    "files": dict(l.split() for l in open(tmpd + "/expect")), "phonesim": sim,
}
if stage_s:
    st = json.load(open(tmpd + "/wan.stage"))
    res["stage_s"] = float(stage_s)
    res["stage_wan_bytes_down"] = a["down"]["bytes"] - st["down"]["bytes"]
    res["stage_wan_bytes_up"] = a["up"]["bytes"] - st["up"]["bytes"]
    res["stage_wan_packets"] = {d: a[d]["packets"] - st[d]["packets"] for d in ("down", "up")}
if out:
    with open(out, "w") as f:
        json.dump(res, f, indent=1)
t = "%.1f s" % done if done is not None else "never (%d stuck, %d without config)" % (sim["stuck"], sim["no_config"])
print("site_upgrade: %s: %d/%d phones upgraded; all in %s; floor %.1f s; ratio %s; WAN down %d bytes (%.2f copies), up %d"
      % (scenario, sim["upgraded"], int(phones), t, floor,
         "%.2fx" % (done / floor) if done is not None else "-", wan["down"], wan["down"] / image_bytes, wan["up"]))
if stage_s:
    print("site_upgrade: staged before the boot in %.1f s (%.2fx the floor), WAN down %d bytes (%.2f copies)"
          " in %d packets, up %d bytes in %d packets"
          % (res["stage_s"], res["stage_s"] / floor, res["stage_wan_bytes_down"],
             res["stage_wan_bytes_down"] / image_bytes, res["stage_wan_packets"]["down"],
             res["stage_wan_bytes_up"], res["stage_wan_packets"]["up"]))
EOF
[ $? -eq 0 ] || die "cannot summarise the run"
exit "$([ "$sim_rc" -eq 0 ] && echo 0 || echo 1)"
