# site_fleet.sh: site_upgrade.sh's fleet scenario (issue 15, docs/FLEET.md),
# sourced by it once the WAN is up: a central, two branches that report to it.
#
# The central (198.18.0.1: TFTP 69, files 6970, admin API on --admin-port,
# plain HTTP) holds an old and a new load per model of the mix and points the
# first half of the phone addresses at branch:A (198.19.0.1), the second half
# at branch:B (198.19.0.2), by site rules. Each branch is a loadsd with
# --central, its own token (loadsctl branch add) and --upstream the central's
# file service, holding the old loads only. Every phone first runs its
# model's old load (a boot that must change nothing: it also tells the
# central each phone's address). Then the new loads are assigned (each
# model's default load) and the clock starts:
#   --stage-first off: the phones boot at once; the gate sends each to the
#                      central until its branch holds the new load.
#   --stage-first on:  the phones boot at once (their configs keep the old
#                      load: nothing changes); the bench waits until the
#                      central says every branch holds every load it wants,
#                      then boots them again (an administrator's reset).
# Measured: the time from the assignment until every phone runs its new load,
# the WAN bytes (copies of one load), phones ever stuck (target 0).
# Uses site_upgrade.sh's variables and functions (ctl, daemon, TMPD, ...).
# shellcheck shell=bash disable=SC2154

FLEET_A=198.19.0.1
FLEET_B=198.19.0.2

# fleet_api NAME PATH [TOKEN]: GET PATH from the central's admin API (inside
# the central's namespace) into $TMPD/NAME.json, with the admin's token or TOKEN.
fleet_api() {
    ip netns exec "$WANSITE_C" curl -s --max-time 5 -o "$TMPD/$1.json" \
        -H "Authorization: Bearer ${3:-$FLEET_ADMIN}" "http://$CENTRAL:$admin_port$2"
}

# fleet_groups: one line per group of phones (same branch, same model, next
# addresses): BRANCH MODEL FIRST COUNT OLD NEW. The first half of the
# addresses is A's, the rest B's; each half has the mix's models in
# proportion (alternate phones of the --mix list), sorted by model.
fleet_groups() {
    python3 - "$mix" "$phones" <<'EOF'
import sys
mix, n = sys.argv[1], int(sys.argv[2])
models = []
for part in mix.split(","):
    name, _, count = part.partition(":")
    models += [name] * int(count or n)
if len(models) < n:
    sys.exit("site_upgrade: --mix names %d phones, --phones %d" % (len(models), n))
models = models[:n]
order = sorted(set(models), key=models.index)
half = (n + 1) // 2
first = 0
for branch, share in (("A", models[0::2]), ("B", models[1::2])):
    share = share[:half] if branch == "A" else share[:n - half]
    for m in order:
        c = share.count(m)
        if c:
            k = order.index(m)
            print(branch, m, first, c, "SIP%d.9-3-1SR2-1S" % (46 + 2 * k), "SIP%d.9-4-2SR3-1S" % (45 + 2 * k))
            first += c
EOF
}

# fleet_cidrs FIRST LAST: the CIDRs that cover phone addresses FIRST..LAST.
fleet_cidrs() {
    python3 -c 'import ipaddress, sys
a, b = (ipaddress.ip_address(x) for x in sys.argv[1:3])
print(" ".join(str(n) for n in ipaddress.summarize_address_range(a, b)))' \
        "$(wansite_phone_addr "$1")" "$(wansite_phone_addr "$2")"
}

# fleet_bundle LOAD SEED: a signed bundle of the asked size in $TMPD/LOAD.zip
# (manifest $TMPD/LOAD.json).
fleet_bundle() {
    python3 "$MKBUNDLE" bundle --keys "$TMPD/keys" --out "$TMPD/$1.zip" --format zip --load "$1" \
        --components "$components" --size-kb "$size_kb" --component-headers all --seed "$2" \
        --manifest "$TMPD/$1.json" >/dev/null || die "mkbundle.py bundle $1 failed"
}

# fleet_branch_add NAME ADDR: registers the branch at the central (offline,
# before the central starts); its token into $TMPD/NAME.token (0600).
fleet_branch_add() {
    "$LOADSCTL" --data-dir "$TMPD/central" branch add "$1" --address "$2" >"$TMPD/$1.add" 2>&1 ||
        die "loadsctl branch add $1: $(cat "$TMPD/$1.add")"
    (umask 077 && grep -o 'lsb_[A-Za-z0-9_-]*' "$TMPD/$1.add" | head -1 >"$TMPD/$1.token")
    [ -s "$TMPD/$1.token" ] || die "loadsctl branch add $1 printed no token: $(cat "$TMPD/$1.add")"
}

