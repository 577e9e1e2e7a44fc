#!/bin/sh
# api_ctl_json.sh: one JSON shape per resource. On one data dir with loadsd
# running, the admin API and `loadsctl --json` must print the same document
# for the same device, effective settings, problem list, model, profile,
# enterprise settings, site rule, user, token, trust anchor, load, verify
# run and branch (a list: the API's list member against loadsctl's array);
# the answers to the same change (add, set, remove) must have the same
# members and types.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/catalog_lib.sh"
. "$(dirname "$0")/admin_lib.sh"

need_cmd curl
ctl_setup
echo ready >"$ROOT/ready.txt"
D="$TMPD/data"
LOAD=SIP41.9-4-2SR3-1S
MAC=001122AABBCC

# cj NAME ARGS...: `loadsctl --json ARGS` into $TMPD/NAME.ctl (exit status
# not judged: `devices problems` exits 1 when it lists any).
cj() {
    _cj=$1
    shift
    ctl "$D" --json "$@" >"$TMPD/$_cj.ctl"
}

# api NAME METHOD PATH [CURL ARGS...]: the API as the admin (bearer token),
# body in $TMPD/NAME.body; dies on a status other than 2xx.
api() {
    req "$@" -H "Authorization: Bearer $TOKEN" -H Content-Type:application/json
    case "$STATUS" in 2??) ;; *) die "$2 $3: $STATUS $(head -c 300 "$TMPD/$1.body")" ;; esac
}

# compare MODE LABEL API_NAME API_EXPR CTL_NAME: the API's document (the
# Python expression API_EXPR over it, as j) against loadsctl's. MODE same:
# equal values; shape: the same members with the same types at every depth
# (null matches any type), for answers to two different changes.
compare() {
    if out=$(python3 - "$@" "$TMPD" <<'EOF'
import json, sys
mode, label, an, ae, cn, tmp = sys.argv[1:7]
a = eval(ae, {"j": json.load(open(f"{tmp}/{an}.body"))})
c = json.load(open(f"{tmp}/{cn}.ctl"))

def diff(x, y, path, shape):
    if shape and (x is None or y is None):
        return None
    if type(x) is not type(y):
        return f"{path}: {type(x).__name__} {json.dumps(x)[:80]} vs {type(y).__name__} {json.dumps(y)[:80]}"
    if isinstance(x, dict):
        if set(x) != set(y):
            return f"{path}: members only in the API {sorted(set(x) - set(y))}, only in loadsctl {sorted(set(y) - set(x))}"
        for k in x:
            d = diff(x[k], y[k], f"{path}.{k}", shape)
            if d:
                return d
        return None
    if isinstance(x, list):
        if not shape and len(x) != len(y):
            return f"{path}: {len(x)} vs {len(y)} entries"
        for i, (p, q) in enumerate(zip(x, y)):
            d = diff(p, q, f"{path}[{i}]", shape)
            if d:
                return d
        return None
    if not shape and x != y:
        return f"{path}: {json.dumps(x)[:80]} vs {json.dumps(y)[:80]}"
    return None

d = diff(a, c, "$", mode == "shape")
print(d or (f"{len(a)} entries" if isinstance(a, list) else f"{len(a)} members"))
sys.exit(1 if d else 0)
EOF
    ); then
        pass "$2: API and loadsctl agree ($out)"
    else
        fail "$2: API and loadsctl differ: $out"
    fi
}

# ---- a catalog, provisioning rows, users; loadsd on it ----
cat_init "$D"
bundle "$TMPD/b.tar" "$TMPD/b.json" --format tar --load "$LOAD" --size-kb 4
ctl "$D" import "$TMPD/b.tar" >/dev/null || die "import failed: $CTL_ERR"
echo "a long admin password" | ctl "$D" user add boss --role admin --password-stdin >/dev/null ||
    die "user add failed: $CTL_ERR"
TOKEN=$(ctl "$D" token add boss --name test) || die "token add failed: $CTL_ERR"
ctl "$D" token add boss --name unused >/dev/null || die "token add failed: $CTL_ERR"
ctl "$D" profile add lab >/dev/null || die "profile add failed: $CTL_ERR"
ctl "$D" device add "$MAC" --model 7961 --profile lab --description "front desk" >/dev/null ||
    die "device add failed: $CTL_ERR"
