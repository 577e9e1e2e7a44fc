#!/usr/bin/env bash
# test-deb.sh: the Debian package's life in a fresh Debian 12 root: install
# the previous build, run it as _loadsd from the installed files, upgrade to
# this tree's build (catalog migrated, data and conffile kept), refuse a
# downgrade, remove, purge. Needs root; prints "N passed, N failed".
#
# Usage: packaging/test-deb.sh [--prev REV] [--cur DEB] [--keep]
#   --cur DEB   this tree's package, already built (CI keeps the one that
#               tests/integration/deb_package.sh built and inspected)
#   --prev REV  the git revision packaged as the previous version (default:
#               the newest revision whose migrations are a proper prefix of
#               this tree's, so the upgrade has a schema migration to run, as
#               from a released version; see migrations_before)
set -euo pipefail

top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
prev_rev="" cur_deb="" keep=0
while [ $# -gt 0 ]; do
    case "$1" in
    --prev) prev_rev=$2; shift 2 ;;
    --cur) cur_deb=$2; shift 2 ;;
    --keep) keep=1; shift ;;
    *) echo "usage: packaging/test-deb.sh [--prev REV] [--cur DEB] [--keep]" >&2; exit 2 ;;
    esac
done
# shellcheck source=packaging/fresh-root.sh
. "$top/packaging/fresh-root.sh"
[ "$(id -u)" -eq 0 ] || die "needs root (debootstrap, chroot, mounts)"