# fleet_boot ROUND: every group's phones boot at once (one phonesim each,
# from its own addresses, its model's old load as the current one); waits
# for all. Writes $TMPD/ROUND.GROUP.json and $TMPD/ROUND.start (epoch s).
fleet_boot() {
    _pids=""
    date +%s.%N >"$TMPD/$1.start"
    _g=0
    while read -r _br _model _first _count _old _new; do
        _mac=$(printf '%012X' $((0x$mac_base + _first)))
        ip netns exec "$WANSITE_B" "$PHONESIM" --tftp-server "$CENTRAL:69" --phones "$_count" \
            --mix "$_model:$_count" --mac-base "$_mac" --source-base "$(wansite_phone_addr "$_first")" \
            --current-load "$_old" --expect "$TMPD/expect" --max-seconds "$max_seconds" \
            --json "$TMPD/$1.$_g.json" ${reboot_s:+--reboot-s "$reboot_s"} \
            >"$TMPD/$1.$_g.out" 2>"$TMPD/$1.$_g.err" </dev/null &
        _pids="$_pids $!"
        _g=$((_g + 1))
    done <"$TMPD/groups"
    for _p in $_pids; do wait "$_p"; done
    _g=0
    while read -r _; do
        [ -s "$TMPD/$1.$_g.json" ] || { cat "$TMPD/$1.$_g.err" >&2; die "$1: phonesim wrote no result for group $_g"; }
        _g=$((_g + 1))
    done <"$TMPD/groups"
}

# fleet_outcomes ROUND: "upgraded no_change stuck no_config" summed over groups.
fleet_outcomes() {
    python3 - "$TMPD" "$1" "$(wc -l <"$TMPD/groups")" <<'EOF'
import json, sys
t = [0, 0, 0, 0]
for g in range(int(sys.argv[3])):
    r = json.load(open("%s/%s.%d.json" % (sys.argv[1], sys.argv[2], g)))
    for i, k in enumerate(("upgraded", "no_change", "stuck", "no_config")):
        t[i] += r[k]
print(*t)
EOF
}

# fleet_held [old]: 0 when each branch's latest report is fresh and holds
# complete every load it must: the central's want list for it (asked with
# the branch's token; empty does not count), or with "old" the old loads of
# its groups (before the phones are seen, the want lists are empty).
fleet_held() {
    for _b in A B; do
        if [ "${1:-}" = old ]; then
            awk -v b="$_b" '$1 == b {print $5}' "$TMPD/groups" |
                python3 -c 'import json, sys; print(json.dumps({"want": sys.stdin.read().split()}))' \
                    >"$TMPD/want.$_b.json"
        else
            fleet_api "want.$_b" /api/v1/fleet/want "$(cat "$TMPD/$_b.token")" || return 1
        fi
        fleet_api "branch.$_b" "/api/v1/branches/$_b" || return 1
        python3 - "$TMPD/want.$_b.json" "$TMPD/branch.$_b.json" <<'EOF2' || return 1
import json, sys
try:
    want = json.load(open(sys.argv[1]))["want"]
    b = json.load(open(sys.argv[2]))
    done = {h["name"] for h in b["loads"] if h["state"] == "complete"}
    fresh = b["last_report"] is not None and b["last_report"]["fresh"]
except (OSError, ValueError, KeyError, TypeError):
    sys.exit(1)
sys.exit(0 if want and fresh and set(want) <= done else 1)
EOF2
    done
}

# fleet_cnf_load GROUP_FIRST MAC: the loadInformation of the config the
# central gives that phone, fetched over TFTP from the phone's address.
fleet_cnf_load() {
    ip netns exec "$WANSITE_B" curl -s --max-time 3 --interface "$(wansite_phone_addr "$1")" \
        -o "$TMPD/probe.cnf.xml" "tftp://$CENTRAL/SEP$2.cnf.xml" 2>/dev/null || return 1
    python3 -c 'import re, sys
m = re.search(r"<loadInformation>([^<]*)</loadInformation>", open(sys.argv[1]).read())
print(m.group(1) if m else "")' "$TMPD/probe.cnf.xml"
}

# fleet_configs_new: 0 when the first phone of every group is given its new load.
fleet_configs_new() {
    while read -r _br _model _first _count _old _new; do
        [ "$(fleet_cnf_load "$_first" "$(printf '%012X' $((0x$mac_base + _first)))")" = "$_new" ] || return 1
    done <"$TMPD/groups"
}

# fleet_wait WHAT SECONDS CMD...: polls CMD every 0.5 s; dies after SECONDS.
fleet_wait() {
    _what=$1
    _secs=$2
    _end=$(($(date +%s) + _secs))
    shift 2
    until "$@"; do
        [ "$(date +%s)" -le "$_end" ] || die "$_what: not within $_secs s"
        sleep 0.5
    done
}