ctl "$D" device add 0011223344AA --model 7961 >/dev/null || die "device add failed: $CTL_ERR"
ctl "$D" device set 0011223344AA load GONE1 --force >/dev/null 2>&1 ||
    die "device set failed: $CTL_ERR"
ctl "$D" site add 10.20.0.0/16 --load-server 10.20.0.5 >/dev/null || die "site add failed: $CTL_ERR"

pick_port APORT
# No background scrub: the verify runs below decide what is quarantined.
daemon_start --admin-listen "127.0.0.1:$APORT" --scrub-interval 0
BASE="http://127.0.0.1:$APORT"
admin_wait

# ---- models and default loads ----
ctl "$D" default-load set 7961 none >/dev/null || die "default-load set failed: $CTL_ERR"
cj dl default-load set 7961 "$LOAD"
api dl PUT /api/v1/models/7961/default-load -d '{"load":null}'
api dl PUT /api/v1/models/7961/default-load -d "{\"load\":\"$LOAD\"}"
compare same "default-load set (model, default_load, previous)" dl 'j' dl
cj models model list
api models GET /api/v1/models
compare same "models" models 'j["models"]' models

# ---- enterprise ----
cj ent enterprise show
api ent GET /api/v1/enterprise
compare same "enterprise (no load server: null)" ent 'j' ent
cj entset enterprise set cm_address 10.0.0.9
api entset GET /api/v1/enterprise
compare same "enterprise set answers the settings" entset 'j' entset
api entput PUT /api/v1/enterprise -d '{"cm_address":null}'
cj ent2 enterprise show
compare same "enterprise after PUT" entput 'j' ent2

# ---- profiles ----
cj profadd profile add lab2
api profadd GET /api/v1/profiles/lab2
compare same "profile add answers the profile" profadd 'j' profadd
cj profset profile set lab2 load_server 10.9.0.5
api profset GET /api/v1/profiles/lab2
compare same "profile set answers the profile" profset 'j' profset
api profpost POST /api/v1/profiles -d '{"name":"lab3","peer_firmware_sharing":"off"}'
cj profiles profile list
api profiles GET /api/v1/profiles
compare same "profiles" profiles 'j["profiles"]' profiles
cj profrm profile remove lab3
api profrm DELETE /api/v1/profiles/lab2
compare shape "profile remove" profrm 'j' profrm

# ---- devices, effective settings, problems ----
cj devset device set "$MAC" peer_firmware_sharing off
api devset GET "/api/v1/devices/$MAC"
compare same "device set answers the device" devset 'j' devset
cj devshow device show 0011223344AA
api devshow GET /api/v1/devices/0011223344AA
compare same "device (load forced, no profile: null)" devshow 'j' devshow
api devpost POST /api/v1/devices -d '{"mac":"00:11:22:33:44:bb","model":"7961"}'
cj devpost device show 0011223344BB
compare same "device added through the API" devpost 'j' devpost
cj devices device list
api devices GET /api/v1/devices
compare same "devices" devices 'j["devices"]' devices
cj eff effective "$MAC" --from 10.20.1.2
api eff GET "/api/v1/devices/$MAC/effective?from=10.20.1.2"
compare same "effective settings (site rule)" eff 'j' eff
cj probs devices problems
api probs GET /api/v1/devices/problems
compare same "devices problems" probs 'j["devices"]' probs
printf 'mac,model\r\n0011223344CC,7961\r\n' >"$TMPD/one.csv"
printf 'mac,model\r\n0011223344DD,7961\r\n' >"$TMPD/two.csv"
cj csv devices import "$TMPD/one.csv"
api csvq POST /api/v1/devices/import -H Content-Type:text/csv --data-binary "@$TMPD/two.csv"
CSVJOB=$(jq_py csvq 'j["id"]')
i=0
while api csvjob GET "/api/v1/jobs/$CSVJOB" && ! jq_py csvjob 'j["state"]' | grep -qx 'done\|failed'; do
    i=$((i + 1))
    [ $i -lt 450 ] || die "the CSV import job never ended"
    sleep 0.2
done
python3 -c 'import json,sys; json.dump(json.load(open(sys.argv[1]))["report"], open(sys.argv[2], "w"))' \
    "$TMPD/csvjob.body" "$TMPD/csv.body"
compare same "devices import (loadsctl's report and the job's)" csv 'j' csv
cj devrm device remove 0011223344CC
api devrm DELETE /api/v1/devices/0011223344DD
compare shape "device remove" devrm 'j' devrm