ensure_build_tools() {
    local want=() p
    for p in dpkg-dev debhelper fakeroot; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || want+=("$p")
    done
    [ ${#want[@]} -eq 0 ] && return 0
    say "installing ${want[*]}"
    DEBIAN_FRONTEND=noninteractive apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${want[@]}" >/dev/null
}

# migration_versions REV: the version numbers of REV's db/migrations, sorted,
# each followed by a space.
migration_versions() {
    git -C "$top" ls-tree --name-only "$1" db/migrations/ |
        sed -n 's|^db/migrations/\([0-9]*\)_.*\.sql$|\1|p' | sort -n | tr '\n' ' '
}

# migrations_before: the parent of the newest commit that changed
# db/migrations whose migrations are a proper prefix of HEAD's (a commit
# whose set HEAD does not continue, e.g. before a renumbering, is no
# version anyone upgrades from).
migrations_before() {
    local cur list rev
    cur=$(migration_versions HEAD)
    for rev in $(git -C "$top" rev-list HEAD -- db/migrations); do
        list=$(migration_versions "$rev^")
        case "$cur" in "$list"?*) echo "$rev^"; return 0 ;; esac
    done
    return 1
}

# build_packages DIR: DIR/cur.deb from this tree (or the --cur file, when it
# is this tree's version), DIR/prev.deb from prev_rev (its sources with
# today's packaging/debian), versioned below the current.
build_packages() {
    local d=$1 ver src
    ver=$(sed -n '1s/^loadsd (\(.*\)).*/\1/p' "$top/packaging/debian/changelog")
    [ -n "$prev_rev" ] || prev_rev=$(migrations_before) ||
        { echo "test-deb.sh: no earlier revision has a prefix of this tree's migrations" >&2; exit 1; }
    mkdir -p "$d/cur" "$d/prev" "$d/prevsrc"
    if [ -n "$cur_deb" ]; then
        [ "$(dpkg-deb -f "$cur_deb" Version)" = "$ver" ] ||
            die "$cur_deb is not version $ver (this tree's packaging/debian/changelog)"
        say "using $cur_deb; building $ver~prev from $(git -C "$top" rev-parse --short "$prev_rev")"
        cp "$cur_deb" "$d/cur/"
    else
        say "building $ver from this tree and $ver~prev from $(git -C "$top" rev-parse --short "$prev_rev")"
        "$top/packaging/build-deb" --out "$d/cur" >/dev/null
    fi
    git -C "$top" archive "$prev_rev" | tar -C "$d/prevsrc" -xf -
    rm -rf "$d/prevsrc/packaging/debian" "$d/prevsrc/packaging/build-deb"
    cp -a "$top/packaging/debian" "$top/packaging/build-deb" "$d/prevsrc/packaging/"
    "$d/prevsrc/packaging/build-deb" --out "$d/prev" --version "$ver~prev" >/dev/null
    mv "$d/cur"/loadsd_*.deb "$d/cur.deb"
    mv "$d/prev"/loadsd_*.deb "$d/prev.deb"
}

# The test proper, run inside the root.
write_inner() {
    cat >"$1" <<'EOF'
#!/bin/bash
set -u
PASSED=0 FAILED=0
pass() { PASSED=$((PASSED + 1)); echo "PASS: $*"; }
fail() { FAILED=$((FAILED + 1)); echo "FAIL: $*"; [ -f /root/loadsd.log ] && tail -n 5 /root/loadsd.log; }
ok() { local what=$1; shift; if "$@" >/root/step.out 2>&1; then pass "$what"; else fail "$what: $(tail -n 3 /root/step.out)"; fi; }
export DEBIAN_FRONTEND=noninteractive
# As configuration management upgrades: an administrator's edited conffile
# is kept without a question.
KEEPCONF="-o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold"
update-ca-certificates >/dev/null 2>&1
apt-get update -qq >/dev/null 2>&1
apt-get install -y -qq --no-install-recommends curl >/dev/null 2>&1 || fail "apt-get install curl"
TFTP=16969 ADMIN=18080 MAC=SEP00AABBCCDD01
DD=/var/lib/loadsd

ctl() { setpriv --reuid _loadsd --regid _loadsd --init-groups /usr/sbin/loadsctl --data-dir $DD "$@"; }
start() {
    setpriv --reuid _loadsd --regid _loadsd --init-groups /usr/sbin/loadsd --config /etc/loadsd/loadsd.conf \
        --foreground --data-dir $DD --tftp-listen 127.0.0.1:$TFTP --admin-listen 127.0.0.1:$ADMIN \
        >/root/loadsd.log 2>&1 &
    PID=$!
    for i in $(seq 50); do
        (exec 3<>/dev/tcp/127.0.0.1/$ADMIN) 2>/dev/null && return 0
        kill -0 $PID 2>/dev/null || return 1
        sleep 0.2
    done
    return 1
}
stop() { kill -TERM $PID 2>/dev/null; wait $PID 2>/dev/null; }
fetch() { curl -sf --max-time 10 -o /root/got.xml "tftp://127.0.0.1:$TFTP/$MAC.cnf.xml" && grep -q '<device' /root/got.xml; }

# ---- install the previous build ----
ok "install the previous package (apt resolves its Depends)" apt-get install -y -qq /root/debs/prev.deb
ok "_loadsd is a system user" sh -c 'test "$(id -u _loadsd)" -lt 1000 && id -g _loadsd'
ok "the data directory is 0750 _loadsd:_loadsd" sh -c 'test "$(stat -c %a:%U:%G /var/lib/loadsd)" = 750:_loadsd:_loadsd'
ok "/etc/loadsd/loadsd.conf is a conffile" grep -qx /etc/loadsd/loadsd.conf /var/lib/dpkg/info/loadsd.conffiles
ok "the unit is enabled" test -L /etc/systemd/system/multi-user.target.wants/loadsd.service
ok "loadsctl init as _loadsd" ctl init
ok "a device in the catalog" ctl device add ${MAC#SEP} --model 7961
ok "the previous build starts as _loadsd on unprivileged ports" start
ok "a phone's config by TFTP from the previous build" fetch
stop
old_schema=$(ctl --json init | sed -n 's/.*"schema_version": *\([0-9]*\).*/\1/p')
echo "# keep me across the upgrade" >>/etc/loadsd/loadsd.conf

# ---- upgrade ----
ok "upgrade to this tree's package" apt-get install -y -qq $KEEPCONF /root/debs/cur.deb
ok "the edited conffile was kept" grep -q 'keep me across the upgrade' /etc/loadsd/loadsd.conf
new_schema=$(ctl --json init | sed -n 's/.*"schema_version": *\([0-9]*\).*/\1/p')
if [ -n "$old_schema" ] && [ -n "$new_schema" ] && [ "$new_schema" -gt "$old_schema" ]; then
    pass "the catalog was migrated from schema $old_schema to $new_schema"
else
    fail "schema before $old_schema, after $new_schema: no migration"
fi
ok "the device survived the upgrade" ctl device show ${MAC#SEP}
ok "the new build starts as _loadsd" start
ok "a phone's config by TFTP from the new build" fetch
ok "the daemon runs as _loadsd" sh -c "test \"\$(ps -o user= -p $PID)\" = _loadsd"
stop
ok "a first admin's password goes to stdout only" sh -c \
    'd=$(mktemp -d); /usr/sbin/loadsctl --data-dir $d/x init --first-admin | grep -q "with password" && ! ls $d/x | grep -q password'

# ---- downgrade: refused, nothing changed ----
if [ "$new_schema" != "$old_schema" ]; then
    dpkg -i --force-confold /root/debs/prev.deb >/dev/null 2>&1
    sum_before=$(sha256sum $DD/catalog.db | cut -d' ' -f1)
    if start; then
        fail "the older build started on a newer catalog"
        stop
    elif grep -q "newer than this program" /root/loadsd.log; then
        pass "the older build refuses a newer catalog: $(grep -o 'database schema.*' /root/loadsd.log | head -n 1)"
    else
        fail "the older build failed without saying why: $(tail -n 2 /root/loadsd.log)"
    fi
    [ "$(sha256sum $DD/catalog.db | cut -d' ' -f1)" = "$sum_before" ] &&
        pass "the refused downgrade left catalog.db as it was" || fail "the refused downgrade changed catalog.db"
    ok "back to this tree's package" apt-get install -y -qq $KEEPCONF /root/debs/cur.deb
fi

# ---- remove keeps the data, purge removes it ----
ok "remove" apt-get remove -y -qq loadsd
ok "remove kept the data directory" test -f $DD/catalog.db
ok "purge" apt-get purge -y -qq loadsd
ok "purge removed the data directory" test ! -e $DD
ok "purge removed the configuration" test ! -e /etc/loadsd/loadsd.conf
echo "$PASSED passed, $FAILED failed"
[ $FAILED -eq 0 ] && [ $PASSED -gt 0 ]
EOF
    chmod 755 "$1"
}

main() {
    local r
    ensure_host_tools
    ensure_build_tools
    work=$(mktemp -d /var/tmp/loadsd-deb-test.XXXXXX)
    [ $keep -eq 1 ] || trap 'rm -rf --one-file-system "$work"' EXIT
    build_packages "$work/pkgs"
    r=$(fresh_root "$work")
    mkdir -p "$r/root/debs"
    cp "$work/pkgs/cur.deb" "$work/pkgs/prev.deb" "$r/root/debs/"
    write_inner "$r/root/test-deb-inner.sh"
    say "installing, upgrading and purging in a fresh root"
    in_root "$r" /root/test-deb-inner.sh
}

main