fleet_run() {
    command -v curl >/dev/null || die "curl is needed"
    fleet_groups >"$TMPD/groups" || exit 2
    ip -n "$WANSITE_B" addr add "$FLEET_B/32" dev lo || die "cannot add $FLEET_B"

    # The loads: an old and a new one per model, NAME SHA256 of the new ones
    # in the phones' --expect.
    : >"$TMPD/expect"
    _seed=10
    for _l in $(awk '{print $5; print $6}' "$TMPD/groups" | sort -u); do
        fleet_bundle "$_l" "$_seed"
        _seed=$((_seed + 1))
    done
    for _l in $(awk '{print $6}' "$TMPD/groups" | sort -u); do
        python3 -c 'import json, sys
for n, e in sorted(json.load(open(sys.argv[1]))["files"].items()):
    print(n, e["sha256"])' "$TMPD/$_l.json" >>"$TMPD/expect" || die "cannot read $_l's manifest"
    done
    image_bytes=$(python3 -c "import json,sys; print(sum(e['size'] for e in json.load(open(sys.argv[1]))['files'].values()))" \
        "$TMPD/$(awk 'NR == 1 {print $6}' "$TMPD/groups").json")

    # The central: every load, the devices, each model on its old load,
    # stage_first, the two branches and their site rules, an admin token.
    _c=$TMPD/central
    ctl "$_c" init
    ctl "$_c" trust add "$TMPD/keys/vendor.pem"
    for _l in $(awk '{print $5; print $6}' "$TMPD/groups" | sort -u); do ctl "$_c" import "$TMPD/$_l.zip"; done
    {
        echo mac,model
        while read -r _br _model _first _count _old _new; do
            for _i in $(seq "$_first" $((_first + _count - 1))); do
                printf '%012X,Cisco %s\n' $((0x$mac_base + _i)) "$_model"
            done
        done <"$TMPD/groups"
    } >"$TMPD/devices.csv"
    ctl "$_c" devices import "$TMPD/devices.csv"
    while read -r _br _model _first _count _old _new; do
        ctl "$_c" default-load set "Cisco $_model" "$_old"
    done <"$TMPD/groups"
    ctl "$_c" enterprise set stage_first "$stage_first"
    fleet_branch_add A "$FLEET_A"
    fleet_branch_add B "$FLEET_B"
    _half=$(((phones + 1) / 2))
    for _cidr in $(fleet_cidrs 0 $((_half - 1))); do ctl "$_c" site add "$_cidr" --branch A; done
    if [ "$phones" -gt "$_half" ]; then
        for _cidr in $(fleet_cidrs "$_half" $((phones - 1))); do ctl "$_c" site add "$_cidr" --branch B; done
    fi
    echo "a long bench password" | "$LOADSCTL" --data-dir "$_c" user add bench --role admin --password-stdin \
        >"$TMPD/ctl.out" 2>&1 || die "user add: $(cat "$TMPD/ctl.out")"
    FLEET_ADMIN=$("$LOADSCTL" --data-dir "$_c" token add bench --name bench 2>"$TMPD/ctl.out") ||
        die "token add: $(cat "$TMPD/ctl.out")"
    daemon "$WANSITE_C" "$CENTRAL" "$_c" central "admin-insecure-http = yes" "$CENTRAL:$admin_port"

    # The branches: the old loads only; each reports to the central and
    # stages what it wants through its upstream, the central's file service.
    for _b in A B; do
        _d=$TMPD/branch$_b
        ctl "$_d" init
        ctl "$_d" trust add "$TMPD/keys/vendor.pem"
        for _l in $(awk '{print $5}' "$TMPD/groups" | sort -u); do ctl "$_d" import "$TMPD/$_l.zip"; done
        _addr=$FLEET_A
        [ "$_b" = B ] && _addr=$FLEET_B
        daemon "$WANSITE_B" "$_addr" "$_d" "branch$_b" "upstream = http://$CENTRAL:6970
central = http://$CENTRAL:$admin_port
central-token-file = $TMPD/$_b.token"
    done
    fleet_wait "the branches' first reports (the old loads held)" 60 fleet_held old

    # Every phone on its old load: a boot that changes nothing.
    fleet_boot pre
    read -r _up _same _stuck _nocfg <<<"$(fleet_outcomes pre)"
    [ "$_same" = "$phones" ] || die "before the assignment: $_up upgraded, $_same unchanged, $_stuck stuck, $_nocfg without config (want all unchanged)"

    # The assignment: each model's default load is its new one.
    wansite_stats >"$TMPD/wan.before" || die "no WAN counters"
    echo "site_upgrade: fleet, stage_first $stage_first, $phones phones ($mix), 2 branches, $image_bytes bytes a load, ${rate_kbit} kbit/s, ${rtt_ms} ms RTT, loss $loss" >&2
    date +%s.%N >"$TMPD/t0"
    while read -r _m _new; do
        ctl "$_c" default-load set "Cisco $_m" "$_new"
    done < <(awk '{print $2, $6}' "$TMPD/groups" | sort -u)
    rounds="boot"
    fleet_boot boot
    if [ "$stage_first" = on ]; then
        fleet_wait "every branch holding every load it wants" "$max_seconds" fleet_held
        date +%s.%N >"$TMPD/held"
        fleet_wait "the configs naming the new loads" 30 fleet_configs_new
        rounds="boot reset"
        fleet_boot reset
    fi
    wansite_stats >"$TMPD/wan.after" || die "no WAN counters"
    fleet_summary "$rounds"
}