# ---- site rules ----
cj siteadd site add 10.30.1.0/16 --load-server 10.30.0.5
api siteadd POST /api/v1/sites -d '{"cidr":"10.40.1.0/16","load_server":"10.40.0.5"}'
compare shape "site add (host_bits_cleared)" siteadd 'j' siteadd
cj sites site list
api sites GET /api/v1/sites
compare same "sites" sites 'j["sites"]' sites

# ---- users and tokens ----
cj useradd user add ops --role viewer --password-stdin <<EOF
a long viewer password
EOF
api useradd POST /api/v1/users -d '{"name":"ops2","role":"viewer","password":"a long viewer password"}'
compare same "user add" useradd '{"name": "ops", "role": j["role"]}' useradd
cj passwd user passwd ops --password-stdin <<EOF
another long password
EOF
api passwd PATCH /api/v1/users/ops2 -d '{"password":"another long password"}'
compare same "user passwd (PATCH with a password)" passwd 'dict(j, name="ops")' passwd
cj users user list
api users GET /api/v1/users
compare same "users" users 'j["users"]' users
cj tokadd token add ops --name ci
api tokadd POST /api/v1/tokens -d '{"name":"ci2","user":"ops"}'
compare shape "token add" tokadd 'j' tokadd
# The API first: its request marks the test token used (auth.c, at most
# every 30 s), so that loadsctl reads the same last_used after it.
api tokens GET /api/v1/tokens
cj tokens token list
compare same "tokens (last_used null when never)" tokens 'j["tokens"]' tokens

# ---- trust ----
cj trustadd trust add --role approval "$KEYS/approval.pem"
TID=$(json_field "$TMPD/trustadd.ctl" 'd["id"]')
cj trustrm trust remove "$TID"
python3 -c 'import json,sys; print(json.dumps({"pem": open(sys.argv[1]).read(), "role": "approval"}))' \
    "$KEYS/approval.pem" >"$TMPD/approval.json"
api trustadd POST /api/v1/trust --data-binary "@$TMPD/approval.json"
compare same "trust add (its id apart)" trustadd "dict(j, id=$TID)" trustadd
api trustrm DELETE "/api/v1/trust/$(jq_py trustadd 'j["id"]')"
compare same "trust remove (its id apart)" trustrm "dict(j, removed=$TID)" trustrm
cj trust trust list
api trust GET /api/v1/trust
compare same "trust" trust 'j["trust"]' trust

# ---- loads and verify ----
cj loads loads
api loads GET /api/v1/loads
compare same "loads" loads 'j["loads"]' loads
cj show show "$LOAD"
api show GET "/api/v1/loads/$LOAD"
compare same "one load (file_list, used_by)" show 'j' show
ctl "$D" verify "$LOAD" >/dev/null || die "verify failed: $CTL_ERR"
api verify POST "/api/v1/loads/$LOAD/verify"
cj verify verify "$LOAD"
compare same "verify of one load" verify 'j' verify
flip_byte "$D" "$(json_field "$TMPD/verify.ctl" 'd["files"][0]["name"]')"
cj verifybad verify "$LOAD"
[ "$(json_field "$TMPD/verifybad.ctl" 'd["files"][0]["result"]')" = quarantined_mismatch ] &&
    pass "verify: a changed file is quarantined_mismatch, the API's word" ||
    fail "verify: result $(json_field "$TMPD/verifybad.ctl" 'd["files"][0]["result"]')"
api verifybad POST "/api/v1/loads/$LOAD/verify"
cj verifybad2 verify "$LOAD"
compare same "verify of a quarantined load" verifybad 'j' verifybad2

# ---- branches (docs/FLEET.md): one never reported, so no age differs ----
api branchadd POST /api/v1/branches -d '{"name":"berlin-1","address":"198.51.100.7"}'
cj branchadd branch add leeds-2 --address 198.51.100.8
compare shape "the answer to adding a branch (its token once)" branchadd 'j' branchadd
cj branches branch list
api branches GET /api/v1/branches
compare same "branches" branches 'j["branches"]' branches
cj branchshow branch show berlin-1
api branchshow GET /api/v1/branches/berlin-1
compare same "one branch (loads, want)" branchshow 'j' branchshow

daemon_stop
ctl_sanitizer_check
finish
