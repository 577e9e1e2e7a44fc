#!/bin/sh
# deb_package.sh: builds the Debian package from this tree (packaging/build-deb)
# and inspects it: contents, Depends from shlibs, conffiles, lintian, and the
# unit through systemd-analyze (verify, and an exposure score of at most 1.7).
. "$(dirname "$0")/lib.sh"

need_cmd dpkg-buildpackage dh fakeroot lintian systemd-analyze dpkg-deb
make_tmpdir
"$top_srcdir/packaging/build-deb" --out "$TMPD/out" --builddir "$top_builddir" >"$TMPD/build.out" 2>&1 ||
    die "build-deb failed: $(tail -n 20 "$TMPD/build.out")"
DEB=$(ls "$TMPD/out"/loadsd_*_*.deb 2>/dev/null | head -n 1)
[ -f "$DEB" ] && pass "built $(basename "$DEB")" || die "no loadsd_*.deb in $TMPD/out"
# LOADSD_KEEP_DEB=DIR (CI): the package is kept there, so that
# packaging/test-deb.sh --cur installs this very file instead of building it again.
if [ -n "${LOADSD_KEEP_DEB:-}" ]; then
    cp "$DEB" "$LOADSD_KEEP_DEB/" || die "cannot keep the package in $LOADSD_KEEP_DEB"
fi

dpkg-deb -c "$DEB" | awk '{ print $1, $2, $NF }' >"$TMPD/contents"
for want in "-rwxr-xr-x root/root ./usr/sbin/loadsd" "-rwxr-xr-x root/root ./usr/sbin/loadsctl" \
    "./usr/share/loadsd/web/index.html" "./usr/share/loadsd/web/js/dom.js" \
    "./etc/loadsd/loadsd.conf" "./lib/systemd/system/loadsd.service" \
    "./usr/share/man/man8/loadsd.8.gz" "./usr/share/man/man8/loadsctl.8.gz" \
    "./usr/share/man/man5/loadsd.conf.5.gz" "./usr/share/doc/loadsd/copyright"; do
    grep -q -- "$want\$" "$TMPD/contents" && pass "contains $want" || fail "no $want in the package"
done
grep -q '^d.* \./var/lib/loadsd/$' "$TMPD/contents" &&
    fail "ships /var/lib/loadsd (postinst makes it, owned by _loadsd)" ||
    pass "no data directory shipped (postinst makes it)"

dpkg-deb -f "$DEB" Depends >"$TMPD/depends"
for lib in libmicrohttpd12 libsqlite3-0 libssl3 libarchive13 libjansson4 adduser; do
    grep -q "$lib" "$TMPD/depends" && pass "Depends names $lib" || fail "Depends lacks $lib: $(cat "$TMPD/depends")"
done
dpkg-deb --ctrl-tarfile "$DEB" | tar -xOf - ./conffiles >"$TMPD/conffiles" 2>/dev/null
grep -qx /etc/loadsd/loadsd.conf "$TMPD/conffiles" && pass "/etc/loadsd/loadsd.conf is a conffile" ||
    fail "conffiles: $(cat "$TMPD/conffiles")"

mkdir -p "$TMPD/x" && dpkg-deb -x "$DEB" "$TMPD/x"
CONF="$TMPD/x/etc/loadsd/loadsd.conf"
grep -q '^admin-listen = 127.0.0.1:8080$' "$CONF" && pass "the packaged config has the admin page on loopback" ||
    fail "the packaged config sets no loopback admin page"
n=$(grep -c '^#[a-z-]* = ' "$CONF")
[ "$n" -ge 20 ] && pass "the packaged config shows $n settings, commented" || fail "only $n settings in $CONF"

# Root may not run lintian's checks on unpacked files as another user; it
# warns about running as root, which is not about the package.
lintian --allow-root --no-tag-display-limit "$DEB" >"$TMPD/lintian" 2>&1
sed -n 's/^\([EW]\): .*/&/p' "$TMPD/lintian" >"$TMPD/lintian.ew"
if [ -s "$TMPD/lintian.ew" ]; then
    fail "lintian: $(head -n 5 "$TMPD/lintian.ew")"
else
    pass "lintian: no error, no warning ($(grep -c '^[IPX]: ' "$TMPD/lintian") info/pedantic tags)"
fi

UNIT="$TMPD/x/lib/systemd/system/loadsd.service"
grep -q '^User=_loadsd$' "$UNIT" && pass "the unit runs as _loadsd" || fail "the unit's user: $(grep -E '^(User|DynamicUser)=' "$UNIT")"
grep -q '^AmbientCapabilities=CAP_NET_BIND_SERVICE$' "$UNIT" && pass "the unit may bind port 69" ||
    fail "no CAP_NET_BIND_SERVICE in the unit"
# verify checks that the programs exist: point it at the unpacked ones.
mkdir -p "$TMPD/unit" && sed "s|/usr/sbin/|$TMPD/x/usr/sbin/|g" "$UNIT" >"$TMPD/unit/loadsd.service"
systemd-analyze verify --man=no "$TMPD/unit/loadsd.service" >"$TMPD/verify" 2>&1 &&
    pass "systemd-analyze verify" || fail "systemd-analyze verify: $(head -n 3 "$TMPD/verify")"
systemd-analyze security --offline=yes "$UNIT" >"$TMPD/security" 2>&1
score=$(sed -n 's/.*Overall exposure level for loadsd.service: \([0-9.]*\).*/\1/p' "$TMPD/security")
if [ -n "$score" ] && awk -v s="$score" 'BEGIN { exit !(s <= 1.7) }'; then
    pass "systemd-analyze security: exposure $score (at most 1.7)"
else
    fail "systemd-analyze security: exposure ${score:-unknown}, want at most 1.7"
fi
finish