# fleet_summary ROUNDS: the summary line, --json, and the exit status (0 when
# every phone ended on its new load and none was ever stuck).
fleet_summary() {
    python3 - "$TMPD" "$1" "$(wc -l <"$TMPD/groups")" "$stage_first" "$phones" "$mix" "$image_bytes" \
        "$rate_kbit" "$rtt_ms" "$loss" "${json_out:-}" <<'EOF'
import json, sys
tmpd, rounds, ngroups, stage_first, phones, mix, image_bytes, rate, rtt, loss, out = sys.argv[1:12]
rounds, ngroups, phones, image_bytes, rate = rounds.split(), int(ngroups), int(phones), int(image_bytes), int(rate)
rd = lambda n: float(open("%s/%s" % (tmpd, n)).read())
t0 = rd("t0")
groups = [l.split() for l in open(tmpd + "/groups")]
a, b = json.load(open(tmpd + "/wan.before")), json.load(open(tmpd + "/wan.after"))
wan = {d: b[d]["bytes"] - a[d]["bytes"] for d in ("down", "up")}
final = {}        # mac -> outcome of its last round
stuck_ever = set()
done_at = None    # seconds after t0 the last phone of the last round upgraded
per_round = {}
sims = {}
for r in rounds:
    start = rd(r + ".start") - t0
    tot = dict(upgraded=0, no_change=0, stuck=0, no_config=0)
    last = None
    for g in range(ngroups):
        sim = json.load(open("%s/%s.%d.json" % (tmpd, r, g)))
        sims["%s.%d" % (r, g)] = sim
        for k in tot:
            tot[k] += sim[k]
        for p in sim["phones"]:
            final[p["mac"]] = p["outcome"]
            if p["outcome"] == "stuck":
                stuck_ever.add(p["mac"])
        if sim["all_upgraded_s"] is not None:
            last = max(last or 0, start + sim["all_upgraded_s"])
    tot["start_s"] = round(start, 1)
    per_round[r] = tot
    if r == rounds[-1] and tot["upgraded"] == phones:
        done_at = last
upgraded = sum(1 for o in final.values() if o == "upgraded")
held_s = round(rd("held") - t0, 1) if stage_first == "on" else None
floor = image_bytes * 8 / (rate * 1000)
res = {
    "scenario": "fleet", "stage_first": stage_first, "phones": phones, "mix": mix, "branches": 2,
    "groups": [dict(branch=g[0], model=g[1], first=int(g[2]), count=int(g[3]), old=g[4], new=g[5]) for g in groups],
    "image_bytes": image_bytes, "rate_kbit": rate, "rtt_ms": int(rtt), "loss": float(loss),
    "all_upgraded_s": round(done_at, 1) if done_at is not None else None,
    "branches_held_s": held_s, "floor_s": round(floor, 1),
    "wan_bytes_down": wan["down"], "wan_bytes_up": wan["up"],
    "wan_copies": round(wan["down"] / image_bytes, 2),
    "upgraded": upgraded, "stuck_ever": len(stuck_ever), "rounds": per_round, "phonesim": sims,
}
if out:
    with open(out, "w") as f:
        json.dump(res, f, indent=1)
t = "%.1f s after the assignment" % done_at if done_at is not None else "never"
print("site_upgrade: fleet, stage_first %s: %d/%d phones upgraded; all in %s%s; floor %.1f s a load;"
      " WAN down %d bytes (%.2f copies of a load), up %d; ever stuck %d"
      % (stage_first, upgraded, phones, t,
         "; branches held every wanted load at %.1f s" % held_s if held_s is not None else "",
         floor, wan["down"], wan["down"] / image_bytes, wan["up"], len(stuck_ever)))
sys.exit(0 if done_at is not None and not stuck_ever else 1)
EOF
}
